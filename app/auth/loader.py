"""Flask-Login glue: load the user from the session id "<id>:<session_version>:<login id>"."""
from flask import abort, redirect, request, url_for

from app.auth import sessions
from app.auth.access import wants_json
from app.extensions import db
from app.models.user import User


def load_user(session_id):
    """The user if the session's version is still current, its sign-in was not ended (signed out,
    too old: app/auth/sessions.py) and the account active, else None."""
    parsed = sessions.parse(session_id)
    if parsed is None:
        return None
    user_id, version, login_id = parsed
    if login_id is not None and not sessions.login_is_live(login_id):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.is_active:
        return None
    return user


def unauthorized():
    if wants_json():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path))
