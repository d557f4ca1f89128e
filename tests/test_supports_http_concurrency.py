"""Supports under concurrency through a real multi-process server.

A module-scoped fixture starts gunicorn (4 sync workers, one thread each) on a free loopback
port, serving the app on the same database as the test session; the stdlib client fires
POST /api/v1/proposals/<id>/support with bearer tokens from up to 40 threads released together.
No retries: every answer is asserted as it came. The database is only checked, in short
application contexts, once all requests have finished.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import date
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.api.tokens import issue_token
from app.audit.services import verify_chain
from app.auth.passwords import hash_password
from app.extensions import db
from app.models import AuditEvent, Notification, Role, User, UserRole
from app.models.base import utcnow
from app.models.proposal import ProposalStatus, Support
from tests.conftest import ROOT, TEST_PASSWORD
from tests.test_supports_concurrency import open_process, published_proposal, state_of

P = ProposalStatus
WORKERS = 4
STARTUP_TIMEOUT = 20
REQUEST_TIMEOUT = 60

WSGI_MODULE = """\
import os
import pathlib

from app import create_app
from tests.conftest import make_config

app = create_app(make_config(os.environ["PIAZZA_TEST_DATABASE"], pathlib.Path(os.environ["PIAZZA_TEST_INSTANCE"]),
                             RATELIMIT_ENABLED=False))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url):
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def server(app, database_url, tmp_path_factory):
    """The base URL of gunicorn (4 sync workers) serving the app on the session's database."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    (tmp / "piazza_http_wsgi.py").write_text(WSGI_MODULE)
    instance = tmp / "instance"
    instance.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PIAZZA_TEST_DATABASE": database_url, "PIAZZA_TEST_INSTANCE": str(instance)}
    log_path = tmp / "gunicorn.log"
    log = log_path.open("wb")
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads", "1",
               "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
               "--pythonpath", str(tmp), "--timeout", "60", "--graceful-timeout", "5",
               "piazza_http_wsgi:app"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer /healthz within {STARTUP_TIMEOUT} s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        server_log = log_path.read_text(errors="replace")
        if "Traceback" in server_log or "database is locked" in server_log:
            print(f"--- gunicorn log ---\n{server_log}")


# --- data -------------------------------------------------------------------------------------

def citizens_with_tokens(app, n):
    """``n`` confirmed, verified citizens, each with an API token: [(user_id, secret)], committed.

    Built in one application context with one password hash (argon2 once, not ``n`` times).
    """
    with app.app_context():
        now = utcnow()
        password_hash = hash_password(TEST_PASSWORD)
        stamp = time.monotonic_ns()
        users = []
        for i in range(n):
            user = User(email=f"http{i}-{stamp}@example.org", display_name=f"Cittadino {i}",
                        password_hash=password_hash, email_confirmed_at=now, verified_at=now,
                        terms_accepted_at=now, birth_date=date(1980, 1, 1))
            user.role_rows = [UserRole(role=Role.citizen)]
            users.append(user)
        db.session.add_all(users)
        db.session.flush()
        pairs = [(user.id, issue_token(user, "concorrenza")[1]) for user in users]
        db.session.commit()
        return pairs


def author_of(app):
    return citizens_with_tokens(app, 1)[0][0]


# --- the client -------------------------------------------------------------------------------

def post_support(url, proposal_id, secret):
    """(status, JSON body or text) of one supportProposal; errors are answers too, never raised."""
    request = urllib.request.Request(f"{url}/api/v1/proposals/{proposal_id}/support", method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def fire_together(url, proposal_id, secrets, n_threads):
    """POST a support for each secret from ``n_threads`` threads released by one barrier.

    Returns (answers, errors): answers are (status, body) pairs; errors are transport failures.
    """
    barrier = threading.Barrier(n_threads)
    chunks = [secrets[n::n_threads] for n in range(n_threads)]

    def worker(chunk):
        answers, errors = [], []
        barrier.wait(timeout=30)
        for secret in chunk:
            try:
                answers.append(post_support(url, proposal_id, secret))
            except Exception as exc:  # connection refused/reset, timeout: reported by the test
                errors.append(repr(exc))
        return answers, errors

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        outcomes = list(pool.map(worker, chunks, timeout=REQUEST_TIMEOUT * 3))
    answers = [a for chunk_answers, _ in outcomes for a in chunk_answers]
    errors = [e for _, chunk_errors in outcomes for e in chunk_errors]
    return answers, errors


def unexpected(answers, allowed):
    """Answers whose status is not in ``allowed``, for a readable assertion message (e.g. 500s)."""
    return [a for a in answers if a[0] not in allowed]


# --- tests ------------------------------------------------------------------------------------

def test_three_hundred_citizens_supporting_at_once_over_http_are_all_counted(app, server):
    started = time.monotonic()
    citizens = citizens_with_tokens(app, 300)
    proposal_id = published_proposal(app, open_process(app, threshold=1000), author_of(app))

    answers, errors = fire_together(server, proposal_id, [secret for _, secret in citizens], n_threads=40)

    assert errors == []
    assert unexpected(answers, {201}) == []
    assert len(answers) == 300
    assert sorted(body["support_count"] for _, body in answers) == list(range(1, 301))
    assert not any(body["threshold_reached"] for _, body in answers)
    assert state_of(app, proposal_id) == (300, 300, P.published)
    with app.app_context():
        supporters = set(db.session.scalars(select(Support.user_id).where(Support.proposal_id == proposal_id)))
    assert supporters == {user_id for user_id, _ in citizens}
    assert time.monotonic() - started < 30


def test_the_same_citizen_firing_twenty_supports_at_once_counts_once(app, server):
    started = time.monotonic()
    [(citizen, secret)] = citizens_with_tokens(app, 1)
    proposal_id = published_proposal(app, open_process(app, threshold=1000), author_of(app))

    answers, errors = fire_together(server, proposal_id, [secret] * 20, n_threads=20)

    assert errors == []
    assert unexpected(answers, {200, 201}) == []
    statuses = Counter(status for status, _ in answers)
    assert statuses == Counter({201: 1, 200: 19})
    assert all(body == {"support_count": 1, "supported": True, "threshold_reached": False} for _, body in answers)
    assert state_of(app, proposal_id) == (1, 1, P.published)
    with app.app_context():
        assert list(db.session.scalars(select(Support.user_id).where(Support.proposal_id == proposal_id))) == [
            citizen]
    assert time.monotonic() - started < 15


def test_a_threshold_of_one_hundred_is_crossed_exactly_once_over_http(app, server):
    started = time.monotonic()
    citizens = citizens_with_tokens(app, 150)
    author = author_of(app)
    proposal_id = published_proposal(app, open_process(app, threshold=100), author)

    answers, errors = fire_together(server, proposal_id, [secret for _, secret in citizens], n_threads=40)

    assert errors == []
    assert unexpected(answers, {201}) == []
    assert len(answers) == 150
    assert sorted(body["support_count"] for _, body in answers) == list(range(1, 151))
    crossers = [body for _, body in answers if body["threshold_reached"]]
    assert len(crossers) == 1 and crossers[0]["support_count"] == 100
    assert state_of(app, proposal_id) == (150, 150, P.threshold_reached)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "proposal.threshold_reached",
                                                             AuditEvent.target_id == proposal_id)).all()
        assert len(events) == 1 and events[0].details == {"from": "published", "to": "threshold_reached"}
        moves = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "proposal",
                                                                   AuditEvent.target_id == proposal_id)).all()
        assert sorted(moves) == ["proposal.published", "proposal.threshold_reached"]
        notified = Counter(db.session.scalars(select(Notification.user_id).where(
            Notification.kind == "proposal.threshold_reached")))
        assert all(n == 1 for n in notified.values()), notified
        # The author and the hundred supporters whose supports existed when the hundredth arrived.
        assert len(notified) == 101 and author in notified
        assert set(notified) - {author} <= {user_id for user_id, _ in citizens}
        assert verify_chain().ok
    assert time.monotonic() - started < 30
