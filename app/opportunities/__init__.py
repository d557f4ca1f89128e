"""Collaboration opportunities: calls for help and what citizens can offer, matched by district and skill."""
from flask import Blueprint

bp = Blueprint("opportunities", __name__)
