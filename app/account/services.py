"""The user's own data: profile, export and deletion (GDPR rights of access and erasure)."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.audit.services import record
from app.auth.passwords import verify_password
from app.auth.services import InvalidCredentials, end_all_sessions
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import DomainError, utcnow
from app.models.messaging import Follow, Notification, OutboxEmail
from app.models.user import NotificationPref, Role, User, UserRole

_UNCHANGED = object()

#: Exporters registered by feature modules: name -> function(user) -> JSON-able data.
EXPORTERS = {}
#: Anonymisers registered by feature modules: function(user) called on deletion.
ANONYMISERS = []


def register_exporter(name, func):
    EXPORTERS[name] = func


def register_anonymiser(func):
    ANONYMISERS.append(func)


#: The oldest date of birth accepted (anything earlier is a typing mistake).
EARLIEST_BIRTH = date(1900, 1, 1)


def update_profile(user, *, display_name, bio, locale, notification_pref, birth_date=_UNCHANGED):
    """Save the profile fields the user controls.

    The date of birth is self-declared until the identity is verified; from then on it can only be
    corrected in person (it decides who may support in processes with a minimum age).
    """
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Enter the name to show with your contributions."), field="display_name")
    if birth_date is not _UNCHANGED and birth_date != user.birth_date:
        if user.is_verified and user.birth_date is not None:
            raise DomainError(_("Your date of birth was confirmed with your identity: to correct it, visit a "
                                "Casa del Quartiere."), field="birth_date")
        if birth_date is not None and not EARLIEST_BIRTH <= birth_date <= utcnow().date():
            raise DomainError(_("Enter a real date of birth."), field="birth_date")
        user.birth_date = birth_date
    user.display_name = display_name
    user.bio = (bio or "").strip() or None
    user.locale = locale if locale in ("it", "en") else "it"
    user.notification_pref = NotificationPref(notification_pref)
    return user


def _iso(value):
    return value.isoformat() if value is not None else None


def export_data(user):
    """Everything Piazza holds about the user, as JSON-able data."""
    data = {
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "bio": user.bio,
            "birth_date": user.birth_date.isoformat() if user.birth_date else None,
            "locale": user.locale,
            "roles": sorted(r.value for r in user.roles),
            "departments": [d.slug for d in user.departments],
            "email_confirmed_at": _iso(user.email_confirmed_at),
            "verified_at": _iso(user.verified_at),
            "terms_accepted_at": _iso(user.terms_accepted_at),
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "notification_pref": user.notification_pref.value,
        },
        "follows": [
            {"target_type": f.target_type, "target_id": f.target_id, "since": _iso(f.created_at)}
            for f in db.session.scalars(select(Follow).where(Follow.user_id == user.id).order_by(Follow.id))
        ],
        "notifications": [
            {"kind": n.kind, "params": n.params, "url": n.url, "created_at": _iso(n.created_at),
             "read_at": _iso(n.read_at)}
            for n in db.session.scalars(
                select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
        ],
        "emails_sent_to_you": [
            {"subject": e.subject, "kind": e.kind, "created_at": _iso(e.created_at), "sent_at": _iso(e.sent_at)}
            for e in db.session.scalars(
                select(OutboxEmail).where(OutboxEmail.user_id == user.id).order_by(OutboxEmail.id))
        ],
        "actions_in_audit_log": [
            {"action": a.action, "target_type": a.target_type, "target_id": a.target_id,
             "at": _iso(a.created_at)}
            for a in db.session.scalars(
                select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.seq))
        ],
    }
    for name, exporter in EXPORTERS.items():
        data[name] = exporter(user)
    return data


def delete_account(user, password):
    """Erase personal data; public contributions stay, attributed to nobody."""
    if not verify_password(user.password_hash, password or ""):
        raise InvalidCredentials(_("Your current password is not right."))
    return erase_account(user)


def erase_account(user, actor=None, reason=None):
    """Erase the account's personal data (the caller checked who may); ``actor`` None = the user."""
    if user.has_role(Role.admin):
        others = db.session.scalar(
            select(UserRole.user_id).where(UserRole.role == Role.admin, UserRole.user_id != user.id).limit(1))
        if others is None:
            raise DomainError(_("You are the last administrator: give the role to someone else first."))
    for anonymise in ANONYMISERS:
        anonymise(user)
    db.session.execute(delete(Follow).where(Follow.user_id == user.id))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.user_id == user.id, OutboxEmail.sent_at.is_(None)))
    user.role_rows.clear()
    user.departments.clear()
    user.email = None
    user.display_name = ""
    user.bio = None
    user.birth_date = None
    user.password_hash = None
    user.locale = None
    user.last_login_at = None
    # The keyed fingerprint of the identity goes too: the person may verify a new account one day.
    user.identity_hmac = None
    user.identity_document_type = None
    user.phone = None
    user.claim_nonce = user.claim_code_hash = user.claim_expires_at = None
    user.assist_code_hash = user.assist_code_expires_at = None
    user.deleted_at = utcnow()
    end_all_sessions(user)
    record("account.deleted", actor=actor or user, target=user, reason=reason,
           details={"by_facilitator": True} if actor is not None else None)
    return user


def display_name_of(user):
    """The public name of an author, or a neutral label for a deleted account."""
    if user is None or user.deleted_at is not None:
        return _("Former participant")
    return user.display_name


def users_with_role(role):
    return db.session.scalars(select(User).join(UserRole).where(UserRole.role == Role(role))).all()
