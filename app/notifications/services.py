"""Notify users, follow items, build daily digests.

Feature modules register the kinds of notification they emit (a message with
``%(name)s`` placeholders, translated when shown) and the kinds of item that can
be followed (a loader from id to object, or None when it is not visible).
"""
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.mail.services import queue_email
from app.models.base import NotFound, utcnow
from app.models.messaging import Follow, Notification
from app.models.user import NotificationPref, User

#: kind -> message (lazy, with %(param)s placeholders)
KINDS = {}


@dataclass(frozen=True)
class Followable:
    #: id -> object or None (hidden, deleted, not public)
    load: Callable
    #: object -> its public URL path
    url: Callable
    #: object -> a title to show in the follows list
    title: Callable


#: target_type -> Followable
FOLLOWABLE = {}


def register_kind(kind, message):
    KINDS[kind] = message


def register_followable(target_type, *, load, url, title):
    FOLLOWABLE[target_type] = Followable(load=load, url=url, title=title)


register_kind("account.password_changed", _l("Your password was changed. If it was not you, reset it now."))
register_kind("account.email_changed", _l("Your email address was changed to %(email)s."))
register_kind("account.role_granted", _l("You were given the role: %(role_label)s."))
register_kind("account.role_revoked", _l("The role %(role_label)s was removed from your account."))
register_kind("account.verified", _l("Your account is now verified: you can support proposals and sign pacts."))


def message_for(notification):
    """The notification's text in the current language."""
    template = KINDS.get(notification.kind)
    if template is None:
        return notification.kind
    params = dict(notification.params or {})
    if "role" in params:
        from app.labels import role_label

        params["role_label"] = role_label(params["role"])
    if "status" in params:
        from app.labels import report_status_label

        params["status_label"] = report_status_label(params["status"])
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def notify(users, kind, params=None, url=None):
    """Create a notification for each user; email at once those who asked for it."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    created = []
    now = utcnow()
    seen = set()
    for user in users:
        if user is None or user.id in seen or not user.is_active:
            continue
        seen.add(user.id)
        note = Notification(user_id=user.id, kind=kind, params=dict(params or {}), url=url)
        wants_mail = user.notification_pref == NotificationPref.immediate and user.email and user.email_confirmed_at
        if wants_mail:
            note.emailed_at = now
        db.session.add(note)
        created.append(note)
        if wants_mail:
            queue_email(user.email, "notification", kind="notification", user=user, notification=note,
                        text=_render_for(user, note))
    return created


def _render_for(user, note):
    from flask_babel import force_locale

    with force_locale(user.locale or "it"):
        return message_for(note)


def notify_followers(target_type, target_id, kind, params=None, url=None, exclude=()):
    """Notify everyone following an item (except ``exclude`` users)."""
    excluded = {u.id for u in exclude if u is not None}
    users = db.session.scalars(
        select(User).join(Follow, Follow.user_id == User.id).where(
            Follow.target_type == target_type, Follow.target_id == target_id
        )
    ).all()
    return notify([u for u in users if u.id not in excluded], kind, params, url)


def _followable(target_type, target_id):
    spec = FOLLOWABLE.get(target_type)
    if spec is None:
        raise NotFound("nothing to follow here")
    obj = spec.load(target_id)
    if obj is None:
        raise NotFound("nothing to follow here")
    return spec, obj


def follow(user, target_type, target_id):
    """Follow an item (idempotent). Returns the object followed."""
    spec, obj = _followable(target_type, target_id)
    exists = db.session.scalar(
        select(Follow.id).where(Follow.user_id == user.id, Follow.target_type == target_type,
                                Follow.target_id == target_id)
    )
    if exists is None:
        db.session.add(Follow(user_id=user.id, target_type=target_type, target_id=target_id))
    return obj


def unfollow(user, target_type, target_id):
    """Stop following an item (idempotent)."""
    if target_type not in FOLLOWABLE:
        raise NotFound("nothing to follow here")
    db.session.execute(
        delete(Follow).where(Follow.user_id == user.id, Follow.target_type == target_type,
                             Follow.target_id == target_id)
    )


def is_following(user, target_type, target_id):
    if not user.is_authenticated:
        return False
    return db.session.scalar(
        select(Follow.id).where(Follow.user_id == user.id, Follow.target_type == target_type,
                                Follow.target_id == target_id)
    ) is not None


def follows_of(user):
    """The user's follows as (follow, title, url); items no longer visible are skipped."""
    rows = db.session.scalars(select(Follow).where(Follow.user_id == user.id).order_by(Follow.created_at.desc()))
    result = []
    for row in rows:
        spec = FOLLOWABLE.get(row.target_type)
        obj = spec.load(row.target_id) if spec else None
        if obj is not None:
            result.append((row, spec.title(obj), spec.url(obj)))
    return result


def unread_count(user):
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(user, notification_id):
    """Mark one of the user's notifications read; someone else's is NotFound (no IDOR)."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound("no such notification")
    if note.read_at is None:
        note.read_at = utcnow()
    return note


def mark_all_read(user):
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


def build_digests(now=None):
    """Queue one digest email per daily-digest user with notifications not yet emailed.

    Returns the number of digests queued. Idempotent: notifications it covers are marked emailed.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.emailed_at.is_(None),
            Notification.read_at.is_(None),
            User.notification_pref == NotificationPref.daily,
            User.email.is_not(None),
            User.email_confirmed_at.is_not(None),
            User.deleted_at.is_(None),
        )
        .order_by(Notification.user_id, Notification.created_at)
    ).all()
    per_user = defaultdict(list)
    users = {}
    for note, user in rows:
        per_user[user.id].append(note)
        users[user.id] = user
    for user_id, notes in per_user.items():
        user = users[user_id]
        lines = [_render_for(user, n) for n in notes]
        queue_email(user.email, "digest", kind="digest", user=user, lines=lines, notes=notes)
        for n in notes:
            n.emailed_at = now
    return len(per_user)
