"""Reports on the map: place, route, triage and resolve problems in the street."""
from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.reports import map_layer, routes  # noqa: E402,F401
