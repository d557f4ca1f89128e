"""API v1 endpoints that belong to no single feature: the OpenAPI document and its documentation page."""
from flask import jsonify, render_template, url_for

from app.api import bp
from app.api.openapi import document
from app.auth.access import public

#: The Swagger UI release the documentation page loads (app/static/vendor/package.json pins the same).
SWAGGER_UI_VERSION = "5.32.6"


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI document of the JSON API."""
    return jsonify(document())


@bp.route("/docs")
@public
def docs():
    """The API's documentation: essentials, the table of operations, and Swagger UI to try calls."""
    spec = document()
    operations = [{"operation_id": op["operationId"], "method": method.upper(), "path": "/api/v1" + path,
                   "summary": op.get("summary", ""), "token": bool(op.get("security"))}
                  for path, ops in spec["paths"].items() for method, op in ops.items()]
    return render_template("api/docs.html", operations=operations, swagger_version=SWAGGER_UI_VERSION,
                           openapi_url=url_for("api.openapi"), open311_url=url_for("open311.discovery", fmt="json"))


from app.api import auth, catalogue, comments, debates, examples, flags, http, search, statistics, pacts, proposals, reports, tokens  # noqa: E402,F401  (their routes and OpenAPI operations)
