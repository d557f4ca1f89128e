"""The registry of urban commons and the civic subjects (organisations) who care for them."""
from flask import Blueprint

bp = Blueprint("commons", __name__)

from app.commons import forms, map_layer, routes, services  # noqa: E402,F401
