"""Supports under concurrency: threads, each with its own application context and so its own
connection, call the support service at the same moment and commit, as parallel requests would.

No retries: the lock on the proposal row (SQLite: the database write lock) must serialise them.
"""
import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from app.audit.services import verify_chain
from app.extensions import db
from app.models import AuditEvent, Notification, User
from app.models.base import utcnow
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal, ProposalStatus, Support
from app.proposals import services

P = ProposalStatus
DAY = timedelta(days=1)


def open_process(app, threshold, per_citizen=0):
    """A process whose support phase is open now, committed; returns its id."""
    now = utcnow()
    with app.app_context():
        process = Process(slug=f"c-{time.monotonic_ns()}", title="Concorrenza", description="",
                          support_threshold=threshold, supports_per_citizen=per_citizen)
        process.phases = [ProcessPhase(kind=PhaseKind.collection, starts_at=now - 30 * DAY, ends_at=now - 10 * DAY),
                          ProcessPhase(kind=PhaseKind.support, starts_at=now - 10 * DAY, ends_at=now + 10 * DAY)]
        db.session.add(process)
        db.session.commit()
        return process.id


def published_proposal(app, process_id, author_id, title="Piazza pedonale"):
    with app.app_context():
        process = db.session.get(Process, process_id)
        author = db.session.get(User, author_id)
        proposal = services.create_proposal(author, process, title=title, body="Chiudere al traffico la piazza.")
        services.publish(proposal, author, now=process.window(PhaseKind.collection)[0] + timedelta(hours=1))
        db.session.commit()
        return proposal.id


def run_together(app, jobs, n_threads):
    """Run ``jobs`` (callables run inside an app context) on ``n_threads`` threads that start together.

    Each job runs in the thread's own application context (its own session and connection) and
    commits itself. Returns (results, errors).
    """
    barrier = threading.Barrier(n_threads)
    results, errors = [], []
    lock = threading.Lock()
    chunks = [jobs[n::n_threads] for n in range(n_threads)]

    def worker(chunk):
        try:
            barrier.wait(timeout=30)
            with app.app_context():
                for job in chunk:
                    try:
                        value = job()
                        db.session.commit()
                    except Exception:
                        db.session.rollback()
                        raise
                    with lock:
                        results.append(value)
        except Exception as exc:  # reported by the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker is stuck"
    return results, errors


def support_job(user_id, proposal_id):
    def job():
        return services.support(db.session.get(User, user_id), proposal_id)
    return job


def withdraw_job(user_id, proposal_id):
    def job():
        return services.withdraw_support(db.session.get(User, user_id), proposal_id)
    return job


def state_of(app, proposal_id):
    """(support_count, number of Support rows, status) read fresh."""
    with app.app_context():
        count, status = db.session.execute(select(Proposal.support_count, Proposal.status)
                                           .where(Proposal.id == proposal_id)).one()
        rows = db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == proposal_id))
        return count, rows, status


def test_forty_citizens_supporting_at_once_are_all_counted(app, make_user):
    started = time.monotonic()
    supporters = [make_user(verified=True).id for _ in range(40)]
    author = make_user(verified=True).id
    proposal_id = published_proposal(app, open_process(app, threshold=1000), author)

    results, errors = run_together(app, [support_job(u, proposal_id) for u in supporters], n_threads=8)

    assert errors == []
    assert len(results) == 40 and all(r.created for r in results)
    assert sorted(r.count for r in results) == list(range(1, 41))  # each saw the one before it
    assert state_of(app, proposal_id) == (40, 40, P.published)
    with app.app_context():
        assert set(db.session.scalars(select(Support.user_id).where(Support.proposal_id == proposal_id))) == set(
            supporters)
    assert time.monotonic() - started < 10


def test_the_same_citizen_supporting_twenty_times_at_once_counts_once(app, make_user):
    started = time.monotonic()
    citizen = make_user(verified=True).id
    author = make_user(verified=True).id
    proposal_id = published_proposal(app, open_process(app, threshold=1000), author)

    results, errors = run_together(app, [support_job(citizen, proposal_id) for _ in range(20)], n_threads=20)

    assert errors == []
    assert len(results) == 20
    assert sum(r.created for r in results) == 1
    assert all(r.count == 1 for r in results)
    assert state_of(app, proposal_id) == (1, 1, P.published)
    assert time.monotonic() - started < 10


def test_the_threshold_is_crossed_exactly_once_under_concurrency(app, make_user):
    started = time.monotonic()
    supporters = [make_user(verified=True).id for _ in range(30)]
    author = make_user(verified=True).id
    proposal_id = published_proposal(app, open_process(app, threshold=10), author)

    results, errors = run_together(app, [support_job(u, proposal_id) for u in supporters], n_threads=10)

    assert errors == []
    assert len(results) == 30 and all(r.created for r in results)
    crossers = [r for r in results if r.crossed]
    assert len(crossers) == 1 and crossers[0].count == 10
    assert state_of(app, proposal_id) == (30, 30, P.threshold_reached)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "proposal.threshold_reached",
                                                             AuditEvent.target_id == proposal_id)).all()
        assert len(events) == 1 and events[0].details == {"from": "published", "to": "threshold_reached"}
        # Nothing else moved the proposal: one publish, one crossing.
        moves = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "proposal",
                                                                   AuditEvent.target_id == proposal_id)).all()
        assert sorted(moves) == ["proposal.published", "proposal.threshold_reached"]
        notified = Counter(db.session.scalars(select(Notification.user_id).where(
            Notification.kind == "proposal.threshold_reached")))
        assert all(n == 1 for n in notified.values())
        # The author and the ten supporters whose supports existed when the tenth arrived.
        assert len(notified) == 11 and author in notified
        assert set(notified) - {author} <= set(supporters)
        assert verify_chain().ok
    assert time.monotonic() - started < 10


def test_concurrent_supports_and_withdrawals_keep_the_count_equal_to_the_rows(app, make_user):
    started = time.monotonic()
    leaving = [make_user(verified=True).id for _ in range(15)]
    arriving = [make_user(verified=True).id for _ in range(15)]
    staying = [make_user(verified=True).id for _ in range(5)]
    author = make_user(verified=True).id
    proposal_id = published_proposal(app, open_process(app, threshold=1000), author)
    with app.app_context():
        for uid in leaving + staying:
            services.support(db.session.get(User, uid), proposal_id)
        db.session.commit()
    assert state_of(app, proposal_id) == (20, 20, P.published)

    jobs = []
    for out_id, in_id in zip(leaving, arriving):
        jobs += [withdraw_job(out_id, proposal_id), support_job(in_id, proposal_id)]
    # Some also withdraw what they never gave, and some support twice.
    jobs += [withdraw_job(uid, proposal_id) for uid in arriving[:5]] + [support_job(u, proposal_id) for u in staying]
    results, errors = run_together(app, jobs, n_threads=8)

    assert errors == []
    assert len(results) == len(jobs)
    count, rows, status = state_of(app, proposal_id)
    assert count == rows and status == P.published
    with app.app_context():
        present = set(db.session.scalars(select(Support.user_id).where(Support.proposal_id == proposal_id)))
    # Leavers and stayers are settled; an arriving citizen may have withdrawn before or after supporting.
    assert present >= set(staying) and not present & set(leaving)
    assert present - set(staying) >= set(arriving[5:]) and present <= set(staying) | set(arriving)
    assert time.monotonic() - started < 10


def test_the_per_citizen_limit_holds_under_concurrency(app, make_user):
    """One citizen with two supports to give fires supports at four proposals at once."""
    started = time.monotonic()
    citizen = make_user(verified=True).id
    author = make_user(verified=True).id
    process_id = open_process(app, threshold=1000, per_citizen=2)
    proposal_ids = [published_proposal(app, process_id, author, title=f"Proposta {n}") for n in range(4)]

    results, errors = run_together(app, [support_job(citizen, pid) for pid in proposal_ids], n_threads=4)

    refused = [e for e in errors if isinstance(e, services.SupportLimitReached)]
    assert len(refused) == len(errors), errors
    assert len(results) == 2 and len(refused) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(Support.id)).where(Support.user_id == citizen)) == 2
    for pid in proposal_ids:
        count, rows, _ = state_of(app, pid)
        assert count == rows
    assert time.monotonic() - started < 10


def test_races_on_several_low_thresholds_cross_each_once(app, make_user):
    """Several small proposals crossed at the same time by overlapping supporters."""
    started = time.monotonic()
    supporters = [make_user(verified=True).id for _ in range(12)]
    author = make_user(verified=True).id
    process_id = open_process(app, threshold=3)
    proposal_ids = [published_proposal(app, process_id, author, title=f"Proposta {n}") for n in range(3)]

    jobs = [support_job(u, pid) for pid in proposal_ids for u in supporters]
    results, errors = run_together(app, jobs, n_threads=8)

    assert errors == []
    assert sum(r.crossed for r in results) == 3
    with app.app_context():
        crossings = Counter(db.session.scalars(select(AuditEvent.target_id).where(
            AuditEvent.action == "proposal.threshold_reached")))
        assert crossings == Counter({pid: 1 for pid in proposal_ids})
        assert verify_chain().ok
    for pid in proposal_ids:
        assert state_of(app, pid) == (12, 12, P.threshold_reached)
    assert time.monotonic() - started < 10
