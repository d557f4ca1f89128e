"""Participation in numbers (/statistics): public aggregate figures with charts, and their data as CSV and JSON."""
from flask import Blueprint

bp = Blueprint("statistics", __name__)

from app.statistics import routes  # noqa: E402,F401
