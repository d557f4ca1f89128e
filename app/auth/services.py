"""Account rules: registration, confirmation, authentication, passwords and email changes.

Services never commit; the route (or CLI command) that calls them does.
"""
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth import tokens
from app.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from app.extensions import db
from app.mail.services import queue_email
from app.models.base import DomainError, utcnow
from app.models.user import Role, User, UserRole
from app.notifications.services import notify


class WeakPassword(DomainError):
    """The password breaks the strength rules; ``details['problems']`` says how."""


class InvalidCredentials(DomainError):
    status = 401


class AccountBlocked(DomainError):
    status = 403


class EmailTaken(DomainError):
    status = 409


def normalise_email(address):
    """Lower-cased, syntax-checked address (no DNS look-up); DomainError if malformed."""
    try:
        result = validate_email((address or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(_("Enter a valid email address.")) from None
    return result.normalized.lower()


def find_by_email(address):
    try:
        address = normalise_email(address)
    except DomainError:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == address))


def check_password_strength(password, *user_inputs):
    problems = password_problems(password, user_inputs)
    if problems:
        raise WeakPassword(" ".join(problems), problems=problems)


def _external(endpoint, **values):
    """An absolute link for emails, built on BASE_URL (never on the request's Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def register(display_name, email, password, locale="it"):
    """Create an unconfirmed citizen and queue the confirmation email.

    If the address is already registered nothing is created; the owner of the
    address is told instead, so the form never reveals who has an account.
    Returns the new user, or None in that case.
    """
    email = normalise_email(email)
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Enter the name to show with your contributions."))
    check_password_strength(password, email, display_name)
    existing = find_by_email(email)
    if existing is not None:
        queue_email(existing.email, "already_registered", kind="already_registered", user=existing,
                    login_url=_external("auth.login"), reset_url=_external("auth.forgot_password"))
        return None
    user = User(email=email, display_name=display_name, password_hash=hash_password(password),
                locale=locale, terms_accepted_at=utcnow())
    user.role_rows.append(UserRole(role=Role.citizen))
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    return user


def send_confirmation(user):
    """Queue a confirmation link for the user's current address."""
    token = tokens.make_token("confirm", {"uid": user.id, "fp": tokens.fingerprint(user.email)})
    queue_email(user.email, "confirm_email", kind="confirm_email", user=user,
                url=_external("auth.confirm_email", token=token))


def confirm_email(token):
    """Mark the address confirmed; the token must match the user's current address."""
    data = tokens.read_token("confirm", token, current_app.config["EMAIL_CONFIRM_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.is_active or data.get("fp") != tokens.fingerprint(user.email):
        raise tokens.InvalidToken("invalid")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


def blocked_message(user):
    """What a blocked user reads when login is refused: when, why, and whom to write to."""
    from flask import current_app
    from flask_babel import format_date

    contact = current_app.config["MODERATION_CONTACT_EMAIL"]
    if user.blocked_at is None:
        return _("This account has been blocked by the moderators. To contest it, write to %(contact)s.",
                 contact=contact)
    return _("This account was blocked by the moderators on %(date)s: %(reason)s. "
             "To contest it, write to %(contact)s.",
             date=format_date(user.blocked_at, "long"), reason=user.block_reason or "", contact=contact)


def authenticate(email, password):
    """The user with these credentials; InvalidCredentials or AccountBlocked otherwise."""
    user = find_by_email(email)
    ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not ok or user.deleted_at is not None:
        raise InvalidCredentials(_("Wrong email or password."))
    if user.is_blocked:
        raise AccountBlocked(blocked_message(user))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _reset_fingerprint(user):
    return tokens.fingerprint(f"{user.id}:{user.password_hash}:{user.session_version}")


def request_password_reset(email):
    """Queue a reset link if the address belongs to an account; silent otherwise."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        return None
    if user.claimed_at is not None and user.email_confirmed_at is None:
        # A managed account taken over online: its new address proves nothing until its own link is
        # opened (a mistyped address must not be able to take the account).
        return None
    token = tokens.make_token("reset", {"uid": user.id, "fp": _reset_fingerprint(user)})
    queue_email(user.email, "password_reset", kind="password_reset", user=user,
                url=_external("auth.reset_password", token=token),
                hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600)
    return user


def user_for_reset_token(token):
    """The user a reset token is for; InvalidToken if expired, used or tampered with."""
    data = tokens.read_token("reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.is_active or data.get("fp") != _reset_fingerprint(user):
        raise tokens.InvalidToken("invalid")
    return user


def reset_password(token, new_password):
    """Set a new password from a reset link; the link then stops working."""
    user = user_for_reset_token(token)
    _set_password(user, new_password)
    # Whoever reset it proved they own the address.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


def _set_password(user, new_password):
    check_password_strength(new_password, user.email, user.display_name)
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)
    notify([user], "account.password_changed")


def change_password(user, current_password, new_password):
    """Change the password after checking the current one; every other session ends."""
    if not verify_password(user.password_hash, current_password or ""):
        raise InvalidCredentials(_("Your current password is not right."))
    _set_password(user, new_password)
    return user


#: Called with the user whenever all their sessions end (API tokens register here).
SESSION_ENDERS = []


def end_all_sessions(user):
    """Invalidate every session, remember-me cookie and API token of the user."""
    user.session_version = (user.session_version or 1) + 1
    for end in SESSION_ENDERS:
        end(user)


def request_email_change(user, password, new_email):
    """Send a confirmation link to the new address; the change happens when it is opened."""
    if not verify_password(user.password_hash, password or ""):
        raise InvalidCredentials(_("Your current password is not right."))
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise DomainError(_("That is already your email address."))
    if find_by_email(new_email) is not None:
        # Do not reveal that the address is taken: tell its owner instead.
        taken = find_by_email(new_email)
        queue_email(taken.email, "already_registered", kind="already_registered", user=taken,
                    login_url=_external("auth.login"), reset_url=_external("auth.forgot_password"))
        return None
    token = tokens.make_token("email-change", {"uid": user.id, "new": new_email,
                                               "fp": tokens.fingerprint(user.email)})
    queue_email(new_email, "confirm_new_email", kind="confirm_new_email", user=user,
                url=_external("account.confirm_email_change", token=token))
    return new_email


def confirm_email_change(token):
    """Switch to the new address; the old address is told."""
    data = tokens.read_token("email-change", token, current_app.config["EMAIL_CONFIRM_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.is_active or data.get("fp") != tokens.fingerprint(user.email):
        raise tokens.InvalidToken("invalid")
    new_email = data["new"]
    if find_by_email(new_email) is not None:
        raise EmailTaken(_("This address is now used by another account."))
    old_email = user.email
    user.email = new_email
    user.email_confirmed_at = utcnow()
    queue_email(old_email, "email_changed", kind="email_changed", user=user, new_email=new_email)
    notify([user], "account.email_changed", {"email": new_email})
    return user
