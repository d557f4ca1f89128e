"""The signed-in user's own account: profile, password, email, data, deletion."""
from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from app.account import routes  # noqa: E402,F401
from app.account import participation  # noqa: E402,F401
