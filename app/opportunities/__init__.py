"""Collaboration opportunities: calls for help and what citizens can offer, matched by district and skill."""
from flask import Blueprint

bp = Blueprint("opportunities", __name__)

from app.opportunities import map_layer, routes, services  # noqa: E402,F401
