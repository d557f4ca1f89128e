"""Feasibility review rules: who may review what, drafts and publishing, the frozen review, the
outcome's transitions, money parsing, re-routing, and who is told (each person once)."""
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Notification, Role, User
from app.models.base import DomainError, IllegalTransition, PermissionDenied, utcnow
from app.models.messaging import Follow
from app.models.proposal import Process, Proposal, ProposalCoauthor, ProposalStatus, ReviewOutcome
from app.models.user import Department
from app.proposals import services as proposal_services
from app.reviews import services
from app.reviews.services import ReviewIncomplete, ReviewInput, parse_euro
from tests.test_proposals import build_process, new_proposal

P = ProposalStatus
PEOPLE = {
    "author": {"verified": True}, "s1": {"verified": True}, "s2": {"verified": True},
    "follower": {"verified": True}, "coauthor": {"verified": True}, "invited": {"verified": True},
    "official_a": {"roles": [Role.official]}, "official_b": {"roles": [Role.official]},
    "official_none": {"roles": [Role.official]}, "admin": {"roles": [Role.admin]},
}


# --- builders (shared with the other review, project and results tests) ----------------------

def make_people(make_user):
    """Everybody, built first: make_user writes from its own connection."""
    return {name: make_user(display_name=name, **kw).id for name, kw in PEOPLE.items()}


def build_world(ids, threshold=2):
    """Departments, a process in its support phase and one proposal that crossed its threshold.

    official_a works in parks (the proposal's department), official_b in roads, official_none in
    none. The follower follows the proposal; the supporter s2 follows it too (told once anyway);
    one co-author accepted the invitation, another did not. Committed; returns ids.
    """
    people = {name: db.session.get(User, i) for name, i in ids.items()}
    parks = Department(slug="parks", name_it="Verde pubblico", name_en="Parks")
    roads = Department(slug="roads", name_it="Strade", name_en="Roads")
    db.session.add_all([parks, roads])
    people["official_a"].departments = [parks]
    people["official_b"].departments = [roads]
    process = build_process(threshold=threshold)
    proposal = new_proposal(process, people["author"])
    proposal.department_id = parks.id
    proposal.coauthors.append(ProposalCoauthor(user_id=people["coauthor"].id, accepted_at=utcnow()))
    proposal.coauthors.append(ProposalCoauthor(user_id=people["invited"].id))
    db.session.add_all([Follow(user_id=people["follower"].id, target_type="proposal", target_id=proposal.id),
                        Follow(user_id=people["s2"].id, target_type="proposal", target_id=proposal.id)])
    db.session.commit()
    for name in ("s1", "s2")[:threshold]:
        proposal_services.support(people[name], proposal.id)
    db.session.commit()
    assert proposal.status == P.threshold_reached
    return {"process": process.id, "proposal": proposal.id, "parks": parks.id, "roads": roads.id}


def complete_input(**changes):
    values = {"technical": "feasible", "legal": "feasible", "economic": "with_changes",
              "technical_notes": "Alberi adatti al marciapiede.", "estimated_cost_cents": 1250050,
              "execution_starts_on": date(2027, 3, 1), "execution_ends_on": date(2027, 9, 30),
              "public_answer": "La proposta è **fattibile**.", "outcome": "accepted",
              "motivation": "Costo sostenibile nel bilancio del verde."}
    values.update(changes)
    return ReviewInput(**values)


def kinds_by_user(kind):
    return Counter(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


def audit_actions(target_type, target_id):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == target_type, AuditEvent.target_id == target_id).order_by(AuditEvent.seq))]


@pytest.fixture
def world(app_ctx, make_user):
    ids = make_people(make_user)
    built = build_world(ids)
    people = {name: db.session.get(User, i) for name, i in ids.items()}
    return {**built, **people, "ids": ids}


def _status(world):
    return db.session.get(Proposal, world["proposal"]).status


# --- who may review -----------------------------------------------------------------------------

def test_only_officials_of_the_proposals_department_may_review(world):
    for name in ("official_b", "official_none", "admin", "author"):
        with pytest.raises(PermissionDenied):
            services.save_draft(world["proposal"], world[name], ReviewInput())
        db.session.rollback()
    services.save_draft(world["proposal"], world["official_a"], ReviewInput())
    db.session.commit()
    assert _status(world) == P.under_review


def test_a_proposal_without_department_is_every_officials(world):
    proposal = db.session.get(Proposal, world["proposal"])
    proposal.department_id = None
    db.session.commit()
    assert all(services.may_review(world[n], proposal) for n in ("official_a", "official_b", "official_none"))
    assert not services.may_review(world["admin"], proposal)
    services.save_draft(world["proposal"], world["official_none"], ReviewInput())
    db.session.commit()
    assert _status(world) == P.under_review


def test_a_proposal_below_its_threshold_cannot_be_reviewed(world):
    process = db.session.get(Process, world["process"])
    below = new_proposal(process, world["author"], title="Ancora sotto soglia")
    for action in (services.save_draft, services.publish_review):
        with pytest.raises(IllegalTransition):
            action(below.id, world["official_none"], complete_input())
        db.session.rollback()
    assert below.status == P.published and below.review is None


# --- drafts -------------------------------------------------------------------------------------

def test_the_first_draft_starts_the_review_and_every_save_is_audited(world):
    review = services.save_draft(world["proposal"], world["official_a"], complete_input(outcome=None))
    db.session.commit()
    services.save_draft(world["proposal"], world["official_a"], complete_input(motivation="Seconda bozza"))
    db.session.commit()
    assert _status(world) == P.under_review
    assert review.published_at is None and review.motivation == "Seconda bozza"
    assert review.estimated_cost_cents == 1250050 and review.reviewer_id == world["official_a"].id
    assert audit_actions("proposal", world["proposal"]).count("proposal.under_review") == 1
    assert audit_actions("proposal_review", review.id) == ["proposal_review.saved", "proposal_review.saved"]
    assert kinds_by_user("proposal.review_accepted") == Counter()  # drafts tell nobody


@pytest.mark.parametrize("changes, field", [
    ({"estimated_cost_cents": -1}, "estimated_cost"),
    ({"execution_starts_on": date(2027, 5, 1), "execution_ends_on": date(2027, 4, 30)}, "execution_ends_on"),
    ({"execution_starts_on": date(2027, 5, 1), "execution_ends_on": date(2027, 5, 1)}, "execution_ends_on"),
    ({"technical": "maybe"}, "technical"),
    ({"outcome": "postponed"}, "outcome"),
    ({"motivation": "x" * 5001}, "motivation"),
    ({"department_id": 999999}, "department_id"),
])
def test_bad_values_are_refused_with_their_field(world, changes, field):
    with pytest.raises(DomainError) as refused:
        services.save_draft(world["proposal"], world["official_a"], complete_input(**changes))
    assert refused.value.details["field"] == field


# --- publishing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["technical", "legal", "economic", "outcome", "motivation", "public_answer"])
def test_publishing_needs_assessments_outcome_motivation_and_answer(world, missing):
    blank = None if missing in ("technical", "legal", "economic", "outcome") else "  "
    with pytest.raises(ReviewIncomplete) as refused:
        services.publish_review(world["proposal"], world["official_a"], complete_input(**{missing: blank}))
    assert set(refused.value.errors) == {missing}
    db.session.rollback()
    assert _status(world) == P.threshold_reached


def test_a_proposal_assessed_not_feasible_cannot_be_accepted(world):
    with pytest.raises(ReviewIncomplete) as refused:
        services.publish_review(world["proposal"], world["official_a"], complete_input(legal="not_feasible"))
    assert "outcome" in refused.value.errors
    db.session.rollback()
    services.publish_review(world["proposal"], world["official_a"],
                            complete_input(legal="not_feasible", outcome="rejected"))
    db.session.commit()
    assert _status(world) == P.rejected


def test_publishing_accepts_and_tells_everyone_involved_exactly_once(world):
    review = services.publish_review(world["proposal"], world["official_a"], complete_input())
    db.session.commit()
    assert _status(world) == P.accepted
    assert review.outcome == ReviewOutcome.accepted and review.published_by_id == world["official_a"].id
    assert review.published_at is not None
    told = {world[n].id for n in ("author", "s1", "s2", "follower", "coauthor")}
    assert kinds_by_user("proposal.review_accepted") == Counter({uid: 1 for uid in told})
    assert world["invited"].id not in kinds_by_user("proposal.review_accepted")
    actions = audit_actions("proposal", world["proposal"])
    assert actions[-2:] == ["proposal.under_review", "proposal.accepted"]
    assert audit_actions("proposal_review", review.id) == ["proposal_review.published"]


def test_a_rejection_records_its_motivation_as_the_reason(world):
    services.save_draft(world["proposal"], world["official_a"], complete_input(outcome=None))
    db.session.commit()
    services.publish_review(world["proposal"], world["official_a"],
                            complete_input(outcome="rejected", motivation="Area vincolata."))
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.rejected"))
    assert event.reason == "Area vincolata." and event.actor_id == world["official_a"].id
    assert set(kinds_by_user("proposal.review_rejected").values()) == {1}


def test_a_published_review_is_frozen(world):
    services.publish_review(world["proposal"], world["official_a"], complete_input())
    db.session.commit()
    for action in (services.save_draft, services.publish_review):
        with pytest.raises(IllegalTransition):
            action(world["proposal"], world["official_a"], complete_input(motivation="Cambiata"))
        db.session.rollback()
    assert db.session.get(Proposal, world["proposal"]).review.motivation == "Costo sostenibile nel bilancio del verde."


# --- re-routing ---------------------------------------------------------------------------------

def test_choosing_another_department_reroutes_the_proposal(world):
    review = services.save_draft(world["proposal"], world["official_a"],
                                 complete_input(department_id=world["roads"]))
    db.session.commit()
    proposal = review.proposal
    assert proposal.department_id == review.department_id == world["roads"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.rerouted"))
    assert event.details == {"from": world["parks"], "to": world["roads"]}
    assert kinds_by_user("proposal.review_queued")[world["official_b"].id] == 1
    # The former department may no longer act on it; the new one may.
    with pytest.raises(PermissionDenied):
        services.save_draft(world["proposal"], world["official_a"], complete_input())
    db.session.rollback()
    services.publish_review(world["proposal"], world["official_b"], complete_input())
    db.session.commit()
    assert proposal.status == P.accepted


def test_handing_over_and_publishing_in_one_go_is_refused(world):
    # The department that lets the proposal go may not decide it on the way out.
    with pytest.raises(services.ReviewIncomplete) as refused:
        services.publish_review(world["proposal"], world["official_a"], complete_input(department_id=world["roads"]))
    assert "department_id" in refused.value.errors
    db.session.rollback()
    proposal = db.session.get(Proposal, world["proposal"])
    assert proposal.department_id == world["parks"] and proposal.status == P.threshold_reached
    assert proposal.review is None


def test_keeping_the_same_department_is_not_a_reroute(world):
    services.save_draft(world["proposal"], world["official_a"], complete_input(department_id=world["parks"]))
    db.session.commit()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.rerouted")) is None


# --- the public panel -----------------------------------------------------------------------

def test_the_public_panel_never_shows_a_draft(world):
    review = services.save_draft(world["proposal"], world["official_a"], complete_input())
    db.session.commit()
    panel = services.public_panel(review.proposal, world["author"])
    assert panel.review is None and panel.in_review and panel.office_link is None
    assert services.public_panel(review.proposal, world["official_a"]).office_link[0].endswith("/review")
    services.publish_review(world["proposal"], world["official_a"], complete_input())
    db.session.commit()
    assert services.public_panel(review.proposal, world["author"]).review is review


# --- money --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, cents", [
    ("12.500,50", 1250050), ("12500.50", 1250050), ("12500,5", 1250050), ("12,500.50", 1250050),
    ("12.500", 1250000), ("1.234.567", 123456700), ("€ 300", 30000), ("300 EUR", 30000), ("0", 0),
    ("  ", None), ("", None), ("12 500,00 €", 1250000), ("0,99", 99),
])
def test_euro_amounts_as_people_write_them(app_ctx, text, cents):
    assert parse_euro(text) == cents


@pytest.mark.parametrize("text", ["-5", "−12,50", "12,5,0", "1.234.5", "12.50.00", "dodici", "1,2345",
                                  "99999999999999"])
def test_unreadable_or_negative_amounts_are_refused(app_ctx, text):
    with pytest.raises(DomainError) as refused:
        parse_euro(text)
    assert refused.value.details["field"] == "estimated_cost"
