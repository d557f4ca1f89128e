"""Rate limits that depend on the account: brand-new accounts get tighter ones."""
from datetime import timedelta

from flask import current_app
from flask_login import current_user

from app.models.base import utcnow


def is_new_account(user):
    """True for an account younger than NEW_ACCOUNT_HOURS."""
    created = getattr(user, "created_at", None)
    hours = current_app.config["NEW_ACCOUNT_HOURS"]
    return created is not None and utcnow() - created < timedelta(hours=hours)


def limit_for(normal, new_account):
    """The limit string named ``normal`` in the config, or ``new_account``'s for a new account."""
    if current_user.is_authenticated and is_new_account(current_user):
        return current_app.config[new_account]
    return current_app.config[normal]


def content_limit():
    """New content per account (reports, proposals, comments, debates, calls for help)."""
    return limit_for("CONTENT_LIMIT", "NEW_ACCOUNT_CONTENT_LIMIT")
