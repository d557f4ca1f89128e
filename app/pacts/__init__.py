"""Collaboration pacts: the procedure from proposal to signed, active, reported pact, and the public registry."""
from flask import Blueprint

bp = Blueprint("pacts", __name__)
