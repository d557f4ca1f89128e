"""The demo assisted sessions: coherent provenance, managed accounts claimed or not, a second run adds nothing."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import AssistedAction, AssistedSession, Report, Support, User
from app.seed.demo import seed_demo


def test_the_demo_sessions_tell_a_consistent_story(app_ctx):
    seed_demo()
    db.session.commit()
    sessions = db.session.scalars(select(AssistedSession)).all()
    assert len(sessions) == 36 and len({s.house_id for s in sessions}) == 4
    for s in sessions:
        assert s.opened_at < s.ended_at <= s.hard_end_at and s.citizen_id is not None
        actions = db.session.scalars(select(AssistedAction).where(AssistedAction.session_id == s.id)).all()
        for a in actions:
            assert (a.facilitator_id, a.house_id, a.citizen_id) == (s.facilitator_id, s.house_id, s.citizen_id)
            assert s.opened_at <= a.created_at <= s.ended_at
            if a.record_type == "reports":
                assert db.session.get(Report, a.record_id).reporter_id == s.citizen_id
            elif a.record_type == "supports":
                support = db.session.get(Support, a.record_id)
                assert support.user_id == s.citizen_id
            else:
                assert (a.action, a.record_type, a.record_id) == ("account.created", "users", s.citizen_id)
    managed = db.session.scalars(select(User).where(User.managed_at.is_not(None))).all()
    claimed = [u for u in managed if u.claimed_at is not None]
    assert claimed and all(u.email and u.password_hash for u in claimed)
    assert all(u.claim_code_hash and u.email is None for u in managed if u.claimed_at is None)
    kinds = set(db.session.scalars(select(AssistedAction.action)))
    assert {"account.created", "report.created", "support.cast"} <= kinds
    again = seed_demo()
    assert again["assisted sessions"] == 0 and again["managed accounts"] == 0
    assert db.session.scalar(select(func.count(AssistedSession.id))) == 36
