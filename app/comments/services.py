"""Comment rules: what can be commented, the two-level thread, the edit window, deletion, flags,
mentions and notifications.

Threads are two levels deep. A reply to a reply is *attached to its top-level comment* (the
conversation goes on under the same comment; the web form pre-fills "@Name" of the person
answered), so nobody is ever refused for pressing the wrong "Reply" button.

Mentions: ``@Display Name`` mentions a person who already takes part in the thread (the item's
author and whoever commented on it), matched on the display name, case-insensitively, longest name
first. Display names are not unique: everybody in the thread with that name is told. Strangers
cannot be summoned into a thread, so mentions cannot be used to spam the whole city.

Services never commit.
"""
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select

from app.extensions import db
from app.http import path_for
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.discussion import Comment, Debate
from app.models.messaging import Follow
from app.models.proposal import Proposal
from app.models.report import Report
from app.models.user import User
from app.moderation.services import on_release, screen
from app.notifications import services as notifications

MAX_LENGTH = 5000

notifications.register_kind("comment.new", _l("%(name)s commented on “%(title)s”."))
notifications.register_kind("comment.reply", _l("%(name)s replied to your comment on “%(title)s”."))
notifications.register_kind("comment.mention", _l("%(name)s mentioned you in a comment on “%(title)s”."))


@dataclass(frozen=True)
class Commentable:
    #: id -> the item if it is publicly visible, else None
    load: Callable
    #: item -> its page (a local path)
    url: Callable
    #: item -> its title (for notifications)
    title: Callable
    #: item -> the User who wrote it, or None
    author: Callable
    #: (item, number of visible comments) -> None, for items that keep a counter
    on_count: Callable | None = None


#: target_type -> Commentable
COMMENTABLE = {}


def register_commentable(target_type, load, url, *, title=lambda item: "", author=lambda item: None,
                         on_count=None):
    """Make a kind of item commentable (feature modules call this at import time)."""
    COMMENTABLE[target_type] = Commentable(load=load, url=url, title=title, author=author, on_count=on_count)


def _loader(model, visible):
    def load(item_id):
        item = db.session.get(model, item_id)
        return item if item is not None and visible(item) else None

    return load


register_commentable("report", _loader(Report, lambda r: r.is_public),
                     lambda r: path_for("reports.detail", report_id=r.id),
                     title=lambda r: r.title, author=lambda r: r.reporter)
register_commentable("proposal", _loader(Proposal, lambda p: p.is_public),
                     lambda p: path_for("proposals.detail", proposal_id=p.id),
                     title=lambda p: p.title, author=lambda p: p.author)
register_commentable("debate", _loader(Debate, lambda d: d.hidden_at is None),
                     lambda d: path_for("debates.detail", debate_id=d.id),
                     title=lambda d: d.title, author=lambda d: d.author,
                     on_count=lambda d, n: setattr(d, "comment_count", n))


# --- reading --------------------------------------------------------------------------------

def get_item(target_type, target_id):
    """(spec, item) for a publicly visible commentable item, or NotFound."""
    spec = COMMENTABLE.get(target_type)
    item = spec.load(target_id) if spec is not None else None
    if item is None:
        raise NotFound(_("There is nothing to comment here."))
    return spec, item


def get_comment(comment_id):
    """A comment whose item is publicly visible, or NotFound."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("There is no such comment."))
    get_item(comment.target_type, comment.target_id)
    return comment


def comment_url(comment):
    """The item's page, at the comment."""
    spec, item = get_item(comment.target_type, comment.target_id)
    return f"{spec.url(item)}#comment-{comment.id}"


def thread(target_type, target_id):
    """The comments of an item, oldest first: (top-level comments, {top-level id: [replies]})."""
    from sqlalchemy.orm import selectinload

    rows = db.session.scalars(select(Comment).options(selectinload(Comment.author)).where(
        Comment.target_type == target_type, Comment.target_id == target_id).order_by(Comment.id)).all()
    replies = {}
    for c in rows:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    return [c for c in rows if c.parent_id is None], replies


def _visible():
    return (Comment.hidden_at.is_(None), Comment.deleted_at.is_(None))


def visible_count(target_type, target_id):
    """Comments neither deleted nor hidden."""
    return db.session.scalar(select(func.count(Comment.id)).where(
        Comment.target_type == target_type, Comment.target_id == target_id, *_visible()))


def recount(target_type, target_id):
    """Refresh the item's comment counter, if it keeps one (moderation calls this after hiding)."""
    spec = COMMENTABLE.get(target_type)
    if spec is None or spec.on_count is None:
        return
    item = spec.load(target_id)
    if item is not None:
        db.session.flush()
        # Count under a lock on the item: two comments posted at once must not both write N+1.
        # (SQLite's write lock, taken by the flush above, already serialises the writers.)
        if db.session.get_bind().dialect.name != "sqlite":
            model = type(item)
            db.session.execute(select(model.id).where(model.id == item.id).with_for_update())
        spec.on_count(item, visible_count(target_type, target_id))


def participants(target_type, target_id, item=None):
    """The people taking part in a thread: the item's author and everyone who commented."""
    spec = COMMENTABLE[target_type]
    people = {u.id: u for u in db.session.scalars(select(User).join(Comment, Comment.author_id == User.id).where(
        Comment.target_type == target_type, Comment.target_id == target_id, Comment.deleted_at.is_(None)))}
    author = spec.author(item) if item is not None else None
    if author is not None:
        people[author.id] = author
    return [u for u in people.values() if u.deleted_at is None]


# --- mentions -------------------------------------------------------------------------------

def _mention_pattern(names):
    """``@Name`` for any of ``names``, longest first, not inside a word or an email address."""
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<![\w@])@(" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE)


def mentioned(body, people):
    """The people of ``people`` that ``body`` mentions with ``@Display Name``."""
    pattern = _mention_pattern(u.display_name for u in people)
    if pattern is None:
        return []
    said = {m.group(1).casefold() for m in pattern.finditer(body or "")}
    return [u for u in people if u.display_name.casefold() in said]


_TAG = re.compile(r"(<[^>]*>)")


def highlight_mentions(html, names):
    """Wrap ``@Name`` mentions found in the text of sanitised ``html`` in <mark class="mention">.

    Only text between tags is touched, and the names matched are already HTML-escaped there,
    so nothing a user typed can become markup.
    """
    pattern = _mention_pattern(str(escape(n)) for n in names)
    if pattern is None:
        return Markup(html)
    parts = _TAG.split(str(html))
    for i in range(0, len(parts), 2):  # even indexes are text, odd ones are tags
        parts[i] = pattern.sub(lambda m: f'<mark class="mention">{m.group(0)}</mark>', parts[i])
    return Markup("".join(parts))


# --- writing --------------------------------------------------------------------------------

def _clean_body(body):
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write your comment first."), field="body")
    if len(body) > MAX_LENGTH:
        raise DomainError(_("A comment can be at most %(n)d characters long.", n=MAX_LENGTH), field="body")
    return body


def _require_citizen(user):
    if user is None or not user.is_authenticated or not user.is_citizen or not user.is_active:
        raise PermissionDenied(_("Only citizens with a confirmed email address can comment."))


def post_comment(author, target_type, target_id, body, parent_id=None, now=None):
    """A new comment on an item, or a reply (a reply to a reply joins its top-level comment)."""
    _require_citizen(author)
    spec, item = get_item(target_type, target_id)
    body = _clean_body(body)
    parent = None
    if parent_id:
        parent = db.session.get(Comment, parent_id)
        if parent is None or (parent.target_type, parent.target_id) != (target_type, target_id):
            raise DomainError(_("The comment you are answering is not in this conversation."), field="body")
        answered = parent
        if parent.parent_id is not None:
            parent = parent.parent
        if parent.deleted_at is not None or parent.hidden_at is not None or answered.deleted_at is not None:
            raise DomainError(_("The comment you are answering is no longer available."), field="body")
    else:
        answered = None
    comment = Comment(target_type=target_type, target_id=target_id, author_id=author.id, body=body,
                      parent_id=parent.id if parent else None, created_at=now or utcnow())
    db.session.add(comment)
    db.session.flush()
    # Pre-moderation may hold it: then nobody is told yet (see _notify_released).
    held = screen("comment", comment, author) is not None
    recount(target_type, target_id)
    if not held:
        _notify_new(comment, spec, item, author, answered)
    return comment


def _notify_new(comment, spec, item, author, answered):
    """Mentioned people, the person answered, the item's author and followers: each told once."""
    url = f"{spec.url(item)}#comment-{comment.id}"
    params = {"name": author.display_name, "title": spec.title(item)}
    told = {author.id}

    def tell(users, kind):
        fresh = [u for u in users if u is not None and u.id not in told]
        told.update(u.id for u in fresh)
        if fresh:
            notifications.notify(fresh, kind, params, url=url)

    tell(mentioned(comment.body, participants(comment.target_type, comment.target_id, item)), "comment.mention")
    if answered is not None:
        tell([answered.author], "comment.reply")
    followers = db.session.scalars(select(User).join(Follow, Follow.user_id == User.id).where(
        Follow.target_type == comment.target_type, Follow.target_id == comment.target_id)).all()
    tell([spec.author(item), *followers], "comment.new")


def _notify_released(comment):
    """A moderator published a held comment: tell now whom its posting would have told then.

    The person answered is the top-level comment's author (a reply to a reply joined it); one
    answered further down reads the mention the form pre-filled.
    """
    try:
        spec, item = get_item(comment.target_type, comment.target_id)
    except NotFound:
        return  # the item itself went out of sight meanwhile: there is no conversation to join
    author = db.session.get(User, comment.author_id) if comment.author_id else None
    if author is None or comment.deleted_at is not None:
        return
    _notify_new(comment, spec, item, author, comment.parent)


on_release("comment", _notify_released)


def edit_window():
    return timedelta(minutes=current_app.config.get("COMMENT_EDIT_MINUTES", 15))


def can_edit(comment, user, now=None):
    """Its author may edit a comment, neither deleted nor hidden, within the edit window."""
    return (user is not None and user.is_authenticated and comment.author_id == user.id
            and comment.deleted_at is None and comment.hidden_at is None
            and (now or utcnow()) - comment.created_at <= edit_window())


def edit_comment(comment, user, body, now=None):
    """Change one's own comment within the edit window ("edited" is shown); new mentions are told."""
    now = now or utcnow()
    if user is None or comment.author_id != user.id:
        raise PermissionDenied(_("Only its author can edit a comment."))
    if not can_edit(comment, user, now):
        raise DomainError(_("Comments can be edited for %(n)d minutes after posting.",
                            n=int(edit_window().total_seconds() // 60)), field="body")
    body = _clean_body(body)
    if body == comment.body:
        return comment
    spec, item = get_item(comment.target_type, comment.target_id)
    people = participants(comment.target_type, comment.target_id, item)
    before = {u.id for u in mentioned(comment.body, people)}
    comment.body, comment.edited_at = body, now
    fresh = [u for u in mentioned(body, people) if u.id not in before and u.id != user.id]
    if fresh:
        notifications.notify(fresh, "comment.mention", {"name": user.display_name, "title": spec.title(item)},
                             url=f"{spec.url(item)}#comment-{comment.id}")
    return comment


def delete_comment(comment, user, now=None):
    """Its author deletes a comment: the text goes, its place (and its replies) stay."""
    if user is None or comment.author_id != user.id:
        raise PermissionDenied(_("Only its author can delete a comment."))
    if comment.deleted_at is not None:
        raise DomainError(_("This comment was already deleted."))
    comment.deleted_at, comment.body = now or utcnow(), ""
    recount(comment.target_type, comment.target_id)
    return comment


def flag_comment(comment, user, reason, text=None):
    """Tell the moderators about a comment (one flag per person; a second one updates the first)."""
    from app.reports.services import flag

    if comment.deleted_at is not None or comment.hidden_at is not None:
        raise DomainError(_("This comment is no longer shown."))
    if comment.author_id == user.id:
        raise DomainError(_("You cannot flag your own comment: edit or delete it instead."))
    return flag(user, "comment", comment.id, reason, text)
