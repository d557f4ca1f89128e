"""`flask seed demo`: districts, houses, departments, categories and the demo accounts. Idempotent."""
import json
from datetime import date

from sqlalchemy import select

from app.auth.passwords import hash_password
from app.extensions import db
from app.models.base import utcnow
from app.models.place import Category, District, NeighbourhoodHouse
from app.models.user import Department, Role, User, UserRole
from app.seed import turin

DEMO_PASSWORD = "piazza-demo"
CITIZEN_COUNT = 300

STAFF = [
    ("admin@example.org", "Amministrazione Piazza", [Role.admin]),
    ("official@example.org", "Ufficio Tecnico (demo)", [Role.official, Role.citizen]),
    ("moderator@example.org", "Moderazione (demo)", [Role.moderator]),
    # A second moderator: appeals are decided by a moderator other than the one who decided.
    ("moderator2@example.org", "Seconda moderatrice (demo)", [Role.moderator]),
    ("facilitator@example.org", "Facilitatrice Roccafranca (demo)", [Role.facilitator]),
]


def citizen_email(n):
    return f"citizen{n:03d}@example.org"


def _get_or_create(model, lookup, **values):
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        return obj, True
    for key, value in values.items():
        setattr(obj, key, value)
    return obj, False


def seed_places():
    """Districts, houses, departments and categories; returns counts of rows created."""
    created = {"districts": 0, "houses": 0, "departments": 0, "categories": 0}
    districts = {}
    for number, name, ring in turin.DISTRICTS:
        geometry = json.dumps({"type": "Polygon", "coordinates": [ring]})
        obj, new = _get_or_create(District, {"number": number}, name=name, geometry=geometry)
        districts[number] = obj
        created["districts"] += new
    db.session.flush()
    for slug, name, neighbourhood, address, lat, lon, district in turin.HOUSES:
        _, new = _get_or_create(NeighbourhoodHouse, {"slug": slug}, name=name, neighbourhood=neighbourhood,
                                address=address, lat=lat, lon=lon, district_id=districts[district].id)
        created["houses"] += new
    departments = {}
    for slug, name_it, name_en in turin.DEPARTMENTS:
        obj, new = _get_or_create(Department, {"slug": slug}, name_it=name_it, name_en=name_en)
        departments[slug] = obj
        created["departments"] += new
    db.session.flush()
    for slug, name_it, name_en, department in turin.CATEGORIES:
        _, new = _get_or_create(Category, {"slug": slug}, name_it=name_it, name_en=name_en,
                                department_id=departments[department].id)
        created["categories"] += new
    db.session.flush()
    return created


def seed_accounts(progress=None):
    """The staff accounts and 300 verified citizens, all with the demo password."""
    # One hash for every demo account: hashing 300 times would take a minute, and
    # these accounts exist only on development machines.
    password_hash = hash_password(DEMO_PASSWORD)
    now = utcnow()
    existing = set(db.session.scalars(select(User.email).where(User.email.like("%@example.org"))))
    created = 0
    for email, name, roles in STAFF:
        if email in existing:
            continue
        user = User(email=email, display_name=name, password_hash=password_hash, email_confirmed_at=now,
                    terms_accepted_at=now, locale="it")
        user.role_rows = [UserRole(role=r) for r in roles]
        db.session.add(user)
        created += 1
    for n in range(1, CITIZEN_COUNT + 1):
        if progress:
            progress(n)
        email = citizen_email(n)
        if email in existing:
            continue
        first = turin.FIRST_NAMES[(n - 1) % len(turin.FIRST_NAMES)]
        initial = turin.LAST_INITIALS[(n * 7) % len(turin.LAST_INITIALS)]
        user = User(email=email, display_name=f"{first} {initial}.", password_hash=password_hash,
                    email_confirmed_at=now, verified_at=now, terms_accepted_at=now,
                    birth_date=date(1946 + (n * 37) % 62, 1 + n % 12, 1 + (n * 5) % 28),
                    locale="en" if n % 10 == 0 else "it")
        user.role_rows = [UserRole(role=Role.citizen)]
        db.session.add(user)
        created += 1
    db.session.flush()
    official = db.session.scalar(select(User).where(User.email == "official@example.org"))
    if official is not None and not official.departments:
        official.departments = list(db.session.scalars(
            select(Department).where(Department.slug.in_(["suolo-pubblico", "illuminazione", "verde"]))))
    if created:
        from app.audit.services import record

        record("seed.demo_accounts", details={"created": created})
    return created


def seed_demo(progress=None):
    """Everything the demo needs. Running it twice changes nothing the second time."""
    from app.seed.assisted import seed_assisted
    from app.seed.debates import seed_debates
    from app.seed.events import seed_events
    from app.seed.moderation import seed_moderation
    from app.seed.outcomes import seed_outcomes
    from app.seed.pacts import seed_pacts
    from app.seed.proposals import demo_processes, seed_proposals
    from app.seed.reports import seed_reports

    counts = seed_places()
    counts["accounts"] = seed_accounts(progress)
    counts["reports"] = seed_reports()
    counts["proposals"] = seed_proposals()
    counts.update(seed_outcomes(demo_processes()))
    counts["debates"] = seed_debates()
    counts.update(seed_pacts())
    counts["moderation cases"] = seed_moderation()
    counts.update(seed_events())
    counts.update(seed_assisted())
    return counts
