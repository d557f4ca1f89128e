"""The kiosk of a request: a browser at a Casa del Quartiere that one person after another uses.

A facilitator turns a browser into a kiosk of their house (routes.py): a long-lived signed cookie,
COOKIE_NAME, names the house and outlives every sign-in and sign-out. On such a browser:

* every page has large text, big targets and a short navigation (base.html, kiosk.css);
* a signed-in session ends after KIOSK_IDLE_MINUTES without requests
  (:func:`app.http.enforce_session_timeouts` reads ``g.kiosk_idle_seconds``), and kiosk.js signs
  out after as long without input, warning first;
* "keep me signed in" is neither offered nor honoured, and a remember-me cookie is deleted unread;
* signing out, or being signed out, empties the whole session (language and contrast too: they
  were the last person's) and tells the browser to clear the site's cache and storage.

The cookie also carries when the last person signed out: a session that started before then is
ended on sight. So a response that left the server before the sign-out (a map request still in
flight) cannot bring the previous person's session back with its older session cookie.
"""
import time
from dataclasses import dataclass

from flask import current_app, flash, g, has_request_context, request, session
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from app.extensions import db
from app.models.place import NeighbourhoodHouse

COOKIE_NAME = "piazza_kiosk"
_SALT = "piazza.kiosk"
#: What a kiosk sign-out asks the browser to forget. Not "cookies": that would take the kiosk
#: cookie with it, and the session cookie is emptied by the response anyway.
CLEAR_SITE_DATA = '"cache", "storage"'


@dataclass(frozen=True)
class KioskCookie:
    house_id: int
    #: time.time() of the last sign-out on this browser (0: none yet).
    signed_out_at: float = 0.0


def _serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _max_age():
    return int(current_app.config["KIOSK_COOKIE_DAYS"]) * 86400


def read_cookie():
    """The request's kiosk cookie if it is ours, unaltered and not too old; else None."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=_max_age())
        return KioskCookie(house_id=int(data["h"]), signed_out_at=float(data.get("o") or 0))
    except (BadData, KeyError, TypeError, ValueError):
        return None


def set_cookie(response, house_id, signed_out_at=None):
    """Make (or renew) this browser a kiosk of ``house_id`` (keeping the last sign-out unless given)."""
    cfg = current_app.config
    if signed_out_at is None:
        previous = g.get("kiosk_cookie")
        signed_out_at = previous.signed_out_at if previous is not None else 0.0
    value = _serializer().dumps({"h": house_id, "o": signed_out_at})
    g.kiosk_cookie_written = True
    response.set_cookie(COOKIE_NAME, value, max_age=_max_age(), path="/", httponly=True, samesite="Lax",
                        secure=cfg["SESSION_COOKIE_SECURE"])


def delete_cookie(response):
    """Make this browser an ordinary one again."""
    cfg = current_app.config
    g.kiosk_cookie_written = True
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=cfg["SESSION_COOKIE_SECURE"])


def on_kiosk():
    """True when this request comes from a kiosk browser (of a house that still exists)."""
    return has_request_context() and g.get("kiosk_house") is not None


def _forget_remember_cookie():
    # Flask-Login then neither reads the cookie nor keeps it: its after_request deletes it.
    if current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies:
        session["_remember"] = "clear"


def load_kiosk():
    """before_request, before the session timeouts: is this browser a kiosk, and of which house."""
    state = read_cookie()
    if state is None:
        return None
    g.kiosk_cookie = state
    g.kiosk_idle_seconds = float(current_app.config["KIOSK_IDLE_MINUTES"]) * 60
    _forget_remember_cookie()
    if state.signed_out_at and session.get("login_at", float("inf")) <= state.signed_out_at:
        session.clear()  # an older session cookie came back (see the module docstring)
        _forget_remember_cookie()
    if request.endpoint == "static":
        return None  # the rules above hold for every request; the house is for pages
    house = db.session.get(NeighbourhoodHouse, state.house_id)
    if house is None:  # the house was deleted: the browser is an ordinary one again
        g.pop("kiosk_idle_seconds", None)
        return None
    g.kiosk_house = house
    return None


def _end_assisted_session(idle):
    """An assisted session open in this browser ends with the visit (the facilitator's own)."""
    from app.assisted import services
    from app.assisted.context import SESSION_KEY
    from app.models.assisted import AssistedSession, EndReason

    session_id = session.get(SESSION_KEY)
    assisted = db.session.get(AssistedSession, session_id) if session_id is not None else None
    if assisted is None or not current_user.is_authenticated or assisted.facilitator_id != current_user.id:
        return
    if assisted.ended_at is None and not services.expire_if_due(assisted):
        services.end_session(assisted, EndReason.idle if idle else EndReason.signed_out)
    db.session.commit()


def end_visit(*, idle=False):
    """The person at the kiosk is done (signed out, or idle too long): forget everything of theirs.

    The whole session goes; the response clears the site's cache and storage and records the
    sign-out in the kiosk cookie (see :func:`kiosk_response`).
    """
    _end_assisted_session(idle)
    logout_user()
    session.clear()
    _forget_remember_cookie()
    g.kiosk_visit_ended = True
    if idle:
        minutes = max(1, round(g.kiosk_idle_seconds / 60))
        flash(ngettext("You were signed out after %(num)d minute without activity. "
                       "This computer is ready for the next person.",
                       "You were signed out after %(num)d minutes without activity. "
                       "This computer is ready for the next person.", minutes), "info")
    else:
        flash(_("You are signed out. This computer is ready for the next person."), "info")


def kiosk_response(response):
    """after_request: a finished visit clears the browser; a cookie that is not (or no longer) valid goes."""
    state = g.get("kiosk_cookie")
    if g.get("kiosk_cookie_written"):  # started or stopped by this request
        return response
    if g.get("kiosk_visit_ended") and state is not None:
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        set_cookie(response, state.house_id, signed_out_at=time.time())
    elif COOKIE_NAME in request.cookies and request.endpoint != "static" and (
            state is None or g.get("kiosk_house") is None):
        delete_cookie(response)
    return response


def kiosk_context():
    """For the layout: the kiosk's house (None on an ordinary browser) and its idle time."""
    if not has_request_context():
        return {}
    idle = float(current_app.config["KIOSK_IDLE_MINUTES"]) * 60
    values = {"kiosk_house": g.get("kiosk_house"), "kiosk_idle_minutes": max(1, round(idle / 60))}
    if values["kiosk_house"] is not None:
        values.update(kiosk_idle_seconds=idle, kiosk_warn_seconds=min(60.0, idle / 2))
    return values
