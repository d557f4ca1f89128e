"""In-person verification: a facilitator looks at a document and confirms identity and residency."""
from flask import Blueprint

bp = Blueprint("verification", __name__)

from app.verification import routes, services  # noqa: E402,F401
