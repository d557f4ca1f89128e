"""Participatory processes, proposals and supports: the public pages and supporting."""
from flask import Blueprint

bp = Blueprint("proposals", __name__)

from app.proposals import map_layer, routes  # noqa: E402,F401
