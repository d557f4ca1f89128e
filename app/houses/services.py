"""Rules of houses and events: who may publish, registration within capacity, the iCal feed, reminders."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import geo
from app.audit.services import record
from app.extensions import db
from app.http import path_for
from app.locking import lock_row
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.commons import Organisation, OrganisationMember
from app.models.event import Event, EventKind, EventRegistration
from app.models.place import District, NeighbourhoodHouse, user_houses
from app.models.user import Role
from app.notifications import services as notifications

notifications.register_kind(
    "events.reminder", _l("Reminder: “%(title)s” starts %(when)s at %(place)s."))
notifications.register_kind(
    "events.cancelled", _l("The event “%(title)s” you registered for was cancelled."))

TITLE_MAX = 200
CAPACITY_MAX = 10000
#: How far ahead the reminder command looks.
REMIND_AHEAD = timedelta(hours=24)

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))
KIND_LABELS = {EventKind.assembly: _l("Public assembly"), EventKind.co_design: _l("Co-design table"),
               EventKind.assisted_hours: _l("Assisted-session hours"), EventKind.other: _l("Other event")}


# -- houses ---------------------------------------------------------------------------------------

def houses():
    """Every house, by name."""
    return db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.name)).all()


def get_house(slug):
    """The house with ``slug`` (NotFound otherwise)."""
    house = db.session.scalar(select(NeighbourhoodHouse).where(NeighbourhoodHouse.slug == slug))
    if house is None:
        raise NotFound(_l("No such house."))
    return house


def houses_of(user):
    """The houses a facilitator works at."""
    if user is None or not user.is_authenticated:
        return []
    return db.session.scalars(select(NeighbourhoodHouse).join(user_houses).where(user_houses.c.user_id == user.id)
                              .order_by(NeighbourhoodHouse.name)).all()


# -- who may publish --------------------------------------------------------------------------------

def _represented(user):
    return db.session.scalars(
        select(Organisation).join(OrganisationMember)
        .where(OrganisationMember.user_id == user.id, OrganisationMember.is_representative.is_(True))
        .order_by(Organisation.name)).all()


def publishing_targets(user):
    """(houses, organisations, city) the user may publish events for."""
    if user is None or not user.is_authenticated:
        return [], [], False
    house_list = houses_of(user) if user.has_role(Role.facilitator) else []
    organisations = _represented(user) if user.is_citizen else []
    return house_list, organisations, user.has_role(Role.official)


def may_publish(user, house=None, organisation=None):
    """Facilitators of the house, representatives of the organisation, officials for the city."""
    if user is None or not user.is_authenticated:
        return False
    if house is not None:
        return user.has_role(Role.facilitator) and house in houses_of(user)
    if organisation is not None:
        return user.is_citizen and organisation.is_representative(user)
    return user.has_role(Role.official)


def may_manage(event, user):
    """Who may edit or cancel the event: whoever may publish for its organiser."""
    return may_publish(user, house=event.house, organisation=event.organisation)


def _check_fields(fields):
    if not (fields.get("title") or "").strip():
        raise DomainError(_l("Give the event a title."), field="title")
    if fields["ends_at"] <= fields["starts_at"]:
        raise DomainError(_l("The end must come after the start."), field="ends_at")
    capacity = fields.get("capacity")
    if capacity is not None and not 1 <= capacity <= CAPACITY_MAX:
        raise DomainError(_l("Capacity must be between 1 and %(max)d.", max=CAPACITY_MAX), field="capacity")
    lat, lon = fields.get("lat"), fields.get("lon")
    if (lat is None) != (lon is None) or (lat is not None and not geo.in_city(lat, lon)):
        raise DomainError(_l("Choose a place inside the city."), field="lat")
    if fields.get("house") is None and lat is None and not (fields.get("address") or "").strip():
        # An event of an organisation or the city needs a place of its own, or at least an address.
        raise DomainError(_l("Say where the event takes place."), field="address")


def _apply(event, fields):
    for name in ("kind", "title", "description", "address", "lat", "lon", "starts_at", "ends_at", "capacity",
                 "registration_open"):
        if name in fields:
            setattr(event, name, fields[name])
    event.title = event.title.strip()
    event.address = (event.address or "").strip()
    if event.lat is not None:
        event.district_id = geo.district_for(event.lat, event.lon)
    elif event.house is not None:
        event.district_id = event.house.district_id
    else:
        event.district_id = None


def create_event(user, *, house=None, organisation=None, **fields):
    """Publish an event for a house, an organisation or (neither) the city."""
    if not may_publish(user, house=house, organisation=organisation):
        raise PermissionDenied(_l("You may not publish events for this organiser."), field="target")
    fields["house"] = house
    _check_fields(fields)
    event = Event(house=house, organisation=organisation if house is None else None, created_by_id=user.id)
    _apply(event, fields)
    db.session.add(event)
    db.session.flush()
    record("event.created", actor=user, target=event, details={"kind": event.kind.value})
    return event


def update_event(user, event, **fields):
    """Change an event that is not cancelled."""
    if not may_manage(event, user):
        raise PermissionDenied(_l("You may not change this event."))
    if event.cancelled_at is not None:
        raise DomainError(_l("A cancelled event cannot be changed."))
    fields["house"] = event.house
    _check_fields(fields)
    _apply(event, fields)
    record("event.updated", actor=user, target=event)
    return event


def cancel_event(user, event, now=None):
    """Cancel an event (kept, shown as cancelled) and tell the people registered."""
    if not may_manage(event, user):
        raise PermissionDenied(_l("You may not cancel this event."))
    if event.cancelled_at is not None:
        raise DomainError(_l("The event is already cancelled."))
    event.cancelled_at = now or utcnow()
    people = [r.user for r in event.registrations]
    if people:
        notifications.notify(people, "events.cancelled", {"title": event.title},
                             url=path_for("houses.event_detail", event_id=event.id))
    record("event.cancelled", actor=user, target=event)
    return event


# -- listing ---------------------------------------------------------------------------------------

def upcoming(now=None, district_id=None, kind=None, house_id=None):
    """A select of the events not yet over, the soonest first (cancelled ones included, marked)."""
    now = now or utcnow()
    stmt = select(Event).where(Event.ends_at > now)
    if district_id is not None:
        stmt = stmt.where(Event.district_id == district_id)
    if kind is not None:
        stmt = stmt.where(Event.kind == kind)
    if house_id is not None:
        stmt = stmt.where(Event.house_id == house_id)
    return stmt.order_by(Event.starts_at, Event.id)


def get_event(event_id):
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_l("No such event."))
    return event


def registration_count(event):
    """How many people are registered."""
    return db.session.scalar(select(func.count()).select_from(EventRegistration)
                             .where(EventRegistration.event_id == event.id))


def own_registration(event, user):
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(select(EventRegistration).where(EventRegistration.event_id == event.id,
                                                             EventRegistration.user_id == user.id))


def is_full(event, count=None):
    return event.capacity is not None and (registration_count(event) if count is None else count) >= event.capacity


def takes_registrations(event, now=None):
    """Whether the event accepts registrations at all (open, not cancelled, not started)."""
    return event.registration_open and event.cancelled_at is None and event.starts_at > (now or utcnow())


# -- registrations -------------------------------------------------------------------------------

def register(user, event, registered_by=None, now=None):
    """Register ``user`` (by ``registered_by``, a facilitator, when given); the capacity holds under a row lock."""
    if not user.is_citizen:
        raise PermissionDenied(_l("Confirm your email address first."))
    event = lock_row(Event, event.id)
    if event is None:
        raise NotFound(_l("No such event."))
    if not takes_registrations(event, now):
        raise DomainError(_l("This event takes no registrations."), code="closed")
    if own_registration(event, user) is not None:
        raise DomainError(_l("You are already registered."), code="already")
    # Counted after the lock: every concurrent registration waits for it, so none can overshoot.
    if is_full(event):
        raise DomainError(_l("The event is full."), code="full")
    registration = EventRegistration(event_id=event.id, user_id=user.id,
                                     registered_by_id=registered_by.id if registered_by is not None else None)
    db.session.add(registration)
    db.session.flush()
    return registration


def cancel_registration(user, event, now=None):
    """Take back one's registration before the event starts."""
    registration = own_registration(event, user)
    if registration is None:
        raise DomainError(_l("You are not registered."))
    if event.starts_at <= (now or utcnow()):
        raise DomainError(_l("The event has already started."))
    db.session.delete(registration)
    db.session.flush()


# -- reminders -------------------------------------------------------------------------------------

def remind(now=None):
    """Queue one reminder per registration for events starting in the next 24 hours; returns how many."""
    from flask_babel import format_datetime

    now = now or utcnow()
    rows = db.session.scalars(
        select(EventRegistration).join(Event)
        .where(EventRegistration.reminded_at.is_(None), Event.cancelled_at.is_(None),
               Event.starts_at > now, Event.starts_at <= now + REMIND_AHEAD)
        .order_by(EventRegistration.id)).all()
    for registration in rows:
        event = registration.event
        notifications.notify([registration.user], "events.reminder",
                             {"title": event.title, "when": format_datetime(event.starts_at, "short"),
                              "place": event.place_address},
                             url=path_for("houses.event_detail", event_id=event.id))
        registration.reminded_at = now
    return len(rows)


# -- iCal (RFC 5545) -------------------------------------------------------------------------------

def _escape(text):
    return (str(text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line):
    """Fold a content line at 75 octets, never inside a UTF-8 character."""
    data = line.encode("utf-8")
    parts, limit = [], 75
    while len(data) > limit:
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        limit = 74  # continuation lines begin with a space
    parts.append(data)
    return b"\r\n ".join(parts).decode("utf-8")


def _stamp(moment):
    return moment.astimezone(__import__("datetime").timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def ical(events, name, base_url, host):
    """A VCALENDAR of ``events``; ``base_url`` makes the URLs absolute, ``host`` the UIDs unique."""
    now = utcnow()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Piazza//Events//IT", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:" + _escape(name)]
    for event in events:
        lines += ["BEGIN:VEVENT", f"UID:event-{event.id}@{host}", "DTSTAMP:" + _stamp(event.updated_at or now),
                  "DTSTART:" + _stamp(event.starts_at), "DTEND:" + _stamp(event.ends_at),
                  "SUMMARY:" + _escape(event.title)]
        if event.description:
            lines.append("DESCRIPTION:" + _escape(event.description))
        if event.place_address:
            lines.append("LOCATION:" + _escape(event.place_address))
        if event.place_lat is not None:
            lines.append(f"GEO:{event.place_lat:.6f};{event.place_lon:.6f}")
        lines.append("URL:" + base_url.rstrip("/") + path_for("houses.event_detail", event_id=event.id))
        lines.append("STATUS:" + ("CANCELLED" if event.cancelled_at is not None else "CONFIRMED"))
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def district_by_number(number):
    district = db.session.scalar(select(District).where(District.number == number))
    if district is None:
        raise NotFound(_l("No such district."))
    return district


def feed_events(house=None, district=None, now=None):
    """Events for a feed: the last 30 days and everything ahead."""
    stmt = select(Event).where(Event.ends_at > (now or utcnow()) - timedelta(days=30))
    if house is not None:
        stmt = stmt.where(Event.house_id == house.id)
    if district is not None:
        stmt = stmt.where(Event.district_id == district.id)
    return db.session.scalars(stmt.order_by(Event.starts_at, Event.id)).all()

