"""API v1 endpoints that belong to no single feature."""
from flask import jsonify

from app.api import bp
from app.api.openapi import document
from app.auth.access import public


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI document of the JSON API."""
    return jsonify(document())
from app.api import auth, flags, pacts, proposals, reports, tokens  # noqa: E402,F401  (their routes and OpenAPI operations)
