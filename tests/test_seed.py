"""The demo seed: every proposal state, reviews for decided proposals, projects, debates, consistent counters."""
from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.models.discussion import Comment, Debate
from app.models.proposal import (
    Feasibility,
    ProjectUpdate,
    Proposal,
    ProposalCoauthor,
    ProposalReview,
    ProposalStatus,
    ReviewOutcome,
    Support,
)
from app.models.user import Role
from app.seed.demo import seed_demo
from app.seed.proposals import demo_processes

P = ProposalStatus
DECIDED = {P.accepted: ReviewOutcome.accepted, P.in_execution: ReviewOutcome.accepted,
           P.completed: ReviewOutcome.accepted, P.rejected: ReviewOutcome.rejected}


def test_the_demo_seed_tells_a_consistent_story_and_runs_twice(app_ctx):
    first = seed_demo()
    db.session.commit()
    assert first["proposals"] >= 140 and first["debates"] == 25 and first["reviews"] > 0

    proposals = db.session.scalars(select(Proposal)).all()
    assert {p.status for p in proposals} == set(ProposalStatus)
    supports = Counter(db.session.scalars(select(Support.proposal_id)))
    assert all(p.support_count == supports[p.id] for p in proposals)

    for process in demo_processes():
        assert process.categories, process.slug
        allowed = {c.id for c in process.categories}
        assert all(p.category_id in allowed for p in proposals if p.process_id == process.id)

    for proposal in proposals:
        review = proposal.review
        if proposal.status in DECIDED:
            assert review is not None and review.published_at is not None, proposal.id
            assert review.outcome == DECIDED[proposal.status] and review.motivation and review.public_answer
            assert review.department_id == proposal.department_id == proposal.category.department_id
            assert proposal.department in review.reviewer.departments and Role.official in review.reviewer.roles
            if review.outcome == ReviewOutcome.rejected:
                assert Feasibility.not_feasible in (review.technical, review.legal, review.economic)
            else:
                assert review.execution_starts_on < review.execution_ends_on and review.estimated_cost_cents > 0
        elif proposal.status == P.under_review:
            assert review is None or review.published_at is None  # at most a private draft
        else:
            assert review is None
        if proposal.status in (P.threshold_reached, P.under_review):
            assert proposal.department_id == proposal.category.department_id
    drafts = db.session.scalar(select(func.count(ProposalReview.id)).where(ProposalReview.published_at.is_(None)))
    assert drafts >= 1

    for proposal in proposals:
        updates = db.session.scalars(select(ProjectUpdate).where(ProjectUpdate.proposal_id == proposal.id)
                                     .order_by(ProjectUpdate.created_at, ProjectUpdate.id)).all()
        if proposal.status == P.completed:
            assert proposal.progress == 100 and updates[-1].progress == 100
            assert all(m.done_on for m in proposal.milestones)
        elif proposal.status == P.in_execution:
            assert 0 < proposal.progress < 100 and proposal.milestones
        else:
            assert updates == [] and proposal.progress == 0
        assert [u.progress for u in updates] == sorted(u.progress for u in updates)
        if updates:
            assert proposal.progress == updates[-1].progress

    assert db.session.scalar(select(func.count(ProposalCoauthor.id))) >= 10

    debates = db.session.scalars(select(Debate)).all()
    assert len(debates) == 25
    for debate in debates:
        visible = db.session.scalar(select(func.count(Comment.id)).where(
            Comment.target_type == "debate", Comment.target_id == debate.id, Comment.hidden_at.is_(None),
            Comment.deleted_at.is_(None)))
        assert debate.comment_count == visible and 3 <= visible <= 10
    turned = [d for d in debates if d.proposal_id]
    assert turned and all(d.author_id == d.proposal.author_id and d.created_at < d.proposal.created_at
                          for d in turned)
    comments = db.session.scalars(select(Comment)).all()
    assert all(c.parent is None or (c.parent.parent_id is None and c.parent.target_id == c.target_id
                                    and c.parent.target_type == c.target_type) for c in comments)
    assert any(c.parent_id for c in comments)
    assert {c.target_type for c in comments} == {"debate", "pact", "proposal", "report"}

    second = seed_demo()
    db.session.commit()
    assert all(v == 0 for v in second.values()), second
    assert db.session.scalar(select(func.count(Comment.id))) == len(comments)
