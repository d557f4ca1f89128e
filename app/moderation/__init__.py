"""Moderation: flags, the queue, decisions with a statement of reasons, appeals, blocks, pre-moderation."""
from flask import Blueprint

bp = Blueprint("moderation", __name__)

from app.moderation import placeholders, queue_routes, routes  # noqa: E402,F401
