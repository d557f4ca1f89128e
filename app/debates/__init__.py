"""Debates: discussions on topics of public interest, convertible into proposals."""
from flask import Blueprint

bp = Blueprint("debates", __name__)
from app.debates import routes  # noqa: E402,F401
