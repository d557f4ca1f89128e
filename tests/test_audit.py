"""The audit log is a hash chain: appends link to the previous event, and tampering is detected."""
import pytest
from sqlalchemy import select, text, update

from app.audit.services import record, verify_chain
from app.extensions import db
from app.models import AuditChainHead, AuditEvent, Role, User


@pytest.fixture
def chain(app_ctx, make_user):
    actor = db.session.get(User, make_user(roles=[Role.admin]).id)
    for n in range(5):
        record("test.action", actor=actor, target_type="thing", target_id=n, reason=f"because {n}",
               details={"n": n, "nested": {"ok": True}, "text": "città"})
    db.session.commit()
    return actor


def test_events_are_numbered_and_linked(chain):
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash
    assert db.session.get(AuditChainHead, 1).last_hash == events[-1].hash


def test_verify_passes_on_an_intact_chain(chain):
    result = verify_chain()
    assert result.ok and result.checked == 5


@pytest.mark.parametrize("column, value", [
    ("reason", "'rewritten'"),
    ("action", "'user.other'"),
    ("target_id", "99"),
    ("actor_ref", "NULL"),
])
def test_tampering_with_a_column_breaks_the_chain_at_that_event(chain, column, value):
    db.session.execute(text(f"UPDATE audit_events SET {column} = {value} WHERE seq = 3"))
    db.session.commit()
    result = verify_chain()
    assert not result.ok
    assert result.broken_seq == 3
    assert result.checked == 2


def test_tampering_with_details_is_detected(chain):
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
    event.details = {"n": 42}
    db.session.commit()
    assert verify_chain().broken_seq == 2


def test_deleting_an_event_is_detected(chain):
    db.session.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_seq == 4


def test_deleting_the_last_event_is_detected_by_the_head(chain):
    db.session.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_seq == 5


def test_recomputing_one_hash_still_breaks_the_next_link(chain):
    from app.audit.services import event_hash

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
    event.reason = "forged"
    event.hash = event_hash(event)
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_seq == 3


def test_actor_id_survives_as_a_reference_in_the_hash(chain):
    # the FK is SET NULL if a user row ever goes away; the hashed copy stays
    db.session.execute(update(AuditEvent).values(actor_id=None))
    db.session.commit()
    assert verify_chain().ok


def test_flask_audit_verify_command_reports_ok_and_broken(app, runner, make_user):
    with app.app_context():
        record("test.cli", details={"x": 1})
        record("test.cli", details={"x": 2})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "2 events verified" in result.output
    with app.app_context():
        db.session.execute(text("UPDATE audit_events SET reason = 'x' WHERE seq = 2"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event 2" in result.output


def test_concurrent_appends_keep_the_chain_linear(app, database_url):
    """Appends from parallel threads (each its own connection) serialise on the chain head."""
    import threading

    errors = []

    def worker(n):
        try:
            with app.app_context():
                for i in range(5):
                    record("test.concurrent", details={"worker": n, "i": i})
                    db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        result = verify_chain()
        assert result.ok and result.checked == 20
