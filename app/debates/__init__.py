"""Debates: discussions on topics of public interest, convertible into proposals."""
from flask import Blueprint

bp = Blueprint("debates", __name__)
