"""Feasibility review of proposals past their threshold, execution tracking, process results.

Services never commit. Every staff action writes an audit event in the caller's transaction.
Status moves go through ``app.proposals.services._move`` on a proposal locked with
``lock_proposal``, so two officials publishing (or posting a first update) at once cannot
both move it.
"""
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.audit.services import record
from app.extensions import db
from app.http import path_for
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.proposal import (
    Feasibility,
    Process,
    ProjectMilestone,
    ProjectUpdate,
    Proposal,
    ProposalReview,
    ReviewOutcome,
)
from app.models.proposal import ProposalStatus as P
from app.models.user import Department, Role
from app.notifications import services as notifications
from app.proposals.services import _move, lock_proposal, reviewers_of, supporters_of

#: Statuses of the two tabs of the officials' queue.
QUEUE_TABS = {"review": (P.threshold_reached, P.under_review), "projects": (P.accepted, P.in_execution)}
PAST_THRESHOLD = (P.threshold_reached, P.under_review, P.accepted, P.rejected, P.in_execution, P.completed)
#: Days after the threshold from which the queue highlights a proposal still waiting.
AGE_WARN_DAYS, AGE_OVERDUE_DAYS = 30, 60
#: Larger estimates are typing mistakes (a hundred billion euro).
MAX_COST_CENTS = 10**13

notifications.register_kind(
    "proposal.review_accepted",
    _l("The City accepted the proposal “%(title)s”: read its feasibility review and answer."))
notifications.register_kind(
    "proposal.review_rejected",
    _l("The City did not accept the proposal “%(title)s”: read its answer and the motivation."))
notifications.register_kind(
    "proposal.project_update", _l("News on the proposal “%(title)s”: the project is at %(progress)s%%."))
notifications.register_kind(
    "proposal.project_completed", _l("The proposal “%(title)s” has been carried out: the project is completed."))


def _update_is_public(update_id):
    update = db.session.get(ProjectUpdate, update_id)
    return update is not None and update.hidden_at is None and update.proposal.is_public


def _register_photo_visibility():
    from app.media.services import register_owner_visibility

    register_owner_visibility("project_update", _update_is_public)


_register_photo_visibility()


# --- who may ----------------------------------------------------------------------------------

def may_review(user, proposal):
    """True if ``user`` is an official of the proposal's department (any official if it has none)."""
    if user is None or not user.is_authenticated or not user.has_role(Role.official):
        return False
    return proposal.department_id is None or any(d.id == proposal.department_id for d in user.departments)


def _require_reviewer(user, proposal):
    if not may_review(user, proposal):
        raise PermissionDenied(_("Only officials of the responsible department can do this."))


def office_proposal(proposal_id):
    """A published, not hidden proposal for the office pages; NotFound otherwise."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not proposal.is_public:
        raise NotFound(_("There is no such proposal."))
    return proposal


# --- money ------------------------------------------------------------------------------------

_AMOUNT = re.compile(r"(?P<int>\d{1,3}(?:(?P<sep>[.,])\d{3})(?:(?P=sep)\d{3})*|\d+)(?:(?P<dec>[.,])(?P<frac>\d{1,2}))?")


def parse_euro(text):
    """Euro cents from what people type: "12.500,50", "12500.50", "12,500", "€ 300" (None if blank).

    A separator followed by one or two digits is the decimal one; groups of three digits are
    thousands, whichever separator they use.
    """
    value = re.sub(r"[\s\u00a0\u202f€]|eur(o)?", "", text or "", flags=re.IGNORECASE)
    if not value:
        return None
    if value[0] in "-−":
        raise DomainError(_("The cost cannot be negative."), field="estimated_cost")
    match = _AMOUNT.fullmatch(value.lstrip("+"))
    if match is None or (match["sep"] and match["sep"] == match["dec"]):
        raise DomainError(_("Write the cost in euro, for example 12.500,50."), field="estimated_cost")
    cents = int(re.sub(r"[.,]", "", match["int"])) * 100 + int((match["frac"] or "0").ljust(2, "0"))
    if cents >= MAX_COST_CENTS:
        raise DomainError(_("This cost is too large: check the number."), field="estimated_cost")
    return cents


# --- the review -------------------------------------------------------------------------------

class ReviewIncomplete(DomainError):
    """Publishing needs more: ``errors`` maps each missing field to its message."""

    def __init__(self, errors):
        super().__init__(_("The review cannot be published yet: complete the fields marked."), errors=errors)
        self.errors = errors


@dataclass
class ReviewInput:
    """What the review form sends (every field optional while it is a draft)."""

    technical: str | None = None
    technical_notes: str = ""
    legal: str | None = None
    legal_notes: str = ""
    economic: str | None = None
    economic_notes: str = ""
    estimated_cost_cents: int | None = None
    department_id: int | None = None
    execution_starts_on: date | None = None
    execution_ends_on: date | None = None
    public_answer: str = ""
    outcome: str | None = None
    motivation: str = ""


def _text(value, name, limit):
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(_("This text is too long (at most %(n)d characters).", n=limit), field=name)
    return value


def _enum(kind, value, name):
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except ValueError:
        raise DomainError(_("Choose one of the options."), field=name) from None


def _open_review(proposal, actor):
    """The proposal's review (created if missing) once the rules allow the actor to change it."""
    review = proposal.review
    if review is not None and review.published_at is not None:
        raise IllegalTransition(_("The review is published: it can no longer change."))
    if proposal.status not in QUEUE_TABS["review"]:
        raise IllegalTransition(_("Only proposals that reached their support threshold can be reviewed."))
    _require_reviewer(actor, proposal)
    if review is None:
        review = ProposalReview(proposal=proposal, department_id=proposal.department_id)
        db.session.add(review)
    return review


def _apply(review, proposal, actor, data, now):
    """Check and copy the form's values onto the review; a new department re-routes the proposal."""
    values = {
        "technical": _enum(Feasibility, data.technical, "technical"),
        "legal": _enum(Feasibility, data.legal, "legal"),
        "economic": _enum(Feasibility, data.economic, "economic"),
        "outcome": _enum(ReviewOutcome, data.outcome, "outcome"),
        "technical_notes": _text(data.technical_notes, "technical_notes", 5000),
        "legal_notes": _text(data.legal_notes, "legal_notes", 5000),
        "economic_notes": _text(data.economic_notes, "economic_notes", 5000),
        "public_answer": _text(data.public_answer, "public_answer", 20000),
        "motivation": _text(data.motivation, "motivation", 5000),
    }
    cost = data.estimated_cost_cents
    if cost is not None and cost < 0:
        raise DomainError(_("The cost cannot be negative."), field="estimated_cost")
    if cost is not None and cost >= MAX_COST_CENTS:
        raise DomainError(_("This cost is too large: check the number."), field="estimated_cost")
    starts, ends = data.execution_starts_on, data.execution_ends_on
    if starts and ends and ends <= starts:
        raise DomainError(_("The end of the execution period must come after its start."),
                          field="execution_ends_on")
    for name, value in values.items():
        setattr(review, name, value)
    review.estimated_cost_cents = cost
    review.execution_starts_on, review.execution_ends_on = starts, ends
    review.reviewer_id = actor.id
    review.updated_at = now
    if data.department_id and data.department_id != proposal.department_id:
        department = db.session.get(Department, data.department_id)
        if department is None:
            raise DomainError(_("Choose one of the options."), field="department_id")
        _reroute(proposal, actor, department)
    review.department_id = proposal.department_id


def _reroute(proposal, actor, department):
    """Give the proposal to another department, whose officials are told it waits for them."""
    before = proposal.department_id
    proposal.department_id = department.id
    record("proposal.rerouted", actor=actor, target=proposal, details={"from": before, "to": department.id})
    notifications.notify([u for u in reviewers_of(proposal) if u.id != actor.id], "proposal.review_queued",
                         {"title": proposal.title}, url=path_for("proposals.detail", proposal_id=proposal.id))


def _start_review(proposal, actor, now):
    if proposal.status == P.threshold_reached:
        _move(proposal, P.under_review, actor=actor, now=now)


def save_draft(proposal_id, actor, data, now=None):
    """Store the review privately; the first save puts the proposal under review."""
    now = now or utcnow()
    proposal = lock_proposal(proposal_id)
    review = _open_review(proposal, actor)
    _apply(review, proposal, actor, data, now)
    _start_review(proposal, actor, now)
    db.session.flush()
    record("proposal_review.saved", actor=actor, target=review,
           details={"proposal": proposal.id, "outcome": review.outcome.value if review.outcome else None})
    return review


def _missing(review):
    """Field -> message for everything a published review must have."""
    errors = {}
    for name in ("technical", "legal", "economic"):
        if getattr(review, name) is None:
            errors[name] = _("Choose the assessment.")
    if review.outcome is None:
        errors["outcome"] = _("Choose the outcome.")
    if not review.motivation:
        errors["motivation"] = _("Explain the outcome.")
    if not review.public_answer:
        errors["public_answer"] = _("Write the answer citizens will read.")
    if review.outcome == ReviewOutcome.accepted and Feasibility.not_feasible in (
            review.technical, review.legal, review.economic):
        errors["outcome"] = _("A proposal assessed as not feasible cannot be accepted: change the assessment "
                              "or do not accept it.")
    return errors


def publish_review(proposal_id, actor, data, now=None):
    """Publish the review: the proposal is accepted or rejected, and everyone involved is told."""
    now = now or utcnow()
    proposal = lock_proposal(proposal_id)
    review = _open_review(proposal, actor)
    _apply(review, proposal, actor, data, now)
    errors = _missing(review)
    if not may_review(actor, proposal):
        # Handed over in this very request: the new department decides, not the one that let it go.
        errors["department_id"] = _("You are handing the proposal over to another department: save the draft "
                                    "instead, and its officials will publish the review.")
    if errors:
        raise ReviewIncomplete(errors)
    _start_review(proposal, actor, now)
    _move(proposal, P(review.outcome.value), actor=actor, reason=review.motivation, now=now)
    review.published_at = now
    review.published_by_id = actor.id
    db.session.flush()
    record("proposal_review.published", actor=actor, target=review,
           details={"proposal": proposal.id, "outcome": review.outcome.value})
    _tell_everyone(proposal, f"proposal.review_{review.outcome.value}", {"title": proposal.title})
    return review


def _tell_everyone(proposal, kind, params):
    """Notify the author, accepted co-authors, supporters and followers — each of them once."""
    people = supporters_of(proposal)
    people.extend(c.user for c in proposal.coauthors if c.accepted_at is not None)
    if proposal.author is not None:
        people.append(proposal.author)
    url = path_for("proposals.detail", proposal_id=proposal.id)
    notifications.notify(people, kind, params, url=url)
    notifications.notify_followers("proposal", proposal.id, kind, params, url=url, exclude=people)


# --- execution tracking -----------------------------------------------------------------------

def _open_project(proposal, actor):
    _require_reviewer(actor, proposal)
    if proposal.status == P.completed:
        raise IllegalTransition(_("The project is completed: it can no longer change."))
    if proposal.status not in QUEUE_TABS["projects"]:
        raise IllegalTransition(_("Only accepted proposals become projects."))


def today():
    """Today's date in the City's time zone."""
    return to_user_timezone(utcnow()).date()


def add_milestone(proposal_id, actor, title, due_on=None):
    """Plan a step of the project."""
    proposal = office_proposal(proposal_id)
    _open_project(proposal, actor)
    title = _text(title, "title", 200)
    if not title:
        raise DomainError(_("Give the milestone a title."), field="title")
    position = db.session.scalar(select(func.coalesce(func.max(ProjectMilestone.position), 0))
                                 .where(ProjectMilestone.proposal_id == proposal.id)) + 1
    milestone = ProjectMilestone(proposal_id=proposal.id, title=title, due_on=due_on, position=position)
    db.session.add(milestone)
    db.session.flush()
    record("project_milestone.added", actor=actor, target=milestone, details={"proposal": proposal.id})
    return milestone


def _milestone(proposal, milestone_id):
    milestone = db.session.get(ProjectMilestone, milestone_id)
    if milestone is None or milestone.proposal_id != proposal.id:
        raise NotFound(_("There is no such milestone."))
    return milestone


def mark_milestone_done(proposal_id, milestone_id, actor, done_on=None):
    """Record the day a milestone was reached (today unless said otherwise; never in the future)."""
    proposal = office_proposal(proposal_id)
    _open_project(proposal, actor)
    milestone = _milestone(proposal, milestone_id)
    if milestone.done_on is not None:
        raise DomainError(_("This milestone is already done."), field="done_on")
    done_on = done_on or today()
    if done_on > today():
        raise DomainError(_("The date it was done cannot be in the future."), field="done_on")
    milestone.done_on = done_on
    record("project_milestone.done", actor=actor, target=milestone,
           details={"proposal": proposal.id, "done_on": done_on.isoformat()})
    return milestone


def remove_milestone(proposal_id, milestone_id, actor):
    """Drop a milestone that is not done yet (done ones stay in the record)."""
    proposal = office_proposal(proposal_id)
    _open_project(proposal, actor)
    milestone = _milestone(proposal, milestone_id)
    if milestone.done_on is not None:
        raise DomainError(_("A milestone that is done stays in the record."))
    record("project_milestone.removed", actor=actor, target=milestone,
           details={"proposal": proposal.id})
    db.session.delete(milestone)


def add_update(proposal_id, actor, body, progress, photos=(), completes=False, now=None):
    """A public progress update with photos; the first one starts the execution, ``completes`` ends it."""
    now = now or utcnow()
    office_proposal(proposal_id)
    proposal = lock_proposal(proposal_id)
    _open_project(proposal, actor)
    body = _text(body, "body", 5000)
    if not body:
        raise DomainError(_("Write what happened."), field="body")
    progress = 100 if completes else progress
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise DomainError(_("The progress is a percentage between 0 and 100."), field="progress")
    update = ProjectUpdate(proposal_id=proposal.id, author_id=actor.id, body=body, progress=progress,
                           created_at=now)
    db.session.add(update)
    db.session.flush()
    if photos:
        from app.media.services import attach_photos

        attach_photos(photos, "project_update", update.id, actor)
    previous, proposal.progress = proposal.progress, progress
    if proposal.status == P.accepted:
        _move(proposal, P.in_execution, actor=actor, now=now)
    if completes:
        _move(proposal, P.completed, actor=actor, now=now)
    record("project_update.published", actor=actor, target=update,
           details={"proposal": proposal.id, "progress": progress, "previous": previous})
    kind = "proposal.project_completed" if completes else "proposal.project_update"
    _tell_everyone(proposal, kind, {"title": proposal.title, "progress": progress})
    return update


def complete(proposal_id, actor, body, photos=(), now=None):
    """Close the project with a last update at 100 %."""
    return add_update(proposal_id, actor, body, 100, photos=photos, completes=True, now=now)


# --- reading ----------------------------------------------------------------------------------

def review_queue(official, tab="review", status=None, process_id=None):
    """Proposals waiting for the official's departments (or no department), oldest threshold first."""
    statuses = QUEUE_TABS.get(tab, QUEUE_TABS["review"])
    if status in statuses:
        statuses = (status,)
    department_ids = [d.id for d in official.departments]
    # As in the report queue: what no department was given to is every official's business.
    query = select(Proposal).where(Proposal.status.in_(statuses), Proposal.hidden_at.is_(None),
                                   or_(Proposal.department_id.in_(department_ids),
                                       Proposal.department_id.is_(None)))
    if process_id:
        query = query.where(Proposal.process_id == process_id)
    return query.options(selectinload(Proposal.process), selectinload(Proposal.department)).order_by(
        Proposal.threshold_reached_at.asc().nulls_last(), Proposal.id.asc())


def age_days(proposal, now=None):
    """Whole days since the proposal reached its threshold (None if it never did)."""
    if proposal.threshold_reached_at is None:
        return None
    return max(0, ((now or utcnow()) - proposal.threshold_reached_at).days)


def departments():
    return db.session.scalars(select(Department).order_by(Department.name_it)).all()


@dataclass
class UpdateView:
    update: ProjectUpdate
    photos: list
    #: The progress before this update (to show a step back honestly).
    previous: int


def updates_of(proposal):
    """Visible updates with their photos, newest first."""
    from app.media.services import photos_of

    views, previous = [], 0
    for update in proposal.project_updates:
        if update.hidden_at is None:
            views.append(UpdateView(update, photos_of("project_update", update.id), previous))
            previous = update.progress
    return views[::-1]


@dataclass
class PublicPanel:
    """What the proposal page shows of the City's answer and of the project."""

    review: ProposalReview | None = None
    #: The department answering for a proposal past its threshold (None before, or if not routed).
    department: Department | None = None
    #: True while the City studies it (the review is not published yet).
    in_review: bool = False
    project: bool = False
    updates: list = field(default_factory=list)
    milestones: list = field(default_factory=list)
    #: (url, label) of the office page for an official who may act on it.
    office_link: tuple | None = None

    @property
    def empty(self):
        return (self.review is None and self.department is None and not self.in_review and not self.project
                and self.office_link is None)


def public_panel(proposal, viewer):
    """The published review only (never a draft), the project, and the office's way in."""
    panel = PublicPanel()
    review = proposal.review
    if review is not None and review.published_at is not None:
        panel.review = review
    if proposal.status in PAST_THRESHOLD:
        panel.department = proposal.department
    panel.in_review = proposal.status in QUEUE_TABS["review"]
    if proposal.status in (P.accepted, P.in_execution, P.completed):
        panel.project = True
        panel.updates = updates_of(proposal)
        panel.milestones = list(proposal.milestones)
    if may_review(viewer, proposal):
        if proposal.status in QUEUE_TABS["review"]:
            panel.office_link = (path_for("reviews.review", proposal_id=proposal.id), _("Review this proposal"))
        elif proposal.status in QUEUE_TABS["projects"]:
            panel.office_link = (path_for("reviews.project", proposal_id=proposal.id), _("Update the project"))
    return panel


# --- processes --------------------------------------------------------------------------------

def processes():
    """Every process, newest first."""
    return db.session.scalars(select(Process).options(selectinload(Process.phases))
                              .order_by(Process.created_at.desc(), Process.id.desc())).all()


def process_by_slug(slug):
    process = db.session.scalar(select(Process).where(Process.slug == slug))
    if process is None:
        raise NotFound(_("There is no such process."))
    return process


@dataclass
class Results:
    published: int = 0
    supports: int = 0
    past_threshold: int = 0
    reviewed: int = 0
    accepted: int = 0
    rejected: int = 0
    in_execution: int = 0
    completed: int = 0
    #: Accepted, in execution and completed proposals, with their progress.
    projects: list = field(default_factory=list)


def process_results(process):
    """What came out of a process, counted from the database (visible proposals only)."""
    visible = (Proposal.process_id == process.id, Proposal.status != P.draft, Proposal.hidden_at.is_(None))
    results = Results()
    for status, count, supports in db.session.execute(
            select(Proposal.status, func.count(Proposal.id), func.coalesce(func.sum(Proposal.support_count), 0))
            .where(*visible).group_by(Proposal.status)):
        results.published += count
        results.supports += int(supports)
        if status in PAST_THRESHOLD:
            results.past_threshold += count
        if status in (P.accepted, P.in_execution, P.completed):
            results.accepted += count
        results.rejected += count if status == P.rejected else 0
        results.in_execution += count if status == P.in_execution else 0
        results.completed += count if status == P.completed else 0
    results.reviewed = db.session.scalar(
        select(func.count(ProposalReview.id)).join(Proposal, Proposal.id == ProposalReview.proposal_id)
        .where(*visible, ProposalReview.published_at.is_not(None)))
    results.projects = db.session.scalars(
        select(Proposal).where(*visible, Proposal.status.in_((P.accepted, P.in_execution, P.completed)))
        .order_by(Proposal.progress.desc(), Proposal.title)).all()
    return results
