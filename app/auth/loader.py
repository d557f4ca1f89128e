"""Flask-Login glue: load the user from the session id "<id>:<session_version>"."""
from flask import abort, redirect, request, url_for

from app.auth.access import wants_json
from app.extensions import db
from app.models.user import User


def load_user(session_id):
    """The user if the session's version is still current and the account active, else None."""
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.is_active:
        return None
    return user


def unauthorized():
    if wants_json():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path))
