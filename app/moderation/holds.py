"""Pre-moderation as the feature pages see it: which items wait for a moderator's approval, who may
see them meanwhile, and what their authors are told.

A held item (``services.screen``) is hidden like any hidden item: lists, maps, search, the API and
the feeds leave it out, and for everyone else its page is the same 404 as for something that does
not exist. Its author may still open its page and finds a notice there, so that nobody thinks their
contribution was lost. Only pre-moderation holds are shown this way: an item hidden after flags or by
a decision is the business of the moderation placeholders and the statement of reasons.
"""
from flask import flash, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.moderation import CaseStatus, Hold, ModerationCase
from app.moderation.registry import kind_for

#: The holds that keep a *new* contribution from being published (flags hide published ones).
PRE_MODERATION = (Hold.new_account, Hold.links, Hold.words)

#: What the author reads after sending a held contribution, and on its page until a moderator decides.
MESSAGES = {
    "report": _l("Your report will be published once a moderator has looked at it. Until then only you "
                 "can see it."),
    "comment": _l("Your comment will be published once a moderator has looked at it. Until then only you "
                  "can see it."),
    "debate": _l("Your debate will be published once a moderator has looked at it. Until then only you "
                 "can see it."),
    "proposal": _l("Your proposal will be published once a moderator has looked at it. Until then only you "
                   "and your co-authors can see it."),
    "help_call": _l("Your call for help will be published once a moderator has looked at it. Until then only "
                    "you can see it."),
}


def _held(target_type):
    return select(ModerationCase.target_id).where(
        ModerationCase.target_type == target_type, ModerationCase.status == CaseStatus.pending,
        ModerationCase.hold.in_(PRE_MODERATION))


def is_held(target_type, item):
    """True while ``item`` is hidden because pre-moderation holds it for a moderator's approval."""
    kind = kind_for(target_type)
    if item is None or kind is None or not kind.is_hidden(item):
        return False
    return db.session.scalar(_held(target_type).where(ModerationCase.target_id == item.id)) is not None


def held_ids(target_type, ids):
    """The ids among ``ids`` of items held for approval (one query for a whole comment thread)."""
    ids = list(ids)
    if not ids:
        return set()
    return set(db.session.scalars(_held(target_type).where(ModerationCase.target_id.in_(ids))))


def own_held(target_type, item_id, user):
    """The item, if it is held for approval and ``user`` wrote it; else None."""
    kind = kind_for(target_type)
    if kind is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    item = kind.load(item_id)
    if item is None or kind.author_id(item) != user.id or not is_held(target_type, item):
        return None
    return item


def tell_author(target_type):
    """Flash the "will be published once a moderator has looked at it" notice, once per page view.

    Called after the author sends a held contribution and again on its page: the redirect from one
    to the other must not say it twice.
    """
    message = str(MESSAGES[target_type])
    if not any(queued == message for _category, queued in session.get("_flashes", [])):
        flash(message, "info")
