"""The assisted session of a request: found from the cookie, ended by the clock, acting for a citizen.

Runs before every request (after the login-session timeouts, before the access rules). While a
facilitator acts for a citizen, ``current_user`` is the citizen for the whole request, so every
existing page and service works unchanged and is held to the citizen's rules (limits, verification,
minimum age); ``real_user()`` is the facilitator. Only the blueprints in ACTING_BLUEPRINTS can be
used in that state: account settings, sign-in pages, staff pages are out of reach.
"""
from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.assisted import services
from app.assisted.provenance import action_count
from app.extensions import db
from app.models.assisted import AssistedSession, EndReason, SessionKind
from app.models.base import utcnow
from app.models.user import User

SESSION_KEY = "assisted_session_id"

#: What can be used while acting for a citizen; anything else redirects to the session page.
ACTING_BLUEPRINTS = frozenset({
    "assisted", "main", "maps", "reports", "proposals", "comments", "debates", "commons", "pacts",
    "opportunities", "houses", "media", "moderation", "api", "open311",
})
#: Within those, endpoints that are not for a facilitator to use through the citizen's account.
ACTING_DENIED = frozenset({"api.create_token", "open311.create_request", "houses.new_event", "houses.edit_event",
                           "houses.cancel_event",
                           # a one-time code is the citizen's own proof of presence, never minted for them
                           "assisted.assist_code", "assisted.claim"})

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def real_user():
    """The person at the keyboard: the facilitator while acting, else the signed-in user."""
    found = g.get("assisted_real_user")
    return found if found is not None else current_user._get_current_object()


def assisted_helper():
    """The facilitator acting for the current user in this request, or None."""
    return g.get("assisted_real_user")


def current_session():
    """The open AssistedSession of this request (acting or not), or None."""
    return g.get("assisted")


def _forget():
    session.pop(SESSION_KEY, None)


def _ended_response(assisted):
    if request.method in SAFE_METHODS or request.endpoint in ("auth.logout", "static") \
            or (request.endpoint or "").startswith("assisted."):  # the desk checks its own session
        flash(_("The assisted session ended at %(time)s: you are yourself again.",
                time=_time(assisted.ended_at)), "info")
        return None
    # A form filled in for the citizen must not be saved as the facilitator's own.
    return render_template("assisted/ended.html", assisted=assisted), 409


def _time(moment):
    from flask_babel import format_time

    return format_time(moment, "short")


def apply_assisted_session():
    """before_request: see module docstring."""
    session_id = session.get(SESSION_KEY)
    if session_id is None or request.endpoint == "static":
        return None
    user = current_user._get_current_object()  # the proxy would follow the swap below
    assisted = db.session.get(AssistedSession, session_id) if isinstance(session_id, int) else None
    now = utcnow()
    mine = assisted is not None and (not user.is_authenticated or assisted.facilitator_id == user.id)
    if assisted is None or not mine:
        _forget()  # a stale key of nobody's or of someone else's session: it means nothing here
        return None
    if assisted.ended_at is None:
        if services.expire_if_due(assisted, now):
            pass  # ended at its hard or idle end
        elif not user.is_authenticated:
            # The facilitator's own sign-in ended (timeout): the help ends with it.
            services.end_session(assisted, EndReason.signed_out, at=now)
        elif not services.may_facilitate(user) or assisted.house_id not in {h.id for h in services.houses_for(user)}:
            # No longer a facilitator, or detached from the house, during the session.
            services.end_session(assisted, EndReason.closed, at=now)
        db.session.commit()
    if assisted.ended_at is not None:
        # Ended by the clock, by a sign-out, or in another tab: a form sent now is not saved for anyone.
        _forget()
        return _ended_response(assisted)
    services.touch(assisted, now)
    db.session.commit()
    g.assisted = assisted
    if assisted.kind != SessionKind.assist or assisted.citizen_id is None:
        return None
    citizen = db.session.get(User, assisted.citizen_id)
    try:
        services.check_may_help(user, citizen) if citizen is not None else None
    except Exception:  # noqa: BLE001 - the citizen became staff, blocked or deleted meanwhile
        citizen = None
    if citizen is None or not citizen.is_active:
        services.end_session(assisted, EndReason.closed, at=now)
        db.session.commit()
        _forget()
        g.pop("assisted", None)
        flash(_("The session ended: this account can no longer be helped."), "error")
        return redirect(url_for("assisted.desk"))
    if request.endpoint == "auth.logout":
        # Signing out ends the help first; the logout itself then proceeds for the facilitator.
        services.end_session(assisted, EndReason.signed_out, at=now)
        db.session.commit()
        _forget()
        g.pop("assisted", None)
        return None
    g.assisted_real_user = user
    g.assisted_citizen = citizen
    g.assisted_acting = services.acting_for(assisted)
    g._login_user = citizen  # Flask-Login's per-request user: the citizen, for every page and rule
    blueprint = (request.endpoint or "").split(".", 1)[0]
    if blueprint not in ACTING_BLUEPRINTS or request.endpoint in ACTING_DENIED:
        flash(_("This page is not available while you act for someone: end the session first."), "error")
        return redirect(url_for("assisted.current"))
    if request.method not in SAFE_METHODS and blueprint != "assisted":
        cap = _cap()
        if action_count(assisted.id) >= cap:
            return render_template("assisted/limit.html", assisted=assisted, cap=cap), 429
    return None


def audit_other_actions(response):
    """after_request: a change made for the citizen that created no tracked record (publishing,
    withdrawing a support, editing, accepting an invitation...) still gets one audit event."""
    who = g.get("assisted_acting")
    if who is None or not g.get("assisted_committed") or g.get("assisted_recorded"):
        return response
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return response
    if (request.endpoint or "").startswith("assisted."):  # the desk's own steps audit themselves
        return response
    from app.assisted.provenance import _Ref
    from app.audit.services import record

    try:
        record("assisted.request", actor=_Ref(who.facilitator_id), target_type="users", target_id=who.citizen_id,
               details={"session_id": who.session_id, "house_id": who.house_id, "citizen_id": who.citizen_id,
                        "endpoint": request.endpoint, "path": request.path})
        db.session.commit()
    except Exception:  # noqa: BLE001 - the change itself is committed; never turn it into an error page
        db.session.rollback()
        from flask import current_app

        current_app.logger.exception("could not audit an assisted action on %s", request.path)
    return response


def _cap():
    from flask import current_app

    return current_app.config["ASSISTED_MAX_ACTIONS"]


def minutes_left(assisted, now=None):
    """Whole minutes (rounded up) until the session ends if nothing happens; 0 once it is over."""
    import math

    seconds = (assisted.ends_at - (now or utcnow())).total_seconds()
    return max(0, math.ceil(seconds / 60))


def banner_context():
    """For the layout: the session banner (None outside a session)."""
    from flask import has_request_context

    if not has_request_context():
        return {}
    assisted = g.get("assisted")
    extra = {"assisted_minutes_left": minutes_left}
    if assisted is None:
        return {"assisted": None, **extra}
    return {"assisted": assisted, "assisted_citizen": g.get("assisted_citizen"),
            "assisted_real_user": g.get("assisted_real_user"), **extra}
