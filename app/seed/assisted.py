"""Demo assisted sessions: five months of help at four Case del Quartiere.

Each session helped one person — a managed account made that day (some claimed online later) or a
verified citizen who came back — and left reports and supports with their provenance rows, as the
live hook writes them. Supports go only to proposals far below their threshold, so no state changes.
"""
import random
from datetime import timedelta

from sqlalchemy import func, select

from app import geo
from app.assisted.codes import issue_claim_code
from app.assisted.provenance import Acting, add_action
from app.auth.passwords import hash_password
from app.extensions import db
from app.models.assisted import AssistedSession, EndReason, IdentifiedBy
from app.models.base import utcnow
from app.models.place import Category, NeighbourhoodHouse
from app.models.proposal import PhaseKind, Proposal, ProposalStatus, Support
from app.models.report import Report, ReportStatus, ReportUpdate
from app.models.user import Role, User, UserRole
from app.reports.services import route
from app.verification.services import identity_hmac

HOUSES = ("cascina-roccafranca", "san-salvario", "bagni-via-aglie", "vallette")
NAMES = ["Giuseppina", "Salvatore", "Rosa", "Mohamed", "Antonietta", "Vincenzo", "Fatima", "Carmela", "Luigi",
         "Maria Grazia", "Ahmed", "Teresa", "Domenico", "Lucia", "Ion", "Concetta"]
PROBLEMS = [("buche-strade", "Buca davanti alla fermata", "La buca si riempie d'acqua e chi scende dal bus ci cade."),
            ("marciapiedi", "Marciapiede senza scivolo", "Con il deambulatore non riesco a salire sul marciapiede."),
            ("illuminazione", "Via buia la sera", "Due lampioni spenti: la sera ho paura a tornare a casa."),
            ("arredo-urbano", "Panchina rotta ai giardini", "L'unica panchina all'ombra ha la seduta rotta."),
            ("rifiuti", "Sacchi abbandonati nel cortile", "Da una settimana i sacchi restano accanto al portone.")]


def _facilitators(houses, password_hash):
    """The demo facilitator at Roccafranca, and one demo facilitator account for each other house."""
    result = {}
    for slug, house in houses.items():
        user = house.facilitators[0] if house.facilitators else None
        if user is None:
            email = f"facilitatore-{slug}@example.org"
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(email=email, display_name=f"Facilitatore {house.name} (demo)", password_hash=password_hash,
                            email_confirmed_at=utcnow(), terms_accepted_at=utcnow(), locale="it")
                user.role_rows = [UserRole(role=Role.facilitator)]
                db.session.add(user)
            house.facilitators.append(user)
        result[slug] = user
    db.session.flush()
    return result


def seed_assisted(sessions=36, seed=2026, now=None):
    """Create the demo sessions once; returns counts of rows created."""
    created = {"assisted sessions": 0, "managed accounts": 0}
    if db.session.scalar(select(func.count(AssistedSession.id))):
        return created
    houses = {h.slug: h for h in db.session.scalars(select(NeighbourhoodHouse).where(NeighbourhoodHouse.slug.in_(HOUSES)))}
    if not houses:
        return created
    now = now or utcnow()
    rng = random.Random(seed)
    geo.clear_cache()
    any_staff = db.session.scalar(select(User).where(User.email == "facilitator@example.org"))
    password_hash = any_staff.password_hash if any_staff else hash_password("piazza-demo")
    facilitators = _facilitators(houses, password_hash)
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    returning = db.session.scalars(select(User).where(User.email.like("citizen%@example.org"))
                                   .order_by(User.id).limit(40)).all()
    collecting = [p for p in db.session.scalars(select(Proposal).where(Proposal.status == ProposalStatus.published)
                                                .order_by(Proposal.id))
                  if p.support_count < p.process.support_threshold - 10
                  and p.process.window(PhaseKind.support) is not None]
    slugs = sorted(houses)
    for n in range(sessions):
        slug = slugs[n % len(slugs)]
        house, facilitator = houses[slug], facilitators[slug]
        opened = now - timedelta(days=rng.randint(2, 150), hours=rng.randint(0, 5), minutes=rng.randint(0, 59))
        opened = opened.replace(hour=rng.randint(8, 16))
        if n % 3 == 0 and collecting:  # a third of them while proposals collect supports
            start, end = collecting[0].process.window(PhaseKind.support)
            span = (min(end, now) - start).total_seconds() - 4 * 3600
            if span > 0:
                opened = start + timedelta(seconds=rng.uniform(0, span))
        assisted = AssistedSession(house_id=house.id, facilitator_id=facilitator.id, opened_at=opened,
                                   last_seen_at=opened, hard_end_at=opened + timedelta(hours=2), idle_minutes=15)
        db.session.add(assisted)
        db.session.flush()
        managed = rng.random() < 0.6 or not returning
        if managed:
            name = f"{NAMES[n % len(NAMES)]} {chr(65 + (n * 7) % 26)}."
            citizen = User(display_name=name, managed_at=opened, terms_accepted_at=opened, privacy_accepted_at=opened,
                           locale="it", birth_date=opened.date().replace(year=opened.year - rng.randint(45, 85), day=1))
            citizen.role_rows = [UserRole(role=Role.citizen)]
            if n % 2 == 0:  # the facilitator also looked at a document (a made-up code: no real person)
                citizen.verified_at, citizen.verified_by_id, citizen.verified_house_id = opened, facilitator.id, house.id
                citizen.identity_document_type = "identity_card"
                citizen.identity_hmac = identity_hmac(f"DEMOSEED{n:08d}")
            db.session.add(citizen)
            db.session.flush()
            who = Acting(assisted.id, facilitator.id, house.id, citizen.id)
            add_action(who, "account.created", "users", citizen.id)
            created["managed accounts"] += 1
            if n % 5 == 0:  # taken over online a few days later
                citizen.email = f"claimed-{n}@example.org"
                citizen.password_hash = password_hash
                citizen.email_confirmed_at = citizen.claimed_at = opened + timedelta(days=rng.randint(1, 20))
            else:
                issue_claim_code(citizen, opened)
            how = IdentifiedBy.managed
        else:
            citizen = returning[n % len(returning)]
            how = IdentifiedBy.document
        assisted.citizen_id, assisted.identified_by = citizen.id, how
        who = Acting(assisted.id, facilitator.id, house.id, citizen.id)
        moment = opened + timedelta(minutes=rng.randint(5, 15))
        if rng.random() < 0.8:
            slug_c, title, text = PROBLEMS[n % len(PROBLEMS)]
            category = categories.get(slug_c)
            lat, lon = house.lat + rng.uniform(-0.004, 0.004), house.lon + rng.uniform(-0.004, 0.004)
            district_id = geo.district_for(lat, lon) or house.district_id
            if category is not None:
                report = Report(title=title, description=text, category_id=category.id, lat=lat, lon=lon,
                                district_id=district_id, department_id=route(category, district_id),
                                reporter_id=citizen.id, status=ReportStatus.new, created_at=moment,
                                updated_at=moment, status_changed_at=moment, source="web")
                report.updates.append(ReportUpdate(kind="created", author_id=citizen.id, to_status=ReportStatus.new,
                                                   created_at=moment))
                db.session.add(report)
                db.session.flush()
                add_action(who, "report.created", "reports", report.id)
        for proposal in rng.sample(collecting, min(len(collecting), rng.randint(0, 2))):
            already = db.session.scalar(select(Support.id).where(Support.proposal_id == proposal.id,
                                                                 Support.user_id == citizen.id))
            window = proposal.process.window(PhaseKind.support)
            when = moment + timedelta(minutes=5)
            if already is not None or not (window[0] <= when < min(window[1], now)) \
                    or (proposal.process.verified_only and citizen.verified_at is None):
                continue
            support = Support(proposal_id=proposal.id, process_id=proposal.process_id, user_id=citizen.id,
                              created_at=when)
            db.session.add(support)
            proposal.support_count += 1
            db.session.flush()
            add_action(who, "support.cast", "supports", support.id)
        db.session.flush()
        # Give the actions their moment in the session (add_action stamps "now").
        from app.models.assisted import AssistedAction

        for offset, action in enumerate(db.session.scalars(select(AssistedAction)
                                                           .where(AssistedAction.session_id == assisted.id))):
            action.created_at = opened + timedelta(minutes=3 + 7 * offset)
        ended = opened + timedelta(minutes=rng.randint(20, 70))
        assisted.last_seen_at, assisted.ended_at, assisted.end_reason = ended, ended, EndReason.closed
        created["assisted sessions"] += 1
    db.session.flush()
    return created
