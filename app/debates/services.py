"""Debate rules: opening, editing (until someone else answers), flags and the turn into a proposal.

Services never commit. Turning a debate into a proposal is audited.
"""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.services import record
from app.extensions import db
from app.locking import lock_row
from app.http import path_for
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.discussion import Comment, Debate
from app.models.place import Category, District
from app.models.proposal import PhaseKind, Process
from app.notifications import services as notifications

SORTS = ("newest", "comments")


def _load_public(debate_id):
    debate = db.session.get(Debate, debate_id)
    return debate if debate is not None and debate.hidden_at is None else None


notifications.register_followable(
    "debate", load=_load_public, url=lambda d: path_for("debates.detail", debate_id=d.id), title=lambda d: d.title)


# --- reading --------------------------------------------------------------------------------

def get_public(debate_id):
    """A debate anyone may see, or NotFound."""
    debate = _load_public(debate_id)
    if debate is None:
        raise NotFound(_("There is no such debate."))
    return debate


def public_debates(sort="newest", category_id=None, district_id=None):
    """The query behind the public list: visible debates, newest or most commented first."""
    query = select(Debate).where(Debate.hidden_at.is_(None)).options(
        selectinload(Debate.author), selectinload(Debate.category), selectinload(Debate.district))
    if category_id:
        query = query.where(Debate.category_id == category_id)
    if district_id:
        query = query.where(Debate.district_id == district_id)
    if sort == "comments":
        query = query.order_by(Debate.comment_count.desc())
    return query.order_by(Debate.created_at.desc(), Debate.id.desc())


def is_author(debate, user):
    return user is not None and user.is_authenticated and debate.author_id == user.id


def answered_by_others(debate):
    """Whether someone other than the author has commented (then the text stays as they read it)."""
    return db.session.scalar(select(Comment.id).where(
        Comment.target_type == "debate", Comment.target_id == debate.id,
        Comment.author_id.is_distinct_from(debate.author_id)).limit(1)) is not None


def can_edit(debate, user):
    return is_author(debate, user) and not answered_by_others(debate)


def open_processes(now=None):
    """Participatory processes collecting proposals right now."""
    now = now or utcnow()
    processes = db.session.scalars(select(Process).options(selectinload(Process.phases))
                                   .order_by(Process.created_at.desc(), Process.id.desc())).all()
    return [p for p in processes if p.phase_at(now) == PhaseKind.collection]


# --- writing --------------------------------------------------------------------------------

def _clean(value, field, label, max_len):
    value = (value or "").strip()
    if not value:
        raise DomainError(_("Please fill in the %(field)s.", field=label), field=field)
    if len(value) > max_len:
        raise DomainError(_("The %(field)s can be at most %(n)d characters long.", field=label, n=max_len),
                          field=field)
    return value


def _place(category_id, district_id):
    """Checked optional category and district ids (0 or None means none)."""
    if category_id and db.session.get(Category, category_id) is None:
        raise DomainError(_("Choose a category from the list."), field="category_id")
    if district_id and db.session.get(District, district_id) is None:
        raise DomainError(_("Choose a district from the list."), field="district_id")
    return category_id or None, district_id or None


def _require_citizen(user):
    if user is None or not user.is_authenticated or not user.is_citizen:
        raise PermissionDenied(_("Only citizens with a confirmed email address can open a debate."))


def create_debate(author, *, title, body, category_id=None, district_id=None):
    """A citizen opens a debate (pre-moderation may hold it until a moderator approves it)."""
    from app.moderation.services import screen

    _require_citizen(author)
    category_id, district_id = _place(category_id, district_id)
    debate = Debate(author_id=author.id, title=_clean(title, "title", _("title"), 140),
                    body=_clean(body, "body", _("text"), 10000), category_id=category_id, district_id=district_id)
    db.session.add(debate)
    db.session.flush()
    screen("debate", debate, author)
    return debate


def edit_debate(debate, user, *, title, body, category_id=None, district_id=None, now=None):
    """The author changes the debate, until someone else has answered."""
    if not is_author(debate, user):
        raise PermissionDenied(_("Only the author can edit a debate."))
    if answered_by_others(debate):
        raise IllegalTransition(_("Others have already answered: the debate can no longer be edited."))
    debate.category_id, debate.district_id = _place(category_id, district_id)
    debate.title = _clean(title, "title", _("title"), 140)
    debate.body = _clean(body, "body", _("text"), 10000)
    debate.edited_at = now or utcnow()
    return debate


def flag_debate(debate, user, reason, text=None):
    """Tell the moderators about a debate."""
    from app.reports.services import flag

    if is_author(debate, user):
        raise DomainError(_("You cannot flag your own debate: edit it instead."))
    return flag(user, "debate", debate.id, reason, text)


def convert_to_proposal(debate, user, process_id, now=None):
    """The author turns the debate into a draft proposal of a process collecting proposals (once)."""
    from app.proposals.services import create_proposal

    now = now or utcnow()
    debate = lock_row(Debate, debate.id)  # a double submit must not make two proposals
    if not is_author(debate, user):
        raise PermissionDenied(_("Only the author can turn a debate into a proposal."))
    if debate.proposal_id is not None:
        raise IllegalTransition(_("This debate has already become a proposal."))
    process = db.session.get(Process, process_id) if process_id else None
    if process is None or process.phase_at(now) != PhaseKind.collection:
        raise DomainError(_("Choose a process that is collecting proposals now."), field="process_id")
    # A process may accept only some categories: then the author picks one while editing the draft.
    accepted = {c.id for c in process.categories}
    category_id = debate.category_id if not accepted or debate.category_id in accepted else None
    try:
        proposal = create_proposal(user, process, title=debate.title, body=debate.body, category_id=category_id,
                                   district_id=debate.district_id)
    except DomainError as exc:
        raise DomainError(exc.message, field="process_id") from exc
    debate.proposal_id = proposal.id
    record("debate.converted", actor=user, target=debate, details={"proposal": proposal.id,
                                                                   "process": process.id})
    return proposal


def origin_of(proposal_id):
    """The visible debate a proposal came from, or None."""
    return db.session.scalar(select(Debate).where(Debate.proposal_id == proposal_id, Debate.hidden_at.is_(None)))
