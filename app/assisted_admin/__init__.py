"""The administrators' report of assisted sessions: every session, what was done, unusual patterns."""
from flask import Blueprint

bp = Blueprint("assisted_admin", __name__, url_prefix="/admin/assisted")

from app.assisted_admin import routes  # noqa: E402,F401
