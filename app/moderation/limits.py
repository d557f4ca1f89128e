"""Rate limits on new content and on flags: per account (tighter for brand-new accounts) and per address.

Every route that creates content wears ``@content_limits()`` and every flag route ``@flag_limits()``:
each applies two limits, one per account (CONTENT_LIMIT / NEW_ACCOUNT_CONTENT_LIMIT, FLAG_LIMIT /
NEW_ACCOUNT_FLAG_LIMIT) and one per address (CONTENT_LIMIT_PER_ADDRESS, FLAG_LIMIT_PER_ADDRESS), so
that neither one account nor many accounts from one address can flood the city. The counters are
kept per route (Flask-Limiter's default scope): writing comments does not use up the reports.

On the JSON API the account is the bearer token's, not a session cookie's.
"""
from datetime import timedelta

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.extensions import limiter
from app.models.base import utcnow


def requester():
    """The account making the request: the bearer token's on the JSON API, else the signed-in one (or None)."""
    if request.path.startswith("/api/"):
        from app.auth.access import api_user

        return api_user()
    return current_user if current_user.is_authenticated else None


def account_key():
    """Rate-limit key: the requesting account (falls back to the address)."""
    user = requester()
    return f"user:{user.id}" if user is not None else get_remote_address()


def is_new_account(user):
    """True for an account younger than NEW_ACCOUNT_HOURS."""
    created = getattr(user, "created_at", None)
    hours = current_app.config["NEW_ACCOUNT_HOURS"]
    return created is not None and utcnow() - created < timedelta(hours=hours)


def limit_for(normal, new_account):
    """The limit string named ``normal`` in the config, or ``new_account``'s for a new account."""
    user = requester()
    if user is not None and is_new_account(user):
        return current_app.config[new_account]
    return current_app.config[normal]


def content_limit():
    """New content per account (reports, proposals, comments, debates, calls for help)."""
    return limit_for("CONTENT_LIMIT", "NEW_ACCOUNT_CONTENT_LIMIT")


def flag_limit():
    """Flags per account: tighter for accounts younger than NEW_ACCOUNT_HOURS."""
    return limit_for("FLAG_LIMIT", "NEW_ACCOUNT_FLAG_LIMIT")


def _config(name):
    return lambda: current_app.config[name]


def _both(per_account, per_address, *, methods=None, deduct_when=None):
    """A decorator applying a per-account and a per-address limit to a view."""
    by_account = limiter.limit(per_account, key_func=account_key, methods=methods, deduct_when=deduct_when)
    by_address = limiter.limit(per_address, key_func=get_remote_address, methods=methods, deduct_when=deduct_when)

    def decorator(view):
        return by_account(by_address(view))

    return decorator


def _succeeded(statuses):
    return lambda response: response.status_code in statuses


def content_limits(success=(302,)):
    """Limit a content-creating view's POSTs per account and per address.

    Only requests answered with one of ``success`` count (a form sent back with errors does not):
    302 for the web forms' redirect, 201 for the JSON API.
    """
    return _both(content_limit, _config("CONTENT_LIMIT_PER_ADDRESS"), methods=["POST"],
                 deduct_when=_succeeded(success))


def flag_limits():
    """Limit a flag view per account and per address (every attempt counts)."""
    return _both(flag_limit, _config("FLAG_LIMIT_PER_ADDRESS"))
