"""Paper supports: a facilitator enters, one sheet line at a time, the supports signed at an event.

A paper session (AssistedSession kind=paper) names the house, the proposal and optionally the
event. Each entry is one person: the codice fiscale is checked and turned into its keyed hash at
once (never stored, never logged). A verified account holding that hash supports the proposal; a
person without one gets a managed account verified in person at the house (the signature sheet is
the consent), and that account supports. Either way the support goes through the ordinary support
service, so the same rules hold (phase open, verified only, minimum age, per-citizen limit, the
threshold crossed exactly once) and paper and online supports are the same rows, never counted
twice. Provenance: one ``support.paper`` row per support (via the ORM hook), one
``account.created`` row per account made here.

Services raise DomainError and never commit; the route rolls a refused entry back as a whole.
"""
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from flask import current_app, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from app.assisted import codes, services
from app.assisted.provenance import add_action
from app.audit.services import record
from app.extensions import db
from app.http import path_for
from app.models.assisted import AssistedAction, AssistedSession, SessionKind
from app.models.base import DomainError, utcnow
from app.models.event import Event
from app.models.place import NeighbourhoodHouse
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal, Support
from app.models.proposal import ProposalStatus as P
from app.models.user import Role, User, UserRole
from app.notifications.services import notify, register_kind
from app.proposals import services as proposals
from app.verification import services as verification
from app.verification.codice_fiscale import MONTHS, OMOCODIA, InvalidCodiceFiscale, validate

ROME = proposals.ROME

register_kind("assisted.paper_support", _l(
    "Your support for “%(title)s”, signed on paper on %(date)s, was counted by %(house)s. If you did not sign, "
    "tell the house or write to the City."))

#: How far back the events offered for a paper session go (sheets are entered after the event).
EVENT_LOOKBACK = timedelta(days=120)


class AlreadyCounted(DomainError):
    status = 409


@dataclass
class EntryResult:
    citizen: User
    support: Support
    #: A managed account was created for this person by this entry.
    new_account: bool
    count: int
    crossed: bool


# --- opening a paper session --------------------------------------------------------------------

def _collecting_clause(now):
    """SQL: the proposal takes supports at ``now`` (the service keeps the final word)."""
    support_open = select(ProcessPhase.id).where(
        ProcessPhase.process_id == Proposal.process_id, ProcessPhase.kind == PhaseKind.support,
        ProcessPhase.starts_at <= now, ProcessPhase.ends_at > now).exists()
    return and_(Proposal.hidden_at.is_(None), support_open,
                or_(Proposal.status == P.published,
                    and_(Proposal.status == P.threshold_reached, Process.supports_past_threshold.is_(True))))


def collecting_proposals(query=None, limit=20, now=None):
    """Proposals collecting supports now, optionally whose title contains ``query`` (short search)."""
    now = now or utcnow()
    stmt = (select(Proposal).join(Process, Process.id == Proposal.process_id).where(_collecting_clause(now))
            .order_by(Proposal.title, Proposal.id).limit(limit))
    words = (query or "").strip()[:80]
    if words:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Proposal.title.ilike(f"%{escaped}%", escape="\\"))
    return db.session.scalars(stmt).all()


def is_collecting(proposal, now=None):
    """Whether ``proposal`` takes supports now."""
    now = now or utcnow()
    return db.session.scalar(select(Proposal.id).join(Process, Process.id == Proposal.process_id)
                             .where(Proposal.id == proposal.id, _collecting_clause(now))) is not None


def events_for(houses, now=None):
    """Events of these houses that could have produced signature sheets: started, not cancelled, recent."""
    now = now or utcnow()
    ids = [h.id for h in houses]
    if not ids:
        return []
    return db.session.scalars(select(Event).where(
        Event.house_id.in_(ids), Event.cancelled_at.is_(None), Event.starts_at <= now,
        Event.starts_at >= now - EVENT_LOOKBACK).order_by(Event.starts_at.desc()).limit(50)).all()


def open_paper_session(facilitator, house, proposal_id, event_id=None, now=None):
    """Open a session to enter the paper supports of one proposal, at one of my houses."""
    now = now or utcnow()
    proposal = db.session.get(Proposal, proposal_id) if proposal_id else None
    if proposal is None or not proposal.is_public:
        raise DomainError(_("There is no proposal with this number."), field="proposal")
    if not is_collecting(proposal, now):
        raise DomainError(_("This proposal is not collecting supports now: paper supports cannot be added."),
                          field="proposal")
    event = None
    if event_id:
        event = db.session.get(Event, event_id)
        if (event is None or house is None or event.house_id != house.id or event.cancelled_at is not None
                or event.starts_at > now):
            raise DomainError(_("Choose an event of this Casa del Quartiere that already took place, or none."),
                              field="event")
    return services.open_session(facilitator, house, kind=SessionKind.paper, proposal=proposal, event=event,
                                 now=now)


# --- entering one sheet line --------------------------------------------------------------------

def _cf_birth(code):
    """(two-digit year, month, day) of birth encoded in a validated codice fiscale."""
    def number(chars):
        return int("".join(str(OMOCODIA.index(c)) if c in OMOCODIA else c for c in chars))

    day = number(code[9:11])
    return number(code[6:8]), MONTHS.index(code[8]) + 1, day - 40 if day > 40 else day


def _local_day(moment):
    return moment.astimezone(ROME).date()


def _support_days(process):
    """The first and last calendar day (in Turin) of the support phase, or None."""
    window = process.window(PhaseKind.support)
    if window is None:
        return None
    start, end = window
    return _local_day(start), _local_day(end - timedelta(microseconds=1))


def _check_entry(assisted, *, name, document_type, birth_date, signed_on, sheet_checked, now):
    """Refuse an incomplete or impossible sheet line before anything is looked up."""
    if not sheet_checked:
        raise DomainError(_("Check the signature on the sheet, then tick the box."), field="sheet_checked")
    if not name:
        raise DomainError(_("Type the name as written on the sheet."), field="name")
    try:
        verification.DocumentType(document_type)
    except ValueError:
        raise DomainError(_("Choose the document written on the sheet."), field="document_type") from None
    if birth_date is None:
        raise DomainError(_("Type the date of birth written on the sheet."), field="birth_date")
    if signed_on is None:
        raise DomainError(_("Type the date the person signed."), field="signed_on")
    today = _local_day(now)
    if signed_on > today:
        raise DomainError(_("The date of signature cannot be in the future."), field="signed_on")
    if birth_date >= signed_on:
        raise DomainError(_("The date of birth must come before the date of signature."), field="birth_date")
    process = db.session.get(Proposal, assisted.proposal_id).process
    days = _support_days(process)
    if days is None or not (days[0] <= signed_on <= days[1]):
        raise DomainError(_("Only signatures given during the support phase count: it ran from %(start)s to "
                            "%(end)s.", start=days[0].isoformat() if days else "—",
                            end=days[1].isoformat() if days else "—"), field="signed_on")
    return process


def _check_person(facilitator, citizen):
    """Whose support a facilitator may enter: an ordinary active citizen, never themselves nor staff."""
    if citizen.id == facilitator.id:
        raise DomainError(_("You cannot enter your own support: support online, or ask another facilitator."),
                          field="codice_fiscale")
    if citizen.is_staff:
        raise DomainError(_("Staff accounts cannot be entered from paper: they support online."),
                          field="codice_fiscale")
    if citizen.deleted_at is not None or citizen.is_blocked or not citizen.has_role(Role.citizen):
        raise DomainError(_("The account of this codice fiscale cannot take part: ask an administrator."),
                          field="codice_fiscale")


def paper_consent_moment(signed_on):
    """The paper sheet is the consent: terms and privacy count as accepted at the start of that day."""
    return datetime.combine(signed_on, time.min, tzinfo=ROME)


def _managed_account(assisted, facilitator, *, name, birth_date, signed_on, document_type, code, now):
    """A managed account for a person seen only on the sheet, verified in person at the session's house."""
    limit = current_app.config["PAPER_ACCOUNTS_PER_DAY"]
    made = db.session.scalar(select(func.count(AssistedAction.id)).join(
        AssistedSession, AssistedSession.id == AssistedAction.session_id).where(
        AssistedAction.facilitator_id == facilitator.id, AssistedAction.action == "account.created",
        AssistedSession.kind == SessionKind.paper, AssistedAction.created_at >= now - timedelta(days=1)))
    if made >= limit:
        raise DomainError(_("You created %(num)d accounts from paper sheets in the last 24 hours, the most allowed: "
                            "an administrator can raise the limit.", num=made), field="codice_fiscale")
    accepted = paper_consent_moment(signed_on)
    citizen = User(display_name=name, birth_date=birth_date, locale="it", managed_at=now,
                   terms_accepted_at=accepted, privacy_accepted_at=accepted)
    citizen.role_rows.append(UserRole(role=Role.citizen))
    db.session.add(citizen)
    db.session.flush()
    add_action(services.acting_for(assisted, citizen.id), "account.created", "users", citizen.id,
               citizen_id=citizen.id)
    # The person can take the account over later: a facilitator finds it by document and prints the code.
    codes.issue_claim_code(citizen, now)
    return verification.verify_in_person(facilitator, citizen, document_type=document_type, codice_fiscale=code,
                                         house=assisted.house, residency_confirmed=True)


def entries_made(assisted):
    """How many paper supports this session entered."""
    return db.session.scalar(select(func.count(AssistedAction.id)).where(
        AssistedAction.session_id == assisted.id, AssistedAction.action == "support.paper"))


def _support_as(assisted, citizen, now):
    """The ordinary support service, with the provenance hook naming the support ``support.paper``."""
    who = replace(services.acting_for(assisted, citizen.id), overrides={Support: "support.paper"})
    previous = g.get("assisted_acting")
    g.assisted_acting = who
    try:
        return proposals.support(citizen, assisted.proposal_id, now=now)
    finally:
        if previous is None:
            g.pop("assisted_acting", None)
        else:
            g.assisted_acting = previous


def enter_paper_support(assisted, facilitator, *, name, codice_fiscale, document_type, birth_date, signed_on,
                        sheet_checked, now=None):
    """Count one paper signature for the session's proposal: the person's account, or a new managed one.

    Raises DomainError (AlreadyCounted when this person's support is already in, online or on
    paper); the caller rolls the whole entry back then, so a refused line leaves no account behind.
    """
    now = now or utcnow()
    services._check_open(assisted, facilitator, now)
    if assisted.kind != SessionKind.paper or assisted.proposal_id is None:
        raise DomainError(_("This is not a session for paper supports."))
    cap = current_app.config["ASSISTED_MAX_ACTIONS"]
    if entries_made(assisted) >= cap:
        raise DomainError(_("This session entered %(num)d paper supports, the most for one session: end it and "
                            "open a new one for the next sheets.", num=cap))
    name = " ".join((name or "").split())[:80]
    process = _check_entry(assisted, name=name, document_type=document_type, birth_date=birth_date,
                           signed_on=signed_on, sheet_checked=sheet_checked, now=now)
    try:
        code = validate(codice_fiscale)
    except InvalidCodiceFiscale as exc:
        raise DomainError(str(exc.message), field="codice_fiscale") from None
    if _cf_birth(code) != (birth_date.year % 100, birth_date.month, birth_date.day):
        raise DomainError(_("The date of birth does not match the codice fiscale: read both again on the sheet."),
                          field="birth_date")
    if process.minimum_age and _age_on(birth_date, signed_on) < process.minimum_age:
        raise DomainError(_("This process accepts supports from people aged %(n)d or more: the person was younger "
                            "on the day they signed.", n=process.minimum_age), field="birth_date")
    # The proposal first, as the support service does (proposal, then citizen): no lock-order inversion with
    # an online support, and on SQLite the write lock also serialises two desks entering the same person.
    proposals.lock_proposal(assisted.proposal_id)
    digest = verification.identity_hmac(code)
    citizen = db.session.scalar(select(User).where(User.identity_hmac == digest))
    new_account = citizen is None
    birth_date_set = False
    if citizen is None:
        citizen = _managed_account(assisted, facilitator, name=name, birth_date=birth_date, signed_on=signed_on,
                                   document_type=document_type, code=code, now=now)
    else:
        _check_person(facilitator, citizen)
        if citizen.birth_date is None:
            # Verified identity, and the date matches its codice fiscale: the house may fix it.
            citizen.birth_date = birth_date
            birth_date_set = True
        elif citizen.birth_date != birth_date:
            raise DomainError(_("The date of birth differs from the one of the account with this codice fiscale: "
                                "check the sheet, or ask the person to come to a Casa del Quartiere."),
                              field="birth_date")
    result = _support_as(assisted, citizen, now)
    if not result.created:
        raise AlreadyCounted(_("Already counted: this person already supports the proposal (online or on an "
                               "earlier sheet). Nothing was added."), field="codice_fiscale")
    details = {"session_id": assisted.id, "house_id": assisted.house_id, "proposal_id": assisted.proposal_id,
               "event_id": assisted.event_id, "citizen_id": citizen.id, "signed_on": signed_on.isoformat(),
               "document_type": verification.DocumentType(document_type).value, "new_account": new_account,
               "crossed_threshold": result.crossed}
    if new_account:
        details["consent"] = "paper signature sheet: terms and privacy accepted on " + signed_on.isoformat()
    if birth_date_set:
        details["birth_date_set"] = True
    record("assisted.paper_entry", actor=facilitator, target_type="supports", target_id=result.support.id,
           details=details)
    # Like any assisted action, never unnoticed: the person hears that a paper support was counted for them.
    proposal = db.session.get(Proposal, assisted.proposal_id)
    notify([citizen], "assisted.paper_support",
           {"title": proposal.title, "date": signed_on.isoformat(), "house": assisted.house.name},
           url=path_for("proposals.detail", proposal_id=proposal.id))
    return EntryResult(citizen, result.support, new_account, result.count, result.crossed)


def record_refusal(assisted, facilitator, exc):
    """Audit a refused entry after its rollback (who tried what kind of line; never the number)."""
    record("assisted.paper_refused", actor=facilitator, target=assisted,
           details={"house_id": assisted.house_id, "proposal_id": assisted.proposal_id,
                    "field": exc.details.get("field"), "already_counted": isinstance(exc, AlreadyCounted)})


def _age_on(born, day):
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- what the session and the public page show -----------------------------------------------------

def mask(name):
    """Initials only, for the running list: "Maria Rossi" -> "M. R."."""
    parts = [p for p in (name or "").replace("'", " ").split() if p[:1].isalpha()]
    return " ".join(p[0].upper() + "." for p in parts[:4]) or "—"


@dataclass
class Entry:
    at: datetime
    initials: str
    new_account: bool


def entries_of(assisted):
    """The paper supports entered in this session, latest first, names masked (one query)."""
    created = (select(AssistedAction.citizen_id).where(AssistedAction.session_id == assisted.id,
                                                       AssistedAction.action == "account.created"))
    rows = db.session.execute(
        select(AssistedAction.created_at, User.display_name, AssistedAction.citizen_id.in_(created))
        .outerjoin(User, User.id == AssistedAction.citizen_id)
        .where(AssistedAction.session_id == assisted.id, AssistedAction.action == "support.paper")
        .order_by(AssistedAction.id.desc())).all()
    return [Entry(at, mask(name), bool(new)) for at, name, new in rows]


def paper_supports_by_house(proposal_id):
    """[(house name, number)] of the proposal's supports entered from paper, per house (one query)."""
    if not proposal_id:
        return []
    rows = db.session.execute(
        select(NeighbourhoodHouse.name, func.count(AssistedAction.id))
        .join(NeighbourhoodHouse, NeighbourhoodHouse.id == AssistedAction.house_id)
        .join(Support, and_(AssistedAction.record_type == "supports", Support.id == AssistedAction.record_id))
        .where(AssistedAction.action == "support.paper", Support.proposal_id == proposal_id)
        .group_by(NeighbourhoodHouse.name).order_by(NeighbourhoodHouse.name)).all()
    return [(name, count) for name, count in rows]


def default_signed_on(assisted, now=None):
    """The date the form proposes: the event's day, else today (in Turin)."""
    if assisted.event_id is not None:
        event = db.session.get(Event, assisted.event_id)
        if event is not None:
            return _local_day(event.starts_at)
    return _local_day(now or utcnow())


def session_facts(assisted):
    """Proposal and event of a paper session, for its page."""
    proposal = db.session.get(Proposal, assisted.proposal_id) if assisted.proposal_id else None
    event = db.session.get(Event, assisted.event_id) if assisted.event_id else None
    return proposal, event

