"""Login ids: each sign-in can be ended on the server, not just forgotten by the browser.

Flask-Login keeps "<user id>:<session version>" in the session (and in the remember-me cookie).
On every sign-in (Flask-Login's ``user_logged_in`` signal) a random login id is appended:
"<user id>:<session version>:<login id>". Signing out records the login id as ended (EndedLogin),
so a copy of the session or remember-me cookie made before signing out no longer signs anyone in;
bumping the session version still ends every login of the user at once. A login id also carries
its start time, so no login outlives the remember-me duration, whatever cookie it comes back in.
"""
import secrets
import time
from datetime import timedelta

from flask import current_app, session
from flask_login import user_logged_in
from sqlalchemy import delete

from app.extensions import db
from app.models.base import utcnow
from app.models.login import EndedLogin

_HEX = frozenset("0123456789abcdef")
#: 8 hex digits of start time (seconds since 1970) + 16 of randomness.
LOGIN_ID_LENGTH = 24


def new_login_id(now=None):
    return f"{int(now if now is not None else time.time()):08x}{secrets.token_hex(8)}"


def max_login_age():
    """How long one sign-in may last at most: the remember-me duration (or the absolute session timeout)."""
    cfg = current_app.config
    remember = cfg["REMEMBER_COOKIE_DURATION"]
    remember = remember if isinstance(remember, timedelta) else timedelta(seconds=remember)
    return max(remember, cfg["SESSION_ABSOLUTE_TIMEOUT"])


def parse(session_id):
    """(user id, session version, login id or None) of a session id, or None if it is malformed."""
    if not isinstance(session_id, str):
        return None
    parts = session_id.split(":")
    if len(parts) not in (2, 3):
        return None
    try:
        user_id, version = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    login_id = parts[2] if len(parts) == 3 else None
    if login_id is not None and (len(login_id) != LOGIN_ID_LENGTH or not set(login_id) <= _HEX):
        return None
    return user_id, version, login_id


def login_is_live(login_id):
    """Whether the sign-in ``login_id`` is younger than max_login_age() and was not ended."""
    started = int(login_id[:8], 16)
    if time.time() - started > max_login_age().total_seconds():
        return False
    return db.session.get(EndedLogin, login_id) is None


def end_current_login():
    """Record the current sign-in as ended (before logout_user(); the caller commits)."""
    parsed = parse(session.get("_user_id"))
    if parsed is None or parsed[2] is None:
        return
    user_id, _version, login_id = parsed
    now = utcnow()
    db.session.execute(delete(EndedLogin).where(EndedLogin.ended_at < now - max_login_age()))
    if db.session.get(EndedLogin, login_id) is None:
        db.session.add(EndedLogin(login_id=login_id, user_id=user_id, ended_at=now))


def _stamp_login(app, user, **extra):
    """user_logged_in: give the new sign-in its own login id."""
    parsed = parse(session.get("_user_id"))
    if parsed is not None and parsed[2] is None:
        session["_user_id"] = f"{session['_user_id']}:{new_login_id()}"


user_logged_in.connect(_stamp_login)
