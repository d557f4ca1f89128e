"""Builders for assisted sessions written straight into the database (inside an app context, caller commits).

For the administrators' report and the houses' statistics: sessions, provenance rows, managed
accounts, and the reports, proposals, supports and comments they point at, at chosen moments.
"""
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models import AssistedAction, AssistedSession, Category, Comment, District, NeighbourhoodHouse, Report, User
from app.models.assisted import EndReason, SessionKind
from app.models.proposal import Process, Proposal, ProposalStatus, Support
from app.models.user import Role, UserRole
from app.seed.demo import seed_places


@dataclass
class Places:
    #: (id, slug, name) of every house, by id
    houses: list
    #: district number -> id
    districts: dict
    category_id: int


def places(app):
    """Turin's districts, houses and categories, committed."""
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        houses = [tuple(r) for r in db.session.execute(
            select(NeighbourhoodHouse.id, NeighbourhoodHouse.slug, NeighbourhoodHouse.name)
            .order_by(NeighbourhoodHouse.id))]
        districts = dict(db.session.execute(select(District.number, District.id)).all())
        return Places(houses, districts, db.session.scalar(select(Category.id).order_by(Category.id)))


def person(name, at, *, managed=True, claimed_after=None):
    """A citizen account; managed (no email) unless told otherwise, claimed ``claimed_after`` later."""
    user = User(display_name=name, terms_accepted_at=at, privacy_accepted_at=at, locale="it", created_at=at)
    if managed:
        user.managed_at = at
    if claimed_after is not None:
        user.claimed_at = at + claimed_after
        user.email = f"claimed-{uuid.uuid4().hex[:10]}@example.org"
        user.email_confirmed_at = user.claimed_at
    user.role_rows = [UserRole(role=Role.citizen)]
    db.session.add(user)
    db.session.flush()
    return user


def session(house_id, facilitator_id, opened_at, *, citizen=None, minutes=30, end_reason=EndReason.closed,
            kind=SessionKind.assist, proposal_id=None):
    """A session opened at ``opened_at`` and ended ``minutes`` later (open when end_reason is None)."""
    row = AssistedSession(kind=kind, house_id=house_id, facilitator_id=facilitator_id,
                          citizen_id=citizen.id if citizen is not None else None, proposal_id=proposal_id,
                          opened_at=opened_at, last_seen_at=opened_at + timedelta(minutes=minutes),
                          hard_end_at=opened_at + timedelta(hours=2), idle_minutes=15,
                          ended_at=opened_at + timedelta(minutes=minutes) if end_reason else None,
                          end_reason=end_reason)
    db.session.add(row)
    db.session.flush()
    return row


def action(assisted, name, record_type, record_id, at=None):
    """The provenance row of one record made in ``assisted`` (at ``at``, default 5 minutes in)."""
    row = AssistedAction(session_id=assisted.id, facilitator_id=assisted.facilitator_id, house_id=assisted.house_id,
                         citizen_id=assisted.citizen_id, action=name, record_type=record_type, record_id=record_id,
                         created_at=at or assisted.opened_at + timedelta(minutes=5))
    db.session.add(row)
    db.session.flush()
    return row


def account_created(assisted):
    return action(assisted, "account.created", "users", assisted.citizen_id, at=assisted.opened_at)


def report(places_, district_number, at, author=None, *, hidden=False, title="Buca in via Nizza"):
    row = Report(title=title, description="Una buca profonda.", category_id=places_.category_id, lat=45.05, lon=7.68,
                 district_id=places_.districts[district_number] if district_number else None,
                 reporter_id=author.id if author is not None else None, created_at=at, updated_at=at,
                 status_changed_at=at, hidden_at=at if hidden else None)
    db.session.add(row)
    db.session.flush()
    return row


def process():
    row = Process(slug=f"p-{uuid.uuid4().hex[:12]}", title="Bilancio partecipativo", description="",
                  support_threshold=500, supports_per_citizen=0, supports_past_threshold=True, verified_only=False,
                  support_retention_months=6)
    db.session.add(row)
    db.session.flush()
    return row


def proposal(places_, process_, district_number, at, author=None, *, title="Più alberi in via Nizza"):
    row = Proposal(process_id=process_.id, title=title, body="Piantare dieci tigli.", status=ProposalStatus.published,
                   district_id=places_.districts[district_number] if district_number else None,
                   author_id=author.id if author is not None else None, created_at=at, published_at=at,
                   status_changed_at=at)
    db.session.add(row)
    db.session.flush()
    return row


def support(proposal_, user, at):
    row = Support(proposal_id=proposal_.id, process_id=proposal_.process_id, user_id=user.id if user else None,
                  created_at=at)
    proposal_.support_count += 1
    db.session.add(row)
    db.session.flush()
    return row


def comment(target_type, target_id, author, at, body="Sono d'accordo."):
    row = Comment(target_type=target_type, target_id=target_id, author_id=author.id if author else None, body=body,
                  created_at=at)
    db.session.add(row)
    db.session.flush()
    return row
