"""Neighbourhood houses (Case del Quartiere) and the events that houses, organisations and the city publish."""
from flask import Blueprint

bp = Blueprint("houses", __name__)

from app.houses import map_layer, routes, services  # noqa: E402,F401
