"""Open data: CSV and GeoJSON downloads of every public layer and process, the data dictionary at
/open-data, and the nightly snapshot written by ``flask export open-data DIR``."""
from flask import Blueprint

bp = Blueprint("opendata", __name__)

from app.opendata import routes  # noqa: E402,F401
