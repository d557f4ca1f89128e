"""Demo houses' opening hours and contacts, the demo facilitator's house, and ~15 upcoming events.

Idempotent: hours and contacts are filled only where missing, events are created only when the demo
has none yet (their dates are relative to the day the seed first runs).
"""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models.commons import Organisation
from app.models.event import Event, EventKind
from app.models.place import HouseHours, NeighbourhoodHouse
from app.models.user import User
from app.admin.processes import city_tz, local_to_utc

#: Weekday (0 = Monday) -> hours, the same plan for most houses; some open on Saturday too.
WEEK = {0: "9:00–13:00, 14:30–19:00", 1: "9:00–13:00, 14:30–19:00", 2: "9:00–13:00, 14:30–22:00",
        3: "9:00–13:00, 14:30–19:00", 4: "9:00–13:00, 14:30–19:00"}
SATURDAY = {5: "10:00–13:00"}
#: slug -> (phone, email, website, opens on Saturday)
CONTACTS = {
    "cascina-roccafranca": ("011 0119 0230", "info@cascinaroccafranca.example.org", "https://www.cascinaroccafranca.it", True),
    "san-salvario": ("011 668 6772", "info@casadelquartiere.example.org", "https://www.casadelquartiere.it", True),
    "bagni-via-aglie": ("011 234 5678", "info@bagnipubblici.example.org", "https://www.bagnipubblici.it", False),
    "cecchi-point": ("011 197 09 90", "info@cecchipoint.example.org", "https://www.cecchipoint.it", True),
    "casa-nel-parco": ("011 019 75 70", "info@casanelparco.example.org", "https://www.casanelparco.it", False),
    "spazio-quattro": ("011 523 03 00", "info@spazioquattro.example.org", "https://www.spazio4.it", False),
    "barrito": ("011 568 49 60", "info@barrito.example.org", "https://www.barrito.it", True),
    "bossoli83": ("011 040 07 23", "info@bossoli83.example.org", "https://www.bossoli83.it", False),
    "vallette": ("011 011 55 44", "info@vallette.example.org", "https://www.retecasedelquartiere.org", False),
}

#: (house slug or None, kind, title, day offset, local start "HH:MM", hours, capacity, extra)
EVENTS = [
    ("cascina-roccafranca", EventKind.assisted_hours, "Sportello digitale: ti aiutiamo a partecipare", 1, "10:00", 3, None, {}),
    ("cascina-roccafranca", EventKind.assisted_hours, "Sportello digitale: ti aiutiamo a partecipare", 8, "10:00", 3, None, {}),
    ("san-salvario", EventKind.assisted_hours, "Sportello digitale del martedì", 2, "15:00", 3, None, {}),
    ("bagni-via-aglie", EventKind.assisted_hours, "Aiuto con Piazza e lo SPID", 3, "9:30", 3, None, {}),
    ("cecchi-point", EventKind.assisted_hours, "Sportello digitale Aurora", 4, "16:00", 2, None, {}),
    ("casa-nel-parco", EventKind.assisted_hours, "Sportello digitale Mirafiori Sud", 5, "10:00", 2, None, {}),
    ("spazio-quattro", EventKind.assisted_hours, "Sportello digitale San Donato", 6, "14:30", 3, None, {}),
    ("barrito", EventKind.assisted_hours, "Sportello digitale Nizza Millefonti", 2, "10:00", 2, None, {}),
    ("bossoli83", EventKind.assisted_hours, "Sportello digitale Lingotto", 9, "15:00", 2, None, {}),
    ("vallette", EventKind.assisted_hours, "Sportello digitale Vallette", 3, "15:00", 2, None, {}),
    ("san-salvario", EventKind.assembly, "Assemblea di quartiere: il bilancio partecipativo", 7, "18:30", 2, 80, {}),
    ("bagni-via-aglie", EventKind.co_design, "Tavolo di co-progettazione: il giardino di via Agliè", 10, "18:00", 2, 25, {}),
    (None, EventKind.assembly, "Assemblea pubblica della Circoscrizione 8", 12, "18:00", 2, 120,
     {"address": "Via Nizza 151, Torino", "lat": 45.0355, "lon": 7.6690}),
    (None, EventKind.co_design, "Patti di collaborazione: come proporne uno", 14, "17:30", 2, 40,
     {"address": "Biblioteca civica Villa Amoretti, Corso Orbassano 200", "lat": 45.0450, "lon": 7.6340}),
    ("cecchi-point", EventKind.other, "Festa di quartiere e presentazione dei patti attivi", 16, "16:00", 4, None, {}),
]


def _at(days, hhmm, now):
    day = now.astimezone(city_tz()).date() + timedelta(days=days)
    hour, minute = (int(p) for p in hhmm.split(":"))
    return local_to_utc(datetime(day.year, day.month, day.day, hour, minute))


def seed_events(now=None):
    """Hours, contacts, the facilitator's house and the demo events; returns counts of rows created."""
    from app.models.base import utcnow

    now = now or utcnow()
    created = {"opening hours": 0, "events": 0}
    houses = {h.slug: h for h in db.session.scalars(select(NeighbourhoodHouse))}
    for slug, (phone, email, website, saturday) in CONTACTS.items():
        house = houses.get(slug)
        if house is None:
            continue
        house.phone, house.email, house.website = house.phone or phone, house.email or email, house.website or website
        if not house.hours:
            for weekday, text in {**WEEK, **(SATURDAY if saturday else {})}.items():
                house.hours.append(HouseHours(weekday=weekday, hours=text))
                created["opening hours"] += 1
    facilitator = db.session.scalar(select(User).where(User.email == "facilitator@example.org"))
    if facilitator is not None and "cascina-roccafranca" in houses:
        house = houses["cascina-roccafranca"]
        if facilitator not in house.facilitators:
            house.facilitators.append(facilitator)
    db.session.flush()
    if db.session.scalar(select(func.count()).select_from(Event)):
        return created
    official = db.session.scalar(select(User).where(User.email == "official@example.org"))
    for slug, kind, title, days, hhmm, hours, capacity, extra in EVENTS:
        house = houses.get(slug) if slug else None
        starts = _at(days, hhmm, now)
        event = Event(house=house, kind=kind, title=title, starts_at=starts, ends_at=starts + timedelta(hours=hours),
                      capacity=capacity, registration_open=kind != EventKind.assisted_hours or capacity is not None,
                      created_by=facilitator if house else official,
                      description=_description(kind), address=extra.get("address", ""),
                      lat=extra.get("lat"), lon=extra.get("lon"),
                      district_id=house.district_id if house else None)
        db.session.add(event)
        created["events"] += 1
    organisation = db.session.scalar(select(Organisation).order_by(Organisation.id))
    if organisation is not None:
        db.session.flush()
        last = db.session.scalar(select(Event).where(Event.title == EVENTS[-2][2]))
        last.organisation = organisation
    db.session.flush()
    _districts_for_points()
    return created


def _districts_for_points():
    from app import geo

    for event in db.session.scalars(select(Event).where(Event.lat.is_not(None), Event.district_id.is_(None))):
        event.district_id = geo.district_for(event.lat, event.lon)


def _description(kind):
    if kind == EventKind.assisted_hours:
        return ("Vieni senza appuntamento: un facilitatore ti aiuta a fare una segnalazione, sostenere una proposta "
                "o firmare un patto, anche se non hai un computer o un indirizzo email.")
    if kind == EventKind.co_design:
        return "Un tavolo aperto per scrivere insieme il testo del patto: porta idee, disegni e domande."
    return "Aperto a tutte e tutti. Iscriviti per aiutarci a preparare la sala."
