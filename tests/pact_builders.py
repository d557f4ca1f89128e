"""Builders for pact tests: people in every role, an organisation with its representatives, a commons,
and a pact brought to any status through the services (so the history and audit trail are real).

Call them inside an application context; they commit. ``PactWorld`` holds ids, and its properties
load the rows in whatever context is current, so HTTP tests can build in a short context and use
the ids afterwards::

    with app.app_context():
        world = pact_world()
        pact_id = advance(world, PactStatus.co_design)
    login_as(world.official)  # a detached user, columns loaded
"""
import itertools
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Role, User, UserRole
from app.models.base import utcnow
from app.models.commons import Commons, CommonsKind, Organisation, OrganisationKind, OrganisationMember
from app.models.pact import Pact, PactKind, PactParty, PactStatus, PartyKind
from app.models.user import Department
from app.pacts import services

S = PactStatus
_counter = itertools.count(1)

#: The main road of the procedure, each status reached from the previous one.
MAIN_ROAD = (S.draft, S.submitted, S.admissible, S.public_consultation, S.co_design, S.approved, S.signing,
             S.active)

#: Side statuses: (the status they are reached from, the status).
SIDE_ROADS = {
    S.needs_integration: S.submitted,
    S.inadmissible: S.submitted,
    S.withdrawn: S.draft,
    S.suspended: S.active,
    S.completed: S.active,
    S.renewed: S.active,
    S.revoked: S.active,
}


def make_person(roles=(Role.citizen,), *, confirmed=True, verified=False, departments=(), name=None):
    """A user with ``roles`` (committed), loaded and detached-safe."""
    n = next(_counter)
    now = utcnow()
    user = User(email=f"pact-user{n}-{time.monotonic_ns()}@example.org", display_name=name or f"Persona {n}",
                email_confirmed_at=now if confirmed else None, verified_at=now if verified else None,
                terms_accepted_at=now, birth_date=date(1980, 1, 1))
    user.role_rows = [UserRole(role=Role(r)) for r in roles]
    user.departments = list(departments)
    db.session.add(user)
    db.session.commit()
    return reload_user(user.id)


def reload_user(user_id):
    """The user read afresh with roles and departments loaded (usable after the context ends)."""
    user = db.session.scalar(select(User).where(User.id == user_id).execution_options(populate_existing=True))
    _ = (user.role_rows, user.departments, user.email, user.display_name, user.session_version)
    return user


def make_department(slug=None, name="Beni comuni"):
    n = next(_counter)
    department = Department(slug=slug or f"commons-{n}", name_it=f"{name} {n}", name_en=f"Commons {n}")
    db.session.add(department)
    db.session.commit()
    return department


def make_organisation(representatives=(), members=(), name=None, kind=OrganisationKind.association):
    """An organisation with representatives (users) and plain members."""
    organisation = Organisation(name=name or f"Associazione {next(_counter)}", kind=kind)
    db.session.add(organisation)
    for user in representatives:
        organisation.memberships.append(OrganisationMember(user_id=user.id, is_representative=True))
    for user in members:
        organisation.memberships.append(OrganisationMember(user_id=user.id, is_representative=False))
    db.session.commit()
    return organisation


def make_commons(department=None, name=None, kind=CommonsKind.green_area, district_id=None):
    commons = Commons(name=name or f"Giardino {next(_counter)}", kind=kind, lat=45.07, lon=7.68,
                      district_id=district_id, department_id=department.id if department is not None else None,
                      registered_at=utcnow())
    db.session.add(commons)
    db.session.commit()
    return commons


@dataclass
class PactWorld:
    """Everyone around one commons: the author (representative of an organisation), another representative,
    another (individual) proponent, the office, and people with no part in the pact."""

    department_id: int
    other_department_id: int
    commons_id: int
    organisation_id: int
    users: dict = field(default_factory=dict)  # role name -> User (detached-safe)
    pact_id: int | None = None

    def __getattr__(self, name):
        users = self.__dict__.get("users") or {}
        if name in users:
            return users[name]
        raise AttributeError(name)

    @property
    def pact(self):
        return db.session.get(Pact, self.pact_id) if self.pact_id else None

    @property
    def commons(self):
        return db.session.get(Commons, self.commons_id)

    @property
    def organisation(self):
        return db.session.get(Organisation, self.organisation_id)

    def user(self, role):
        """The user playing ``role``, read afresh in the current session (None for "visitor")."""
        return None if role == "visitor" else db.session.get(User, self.users[role].id)


#: Every role of the access tests, in the words of the brief.
ROLES = ("author", "co_proponent", "representative", "stranger", "verified", "official", "other_official",
         "moderator", "admin", "facilitator")
PROPONENT_ROLES = frozenset({"author", "co_proponent", "representative"})
OFFICE_ROLES = frozenset({"official"})


def pact_world():
    """The cast (see PactWorld) around a commons of a department; no pact yet."""
    department = make_department()
    other = make_department(name="Verde pubblico")
    users = {
        "author": make_person(verified=True, name="Anna Autrice"),
        "co_proponent": make_person(verified=True, name="Carlo Coproponente"),
        "representative": make_person(verified=True, name="Rita Rappresentante"),
        "stranger": make_person(name="Sara Sconosciuta"),
        "verified": make_person(verified=True, name="Vito Verificato"),
        "official": make_person((Role.official,), departments=[department], name="Olga Funzionaria"),
        "other_official": make_person((Role.official,), departments=[other], name="Otto Altroufficio"),
        "moderator": make_person((Role.moderator,), name="Mara Moderatrice"),
        "admin": make_person((Role.admin,), name="Ada Admin"),
        "facilitator": make_person((Role.facilitator,), name="Fabio Facilitatore"),
    }
    organisation = make_organisation(representatives=[users["author"], users["representative"]],
                                     name=f"Associazione Orti Alti {next(_counter)}")
    commons = make_commons(department)
    return PactWorld(department_id=department.id, other_department_id=other.id, commons_id=commons.id,
                     organisation_id=organisation.id, users=users)


def draft(world, *, title="Cura del giardino", kind_requested=None, co_proponent=True, commons_id=None):
    """A draft by the author for the organisation, with the co-proponent as an individual party."""
    author = world.user("author")
    pact = services.create_draft(
        author, title=title, commons_id=commons_id or world.commons_id, organisation_id=world.organisation_id,
        objectives="Curare il verde e renderlo accogliente.", activities="Sfalcio mensile, pulizia, piantumazioni.",
        beneficiaries="Il quartiere", duration_months=12, own_resources="Dieci volontari, attrezzi propri.",
        requested_support=[{"kind": "tools", "description": "Sacchi e guanti", "quantity": 50, "unit": "pezzi"}],
        declarations_accepted=True, kind_requested=kind_requested)
    if co_proponent:
        pact.parties.append(PactParty(kind=PartyKind.proponent, user_id=world.users["co_proponent"].id))
    db.session.commit()
    world.pact_id = pact.id
    return pact


def step_to(world, pact, status, now=None):
    """Move ``pact`` one legal step to ``status`` with the right actor (commits)."""
    author, official = world.user("author"), world.user("official")
    now = now or utcnow()
    if status == S.submitted:
        services.submit(pact, author, now=now)
    elif status == S.needs_integration:
        services.request_integration(pact, official, "Manca la planimetria.")
    elif status == S.inadmissible:
        services.declare_inadmissible(pact, official, "Il bene non è del Comune.")
    elif status == S.admissible:
        services.declare_admissible(pact, official, kind=pact.kind or PactKind.ordinary)
    elif status == S.public_consultation:
        services.open_consultation(pact, official, starts_at=now - timedelta(days=31), days=30)
    elif status == S.co_design:
        services.start_co_design(pact, official, now=now)
    elif status == S.approved:
        extra = {}
        if pact.kind == PactKind.complex:
            extra = {"act_type": "Determinazione dirigenziale", "act_number": "2026 01234", "act_date": date(2026, 3, 1)}
        services.approve(pact, official, **extra)
    elif status == S.signing:
        services.open_signing(pact, official)
    elif status == S.active:
        if pact.status == S.suspended:
            services.resume(pact, official)
        else:
            sign_all(world, pact, now=now)
    elif status == S.suspended:
        services.suspend(pact, official, "Lavori sul giardino.")
    elif status == S.completed:
        services.complete(pact, official)
    elif status == S.renewed:
        services.renew(pact, author)
    elif status == S.revoked:
        services.revoke(pact, official, "Attività non svolte.")
    elif status == S.withdrawn:
        services.withdraw(pact, author, "Non abbiamo più tempo.")
    else:
        raise ValueError(f"no step to {status}")
    db.session.commit()
    return db.session.get(Pact, pact.id)


def sign_all(world, pact, now=None):
    """Every party signs: the official for the City, the author for the organisation, the co-proponent."""
    pact = db.session.get(Pact, pact.id)
    for role in ("official", "author", "co_proponent", "representative"):
        user = world.user(role)
        for party in services.signable_parties(db.session.get(Pact, pact.id), user):
            services.sign(db.session.get(Pact, pact.id), user, party.id, now=now)
    return db.session.get(Pact, pact.id)


def road_to(status):
    """The statuses a new pact goes through to reach ``status`` (after draft)."""
    status = S(status)
    if status in SIDE_ROADS:
        road = list(road_to(SIDE_ROADS[status]))
        return road + [status]
    return list(MAIN_ROAD[1:MAIN_ROAD.index(status) + 1])


def advance(world, status, *, title="Cura del giardino", kind_requested=None, co_proponent=True, now=None):
    """A new pact of ``world`` brought to ``status`` through the services; returns its id."""
    pact = draft(world, title=title, kind_requested=kind_requested, co_proponent=co_proponent)
    for step in road_to(status):
        pact = step_to(world, pact, step, now=now)
    world.pact_id = pact.id
    return pact.id
