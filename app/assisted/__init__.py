"""Assisted sessions: a facilitator at a Casa del Quartiere acts for a citizen, on the record."""
from flask import Blueprint

bp = Blueprint("assisted", __name__)

from app.assisted import provenance, routes, statistics_routes, paper_routes  # noqa: E402,F401
