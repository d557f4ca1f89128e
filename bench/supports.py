"""Supports per second and latency of ``supportProposal`` under concurrency, on SQLite and PostgreSQL.

For each engine: a fresh, migrated database (an SQLite file, or a private PostgreSQL server from
tests/pg.py), the app under gunicorn (4 sync workers, as in tests/test_supports_http_concurrency.py)
with a production-like configuration, N verified citizens with API tokens, and three scenarios fired
by C client threads released together, each POSTing ``/api/v1/proposals/<id>/support``:

* ``distinct``: every citizen supports one proposal whose threshold is out of reach;
* ``threshold``: the same on a proposal with a threshold of 100, crossed under concurrency;
* ``same citizen``: one citizen fires 20 supports at once (idempotency).

After each scenario the database is checked: count = rows, one transition, one support.
Run ``python -m bench.supports --help``; bench/README.md shows a run.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.map_features import (
    _raise_on_sigterm,
    bench_config,
    database,
    load_average,
    machine_info,
    migrate_quietly,
    percentile,
    server_version,
)
from tests.pg import _free_port

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
WSGI_MODULE = """\
import os
import pathlib

from app import create_app
from bench.map_features import bench_config

app = create_app(bench_config(os.environ["BENCH_DATABASE_URL"], pathlib.Path(os.environ["BENCH_INSTANCE"])))
"""


# --- the server ---------------------------------------------------------------------------------

class Gunicorn:
    """gunicorn serving the app on ``url`` from a temporary WSGI module; a context manager."""

    def __init__(self, database_url, workdir):
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "BENCH_DATABASE_URL": database_url, "BENCH_INSTANCE": str(workdir / "instance")}
        self.log_path = workdir / "gunicorn.log"

    def __enter__(self):
        (self.workdir / "instance").mkdir(exist_ok=True)
        (self.workdir / "piazza_bench_wsgi.py").write_text(WSGI_MODULE)
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads", "1", "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--chdir", str(ROOT), "--pythonpath", str(self.workdir),
             "--timeout", "60", "--graceful-timeout", "5", "piazza_bench_wsgi:app"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(ROOT))
        deadline = time.monotonic() + 30
        while not _answers(self.url + "/healthz"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"gunicorn did not start:\n{self.log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()

    def problems(self):
        """Tracebacks or lock timeouts in the server log (there should be none)."""
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if "Traceback" in line or "database is locked" in line]


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


# --- data ---------------------------------------------------------------------------------------

def make_citizens(app, n):
    """``n`` verified citizens with API tokens, committed: [(user_id, secret)] (one password hash for all)."""
    from app.api.tokens import issue_token
    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.models import Role, User, UserRole
    from app.models.base import utcnow

    with app.app_context():
        now, password_hash, stamp = utcnow(), hash_password("bench-password-42"), time.monotonic_ns()
        users = []
        for i in range(n):
            user = User(email=f"bench{i}-{stamp}@example.org", display_name=f"Cittadino {i}",
                        password_hash=password_hash, email_confirmed_at=now, verified_at=now, terms_accepted_at=now,
                        birth_date=date(1980, 1, 1))
            user.role_rows = [UserRole(role=Role.citizen)]
            users.append(user)
        db.session.add_all(users)
        db.session.flush()
        pairs = [(user.id, issue_token(user, "bench")[1]) for user in users]
        db.session.commit()
        return pairs


def make_proposal(app, threshold, author_id):
    """A process in its support phase and one published proposal in it, committed; returns the proposal id."""
    from app.extensions import db
    from app.models import User
    from app.models.base import utcnow
    from app.models.proposal import PhaseKind, Process, ProcessPhase
    from app.proposals import services

    day, now = timedelta(days=1), utcnow()
    with app.app_context():
        process = Process(slug=f"bench-{time.monotonic_ns()}", title="Benchmark", description="",
                          support_threshold=threshold, supports_per_citizen=0)
        process.phases = [ProcessPhase(kind=PhaseKind.collection, starts_at=now - 30 * day, ends_at=now - 10 * day),
                          ProcessPhase(kind=PhaseKind.support, starts_at=now - 10 * day, ends_at=now + 10 * day)]
        db.session.add(process)
        db.session.flush()
        author = db.session.get(User, author_id)
        proposal = services.create_proposal(author, process, title="Piazza pedonale", body="Chiuderla al traffico.")
        services.publish(proposal, author, now=now - 20 * day)
        db.session.commit()
        return proposal.id


def database_state(app, proposal_id):
    """(support_count, Support rows, status, threshold transitions, most notifications any user got)."""
    from app.extensions import db
    from app.models import AuditEvent, Notification
    from app.models.proposal import Proposal, Support

    with app.app_context():
        count, status = db.session.execute(select(Proposal.support_count, Proposal.status)
                                           .where(Proposal.id == proposal_id)).one()
        rows = db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == proposal_id))
        moves = db.session.scalar(select(func.count(AuditEvent.seq)).where(
            AuditEvent.action == "proposal.threshold_reached", AuditEvent.target_id == proposal_id))
        per_user = db.session.execute(select(func.count(Notification.id)).where(
            Notification.kind == "proposal.threshold_reached").group_by(Notification.user_id)).scalars().all()
        return count, rows, status.value, moves, max(per_user, default=0)


# --- the client ---------------------------------------------------------------------------------

def post_support(url, proposal_id, secret):
    """(status, JSON body or None, seconds) of one supportProposal; HTTP errors are answers too."""
    request = urllib.request.Request(f"{url}/api/v1/proposals/{proposal_id}/support", method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    elapsed = time.perf_counter() - started
    try:
        return status, json.loads(raw), elapsed
    except ValueError:
        return status, None, elapsed


def fire(url, proposal_id, secrets, concurrency):
    """POST one support per secret from ``concurrency`` threads released together: (answers, wall seconds)."""
    threads = min(concurrency, len(secrets))
    barrier = threading.Barrier(threads + 1)
    chunks = [secrets[n::threads] for n in range(threads)]

    def worker(chunk):
        barrier.wait(timeout=60)
        return [post_support(url, proposal_id, secret) for secret in chunk]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(worker, chunk) for chunk in chunks]
        barrier.wait(timeout=60)
        started = time.perf_counter()
        answers = [a for f in futures for a in f.result(timeout=600)]
        wall = time.perf_counter() - started
    return answers, wall


def warm_up(url, proposal_id, concurrency):
    """A round of reads so every worker has imported everything and opened its connection."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda _: _answers(f"{url}/api/v1/proposals/{proposal_id}"), range(concurrency * 2)))


# --- the run ------------------------------------------------------------------------------------

def scenario_row(name, answers, wall, check, ok):
    times = [a[2] * 1000 for a in answers]
    statuses = Counter(a[0] for a in answers)
    return {"scenario": name, "requests": len(answers), "statuses": dict(sorted(statuses.items())),
            "per_s": len(answers) / wall, "median": statistics.median(times), "p95": percentile(times, 95),
            "check": check, "ok": ok}


def bench_engine(engine, args, workdir, out):
    """Run the three scenarios on one engine; returns (version, [rows], server log problems)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    with database(engine, workdir) as (url, server):
        app = create_app(bench_config(url, workdir / "instance"))
        try:
            version = server_version(app)
            print(f"[{engine}] {version}: migrating, creating {args.citizens} citizens with tokens", file=out,
                  flush=True)
            with app.app_context():
                migrate_quietly(upgrade)
            citizens = make_citizens(app, args.citizens + 1)
            author, secrets = citizens[0][0], [secret for _, secret in citizens[1:]]
            rows = []
            with Gunicorn(url, workdir) as gunicorn:
                print(f"[{engine}] gunicorn ({WORKERS} workers) on {gunicorn.url}", file=out, flush=True)

                proposal = make_proposal(app, threshold=args.citizens * 10, author_id=author)
                warm_up(gunicorn.url, proposal, args.concurrency)
                answers, wall = fire(gunicorn.url, proposal, secrets, args.concurrency)
                count, n_rows, status, _, _ = database_state(app, proposal)
                counts = sorted(a[1]["support_count"] for a in answers if a[0] == 201)
                ok = count == n_rows == len(secrets) and counts == list(range(1, len(secrets) + 1))
                rows.append(scenario_row(f"{len(secrets)} citizens, 1 proposal", answers, wall,
                                         f"count {count} = rows {n_rows}", ok))

                proposal = make_proposal(app, threshold=100, author_id=author)
                answers, wall = fire(gunicorn.url, proposal, secrets, args.concurrency)
                count, n_rows, status, moves, most = database_state(app, proposal)
                crossers = [a[1]["support_count"] for a in answers if a[0] == 201 and a[1]["threshold_reached"]]
                ok = (count == n_rows == len(secrets) and status == "threshold_reached" and moves == 1
                      and crossers == [100] and most == 1)
                rows.append(scenario_row("threshold 100 crossed", answers, wall,
                                         f"{moves} transition at support {crossers}, status {status}", ok))

                proposal = make_proposal(app, threshold=100, author_id=author)
                answers, wall = fire(gunicorn.url, proposal, [secrets[0]] * 20, 20)
                count, n_rows, _, _, _ = database_state(app, proposal)
                ok = count == n_rows == 1 and Counter(a[0] for a in answers) == Counter({201: 1, 200: 19})
                rows.append(scenario_row("1 citizen x20 at once", answers, wall,
                                         f"count {count} = rows {n_rows}", ok))
                problems = gunicorn.problems()
            return version, rows, problems
        finally:
            with app.app_context():
                db.engine.dispose()


def print_report(results, args, load_before, out):
    print("\n" + "=" * 100, file=out)
    print("supportProposal (POST /api/v1/proposals/<id>/support) under concurrency", file=out)
    for line in machine_info():
        print(line, file=out)
    print(f"load:     {load_before} before, {load_average()} after (1/5/15 min load averages)", file=out)
    print(f"server:   gunicorn, {WORKERS} sync workers x 1 thread; client: {args.concurrency} threads "
          f"(20 for the last scenario), urllib, no keep-alive", file=out)
    header = (f"  {'scenario':<26} {'requests':>8} {'statuses':<18} {'supports/s':>10} {'median ms':>9} "
              f"{'p95 ms':>7}  check")
    for version, rows, problems in results.values():
        print(f"\n{version}", file=out)
        print(header, file=out)
        print("  " + "-" * (len(header) + 20), file=out)
        for r in rows:
            statuses = " ".join(f"{k}x{v}" for k, v in r["statuses"].items())
            print(f"  {r['scenario']:<26} {r['requests']:>8} {statuses:<18} {r['per_s']:>10.0f} {r['median']:>9.1f} "
                  f"{r['p95']:>7.1f}  {'OK' if r['ok'] else 'FAILED'}: {r['check']}", file=out)
        if problems:
            print(f"  server log: {len(problems)} problem lines, first: {problems[0]}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--citizens", type=int, default=300, help="distinct supporters (default 300)")
    parser.add_argument("--concurrency", type=int, default=40, help="client threads (default 40)")
    args = parser.parse_args(argv)
    if args.citizens < 100 or args.concurrency < 1:
        parser.error("--citizens must be at least 100 (the threshold scenario crosses 100), --concurrency at least 1")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    out, load_before, results = sys.stdout, load_average(), {}
    try:
        for engine in engines:
            with tempfile.TemporaryDirectory(prefix=f"piazza-bench-supports-{engine}-") as tmp:
                results[engine] = bench_engine(engine, args, Path(tmp), out)
    except KeyboardInterrupt:
        print("\ninterrupted: temporary files and servers were removed", file=sys.stderr)
        return 130
    print_report(results, args, load_before, out)
    return 0 if all(r["ok"] for _, rows, problems in results.values() for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
