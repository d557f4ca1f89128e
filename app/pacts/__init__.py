"""Collaboration pacts: the procedure from proposal to signed, active, reported pact, and the public registry."""
from flask import Blueprint

bp = Blueprint("pacts", __name__)

from app.pacts import attachments, map_layer, office_routes, proponent_routes, routes  # noqa: E402,F401
