"""Threaded comments (two levels) on proposals, reports, debates and later pacts."""
from flask import Blueprint

bp = Blueprint("comments", __name__)
from app.comments import routes  # noqa: E402,F401
