"""Collaboration opportunities: calls for help, what citizens offer, matching, one-click answers.

Who posts a call: the proponents (or the representatives of a proponent organisation) of an
ACTIVE pact, for that pact; or a representative of an organisation, for the organisation.
A call is public while its pact is public (or its organisation visible) and the call is not
hidden; it is *open* while not closed, not over, and (for a pact) the pact is active.

Privacy: an offer belongs to its citizen. Other citizens never see who offered what; a call's
poster sees a count of matching offers and the names of those who answered the call, nobody
else does. Services never commit.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, false, func, literal, or_, select
from sqlalchemy.orm import selectinload

from app import geo
from app.audit.services import record
from app.extensions import db
from app.http import path_for
from app.locking import lock_row
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.commons import Organisation, OrganisationMember
from app.models.opportunity import HelpAnswer, HelpCall, HelpOffer
from app.models.pact import Pact, PactParty, PactStatus, PartyKind
from app.models.place import District
from app.models.user import User
from app.notifications import services as notifications
from app.pacts.registry import public_condition as pact_public_condition

notifications.register_kind(
    "opportunities.answered",
    _l("%(name)s answered your call for help “%(title)s”: %(count)s of %(needed)s people so far."))
notifications.register_kind(
    "opportunities.withdrawn",
    _l("%(name)s can no longer come to “%(title)s”: %(count)s of %(needed)s people so far."))

#: Limits of what a call and an offer may hold.
TITLE_MAX = 200
DESCRIPTION_MAX = 5000
AVAILABILITY_MAX = 2000
SKILL_MAX = 40
SKILLS_MAX = 10
SKILLS_COLUMN = 300
PEOPLE_MAX = 500


class CallClosed(DomainError):
    status = 409


class CallFull(DomainError):
    status = 409


# --- skills -------------------------------------------------------------------------------

def normalise_skills(value, field="skills"):
    """Skill tags from "Gardening,  carpentry, gardening" (or a list): lower case, single spaces,
    no duplicates, in the order given. DomainError when a tag or the list is too long."""
    parts = value.split(",") if isinstance(value, str) else list(value or ())
    tags = []
    for part in parts:
        tag = " ".join(str(part).split()).lower()
        if not tag or tag in tags:
            continue
        if len(tag) > SKILL_MAX:
            raise DomainError(_("A skill can be at most %(num)d characters long.", num=SKILL_MAX), field=field)
        tags.append(tag)
    if len(tags) > SKILLS_MAX or len(", ".join(tags)) > SKILLS_COLUMN:
        raise DomainError(_("Give at most %(num)d skills.", num=SKILLS_MAX), field=field)
    return tags


def skills_of(item):
    """The skill tags stored on a call or an offer."""
    return [tag for tag in (t.strip() for t in (item.skills or "").split(",")) if tag]


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has_skill(column, tag):
    """SQL: the comma-separated ``column`` holds ``tag`` as a whole tag."""
    padded = literal(", ") + column + literal(",")
    return padded.like(f"%, {_escape_like(tag)},%", escape="\\")


def _shares_a_skill(column, tags):
    return or_(*[_has_skill(column, tag) for tag in tags]) if tags else false()


# --- who may post -------------------------------------------------------------------------

def _pact_services():
    # Imported late: app.pacts.services imports much of the app, and this module is imported early.
    from app.pacts import services as pact_services

    return pact_services


def may_post_for_pact(pact, user):
    """Proponents and representatives of an active, visible pact post calls for it."""
    return (user is not None and user.is_authenticated and user.is_citizen and pact is not None
            and pact.status == PactStatus.active and pact.hidden_at is None
            and _pact_services().is_proponent(pact, user))


def may_post_for_organisation(organisation, user):
    """Representatives of a visible organisation post calls for it."""
    return (user is not None and user.is_authenticated and user.is_citizen and organisation is not None
            and organisation.hidden_at is None and organisation.is_representative(user))


def may_manage(call, user):
    """Who sees the answers and may close the call: its author, or whoever may post for its pact/organisation."""
    if user is None or not user.is_authenticated:
        return False
    if call.author_id == user.id:
        return True
    if call.pact_id is not None:
        return (call.pact.hidden_at is None and call.pact.is_public and user.is_citizen
                and _pact_services().is_proponent(call.pact, user))
    return may_post_for_organisation(call.organisation, user)


def posting_targets(user):
    """(active pacts, organisations) the user may post calls for, by name."""
    if user is None or not user.is_citizen:
        return [], []
    rep_orgs = select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user.id, OrganisationMember.is_representative.is_(True))
    party = exists().where(PactParty.pact_id == Pact.id, PactParty.kind == PartyKind.proponent,
                           or_(PactParty.user_id == user.id, PactParty.organisation_id.in_(rep_orgs)))
    candidates = db.session.scalars(
        select(Pact).where(Pact.status == PactStatus.active, Pact.hidden_at.is_(None),
                           or_(Pact.created_by_id == user.id, Pact.organisation_id.in_(rep_orgs), party))
        .order_by(Pact.title)).all()
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.id.in_(rep_orgs), Organisation.hidden_at.is_(None))
        .order_by(Organisation.name)).all()
    return [p for p in candidates if may_post_for_pact(p, user)], organisations


# --- visibility ---------------------------------------------------------------------------

def _public_call_condition():
    """SQL (with Pact and Organisation outer-joined): the call is public."""
    return and_(HelpCall.hidden_at.is_(None),
                or_(and_(HelpCall.pact_id.is_not(None), pact_public_condition()),
                    and_(HelpCall.pact_id.is_(None), HelpCall.organisation_id.is_not(None),
                         Organisation.hidden_at.is_(None))))


def open_condition(now):
    """SQL: public, not closed, not over, and (for a pact) the pact is active."""
    return and_(_public_call_condition(), HelpCall.closed_at.is_(None), HelpCall.ends_at > now,
                or_(HelpCall.pact_id.is_(None), Pact.status == PactStatus.active))


def _calls():
    return (select(HelpCall).outerjoin(Pact, Pact.id == HelpCall.pact_id)
            .outerjoin(Organisation, Organisation.id == HelpCall.organisation_id))


def _answer_count():
    return (select(func.count(HelpAnswer.id)).where(HelpAnswer.call_id == HelpCall.id)
            .correlate(HelpCall).scalar_subquery())


def is_public(call):
    """Whether anyone may see the call."""
    if call.hidden_at is not None:
        return False
    if call.pact_id is not None:
        return call.pact.is_public
    return call.organisation is not None and call.organisation.hidden_at is None


def is_open(call, now=None):
    """Whether the call takes answers now (it may still be full)."""
    now = now or utcnow()
    return (is_public(call) and call.closed_at is None and call.ends_at is not None and call.ends_at > now
            and (call.pact_id is None or call.pact.status == PactStatus.active))


def answer_count(call):
    return db.session.scalar(select(func.count(HelpAnswer.id)).where(HelpAnswer.call_id == call.id))


def is_full(call):
    return answer_count(call) >= call.people_needed


def get_public_call(call_id):
    """The call if anyone may see it, else NotFound."""
    call = db.session.get(HelpCall, call_id)
    if call is None or not is_public(call):
        raise NotFound(_("There is no such call for help."))
    return call


def open_calls(*, district_id=None, skill=None, now=None):
    """A select of the open calls, the soonest first; filters by district and by one skill tag."""
    now = now or utcnow()
    stmt = (_calls().where(open_condition(now))
            .options(selectinload(HelpCall.pact), selectinload(HelpCall.organisation),
                     selectinload(HelpCall.district)))
    if district_id:
        stmt = stmt.where(HelpCall.district_id == district_id)
    tags = normalise_skills(skill or "") if skill else []
    if tags:
        stmt = stmt.where(_has_skill(HelpCall.skills, tags[0]))
    return stmt.order_by(HelpCall.starts_at, HelpCall.id)


def answer_counts(calls):
    """{call id: number of answers} for a page of calls."""
    ids = [c.id for c in calls]
    if not ids:
        return {}
    rows = db.session.execute(select(HelpAnswer.call_id, func.count(HelpAnswer.id))
                              .where(HelpAnswer.call_id.in_(ids)).group_by(HelpAnswer.call_id))
    return {call_id: n for call_id, n in rows}


def skill_choices(now=None):
    """The skill tags of the open calls, alphabetically (the list's filter)."""
    rows = db.session.scalars(_calls().with_only_columns(HelpCall.skills).where(open_condition(now or utcnow())))
    return sorted({tag for skills in rows for tag in (t.strip() for t in (skills or "").split(",")) if tag})


# --- posting and closing ------------------------------------------------------------------

def _clean(value, label, max_len, field, required=True):
    value = (value or "").replace("\r\n", "\n").strip()
    if required and not value:
        raise DomainError(_("Please fill in the %(field)s.", field=label), field=field)
    if len(value) > max_len:
        raise DomainError(_("The %(field)s can be at most %(num)d characters long.", field=label, num=max_len),
                          field=field)
    return value


def _when(starts_at, ends_at, now):
    if starts_at is None or ends_at is None:
        raise DomainError(_("Say when: a start and an end."), field="starts_at")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("aware datetimes expected")
    if ends_at <= starts_at:
        raise DomainError(_("The end must come after the start."), field="ends_at")
    if ends_at <= now:
        raise DomainError(_("The end is already past."), field="ends_at")


def create_call(user, *, pact_id=None, organisation_id=None, title, description="", lat, lon, starts_at,
                ends_at, skills, people_needed, now=None):
    """Post a call for help for an active pact (its proponents) or an organisation (its representatives).

    Pre-moderation may hold it until a moderator approves it (``app.moderation.holds.is_held``).
    """
    from app.moderation.services import screen

    now = now or utcnow()
    if (pact_id is None) == (organisation_id is None):
        raise DomainError(_("Choose the pact or the organisation the call is for."), field="target")
    pact = organisation = None
    if pact_id is not None:
        pact = db.session.get(Pact, pact_id)
        if not may_post_for_pact(pact, user):
            raise PermissionDenied(_("Only the proponents of an active pact can ask for help for it."))
    else:
        organisation = db.session.get(Organisation, organisation_id)
        if not may_post_for_organisation(organisation, user):
            raise PermissionDenied(_("Only a representative of the organisation can ask for help for it."))
    title = _clean(title, _("title"), TITLE_MAX, "title")
    description = _clean(description, _("description"), DESCRIPTION_MAX, "description", required=False)
    try:
        district_id = geo.require_in_city(lat, lon)
    except geo.GeoError as exc:
        raise DomainError(exc.message, field="location") from None
    _when(starts_at, ends_at, now)
    tags = normalise_skills(skills)
    if not tags:
        raise DomainError(_("Give at least one skill, e.g. “gardening”."), field="skills")
    if not isinstance(people_needed, int) or not 1 <= people_needed <= PEOPLE_MAX:
        raise DomainError(_("Ask for between 1 and %(num)d people.", num=PEOPLE_MAX), field="people_needed")
    call = HelpCall(pact=pact, organisation=organisation, author_id=user.id, title=title, description=description,
                    lat=float(lat), lon=float(lon), district_id=district_id, starts_at=starts_at, ends_at=ends_at,
                    skills=", ".join(tags), people_needed=people_needed, created_at=now)
    db.session.add(call)
    db.session.flush()
    record("help_call.created", actor=user, target=call,
           details={"pact_id": pact_id, "organisation_id": organisation_id})
    screen("help_call", call, user, now=now)
    return call


def close_call(call, user, now=None):
    """The poster closes a call: it takes no more answers and leaves the list and the map."""
    call = lock_row(HelpCall, call.id) or call
    if not may_manage(call, user):
        raise PermissionDenied(_("Only who posted the call can close it."))
    if call.closed_at is not None:
        raise CallClosed(_("This call for help is already closed."))
    call.closed_at = now or utcnow()
    record("help_call.closed", actor=user, target=call)
    return call


# --- answering ----------------------------------------------------------------------------

def own_answer(call, user):
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(select(HelpAnswer).where(HelpAnswer.call_id == call.id,
                                                      HelpAnswer.user_id == user.id))


def _notify_poster(call, user, kind, count):
    if call.author is None or call.author_id == user.id:
        return
    notifications.notify([call.author], kind, {"name": user.display_name, "title": call.title, "count": count,
                                               "needed": call.people_needed},
                         url=path_for("opportunities.detail", call_id=call.id))


def answer(call, user, *, accept_rules=False, now=None):
    """"I'll come": answer a call (idempotent). A pact's call also joins the pact as a volunteer,
    which needs the pact's rules accepted. A closed, past or full call refuses. Returns the answer."""
    now = now or utcnow()
    call = lock_row(HelpCall, call.id)
    if call is None or not is_public(call):
        raise NotFound(_("There is no such call for help."))
    if not user.is_citizen:
        raise PermissionDenied(_("Please confirm your email address first: we sent you a link."))
    existing = own_answer(call, user)
    if existing is not None:
        return existing
    if not is_open(call, now):
        raise CallClosed(_("This call is closed: it takes no more answers."))
    if call.author_id == user.id:
        raise DomainError(_("You posted this call yourself."))
    count = answer_count(call)
    if count >= call.people_needed:
        raise CallFull(_("This call already has all the people it needs."))
    if call.pact_id is not None:
        if not accept_rules:
            raise DomainError(_("To answer you join the pact: tick that you accept its rules."),
                              field="accept_rules")
        _pact_services().join_as_volunteer(call.pact, user, accept_rules=True)
    reply = HelpAnswer(call_id=call.id, user_id=user.id, created_at=now)
    db.session.add(reply)
    db.session.flush()
    _notify_poster(call, user, "opportunities.answered", count + 1)
    return reply


def withdraw_answer(call, user, now=None):
    """"I can't come any more" (idempotent) until the call is over. Joining the pact is not undone:
    one leaves the pact on its page."""
    now = now or utcnow()
    call = lock_row(HelpCall, call.id)
    if call is None:
        raise NotFound(_("There is no such call for help."))
    existing = own_answer(call, user)
    if existing is None:
        return False
    if call.ends_at is not None and call.ends_at <= now:
        raise CallClosed(_("This call for help is over: answers stay as they were."))
    db.session.delete(existing)
    db.session.flush()
    if call.closed_at is None:
        _notify_poster(call, user, "opportunities.withdrawn", answer_count(call))
    return True


def answerers(call, viewer):
    """The people who answered, oldest answer first — only for who may manage the call."""
    if not may_manage(call, viewer):
        raise PermissionDenied(_("Only who posted the call can see who answered."))
    return db.session.scalars(select(HelpAnswer).where(HelpAnswer.call_id == call.id)
                              .options(selectinload(HelpAnswer.user)).order_by(HelpAnswer.created_at,
                                                                               HelpAnswer.id)).all()


# --- offers -------------------------------------------------------------------------------

def _offer_fields(skills, availability, district_id):
    tags = normalise_skills(skills)
    if not tags:
        raise DomainError(_("Give at least one skill, e.g. “gardening”."), field="skills")
    availability = _clean(availability, _("availability"), AVAILABILITY_MAX, "availability")
    if district_id is not None and db.session.get(District, district_id) is None:
        raise DomainError(_("Choose a district from the list."), field="district_id")
    return ", ".join(tags), availability


def create_offer(user, *, skills, availability, district_id=None):
    """A confirmed citizen says what they can offer: skills, when, where (a district or anywhere)."""
    if user is None or not user.is_citizen:
        raise PermissionDenied(_("Please confirm your email address first: we sent you a link."))
    tags, availability = _offer_fields(skills, availability, district_id)
    offer = HelpOffer(user_id=user.id, skills=tags, availability=availability, district_id=district_id,
                      is_active=True)
    db.session.add(offer)
    db.session.flush()
    return offer


def get_own_offer(offer_id, user):
    """One of the user's own offers; anyone else's is NotFound (offers are private)."""
    offer = db.session.get(HelpOffer, offer_id)
    if offer is None or user is None or offer.user_id != user.id:
        raise NotFound(_("There is no such offer."))
    return offer


def update_offer(offer, user, *, skills, availability, district_id=None, is_active=True):
    """Change one's own offer; a paused offer is kept but matches nothing."""
    offer = get_own_offer(offer.id, user)
    offer.skills, offer.availability = _offer_fields(skills, availability, district_id)
    offer.district_id = district_id
    offer.is_active = bool(is_active)
    return offer


def delete_offer(offer, user):
    """Delete one's own offer for good."""
    db.session.delete(get_own_offer(offer.id, user))
    db.session.flush()


def offers_of(user):
    return db.session.scalars(select(HelpOffer).where(HelpOffer.user_id == user.id)
                              .options(selectinload(HelpOffer.district))
                              .order_by(HelpOffer.created_at.desc(), HelpOffer.id.desc())).all()


# --- matching -----------------------------------------------------------------------------

def _not_full():
    return _answer_count() < HelpCall.people_needed


def matching_calls(user, now=None):
    """"Calls that match your offer": open, not full calls in the district of one of the user's active
    offers (or any district when the offer names none) sharing at least one skill with it; not the
    user's own calls. The soonest first."""
    now = now or utcnow()
    offers = [o for o in offers_of(user) if o.is_active]
    conditions = []
    for offer in offers:
        place = (HelpCall.district_id == offer.district_id) if offer.district_id else None
        skill = _shares_a_skill(HelpCall.skills, skills_of(offer))
        conditions.append(and_(place, skill) if place is not None else skill)
    if not conditions:
        return []
    stmt = (_calls().where(open_condition(now), _not_full(), or_(*conditions),
                           or_(HelpCall.author_id.is_(None), HelpCall.author_id != user.id))
            .options(selectinload(HelpCall.pact), selectinload(HelpCall.organisation),
                     selectinload(HelpCall.district))
            .order_by(HelpCall.starts_at, HelpCall.id))
    return db.session.scalars(stmt).all()


def matching_offer_count(call):
    """How many citizens have an active offer matching the call (same district or none, a shared
    skill), leaving out its author, those who already answered and closed or blocked accounts.
    A number, never names."""
    answered = select(HelpAnswer.user_id).where(HelpAnswer.call_id == call.id)
    stmt = select(func.count(func.distinct(HelpOffer.user_id))).join(User, User.id == HelpOffer.user_id).where(
        HelpOffer.is_active.is_(True), User.deleted_at.is_(None), User.is_blocked.is_(False),
        or_(HelpOffer.district_id.is_(None), HelpOffer.district_id == call.district_id),
        _shares_a_skill(HelpOffer.skills, skills_of(call)),
        HelpOffer.user_id.not_in(answered))
    if call.author_id is not None:
        stmt = stmt.where(HelpOffer.user_id != call.author_id)
    return db.session.scalar(stmt)


def open_calls_of_pact(pact_id, now=None):
    """The open calls of one pact, the soonest first (for the pact's page)."""
    return db.session.scalars(open_calls(now=now).where(HelpCall.pact_id == pact_id)).all()


def answered_calls(user):
    """The calls the user answered, the soonest first (their own answers only)."""
    return db.session.scalars(
        select(HelpCall).join(HelpAnswer, HelpAnswer.call_id == HelpCall.id)
        .where(HelpAnswer.user_id == user.id).order_by(HelpCall.starts_at.desc(), HelpCall.id)).all()


def posted_calls(user):
    """The calls the user posted, newest first."""
    return db.session.scalars(select(HelpCall).where(HelpCall.author_id == user.id)
                              .order_by(HelpCall.created_at.desc(), HelpCall.id.desc())).all()
