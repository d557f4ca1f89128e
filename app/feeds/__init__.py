"""Atom and RSS 2.0 feeds of new proposals, resolved reports and new pacts, per district too."""
from flask import Blueprint

bp = Blueprint("feeds", __name__)

from app.feeds import routes  # noqa: E402,F401
