"""Crossing the threshold puts the proposal in the review queue of its category's department and
tells exactly the right people once each: author, accepted co-authors, supporters, followers, and the
department's officials (DESIGN.md §3: "notify supporters, assign a reviewer")."""
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Category, Department, Follow, Notification, Role, User
from app.models.proposal import ProposalCoauthor, ProposalStatus
from app.models.base import utcnow
from app.proposals import services
from app.seed.demo import seed_places
from tests.test_proposals import build_process, collecting_moment


@pytest.fixture
def cast(app_ctx, make_user):
    seed_places()
    db.session.commit()
    ids = {
        "author": make_user(verified=True).id,
        "coauthor": make_user(verified=True).id,
        "invited": make_user(verified=True).id,
        "follower": make_user().id,
        "s1": make_user(verified=True).id,
        "s2": make_user(verified=True).id,
        "lighting": make_user(roles=[Role.official]).id,
        "parks": make_user(roles=[Role.official]).id,
    }
    people = {name: db.session.get(User, i) for name, i in ids.items()}
    people["lighting"].departments = [db.session.scalar(select(Department).where(Department.slug == "illuminazione"))]
    people["parks"].departments = [db.session.scalar(select(Department).where(Department.slug == "verde"))]
    db.session.commit()
    return people


def kinds_by_user(kind):
    return Counter(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


def test_crossing_routes_to_the_category_department_and_notifies_each_person_once(cast):
    process = build_process(threshold=2)
    category = db.session.scalar(select(Category).where(Category.slug == "illuminazione"))
    proposal = services.create_proposal(cast["author"], process, title="Lampioni in via Nizza",
                                        body="Più luce la sera.", category_id=category.id)
    services.publish(proposal, cast["author"], now=collecting_moment(process))
    db.session.add_all([ProposalCoauthor(proposal_id=proposal.id, user_id=cast["coauthor"].id, accepted_at=utcnow()),
                        ProposalCoauthor(proposal_id=proposal.id, user_id=cast["invited"].id),
                        Follow(user_id=cast["follower"].id, target_type="proposal", target_id=proposal.id),
                        Follow(user_id=cast["s1"].id, target_type="proposal", target_id=proposal.id)])
    db.session.commit()
    services.support(cast["s1"], proposal.id)
    db.session.commit()
    assert kinds_by_user("proposal.threshold_reached") == Counter()
    assert services.support(cast["s2"], proposal.id).crossed
    db.session.commit()

    assert proposal.status == ProposalStatus.threshold_reached
    assert proposal.department_id == category.department_id
    expected = {cast[n].id for n in ("author", "coauthor", "follower", "s1", "s2")}
    assert kinds_by_user("proposal.threshold_reached") == Counter({uid: 1 for uid in expected})
    assert kinds_by_user("proposal.review_queued") == Counter({cast["lighting"].id: 1})
    note = db.session.scalar(select(Notification).where(Notification.kind == "proposal.review_queued"))
    assert note.url == f"/proposals/{proposal.id}"


def test_without_a_category_every_official_is_told(cast):
    process = build_process(threshold=1)
    proposal = services.create_proposal(cast["author"], process, title="Una piazza viva", body="Eventi.")
    services.publish(proposal, cast["author"], now=collecting_moment(process))
    db.session.commit()
    services.support(cast["s1"], proposal.id, now=utcnow() + timedelta(seconds=1))
    db.session.commit()
    assert proposal.department_id is None
    assert set(kinds_by_user("proposal.review_queued")) == {cast["lighting"].id, cast["parks"].id}
