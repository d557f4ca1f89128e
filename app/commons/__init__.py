"""The registry of urban commons and the civic subjects (organisations) who care for them."""
from flask import Blueprint

bp = Blueprint("commons", __name__)
