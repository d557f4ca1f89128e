"""Open311 GeoReport v2 for reports: discovery, services and requests, in JSON and XML."""
from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

from app.open311 import routes  # noqa: E402,F401
