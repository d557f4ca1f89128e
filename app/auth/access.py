"""Deny by default: every endpoint declares who may call it, or nobody may.

A view is decorated with exactly one of :func:`public`, :func:`login_required`,
:func:`citizen_required`, :func:`verified_required` or :func:`roles_required`.
:func:`enforce_access` runs before every request and refuses endpoints that
declare nothing. ``tests/test_access_matrix.py`` walks every endpoint × role.
"""
from dataclasses import dataclass

from flask import abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models.user import Role

#: Endpoints that cannot carry a decorator (Flask's own) and are public.
UNDECORATED_PUBLIC = frozenset({"static"})


@dataclass(frozen=True)
class Rule:
    """Who may call an endpoint: a level, and for "roles" which roles (any of them)."""

    level: str  # public | login | citizen | verified | roles
    roles: frozenset = frozenset()
    #: The facilitator's desk: roles are checked on the person at the keyboard (the facilitator),
    #: not on the citizen they act for in an assisted session.
    desk: bool = False

    def describe(self):
        if self.level == "roles":
            return "roles:" + ",".join(sorted(r.value for r in self.roles))
        return self.level


def _declare(rule):
    def decorator(view):
        if getattr(view, "_access", None) is not None:
            raise RuntimeError(f"{view.__name__} declares its access twice")
        view._access = rule
        return view

    return decorator


def public(view):
    """Anyone, signed in or not."""
    return _declare(Rule("public"))(view)


def login_required(view):
    """Any signed-in account, confirmed or not (account management)."""
    return _declare(Rule("login"))(view)


def citizen_required(view):
    """A signed-in citizen whose email is confirmed."""
    return _declare(Rule("citizen"))(view)


def verified_required(view):
    """A confirmed citizen whose identity/residency was verified."""
    return _declare(Rule("verified"))(view)


def token_required(view):
    """A confirmed citizen authenticated by an API bearer token (JSON API writes).

    Session cookies are deliberately not enough here: these endpoints are exempt from
    CSRF tokens (programs call them), so a cookie must never authorise them.
    """
    from app.extensions import csrf

    csrf.exempt(view)
    return _declare(Rule("token"))(view)


#: Set by the API module: request -> the user of a valid bearer token, or None.
TOKEN_LOADER = {"load": None}


def api_user():
    """The user of the request's bearer token (cached on ``g``), or None."""
    from flask import g

    if "api_user" not in g:
        loader = TOKEN_LOADER["load"]
        g.api_user = loader(request) if loader is not None else None
    return g.api_user


def roles_required(*roles):
    """A signed-in user holding at least one of ``roles`` (admins are not implicitly everything)."""
    wanted = frozenset(Role(r) for r in roles)
    if not wanted:
        raise ValueError("roles_required needs at least one role")
    return _declare(Rule("roles", wanted))


def facilitator_desk(view):
    """A facilitator, also while acting for a citizen in an assisted session (the assisted pages)."""
    return _declare(Rule("roles", frozenset({Role.facilitator}), desk=True))(view)


def desk_or_admin(view):
    """Like :func:`facilitator_desk`, administrators too (the records of a session: receipt, consent)."""
    return _declare(Rule("roles", frozenset({Role.facilitator, Role.admin}), desk=True))(view)


def rule_for(endpoint):
    """The access rule of an endpoint, or None if it declares none."""
    if endpoint in UNDECORATED_PUBLIC:
        return Rule("public")
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    return getattr(view, "_access", None)


def allowed(rule, user):
    """(True, None) when ``user`` passes ``rule``; otherwise (False, why)."""
    if rule.level == "public":
        return True, None
    if rule.level == "token":
        user = api_user()
        if user is None:
            return False, "login"
        if not user.is_citizen:
            return False, "unconfirmed" if not user.is_confirmed else "role"
        return True, None
    if not user.is_authenticated:
        return False, "login"
    if rule.level == "login":
        return True, None
    if rule.level == "roles":
        if rule.desk:
            from flask import g

            user = g.get("assisted_real_user") or user
        return (True, None) if user.has_role(*rule.roles) else (False, "role")
    if not user.is_confirmed:
        return False, "unconfirmed"
    if not user.has_role(Role.citizen):
        return False, "role"
    if rule.level == "citizen":
        return True, None
    if rule.level == "verified":
        return (True, None) if user.is_verified else (False, "unverified")
    return False, "role"


DENIAL_MESSAGES = {
    "unconfirmed": _l("Please confirm your email address first: we sent you a link."),
    "unverified": _l(
        "This needs a verified account. You can verify your identity at any Casa del Quartiere."
    ),
    "role": _l("You do not have permission to open this page."),
    "undeclared": _l("You do not have permission to open this page."),
}


def wants_json():
    return request.path.startswith(("/api/", "/open311/")) or request.path == "/healthz"


def enforce_access():
    """before_request hook: refuse anything the endpoint's rule does not allow."""
    if request.endpoint is None:
        return None  # routing failed; the 404/405 handler answers
    rule = rule_for(request.endpoint)
    if rule is None:
        abort(403, description=DENIAL_MESSAGES["undeclared"])
    ok, why = allowed(rule, current_user)
    if ok:
        return None
    if why == "login":
        if wants_json():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    abort(403, description=DENIAL_MESSAGES[why])
