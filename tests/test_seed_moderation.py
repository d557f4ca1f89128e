"""The demo moderation: a queue with something in every state, an appeal for the second moderator,
a blocked account, the word list; a second run adds nothing."""
from sqlalchemy import func, select

from app.audit.services import verify_chain
from app.extensions import db
from app.models import User
from app.models.discussion import Comment
from app.models.moderation import (
    Action,
    AppealStatus,
    CaseStatus,
    Hold,
    ModerationAppeal,
    ModerationCase,
    ModerationDecision,
)
from app.moderation import services
from app.seed.debates import seed_debates
from app.seed.demo import seed_accounts, seed_places
from app.seed.moderation import WORDS, seed_moderation
from app.seed.reports import seed_reports


def test_the_demo_queue_has_every_state_and_runs_twice(app_ctx):
    seed_places()
    seed_accounts()
    seed_reports()
    seed_debates()
    assert seed_moderation() >= 8
    db.session.commit()
    assert seed_moderation() == 0

    cases = db.session.scalars(select(ModerationCase)).all()
    holds = {c.hold for c in cases if c.status == CaseStatus.pending}
    assert {Hold.flags, Hold.words, None} <= holds
    actions = set(db.session.scalars(select(ModerationDecision.action)))
    assert {Action.hide, Action.redact, Action.block, Action.restore} <= actions
    appeal = db.session.scalar(select(ModerationAppeal))
    assert appeal.status == AppealStatus.pending
    moderator2 = db.session.scalar(select(User).where(User.email == "moderator2@example.org"))
    assert appeal.decision.moderator_id != moderator2.id  # the second moderator can decide it
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_blocked.is_(True))) == 1
    assert sorted(w.word for w in services.words()) == sorted(WORDS)
    # Hidden comments are out of the debates' counters.
    hidden = db.session.scalars(select(Comment).where(Comment.hidden_at.is_not(None))).all()
    assert hidden
    assert services.median_decision_hours() is None or services.median_decision_hours() >= 0
    assert verify_chain().ok
