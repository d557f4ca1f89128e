"""The procedure of collaboration pacts (Turin's commons regulation n. 391), as services.

Every function takes model objects (or ids where said), never commits, and raises
DomainError / IllegalTransition / PermissionDenied / NotFound with a translated message. Every status
move goes through ``_move``, which checks PACT_TRANSITIONS, appends a PactStatusChange and records
an audit event ``pact.<to_status>``. Every mutating service locks the pact first (``lock_pact``) and
works on the row read afresh under the lock; the services return that row.

Legality is checked before permission: an illegal move is an IllegalTransition for everyone.
Protocol numbers ("PC-<Rome year>-NNNN") are computed under a lock that serialises submissions:
PostgreSQL takes a transaction-level advisory lock, SQLite's database write lock (taken by the
pact lock) already serialises every writer; the unique constraint is the last safeguard.

Additions to the contract (nothing renamed): ``proponent_users(pact)``, ``office_users(pact)``,
``QueueEntry`` (what ``office_queue`` returns: pact, step, overdue, reports_waiting),
``time_limit(status)``, ``rome_date(moment)`` and ``FINAL_STATUSES``. ``can_view`` shows a non-public
pact to the office only once it was submitted (a draft is its proponents' own).
"""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from app.audit.services import record
from app.comments import services as comments
from app.extensions import db
from app.http import path_for
from app.locking import lock_row
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.commons import Commons, CommonsKind, Organisation
from app.models.pact import (
    DEFAULT_TIME_LIMITS,
    PACT_TRANSITIONS,
    TEXT_OPEN_STATUSES,
    Pact,
    PactDispute,
    PactJoinRequest,
    PactKind,
    PactMeeting,
    PactParty,
    PactReport,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactSupportItem,
    PactVersion,
    PactVolunteer,
    PartyKind,
    ReportReview,
    RequestStatus,
    SupportKind,
    text_sha256,
)
from app.models.place import NeighbourhoodHouse
from app.models.user import Department, Role, User, UserRole, user_departments
from app.notifications import services as notifications

S = PactStatus

#: Days are counted on the city's calendar.
ROME = ZoneInfo("Europe/Rome")

#: Statuses after which nothing more happens.
FINAL_STATUSES = frozenset(s for s, targets in PACT_TRANSITIONS.items() if not targets)

#: From these statuses the proponents may still withdraw the proposal.
WITHDRAWABLE = frozenset(s for s, targets in PACT_TRANSITIONS.items() if S.withdrawn in targets)

#: Meetings are recorded while the office works with the proponents.
MEETING_STATUSES = frozenset({S.admissible, S.public_consultation, S.co_design, S.approved, S.signing, S.active})

#: Disputes concern a pact agreed on.
DISPUTE_STATUSES = frozenset({S.approved, S.signing, S.active, S.suspended})

# --- notifications ---------------------------------------------------------------------------

notifications.register_kind(
    "pact.received", _l("Your pact proposal “%(title)s” was submitted with protocol number %(protocol)s."))
notifications.register_kind(
    "pact.to_examine", _l("A new pact proposal, “%(title)s” (%(protocol)s), waits for your office's examination."))
notifications.register_kind(
    "pact.needs_integration", _l("The office asks for more information on the pact proposal “%(title)s”: %(reason)s"))
notifications.register_kind("pact.admissible", _l("The pact proposal “%(title)s” was declared admissible."))
notifications.register_kind(
    "pact.inadmissible", _l("The pact proposal “%(title)s” was declared not admissible: %(reason)s"))
notifications.register_kind(
    "pact.public_consultation", _l("The public consultation on the pact “%(title)s” is open until %(until)s."))
notifications.register_kind("pact.co_design", _l("The co-design of the pact “%(title)s” has started."))
notifications.register_kind("pact.approved", _l("The pact “%(title)s” was approved: its text is now final."))
notifications.register_kind("pact.signing", _l("The pact “%(title)s” is ready to be signed."))
notifications.register_kind("pact.active", _l("Every party signed the pact “%(title)s”: it is now active."))
notifications.register_kind("pact.suspended", _l("The pact “%(title)s” was suspended: %(reason)s"))
notifications.register_kind("pact.resumed", _l("The pact “%(title)s” is active again."))
notifications.register_kind("pact.revoked", _l("The pact “%(title)s” was revoked: %(reason)s"))
notifications.register_kind("pact.completed", _l("The pact “%(title)s” is completed."))
notifications.register_kind("pact.renewed", _l("The pact “%(title)s” was renewed: the new text is in co-design."))
notifications.register_kind("pact.withdrawn", _l("The pact proposal “%(title)s” was withdrawn."))
notifications.register_kind(
    "pact.merged", _l("The pact proposal “%(title)s” was merged into “%(into)s”: its proponents join that one."))
notifications.register_kind("pact.version_added", _l("A new version (%(number)s) of the pact “%(title)s” text."))
notifications.register_kind("pact.signed", _l("%(party)s signed the pact “%(title)s”."))
notifications.register_kind(
    "pact.join_requested", _l("%(name)s asks to join the pact proposal “%(title)s”."))
notifications.register_kind(
    "pact.join_accepted", _l("Your request to join the pact proposal “%(title)s” was accepted."))
notifications.register_kind(
    "pact.join_declined", _l("Your request to join the pact proposal “%(title)s” was declined."))
notifications.register_kind("pact.report_filed", _l("A report on the pact “%(title)s” waits for your review."))
notifications.register_kind("pact.report_accepted", _l("Your report on the pact “%(title)s” was accepted."))
notifications.register_kind(
    "pact.report_needs_changes", _l("Your report on the pact “%(title)s” needs changes: %(note)s"))
notifications.register_kind("pact.dispute_opened", _l("A dispute was opened on the pact “%(title)s”."))
notifications.register_kind(
    "pact.volunteer_removed", _l("You are no longer a volunteer of the pact “%(title)s”: %(reason)s"))


def _url(pact):
    return path_for("pacts.detail", pact_id=pact.id)


def _load_public(pact_id):
    pact = db.session.get(Pact, pact_id)
    return pact if pact is not None and pact.is_public else None


notifications.register_followable("pact", load=_load_public, url=_url, title=lambda p: p.title)
comments.register_commentable("pact", _load_public, _url, title=lambda p: p.title, author=lambda p: p.created_by)


@dataclass
class Step:
    """One step of a pact's procedure: how long it took (Rome calendar days) and whether it is overdue."""

    status: PactStatus
    entered_at: datetime
    left_at: datetime | None
    days: int
    limit_days: int | None
    overdue: bool


@dataclass
class QueueEntry:
    """A pact the office must act on: its current step and how many reports wait for review."""

    pact: Pact
    step: Step | None
    overdue: bool
    reports_waiting: int


# --- who is who ---------------------------------------------------------------------------

def lock_pact(pact_id):
    """The pact, locked for the rest of the transaction; NotFound if it does not exist."""
    pact = lock_row(Pact, pact_id)
    if pact is None:
        raise NotFound(_("There is no such pact."))
    db.session.expire(pact, ["parties", "versions", "history", "support_items"])
    return pact


def _relock(pact):
    if pact is None:
        raise NotFound(_("There is no such pact."))
    return lock_pact(pact.id)


def _uid(user):
    return getattr(user, "id", None)


def is_proponent(pact, user):
    """The author, an individual proponent party, or a representative of an organisation party."""
    if user is None or _uid(user) is None:
        return False
    if pact.created_by_id == user.id:
        return True
    for party in pact.parties:
        if party.kind != PartyKind.proponent:
            continue
        if party.organisation_id is None and party.user_id == user.id:
            return True
        if party.organisation is not None and party.organisation.is_representative(user):
            return True
    return False


def is_office(pact, user):
    """An official of the pact's department (any official while the pact has no department)."""
    if user is None or _uid(user) is None or not user.has_role(Role.official):
        return False
    return pact.department_id is None or any(d.id == pact.department_id for d in user.departments)


def can_view(pact, user):
    """Public pacts to everyone; the others to their proponents and, once submitted, to the office."""
    if pact.is_public or is_proponent(pact, user):
        return True
    return pact.submitted_at is not None and is_office(pact, user)


def proponent_users(pact):
    """The people who act for the proponents: the author, individual parties, organisations' representatives."""
    users = []
    if pact.created_by is not None:
        users.append(pact.created_by)
    for party in pact.parties:
        if party.kind != PartyKind.proponent:
            continue
        if party.organisation is not None:
            users.extend(party.organisation.representatives())
        elif party.user is not None:
            users.append(party.user)
    seen, unique = set(), []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            unique.append(user)
    return unique


def office_users(pact):
    """The officials of the pact's department (every official while it has none)."""
    query = select(User).join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == Role.official))
    if pact.department_id is not None:
        query = query.join(user_departments, user_departments.c.user_id == User.id).where(
            user_departments.c.department_id == pact.department_id)
    return db.session.scalars(query.where(User.deleted_at.is_(None)).order_by(User.id)).unique().all()


def _require_proponent(pact, user):
    if not is_proponent(pact, user):
        raise PermissionDenied(_("Only the proponents of this pact can do this."))


def _require_office(pact, user):
    if not is_office(pact, user):
        raise PermissionDenied(_("Only the office responsible for this pact can do this."))


def _require_citizen(user):
    if user is None or _uid(user) is None or not user.is_citizen:
        raise PermissionDenied(_("You need a confirmed citizen account to do this."))


# --- moves ----------------------------------------------------------------------------------

def _expect(pact, allowed_from, to_status):
    """IllegalTransition unless the pact is in one of ``allowed_from`` and may move to ``to_status``."""
    to_status = S(to_status)
    if pact.status not in allowed_from or to_status not in PACT_TRANSITIONS[pact.status]:
        raise IllegalTransition(_("This pact cannot move from “%(a)s” to “%(b)s”.",
                                  a=_status_name(pact.status), b=_status_name(to_status)))


def _status_name(status):
    from app.pacts.labels import pact_status_label

    return pact_status_label(status)


def _move(pact, to, actor, reason, now):
    """Apply one legal move of the procedure: status, history row and audit event."""
    to = S(to)
    if to not in PACT_TRANSITIONS[pact.status]:
        raise IllegalTransition(_("This pact cannot move from “%(a)s” to “%(b)s”.",
                                  a=_status_name(pact.status), b=_status_name(to)))
    now = now or utcnow()
    before = pact.status
    pact.status = to
    pact.status_changed_at = now
    pact.history.append(PactStatusChange(from_status=before, to_status=to, actor_id=_uid(actor),
                                         reason=reason or None, at=now))
    record(f"pact.{to.value}", actor=actor, target=pact, reason=reason or None,
           details={"from": before.value, "to": to.value})
    return pact


def _notify_proponents(pact, kind, exclude=(), **params):
    params.setdefault("title", pact.title)
    excluded = {_uid(u) for u in exclude}
    notifications.notify([u for u in proponent_users(pact) if u.id not in excluded], kind, params, url=_url(pact))


def _notify_public(pact, kind, exclude=(), **params):
    """Proponents, and followers when the pact is public."""
    params.setdefault("title", pact.title)
    _notify_proponents(pact, kind, exclude=exclude, **params)
    if pact.is_public:
        notifications.notify_followers("pact", pact.id, kind, params, url=_url(pact),
                                       exclude=list(proponent_users(pact)) + list(exclude))


def _reason(reason, message):
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise DomainError(message, field="reason")
    return reason


def _text(value, label, max_len=None, required=True, field=None):
    value = (value or "").replace("\r\n", "\n").strip()
    if required and not value:
        raise DomainError(_("Please fill in the %(field)s.", field=label), field=field)
    if max_len and len(value) > max_len:
        raise DomainError(_("The %(field)s can be at most %(n)d characters long.", field=label, n=max_len),
                          field=field)
    return value


def rome_date(moment):
    return moment.astimezone(ROME).date()


def _add_months(day, months):
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


# --- proposal and submission ---------------------------------------------------------------

_KEEP = object()


def _support_rows(items):
    rows = []
    for item in items or ():
        try:
            kind = SupportKind(item.get("kind"))
        except ValueError:
            raise DomainError(_("Choose what kind of support this is (never cash)."), field="requested_support") \
                from None
        description = _text(item.get("description"), _("description of the support"), 300, field="requested_support")
        quantity = item.get("quantity")
        if quantity in ("", None):
            quantity = None
        else:
            try:
                quantity = float(quantity)
            except (TypeError, ValueError):
                raise DomainError(_("The quantity must be a number."), field="requested_support") from None
            if quantity < 0:
                raise DomainError(_("The quantity cannot be negative."), field="requested_support")
        unit = (item.get("unit") or "").strip()[:30] or None
        rows.append(PactSupportItem(kind=kind, description=description, quantity=quantity, unit=unit))
    return rows


def _new_commons(user, data):
    name = _text(data.get("name"), _("name of the commons"), 200, field="new_commons")
    try:
        kind = CommonsKind(data.get("kind"))
    except ValueError:
        raise DomainError(_("Choose what kind of commons it is."), field="new_commons") from None
    lat, lon, outline = data.get("lat"), data.get("lon"), data.get("outline")
    if lat in (None, "") and lon in (None, "") and not outline and kind != CommonsKind.immaterial:
        raise DomainError(_("Place the commons on the map."), field="new_commons")
    # The commons registry's own checks: a point inside the city, an outline near it (or the point
    # taken from the outline's centre when only the outline was drawn).
    from app.commons.services import _place

    try:
        lat, lon, geometry, district_id = _place(kind, lat, lon, outline, None)
    except DomainError as exc:
        field = "new_outline" if exc.details.get("field") == "geometry" else "new_commons"
        if field == "new_commons" and lat not in (None, ""):
            raise DomainError(_("The point is outside the city of Turin: place it inside the city."),
                              field=field) from None
        raise DomainError(exc.message, field=field) from None
    commons = Commons(name=name, kind=kind, lat=lat, lon=lon, district_id=district_id, geometry=geometry,
                      address=(data.get("address") or "").strip()[:300] or None,
                      description=(data.get("description") or "").strip(), proposed_by_id=user.id)
    db.session.add(commons)
    db.session.flush()
    return commons


def _organisation_for(user, organisation_id):
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.hidden_at is not None:
        raise NotFound(_("There is no such organisation."))
    if not organisation.is_representative(user):
        raise PermissionDenied(_("You can act for an organisation only as one of its representatives."))
    return organisation


def _apply_fields(pact, user, *, title=_KEEP, commons_id=_KEEP, new_commons=_KEEP, organisation_id=_KEEP,
                  objectives=_KEEP, activities=_KEEP, beneficiaries=_KEEP, duration_months=_KEEP,
                  own_resources=_KEEP, requested_support=_KEEP, declarations_accepted=_KEEP, kind_requested=_KEEP):
    if title is not _KEEP:
        pact.title = _text(title, _("title"), 200, field="title")
    if new_commons not in (_KEEP, None):
        commons = _new_commons(user, new_commons)
        pact.commons_id, pact.district_id = commons.id, commons.district_id
    elif commons_id is not _KEEP and commons_id is not None:
        commons = db.session.get(Commons, commons_id)
        if commons is None or commons.hidden_at is not None:
            raise DomainError(_("Choose a commons from the registry, or propose a new one."), field="commons_id")
        pact.commons_id, pact.district_id = commons.id, commons.district_id
    if organisation_id is not _KEEP:
        if pact.created_by_id not in (None, user.id):
            raise PermissionDenied(_("Only the author can change for whom the proposal is made."))
        organisation = _organisation_for(user, organisation_id) if organisation_id else None
        previous = pact.organisation_id
        pact.organisation_id = organisation.id if organisation else None
        _set_own_party(pact, user, organisation, previous)
    if objectives is not _KEEP:
        pact.objectives = _text(objectives, _("objectives"), field="objectives")
    if activities is not _KEEP:
        pact.activities = _text(activities, _("activities"), field="activities")
    if beneficiaries is not _KEEP:
        pact.beneficiaries = _text(beneficiaries, _("beneficiaries"), required=False)
    if duration_months is not _KEEP:
        if duration_months in ("", None):
            pact.duration_months = None
        else:
            try:
                months = int(duration_months)
            except (TypeError, ValueError):
                raise DomainError(_("The duration must be a whole number of months."),
                                  field="duration_months") from None
            if not 1 <= months <= 120:
                raise DomainError(_("The duration must be between 1 and 120 months."), field="duration_months")
            pact.duration_months = months
    if own_resources is not _KEEP:
        pact.own_resources = _text(own_resources, _("own resources"), required=False)
    if requested_support is not _KEEP:
        pact.support_items = _support_rows(requested_support)
    if declarations_accepted is not _KEEP:
        if declarations_accepted and pact.declarations_accepted_at is None:
            pact.declarations_accepted_at = utcnow()
        elif not declarations_accepted:
            pact.declarations_accepted_at = None
    if kind_requested is not _KEEP:
        pact.kind = PactKind(kind_requested) if kind_requested else None


def _set_own_party(pact, user, organisation, previous_organisation_id):
    """The author's proponent party: the organisation they act for, or themselves."""
    own = next((p for p in pact.parties if p.kind == PartyKind.proponent
                and ((p.organisation_id is None and p.user_id == user.id)
                     or (p.organisation_id is not None and p.organisation_id == previous_organisation_id))), None)
    if own is None:
        own = PactParty(kind=PartyKind.proponent)
        pact.parties.append(own)
    if organisation is not None:
        own.organisation_id, own.user_id = organisation.id, None
    else:
        own.organisation_id, own.user_id = None, user.id


def create_draft(user, *, title, commons_id=None, new_commons=None, organisation_id=None, objectives,
                 activities, beneficiaries="", duration_months=None, own_resources="", requested_support=(),
                 declarations_accepted=False, kind_requested=None):
    """A new draft pact proposal by a confirmed citizen (for themselves or an organisation they represent)."""
    _require_citizen(user)
    if commons_id is None and not new_commons:
        raise DomainError(_("Choose a commons from the registry, or propose a new one."), field="commons_id")
    pact = Pact(status=S.draft, created_by_id=user.id, status_changed_at=utcnow())
    _apply_fields(pact, user, title=title, commons_id=commons_id, new_commons=new_commons,
                  organisation_id=organisation_id, objectives=objectives, activities=activities,
                  beneficiaries=beneficiaries, duration_months=duration_months, own_resources=own_resources,
                  requested_support=requested_support, declarations_accepted=declarations_accepted,
                  kind_requested=kind_requested)
    pact.history.append(PactStatusChange(from_status=None, to_status=S.draft, actor_id=user.id,
                                         at=pact.status_changed_at))
    db.session.add(pact)
    db.session.flush()
    record("pact.created", actor=user, target=pact)
    return pact


def update_draft(pact, user, **fields):
    """Change a proposal's fields (proponents; draft or needs_integration only)."""
    pact = _relock(pact)
    if pact.status not in (S.draft, S.needs_integration):
        raise DomainError(_("The proposal can be changed only while it is a draft or when the office asks "
                            "for more information."))
    _require_proponent(pact, user)
    unknown = set(fields) - {"title", "commons_id", "new_commons", "organisation_id", "objectives", "activities",
                             "beneficiaries", "duration_months", "own_resources", "requested_support",
                             "declarations_accepted", "kind_requested"}
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    _apply_fields(pact, user, **fields)
    db.session.flush()
    record("pact.updated", actor=user, target=pact, details={"fields": sorted(fields)})
    return pact


def _next_protocol_number(now):
    """The next "PC-<Rome year>-NNNN" of the year, under a lock that serialises submissions."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(4850051)"))  # "pacts' protocol", any constant
    year = rome_date(now).year
    prefix = f"PC-{year}-"
    last = db.session.scalar(select(func.max(Pact.protocol_number)).where(Pact.protocol_number.like(prefix + "%")))
    number = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def submit(pact, user, now=None):
    """draft|needs_integration → submitted; the first time gives the protocol number."""
    now = now or utcnow()
    pact = _relock(pact)
    _expect(pact, (S.draft, S.needs_integration), S.submitted)
    _require_proponent(pact, user)
    if pact.declarations_accepted_at is None:
        raise DomainError(_("Accept the declarations and consents before submitting the proposal."),
                          field="declarations_accepted")
    if not (pact.objectives and pact.activities):
        raise DomainError(_("Describe the objectives and the activities before submitting the proposal."))
    first = pact.protocol_number is None
    if first:
        pact.protocol_number = _next_protocol_number(now)
        pact.submitted_at = now
    if pact.department_id is None and pact.commons is not None:
        pact.department_id = pact.commons.department_id
    _move(pact, S.submitted, user, None, now)
    db.session.flush()
    _notify_proponents(pact, "pact.received", protocol=pact.protocol_number)
    notifications.notify(office_users(pact), "pact.to_examine",
                         {"title": pact.title, "protocol": pact.protocol_number}, url=_url(pact))
    return pact


def withdraw(pact, user, reason=""):
    """The proponents withdraw the proposal (any status from which withdrawn is legal)."""
    pact = _relock(pact)
    _expect(pact, WITHDRAWABLE, S.withdrawn)
    _require_proponent(pact, user)
    _move(pact, S.withdrawn, user, (reason or "").strip(), None)
    _notify_public(pact, "pact.withdrawn", exclude=[user])
    if pact.department_id is not None:
        notifications.notify(office_users(pact), "pact.withdrawn", {"title": pact.title}, url=_url(pact))
    return pact


# --- office --------------------------------------------------------------------------------

def request_integration(pact, official, reason):
    """submitted → needs_integration, with what is missing."""
    pact = _relock(pact)
    _expect(pact, (S.submitted,), S.needs_integration)
    _require_office(pact, official)
    reason = _reason(reason, _("Say what information is missing."))
    _move(pact, S.needs_integration, official, reason, None)
    _notify_proponents(pact, "pact.needs_integration", reason=reason)
    return pact


def declare_admissible(pact, official, *, kind, department_id=None, responsible_id=None):
    """submitted → admissible: classified, department and responsible official assigned, City party added."""
    pact = _relock(pact)
    _expect(pact, (S.submitted,), S.admissible)
    _require_office(pact, official)
    try:
        kind = PactKind(getattr(kind, "value", kind))
    except ValueError:
        raise DomainError(_("Classify the pact as ordinary or complex."), field="kind") from None
    if department_id is not None:
        if db.session.get(Department, department_id) is None:
            raise DomainError(_("Choose a department from the list."), field="department_id")
        pact.department_id = department_id
    elif pact.department_id is None:
        if len(official.departments) != 1:
            raise DomainError(_("Choose the department responsible for the pact."), field="department_id")
        pact.department_id = official.departments[0].id
    responsible = official
    if responsible_id is not None and responsible_id != official.id:
        responsible = db.session.get(User, responsible_id)
        if responsible is None or not is_office(pact, responsible):
            raise DomainError(_("The responsible official must be an official of the pact's department."),
                              field="responsible_id")
    elif not is_office(pact, official):
        raise DomainError(_("Choose a responsible official of the pact's department."), field="responsible_id")
    pact.kind = kind
    pact.official_id = responsible.id
    city = next((p for p in pact.parties if p.kind == PartyKind.city), None)
    if city is None:
        pact.parties.append(PactParty(kind=PartyKind.city, user_id=responsible.id))
    else:
        city.user_id = responsible.id
    _move(pact, S.admissible, official, None, None)
    db.session.flush()
    _notify_public(pact, "pact.admissible")
    return pact


def declare_inadmissible(pact, official, reason):
    """submitted → inadmissible, with the motivation."""
    pact = _relock(pact)
    _expect(pact, (S.submitted,), S.inadmissible)
    _require_office(pact, official)
    reason = _reason(reason, _("Give the reasons why the proposal is not admissible."))
    _move(pact, S.inadmissible, official, reason, None)
    _notify_proponents(pact, "pact.inadmissible", reason=reason)
    return pact


def open_consultation(pact, official, *, starts_at=None, days=None):
    """admissible → public_consultation for a dated window (default PACT_CONSULTATION_DAYS)."""
    pact = _relock(pact)
    _expect(pact, (S.admissible,), S.public_consultation)
    _require_office(pact, official)
    if days in (None, ""):
        days = current_app.config.get("PACT_CONSULTATION_DAYS", 30)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise DomainError(_("The consultation lasts a whole number of days."), field="days") from None
    if not 1 <= days <= 180:
        raise DomainError(_("The consultation lasts between 1 and 180 days."), field="days")
    now = utcnow()
    starts_at = starts_at or now
    pact.consultation_starts_at = starts_at
    pact.consultation_ends_at = starts_at + timedelta(days=days)
    _move(pact, S.public_consultation, official, None, now)
    until = rome_date(pact.consultation_ends_at).strftime("%d/%m/%Y")
    _notify_public(pact, "pact.public_consultation", until=until)
    return pact


def start_co_design(pact, official, now=None):
    """public_consultation → co_design once the window closed; version 1 from the standard template."""
    from app.pacts.text import initial_text

    now = now or utcnow()
    pact = _relock(pact)
    _expect(pact, (S.public_consultation,), S.co_design)
    _require_office(pact, official)
    if pact.consultation_ends_at is not None and now < pact.consultation_ends_at:
        raise DomainError(_("The public consultation is still open: co-design starts when it closes."))
    _move(pact, S.co_design, official, None, now)
    if not pact.versions:
        pact.versions.append(PactVersion(number=1, text=initial_text(pact), note=_("The standard template."),
                                         author_id=official.id, created_at=now))
    db.session.flush()
    _notify_public(pact, "pact.co_design")
    return pact


def record_meeting(pact, official, *, held_at, house_id=None, place=None, participants="", minutes=""):
    """A co-design meeting (admissible … active)."""
    pact = _relock(pact)
    if pact.status not in MEETING_STATUSES:
        raise DomainError(_("Meetings are recorded from admissibility until the pact is active."))
    _require_office(pact, official)
    if not isinstance(held_at, datetime) or held_at.tzinfo is None:
        raise DomainError(_("Give the date and time of the meeting."), field="held_at")
    if house_id is not None and db.session.get(NeighbourhoodHouse, house_id) is None:
        raise DomainError(_("Choose a Casa del Quartiere from the list."), field="house_id")
    place = (place or "").strip()[:200] or None
    if house_id is None and place is None:
        raise DomainError(_("Say where the meeting was held."), field="place")
    meeting = PactMeeting(pact_id=pact.id, held_at=held_at, house_id=house_id, place=place,
                          participants=(participants or "").replace("\r\n", "\n").strip(),
                          minutes=(minutes or "").replace("\r\n", "\n").strip(), created_by_id=official.id)
    db.session.add(meeting)
    db.session.flush()
    record("pact.meeting_recorded", actor=official, target=pact, details={"meeting_id": meeting.id})
    return meeting


def _require_text_open(pact):
    if pact.text_is_frozen:
        raise DomainError(_("The text of this pact is frozen: it was approved and cannot change."))


def set_support_items(pact, official, items):
    """Replace the City's support items (text open only; never cash)."""
    pact = _relock(pact)
    _require_text_open(pact)
    _require_office(pact, official)
    pact.support_items = _support_rows(items)
    db.session.flush()
    record("pact.support_items_set", actor=official, target=pact, details={"items": len(pact.support_items)})
    return pact


def competing(pact):
    """Other proposals on the same commons that are not final."""
    return db.session.scalars(
        select(Pact).where(Pact.commons_id == pact.commons_id, Pact.id != pact.id,
                           Pact.status.not_in(FINAL_STATUSES | {S.draft}), Pact.hidden_at.is_(None))
        .order_by(Pact.submitted_at, Pact.id)).all()


def _add_party_copy(into, party):
    for existing in into.parties:
        if existing.kind != party.kind:
            continue
        if party.organisation_id is not None and existing.organisation_id == party.organisation_id:
            return
        if party.organisation_id is None and existing.organisation_id is None and existing.user_id == party.user_id:
            return
    into.parties.append(PactParty(kind=party.kind, organisation_id=party.organisation_id, user_id=party.user_id))


def merge_competing(pact, into, official, reason=""):
    """``pact`` → withdrawn, merged into ``into``; its proponent parties join ``into``."""
    if pact is None or into is None:
        raise NotFound(_("There is no such pact."))
    first, second = sorted((pact.id, into.id))
    locked = {first: lock_pact(first), second: lock_pact(second)}  # always in id order: no deadlock
    pact, into = locked[pact.id], locked[into.id]
    if pact.id == into.id or pact.commons_id != into.commons_id:
        raise DomainError(_("Only competing proposals for the same commons can be merged."))
    _expect(pact, WITHDRAWABLE - {S.draft}, S.withdrawn)
    if into.status not in TEXT_OPEN_STATUSES - {S.draft}:
        raise DomainError(_("A proposal can be merged only into one that is not approved yet."))
    _require_office(pact, official)
    _require_office(into, official)
    for party in pact.parties:
        if party.kind == PartyKind.proponent:
            _add_party_copy(into, party)
    pact.merged_into_id = into.id
    _move(pact, S.withdrawn, official, (reason or "").strip() or None, None)
    db.session.flush()
    record("pact.merged", actor=official, target=into, reason=(reason or "").strip() or None,
           details={"merged": pact.id})
    _notify_proponents(pact, "pact.merged", into=into.title)
    return into


def approve(pact, official, *, version_number=None, act_type=None, act_number=None, act_date=None,
            starts_on=None, ends_on=None):
    """co_design → approved; the text is frozen (complex pacts need the approval act)."""
    pact = _relock(pact)
    _expect(pact, (S.co_design,), S.approved)
    _require_office(pact, official)
    if not pact.versions:
        raise DomainError(_("There is no text to approve yet."))
    if version_number in (None, ""):
        version = pact.versions[-1]
    else:
        version = next((v for v in pact.versions if v.number == int(version_number)), None)
        if version is None:
            raise DomainError(_("There is no such version of the text."), field="version_number")
    act_type, act_number = (act_type or "").strip() or None, (act_number or "").strip() or None
    if pact.kind == PactKind.complex and not (act_type and act_number and act_date):
        raise DomainError(_("A complex pact is approved by an act: give its type, number and date."),
                          field="act_type")
    if act_date is not None and not isinstance(act_date, date):
        raise DomainError(_("Give the date of the act."), field="act_date")
    if starts_on and ends_on and ends_on < starts_on:
        raise DomainError(_("The pact cannot end before it starts."), field="ends_on")
    pact.approval_act_type, pact.approval_act_number, pact.approval_act_date = act_type, act_number, act_date
    pact.approved_version_number = version.number
    pact.approved_text_sha256 = text_sha256(version.text)
    if starts_on:
        pact.starts_on = starts_on
    if ends_on:
        pact.ends_on = ends_on
    _move(pact, S.approved, official, None, None)
    _notify_public(pact, "pact.approved")
    return pact


def open_signing(pact, official):
    """approved → signing."""
    pact = _relock(pact)
    _expect(pact, (S.approved,), S.signing)
    _require_office(pact, official)
    if not any(p.kind == PartyKind.city for p in pact.parties) or \
            not any(p.kind == PartyKind.proponent for p in pact.parties):
        raise DomainError(_("The pact needs the City and at least one proponent as parties."))
    _move(pact, S.signing, official, None, None)
    _notify_public(pact, "pact.signing")
    return pact


def suspend(pact, official, reason):
    """active → suspended, with the motivation."""
    pact = _relock(pact)
    _expect(pact, (S.active,), S.suspended)
    _require_office(pact, official)
    reason = _reason(reason, _("Give the reasons for the suspension."))
    _move(pact, S.suspended, official, reason, None)
    _notify_public(pact, "pact.suspended", reason=reason)
    return pact


def resume(pact, official, reason=""):
    """suspended → active."""
    pact = _relock(pact)
    _expect(pact, (S.suspended,), S.active)
    _require_office(pact, official)
    _move(pact, S.active, official, (reason or "").strip(), None)
    _notify_public(pact, "pact.resumed")
    return pact


def revoke(pact, official, reason):
    """active|suspended → revoked, with the motivation."""
    pact = _relock(pact)
    _expect(pact, (S.active, S.suspended), S.revoked)
    _require_office(pact, official)
    reason = _reason(reason, _("Give the reasons for the revocation."))
    _move(pact, S.revoked, official, reason, None)
    _notify_public(pact, "pact.revoked", reason=reason)
    return pact


def complete(pact, official, reason=""):
    """active → completed."""
    pact = _relock(pact)
    _expect(pact, (S.active,), S.completed)
    _require_office(pact, official)
    _move(pact, S.completed, official, (reason or "").strip(), None)
    _notify_public(pact, "pact.completed")
    return pact


def renew(pact, actor):
    """active → renewed; returns the NEW pact (co_design, version 1 = the old approved text)."""
    pact = _relock(pact)
    _expect(pact, (S.active,), S.renewed)
    if not (is_office(pact, actor) or is_proponent(pact, actor)):
        raise PermissionDenied(_("Only the proponents or the office can renew this pact."))
    approved = pact.approved_version
    if approved is None:
        raise DomainError(_("This pact has no approved text to renew."))
    now = utcnow()
    _move(pact, S.renewed, actor, None, now)
    new = Pact(title=pact.title, commons_id=pact.commons_id, district_id=pact.district_id, kind=pact.kind,
               status=S.co_design, created_by_id=pact.created_by_id, organisation_id=pact.organisation_id,
               objectives=pact.objectives, activities=pact.activities, beneficiaries=pact.beneficiaries,
               duration_months=pact.duration_months, own_resources=pact.own_resources,
               declarations_accepted_at=pact.declarations_accepted_at, department_id=pact.department_id,
               official_id=pact.official_id, renewal_of_id=pact.id, created_at=now, submitted_at=now,
               status_changed_at=now, protocol_number=_next_protocol_number(now))
    db.session.add(new)
    for party in pact.parties:
        new.parties.append(PactParty(kind=party.kind, organisation_id=party.organisation_id, user_id=party.user_id))
    for item in pact.support_items:
        new.support_items.append(PactSupportItem(kind=item.kind, description=item.description,
                                                 quantity=item.quantity, unit=item.unit))
    new.versions.append(PactVersion(number=1, text=approved.text, author_id=_uid(actor), created_at=now,
                                    note=_("The text of the pact being renewed (%(protocol)s).",
                                           protocol=pact.protocol_number or "")))
    new.history.append(PactStatusChange(from_status=None, to_status=S.co_design, actor_id=_uid(actor), at=now))
    db.session.flush()
    record("pact.renewal_created", actor=actor, target=new, details={"renewal_of": pact.id})
    _notify_public(pact, "pact.renewed", exclude=[actor])
    return new


def review_report(report, official, *, accepted, note=""):
    """The official accepts a report or asks for changes."""
    if report is None:
        raise NotFound(_("There is no such report on this pact."))
    pact = lock_pact(report.pact_id)
    report = db.session.get(PactReport, report.id, populate_existing=True)
    _require_office(pact, official)
    if report.review != ReportReview.submitted:
        raise DomainError(_("This report was already reviewed."))
    note = (note or "").replace("\r\n", "\n").strip()
    if not accepted and not note:
        raise DomainError(_("Say what must change in the report."), field="note")
    report.review = ReportReview.accepted if accepted else ReportReview.needs_changes
    report.review_note = note or None
    report.reviewed_by_id = official.id
    report.reviewed_at = utcnow()
    record("pact_report.reviewed", actor=official, target=report, reason=note or None,
           details={"pact_id": pact.id, "review": report.review.value})
    if accepted:
        _notify_proponents(pact, "pact.report_accepted")
    else:
        _notify_proponents(pact, "pact.report_needs_changes", note=note)
    return report


def _lock_dispute(dispute):
    if dispute is None:
        raise NotFound(_("There is no such dispute."))
    pact = lock_pact(dispute.pact_id)
    return pact, db.session.get(PactDispute, dispute.id, populate_existing=True)


def record_committee_proposal(dispute, official, proposal):
    """The conciliation committee's proposal on a dispute."""
    pact, dispute = _lock_dispute(dispute)
    _require_office(pact, official)
    if dispute.closed_at is not None:
        raise DomainError(_("This dispute is closed."))
    dispute.committee_proposal = _text(proposal, _("committee's proposal"), field="proposal")
    record("pact_dispute.committee_proposal", actor=official, target=dispute, details={"pact_id": pact.id})
    return dispute


def close_dispute(dispute, official, outcome):
    """Close a dispute with its outcome."""
    pact, dispute = _lock_dispute(dispute)
    _require_office(pact, official)
    if dispute.closed_at is not None:
        raise DomainError(_("This dispute is closed."))
    dispute.outcome = _text(outcome, _("outcome"), field="outcome")
    dispute.closed_at = utcnow()
    record("pact_dispute.closed", actor=official, target=dispute, reason=dispute.outcome,
           details={"pact_id": pact.id})
    return dispute


# --- versions --------------------------------------------------------------------------------

def add_version(pact, user, *, text, note=""):
    """A new version of the pact text (office or proponents, co_design only)."""
    pact = _relock(pact)
    _require_text_open(pact)
    if pact.status != S.co_design:
        raise DomainError(_("The text is written together during co-design."))
    if not (is_office(pact, user) or is_proponent(pact, user)):
        raise PermissionDenied(_("Only the office and the proponents can write the pact text."))
    body = (text or "").replace("\r\n", "\n").strip()
    if not body:
        raise DomainError(_("The text of the pact cannot be empty."), field="text")
    body += "\n"
    current = pact.current_version
    if current is not None and current.text == body:
        raise DomainError(_("This version is the same as the current one."), field="text")
    version = PactVersion(number=(current.number + 1) if current else 1, text=body,
                          note=(note or "").replace("\r\n", "\n").strip(), author_id=user.id)
    pact.versions.append(version)
    db.session.flush()
    record("pact.version_added", actor=user, target=pact, details={"number": version.number})
    _notify_public(pact, "pact.version_added", exclude=[user], number=version.number)
    return version


# --- consultation ----------------------------------------------------------------------------

def request_to_join(pact, user, *, organisation_id=None, message=""):
    """During the consultation, a confirmed citizen asks to join the proposal."""
    pact = _relock(pact)
    if pact.status != S.public_consultation:
        raise DomainError(_("You can ask to join a proposal during its public consultation."))
    _require_citizen(user)
    if is_proponent(pact, user):
        raise DomainError(_("You are already one of the proponents."))
    organisation = _organisation_for(user, organisation_id) if organisation_id else None
    if organisation is not None and any(p.organisation_id == organisation.id for p in pact.parties):
        raise DomainError(_("This organisation is already one of the proponents."))
    if db.session.scalar(select(PactJoinRequest.id).where(PactJoinRequest.pact_id == pact.id,
                                                          PactJoinRequest.user_id == user.id)):
        raise DomainError(_("You already asked to join this proposal."))
    join_request = PactJoinRequest(pact_id=pact.id, user_id=user.id,
                                   organisation_id=organisation.id if organisation else None,
                                   message=(message or "").replace("\r\n", "\n").strip()[:2000])
    db.session.add(join_request)
    db.session.flush()
    record("pact.join_requested", actor=user, target=pact, details={"join_request_id": join_request.id})
    name = organisation.name if organisation else user.display_name
    _notify_proponents(pact, "pact.join_requested", name=name)
    return join_request


def decide_join_request(join_request, actor, accept):
    """Proponents or office accept (adds a proponent party) or decline a join request."""
    if join_request is None:
        raise NotFound(_("There is no such request."))
    pact = lock_pact(join_request.pact_id)
    join_request = db.session.get(PactJoinRequest, join_request.id, populate_existing=True)
    if not (is_office(pact, actor) or is_proponent(pact, actor)):
        raise PermissionDenied(_("Only the proponents or the office can decide on this request."))
    if join_request.status != RequestStatus.pending:
        raise DomainError(_("This request was already decided."))
    if accept and pact.status not in (S.public_consultation, S.co_design):
        raise DomainError(_("New proponents can join only before the pact is approved."))
    join_request.status = RequestStatus.accepted if accept else RequestStatus.declined
    join_request.decided_at = utcnow()
    join_request.decided_by_id = actor.id
    if accept:
        party = PactParty(kind=PartyKind.proponent, organisation_id=join_request.organisation_id,
                          user_id=None if join_request.organisation_id else join_request.user_id)
        _add_party_copy(pact, party)
    db.session.flush()
    record("pact.join_accepted" if accept else "pact.join_declined", actor=actor, target=pact,
           details={"join_request_id": join_request.id, "user_id": join_request.user_id})
    notifications.notify([join_request.user], "pact.join_accepted" if accept else "pact.join_declined",
                         {"title": pact.title}, url=_url(pact))
    return join_request


# --- signing -----------------------------------------------------------------------------------

def _may_sign_for(pact, party, user):
    if party.kind == PartyKind.city:
        return (party.user_id == user.id and user.has_role(Role.official)) or is_office(pact, user)
    if not user.is_verified:
        return False
    if party.organisation is not None:
        return party.organisation.is_representative(user)
    return party.user_id == user.id


def signable_parties(pact, user):
    """The parties ``user`` may sign for now."""
    if pact.status != S.signing or user is None or _uid(user) is None or not user.is_active:
        return []
    signed = {s.party_id for s in pact.signatures}
    return [p for p in pact.parties if p.id not in signed and _may_sign_for(pact, p, user)]


def _capacity(pact, party):
    """In which capacity a party signs, in Italian whatever the signer's language: it is part of the
    signed record of the City, like the department's Italian name."""
    with force_locale("it"):
        return _capacity_text(pact, party)


def _capacity_text(pact, party):
    if party.kind == PartyKind.city:
        department = pact.department.name_it if pact.department is not None else ""
        return (_("for the City of Turin – %(department)s", department=department) if department
                else _("for the City of Turin"))
    if party.organisation is not None:
        return _("legal representative of %(organisation)s", organisation=party.organisation.name)
    return _("in own name")


def _party_name(party):
    if party.kind == PartyKind.city:
        return _("The City of Turin")
    if party.organisation is not None:
        return party.organisation.name
    return party.user.display_name if party.user is not None else ""


def sign(pact, user, party_id, now=None):
    """Sign the approved text for a party; when every party signed the pact becomes active."""
    now = now or utcnow()
    pact = _relock(pact)
    _expect(pact, (S.signing,), S.active)
    db.session.expire(pact, ["signatures"])
    party = next((p for p in pact.parties if p.id == party_id), None)
    if party is None:
        raise NotFound(_("There is no such party to this pact."))
    if any(s.party_id == party.id for s in pact.signatures):
        raise DomainError(_("This party has already signed."))
    if party not in signable_parties(pact, user):
        if party.kind == PartyKind.proponent and user is not None and not getattr(user, "is_verified", False):
            raise PermissionDenied(_("Signing a pact needs a verified account: ask at a Casa del Quartiere."))
        raise PermissionDenied(_("You cannot sign for this party."))
    version = pact.approved_version
    if version is None or text_sha256(version.text) != pact.approved_text_sha256:
        raise DomainError(_("The approved text does not match its fingerprint: it cannot be signed."))
    signature = PactSignature(pact_id=pact.id, party_id=party.id, version_id=version.id, signer_id=user.id,
                              capacity=_capacity(pact, party)[:300], text_sha256=text_sha256(version.text),
                              signed_at=now)
    db.session.add(signature)
    db.session.flush()
    record("pact.signed", actor=user, target=pact,
           details={"party_id": party.id, "signature_id": signature.id, "sha256": signature.text_sha256})
    db.session.expire(pact, ["signatures"])
    signed = {s.party_id for s in pact.signatures}
    if all(p.id in signed for p in pact.parties):
        today = rome_date(now)
        if pact.starts_on is None:
            pact.starts_on = today
        if pact.ends_on is None and pact.duration_months:
            pact.ends_on = _add_months(pact.starts_on, pact.duration_months)
        _move(pact, S.active, user, None, now)
        _notify_public(pact, "pact.active")
        notifications.notify(office_users(pact), "pact.active", {"title": pact.title}, url=_url(pact))
    else:
        _notify_proponents(pact, "pact.signed", exclude=[user], party=_party_name(party))
    return signature


def verify(pact):
    """The signatures checked against the approved text (app.pacts.registry.verify_signatures)."""
    from app.pacts.registry import verify_signatures

    return verify_signatures(pact)


# --- active pacts --------------------------------------------------------------------------------

def join_as_volunteer(pact, user, *, accept_rules):
    """A confirmed citizen adheres to an active pact, accepting its rules (idempotent)."""
    pact = _relock(pact)
    if pact.status != S.active:
        raise DomainError(_("You can join a pact as a volunteer while it is active."))
    _require_citizen(user)
    if not accept_rules:
        raise DomainError(_("Accept the rules of the pact to join it."), field="accept_rules")
    now = utcnow()
    volunteer = db.session.scalar(select(PactVolunteer).where(PactVolunteer.pact_id == pact.id,
                                                              PactVolunteer.user_id == user.id))
    if volunteer is not None:
        if volunteer.left_at is None:
            return volunteer
        if volunteer.removed_by_id is not None:
            raise PermissionDenied(_("The proponents excluded you from this pact."))
        volunteer.left_at = None
        volunteer.joined_at = now
        volunteer.accepted_rules_at = now
    else:
        volunteer = PactVolunteer(pact_id=pact.id, user_id=user.id, accepted_rules_at=now, joined_at=now)
        db.session.add(volunteer)
    db.session.flush()
    record("pact.volunteer_joined", actor=user, target=pact, details={"volunteer_id": volunteer.id})
    return volunteer


def leave(pact, user):
    """A volunteer leaves the pact."""
    pact = _relock(pact)
    volunteer = db.session.scalar(select(PactVolunteer).where(
        PactVolunteer.pact_id == pact.id, PactVolunteer.user_id == _uid(user), PactVolunteer.left_at.is_(None)))
    if volunteer is None:
        raise DomainError(_("You are not a volunteer of this pact."))
    volunteer.left_at = utcnow()
    record("pact.volunteer_left", actor=user, target=pact, details={"volunteer_id": volunteer.id})
    return volunteer


def remove_volunteer(pact, actor, volunteer_id, reason):
    """The proponents exclude a volunteer, with the reason."""
    pact = _relock(pact)
    _require_proponent(pact, actor)
    volunteer = db.session.get(PactVolunteer, volunteer_id)
    if volunteer is None or volunteer.pact_id != pact.id or volunteer.left_at is not None:
        raise NotFound(_("There is no such volunteer."))
    reason = _reason(reason, _("Give the reason for the exclusion."))
    volunteer.left_at = utcnow()
    volunteer.removed_by_id = actor.id
    volunteer.removal_reason = reason
    record("pact.volunteer_removed", actor=actor, target=pact, reason=reason,
           details={"volunteer_id": volunteer.id, "user_id": volunteer.user_id})
    notifications.notify([volunteer.user], "pact.volunteer_removed", {"title": pact.title, "reason": reason},
                         url=_url(pact))
    return volunteer


def file_report(pact, user, *, period_start, period_end, is_final=False, activities, events="",
                beneficiaries_reached=None, volunteer_hours=0, resources_proponents="", resources_city="",
                results="", problems=""):
    """A periodic or final report by the proponents (active or suspended pacts)."""
    pact = _relock(pact)
    if pact.status not in (S.active, S.suspended):
        raise DomainError(_("Reports are filed while the pact is active."))
    _require_proponent(pact, user)
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise DomainError(_("Give the period the report covers."), field="period_start")
    if period_end < period_start:
        raise DomainError(_("The period must end after it starts."), field="period_end")
    if period_end > rome_date(utcnow()):
        raise DomainError(_("A report covers a period that has ended."), field="period_end")
    if pact.starts_on is not None and period_start < pact.starts_on:
        raise DomainError(_("The period cannot start before the pact did."), field="period_start")
    try:
        hours = float(volunteer_hours or 0)
    except (TypeError, ValueError):
        raise DomainError(_("The volunteer hours must be a number."), field="volunteer_hours") from None
    if hours < 0:
        raise DomainError(_("The volunteer hours cannot be negative."), field="volunteer_hours")
    if beneficiaries_reached not in (None, ""):
        try:
            beneficiaries_reached = int(beneficiaries_reached)
        except (TypeError, ValueError):
            raise DomainError(_("The beneficiaries reached must be a whole number."),
                              field="beneficiaries_reached") from None
        if beneficiaries_reached < 0:
            raise DomainError(_("The beneficiaries reached cannot be negative."), field="beneficiaries_reached")
    else:
        beneficiaries_reached = None
    reports = db.session.scalars(select(PactReport).where(PactReport.pact_id == pact.id)).all()
    for other in reports:
        if other.review == ReportReview.needs_changes:
            continue  # replaced by this one
        if other.period_start <= period_end and period_start <= other.period_end:
            raise DomainError(_("Another report already covers part of this period."), field="period_start")
        if is_final and other.is_final:
            raise DomainError(_("The final report was already filed."), field="is_final")
    report = PactReport(pact_id=pact.id, period_start=period_start, period_end=period_end, is_final=bool(is_final),
                        activities=_text(activities, _("activities"), field="activities"),
                        events=_text(events, "", required=False), beneficiaries_reached=beneficiaries_reached,
                        volunteer_hours=hours, resources_proponents=_text(resources_proponents, "", required=False),
                        resources_city=_text(resources_city, "", required=False),
                        results=_text(results, "", required=False), problems=_text(problems, "", required=False),
                        submitted_by_id=user.id)
    db.session.add(report)
    db.session.flush()
    record("pact_report.filed", actor=user, target=report, details={"pact_id": pact.id, "final": report.is_final})
    notifications.notify(office_users(pact), "pact.report_filed", {"title": pact.title}, url=_url(pact))
    return report


def open_dispute(pact, user, description):
    """A party or the office brings a dispute to the conciliation committee."""
    pact = _relock(pact)
    if pact.status not in DISPUTE_STATUSES:
        raise DomainError(_("Disputes concern an approved pact."))
    if not (is_proponent(pact, user) or is_office(pact, user)):
        raise PermissionDenied(_("Only the parties to the pact can open a dispute."))
    dispute = PactDispute(pact_id=pact.id, opened_by_id=user.id,
                          description=_text(description, _("description"), field="description"))
    db.session.add(dispute)
    db.session.flush()
    record("pact_dispute.opened", actor=user, target=dispute, details={"pact_id": pact.id})
    _notify_proponents(pact, "pact.dispute_opened", exclude=[user])
    notifications.notify([u for u in office_users(pact) if u.id != user.id], "pact.dispute_opened",
                         {"title": pact.title}, url=_url(pact))
    return dispute


# --- time ------------------------------------------------------------------------------------------

def time_limit(status):
    """Days the step may take (PACT_TIME_LIMITS over DEFAULT_TIME_LIMITS), or None without a limit."""
    status = S(status)
    configured = current_app.config.get("PACT_TIME_LIMITS") or {}
    if status.value in configured:
        return int(configured[status.value])
    if status in configured:
        return int(configured[status])
    return DEFAULT_TIME_LIMITS.get(status)


def step_durations(pact, now=None):
    """Every step of the pact's history with its length in Rome calendar days and overdue flag."""
    now = now or utcnow()
    changes = sorted(pact.history, key=lambda c: (c.at, c.id or 0))
    steps = []
    for index, change in enumerate(changes):
        left = changes[index + 1].at if index + 1 < len(changes) else None
        days = (rome_date(left or now) - rome_date(change.at)).days
        final = left is None and change.to_status in FINAL_STATUSES
        limit = None if final else time_limit(change.to_status)
        steps.append(Step(status=change.to_status, entered_at=change.at, left_at=left, days=days,
                          limit_days=limit, overdue=limit is not None and days > limit))
    return steps


def current_overdue(pact, now=None):
    """The current step if it is overdue, else None."""
    steps = step_durations(pact, now)
    if steps and steps[-1].left_at is None and steps[-1].overdue:
        return steps[-1]
    return None


#: Steps where the office has to act.
OFFICE_STEPS = frozenset({S.submitted, S.admissible, S.co_design, S.approved, S.signing})


def office_queue(official, now=None):
    """The pacts the official's departments must act on, oldest first, with overdue flags."""
    now = now or utcnow()
    if official is None or not official.has_role(Role.official):
        return []
    department_ids = [d.id for d in official.departments]
    mine = Pact.department_id.is_(None)
    if department_ids:
        mine = mine | Pact.department_id.in_(department_ids)
    waiting = (select(PactReport.pact_id, func.count(PactReport.id).label("n"))
               .where(PactReport.review == ReportReview.submitted).group_by(PactReport.pact_id).subquery())
    rows = db.session.execute(
        select(Pact, func.coalesce(waiting.c.n, 0)).outerjoin(waiting, waiting.c.pact_id == Pact.id)
        .where(mine, Pact.hidden_at.is_(None),
               Pact.status.in_(OFFICE_STEPS)
               | ((Pact.status == S.public_consultation) & (Pact.consultation_ends_at <= now))
               | (waiting.c.n > 0)
               # A dispute before the conciliation committee waits for the office too.
               | Pact.id.in_(select(PactDispute.pact_id).where(PactDispute.closed_at.is_(None))))
        .order_by(Pact.status_changed_at, Pact.id)).all()
    entries = []
    for pact, reports in rows:
        steps = step_durations(pact, now)
        step = steps[-1] if steps else None
        entries.append(QueueEntry(pact=pact, step=step, overdue=bool(step and step.left_at is None and step.overdue),
                                  reports_waiting=int(reports)))
    return entries
