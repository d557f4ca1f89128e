"""Search: one box across proposals, reports, debates, pacts and neighbourhood houses."""
from flask import Blueprint

bp = Blueprint("search", __name__)

from app.search import index, routes  # noqa: E402,F401  (index registers the session hook)
