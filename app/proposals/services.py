"""Proposal rules: drafting, publishing, the frozen text, supports and the threshold.

The support service is the integrity core. Counting, the per-citizen limit, the phase check
and the threshold transition happen in one transaction under a lock on the proposal row
(PostgreSQL ``SELECT … FOR UPDATE``; SQLite takes its database write lock with a first
write), so concurrent supports never get lost, doubled or overshoot, and the threshold is
crossed exactly once. The per-citizen limit also locks the citizen (see ``_lock_citizen``).
Services never commit.
"""
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app import geo
from app.audit.services import record
from app.extensions import db
from app.http import path_for
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.messaging import Follow
from app.models.place import Category, District
from app.models.proposal import PROPOSAL_TRANSITIONS, PhaseKind, Proposal, ProposalAddendum, Support
from app.models.proposal import ProposalStatus as P
from app.notifications import services as notifications

notifications.register_kind(
    "proposal.threshold_reached",
    _l("The proposal “%(title)s” reached %(threshold)s supports: the City must now review it."))
notifications.register_kind(
    "proposal.review_queued",
    _l("The proposal “%(title)s” reached its threshold and waits for your department's feasibility review."))


def _load_public(proposal_id):
    proposal = db.session.get(Proposal, proposal_id)
    return proposal if proposal is not None and proposal.is_public else None


notifications.register_followable(
    "proposal", load=_load_public, url=lambda p: path_for("proposals.detail", proposal_id=p.id),
    title=lambda p: p.title)


#: Ages are counted on the calendar of the city.
ROME = ZoneInfo("Europe/Rome")


class SupportClosed(DomainError):
    status = 409


class SupportLimitReached(DomainError):
    status = 409


@dataclass
class SupportResult:
    support: Support
    created: bool
    count: int
    crossed: bool


# --- locking ------------------------------------------------------------------------------

def lock_proposal(proposal_id):
    """The proposal, locked for the rest of the transaction; NotFound if it does not exist.

    PostgreSQL: a row lock. SQLite: a no-op write first, which takes the database's write lock
    (waiting up to the busy timeout), then a fresh read — BEGIN IMMEDIATE by other means.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(Proposal).where(Proposal.id == proposal_id)
                           .values(support_count=Proposal.support_count))
        stmt = select(Proposal).where(Proposal.id == proposal_id).execution_options(populate_existing=True)
    else:
        stmt = (select(Proposal).where(Proposal.id == proposal_id).with_for_update()
                .execution_options(populate_existing=True))
    proposal = db.session.scalar(stmt)
    if proposal is None:
        raise NotFound(_("There is no such proposal."))
    return proposal


def relock(proposal):
    """``proposal`` locked and read afresh, for rules that must see the latest state.

    A page loads the proposal before the action; meanwhile a support may have frozen the text or
    crossed the threshold. Every change of status or text re-reads it under the lock first.
    """
    locked = lock_proposal(proposal.id)
    db.session.expire(locked, ["coauthors", "addenda"])
    return locked


# --- the lifecycle ----------------------------------------------------------------------------

def _move(proposal, to_status, actor=None, reason=None, now=None):
    """Apply one legal move of the lifecycle and audit it."""
    to_status = P(to_status)
    if to_status not in PROPOSAL_TRANSITIONS[proposal.status]:
        raise IllegalTransition(_("This proposal cannot move from %(a)s to %(b)s.",
                                  a=proposal.status.value, b=to_status.value))
    before = proposal.status
    now = now or utcnow()
    proposal.status = to_status
    proposal.status_changed_at = now
    record(f"proposal.{to_status.value}", actor=actor, target=proposal, reason=reason,
           details={"from": before.value, "to": to_status.value})
    return proposal


def _clean(value, label, max_len, field=None):
    # Browsers send textarea lines as CRLF: store plain newlines.
    value = (value or "").replace("\r\n", "\n").strip()
    if not value:
        raise DomainError(_("Please fill in the %(field)s.", field=label), field=field)
    if len(value) > max_len:
        raise DomainError(_("The %(field)s is too long.", field=label), field=field)
    return value


def _category(process, category_id):
    """The category id, checked against the process's list (no list = every category)."""
    if not category_id:
        return None
    allowed = {c.id for c in process.categories}
    if db.session.get(Category, category_id) is None or (allowed and category_id not in allowed):
        raise DomainError(_("Choose one of the categories of this process."), field="category_id")
    return category_id


def _place(process, lat, lon, district_id):
    """(lat, lon, district_id) checked: the point inside the city (and the process's district).

    A district given explicitly is kept; otherwise the point's district is used. Without a point
    the district is optional for a city-wide process and always the process's own for a district one.
    """
    scoped = process.district
    if lat in (None, "") and lon in (None, ""):
        if scoped is not None and district_id not in (None, 0, scoped.id):
            raise DomainError(_("This process is only for District %(n)d – %(name)s.", n=scoped.number,
                                name=scoped.name), field="district_id")
        if district_id and db.session.get(District, district_id) is None:
            raise DomainError(_("Choose a district from the list."), field="district_id")
        return None, None, (scoped.id if scoped is not None else district_id or None)
    try:
        point_district = geo.require_in_city(lat, lon)
    except geo.GeoError:
        raise DomainError(_("The point is outside the city of Turin: place it inside the city, or remove it."),
                          field="location") from None
    if scoped is not None and point_district not in (None, scoped.id):
        raise DomainError(_("This process is only for District %(n)d – %(name)s: place the point inside it.",
                            n=scoped.number, name=scoped.name), field="location")
    return float(lat), float(lon), district_id or point_district or (scoped.id if scoped is not None else None)


def create_proposal(author, process, *, title, body, category_id=None, district_id=None, lat=None, lon=None):
    """A draft proposal by a confirmed citizen (category and point optional, checked when given)."""
    if author is None or not author.is_citizen:
        raise PermissionDenied(_("Only citizens with a confirmed email address can propose."))
    title, body = _clean(title, _("title"), 140, "title"), _clean(body, _("text"), 20000, "body")
    lat, lon, district_id = _place(process, lat, lon, district_id)
    proposal = Proposal(process_id=process.id, author_id=author.id, title=title, body=body,
                        category_id=_category(process, category_id), district_id=district_id, lat=lat, lon=lon,
                        status=P.draft)
    db.session.add(proposal)
    db.session.flush()
    return proposal


def publish(proposal, author, now=None):
    """Publish a draft while the process collects proposals; the author then follows it.

    Pre-moderation may hold it: it is then published but hidden, and nobody else sees it (nor can
    support it) until a moderator approves it. Publishing tells nobody else, so there is nothing to
    hold back meanwhile.
    """
    from app.moderation.services import screen

    now = now or utcnow()
    proposal = relock(proposal)
    _require_author(proposal, author)
    if proposal.process.phase_at(now) != PhaseKind.collection:
        raise DomainError(_("Proposals can be published only while the process collects them."))
    _move(proposal, P.published, actor=author, now=now)
    proposal.published_at = now
    following = db.session.scalar(select(Follow.id).where(Follow.user_id == author.id, Follow.target_id == proposal.id,
                                                          Follow.target_type == "proposal"))
    if following is None:
        db.session.add(Follow(user_id=author.id, target_type="proposal", target_id=proposal.id))
    db.session.flush()
    screen("proposal", proposal, author, now=now)
    return proposal


#: ``edit`` leaves a field as it is when it is not given.
KEEP = object()


def edit(proposal, author, *, title, body, category_id=KEEP, district_id=KEEP, lat=KEEP, lon=KEEP):
    """Change the text (author or accepted co-author) — only until the first support (then addenda only)."""
    proposal = relock(proposal)
    require_editor(proposal, author)
    if proposal.is_frozen:
        raise DomainError(_("The text is frozen since the first support: add an addendum instead."))
    if proposal.status not in (P.draft, P.published):
        raise DomainError(_("This proposal can no longer be edited."))
    proposal.title = _clean(title, _("title"), 140, "title")
    proposal.body = _clean(body, _("text"), 20000, "body")
    if category_id is not KEEP:
        proposal.category_id = _category(proposal.process, category_id)
    if lat is not KEEP:
        proposal.lat, proposal.lon, proposal.district_id = _place(
            proposal.process, lat, lon, proposal.district_id if district_id is KEEP else district_id)
    return proposal


def add_addendum(proposal, author, body):
    """A dated addition to a published text (author or accepted co-author)."""
    proposal = relock(proposal)
    require_editor(proposal, author)
    if proposal.status in (P.draft, P.withdrawn, P.expired):
        raise DomainError(_("Addenda are for published proposals."))
    addendum = ProposalAddendum(proposal_id=proposal.id, body=_clean(body, _("text"), 5000, "body"))
    db.session.add(addendum)
    return addendum


def withdraw(proposal, author, now=None, reason=None):
    """The author withdraws a published proposal (the reason, if any, is shown on its page)."""
    proposal = relock(proposal)
    _require_author(proposal, author)
    if proposal.status != P.published:
        raise IllegalTransition(_("Only a proposal that is collecting supports can be withdrawn."))
    return _move(proposal, P.withdrawn, actor=author, now=now, reason=(reason or "").strip()[:1000] or None)


def expire_due(process, now=None):
    """Published proposals whose support window closed below the threshold become expired.

    Called when a process's proposals are read: timestamps decide, no scheduler is needed.
    """
    now = now or utcnow()
    window = process.window(PhaseKind.support)
    if window is None or now < window[1]:
        return 0
    expired = 0
    ids = db.session.scalars(select(Proposal.id).where(Proposal.process_id == process.id,
                                                       Proposal.status == P.published)).all()
    for proposal_id in ids:
        # Two readers may expire at once: the lock makes the second one find it expired already.
        proposal = lock_proposal(proposal_id)
        if proposal.status == P.published:
            _move(proposal, P.expired, now=now)
            expired += 1
    return expired


def _require_author(proposal, user):
    if user is None or proposal.author_id != user.id:
        raise PermissionDenied(_("Only the author can do this."))


def is_editor(proposal, user):
    """The author or a co-author who accepted the invitation."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    return proposal.author_id == user.id or any(c.user_id == user.id and c.accepted_at is not None
                                                for c in proposal.coauthors)


def require_editor(proposal, user):
    if not is_editor(proposal, user):
        raise PermissionDenied(_("Only the author and the co-authors can do this."))


# --- supports -------------------------------------------------------------------------------

def _check_supporter(user, process, now):
    if user is None or not user.is_citizen:
        raise PermissionDenied(_("Only citizens with a confirmed email address can support."))
    if process.verified_only and not user.is_verified:
        raise PermissionDenied(_("Supporting needs a verified account: verify your identity at any "
                                 "Casa del Quartiere."))
    if process.minimum_age:
        age = user.age_on(now.astimezone(ROME).date())
        if age is None:
            raise PermissionDenied(_("This process accepts supports from people aged %(n)d or more: add your "
                                     "date of birth in your profile first.", n=process.minimum_age))
        if age < process.minimum_age:
            raise PermissionDenied(_("This process accepts supports from people aged %(n)d or more.",
                                     n=process.minimum_age))


def support(user, proposal_id, now=None):
    """Support a proposal (idempotent). Crossing the threshold happens here, exactly once."""
    now = now or utcnow()
    proposal = lock_proposal(proposal_id)
    process = proposal.process
    _check_supporter(user, process, now)
    existing = db.session.scalar(select(Support).where(Support.proposal_id == proposal.id,
                                                       Support.user_id == user.id))
    if existing is not None:
        return SupportResult(existing, False, proposal.support_count, False)
    if proposal.hidden_at is not None or proposal.status not in (P.published, P.threshold_reached):
        raise SupportClosed(_("This proposal is not collecting supports."))
    if process.phase_at(now) != PhaseKind.support:
        raise SupportClosed(_("The support phase of this process is not open."))
    if proposal.status == P.threshold_reached and not process.supports_past_threshold:
        raise SupportClosed(_("This proposal already reached its threshold."))
    if process.supports_per_citizen:
        _lock_citizen(user)
        used = db.session.scalar(select(func.count(Support.id)).where(Support.user_id == user.id,
                                                                       Support.process_id == process.id))
        if used >= process.supports_per_citizen:
            raise SupportLimitReached(_("You have used all %(n)d of your supports in this process.",
                                        n=process.supports_per_citizen))
    row = Support(proposal_id=proposal.id, process_id=process.id, user_id=user.id, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # Only possible without the lock (it is held here): treat as the idempotent case.
        existing = db.session.scalar(select(Support).where(Support.proposal_id == proposal.id,
                                                           Support.user_id == user.id))
        return SupportResult(existing, False, proposal.support_count, False)
    proposal.support_count += 1
    if proposal.frozen_at is None:
        proposal.frozen_at = now
    crossed = False
    if proposal.status == P.published and proposal.support_count >= process.support_threshold:
        _move(proposal, P.threshold_reached, now=now, reason=f"{proposal.support_count} supports")
        proposal.threshold_reached_at = now
        _announce_threshold(proposal, process)
        crossed = True
    return SupportResult(row, True, proposal.support_count, crossed)


def _lock_citizen(user):
    """Serialise one citizen's supports across proposals, so the per-process limit holds.

    The proposal lock alone does not: two supports of the same citizen for two different
    proposals lock two different rows. Locks are always taken proposal first, then citizen.
    SQLite needs nothing more: its write lock already serialises every supporting transaction.
    """
    from app.models.user import User

    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def withdraw_support(user, proposal_id, now=None):
    """Take a support back while the support phase is open; a crossed threshold stays crossed."""
    now = now or utcnow()
    proposal = lock_proposal(proposal_id)
    if proposal.process.phase_at(now) != PhaseKind.support:
        raise SupportClosed(_("Supports can be withdrawn only while the support phase is open."))
    removed = db.session.execute(delete(Support).where(Support.proposal_id == proposal.id,
                                                       Support.user_id == user.id)).rowcount
    if removed:
        proposal.support_count -= removed
    return proposal.support_count


def supporters_of(proposal):
    """Users who support the proposal (for notifications only: the list is never public)."""
    from app.models.user import User

    return db.session.scalars(select(User).join(Support, Support.user_id == User.id)
                              .where(Support.proposal_id == proposal.id)).all()


def _announce_threshold(proposal, process):
    """Queue the proposal for its department's review; tell the author, supporters and followers.

    The department is the one of the proposal's category (the same routing as reports); without
    one the proposal still enters the review queue, where every official sees it.
    """
    if proposal.department_id is None and proposal.category is not None:
        proposal.department_id = proposal.category.department_id
    url = path_for("proposals.detail", proposal_id=proposal.id)
    params = {"title": proposal.title, "threshold": process.support_threshold}
    people = supporters_of(proposal)
    people.extend(coauthor.user for coauthor in proposal.coauthors if coauthor.accepted_at is not None)
    if proposal.author is not None:
        people.append(proposal.author)
    notified = notifications.notify(people, "proposal.threshold_reached", params, url=url)
    already = [note.user_id for note in notified]
    notifications.notify_followers("proposal", proposal.id, "proposal.threshold_reached", params, url=url,
                                   exclude=[_UserRef(uid) for uid in already])
    notifications.notify(reviewers_of(proposal), "proposal.review_queued", {"title": proposal.title},
                         url=url)


class _UserRef:
    def __init__(self, user_id):
        self.id = user_id


def reviewers_of(proposal):
    """Officials who review the proposal: those of its department, or every official without one."""
    from app.models.user import Role, User, UserRole, user_departments

    query = select(User).join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == Role.official))
    if proposal.department_id is not None:
        query = query.join(user_departments, user_departments.c.user_id == User.id).where(
            user_departments.c.department_id == proposal.department_id)
    return db.session.scalars(query.where(User.deleted_at.is_(None)).order_by(User.id)).unique().all()


def _add_months(moment, months):
    """The same day and time ``months`` later (the last day of the month when it has fewer days)."""
    import calendar

    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def anonymise_supports(process, now=None):
    """After the retention period, support rows lose their user; counts stay exact. Returns rows changed."""
    now = now or utcnow()
    ended = process.ended_at()
    if ended is None or now < _add_months(ended, process.support_retention_months):
        return 0
    changed = db.session.execute(update(Support).where(Support.process_id == process.id,
                                                       Support.user_id.is_not(None))
                                 .values(user_id=None)).rowcount
    if changed:
        record("process.supports_anonymised", target=process, details={"supports": changed})
    return changed
