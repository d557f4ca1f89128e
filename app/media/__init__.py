"""Uploaded images: checked by content, re-encoded, stripped of metadata, served safely."""
from flask import Blueprint

bp = Blueprint("media", __name__)

from app.media import routes  # noqa: E402,F401
