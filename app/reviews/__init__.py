"""Feasibility review of proposals past their threshold, execution tracking, process results."""
from flask import Blueprint

bp = Blueprint("reviews", __name__)

from app.reviews import routes  # noqa: E402,F401
