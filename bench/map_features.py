"""Time ``GET /api/v1/map/features`` (operation ``mapFeatures``) on SQLite and PostgreSQL.

For each engine: a fresh database (an SQLite file in a temporary directory, or a private
PostgreSQL server from tests/pg.py started and stopped here), migrated with Flask-Migrate,
loaded with the reference data and first 1 % of the reports, then the rest. After each load
(and ``ANALYZE``) four map views are requested through the Flask test client, in process, so
the numbers are the app plus the database, without a network or a WSGI server:

* city-wide: all of Turin at zoom 12, sent as grid clusters;
* district: a 1280 x 800 px view of district 1 at zoom 14, still clusters;
* street: about 600 m x 400 m of San Salvario at zoom 17, sent as points;
* street, open only: the same with ``status=open``.

Each scenario gets warm-up requests and then timed ones, each with the bbox shifted by a few
metres so that no cache could answer (the test client sends no If-None-Match either).
Run ``python -m bench.map_features --help``; bench/README.md explains the output.
"""
import argparse
import gzip
import json
import logging
import math
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import event, text

from app.geo import METRES_PER_DEGREE, bbox_for_view
from config import TestingConfig

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
FEATURES_URL = "/api/v1/map/features"
#: Beyond this p95 (ms) a scenario's SQL is shown with its query plan (--explain auto).
SLOW_P95_MS = 50.0


def bench_config(database_url, instance_dir):
    """A production-like configuration on ``database_url``: no debug, no testing, no rate limits.

    It starts from TestingConfig for its fixed secret and cheap password hashing (only the seed
    hashes a password, once), and keeps every file the app might write under ``instance_dir``.
    """
    return type("BenchConfig", (TestingConfig,), {
        "ENV_NAME": "benchmark",
        "DEBUG": False,
        "TESTING": False,
        "RATELIMIT_ENABLED": False,  # 50 requests a second from one address is the point here
        "WTF_CSRF_ENABLED": True,  # as in production (TestingConfig turns it off)
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(instance_dir),
        "MAIL_FILE_DIR": str(instance_dir / "mail"),
        "UPLOAD_DIR": str(instance_dir / "uploads"),
    })


# --- scenarios --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """One map view: a bbox (west, south, east, north) at a zoom, plus extra query parameters."""

    name: str
    bbox: tuple
    zoom: int
    params: dict = field(default_factory=dict)

    def url(self, shift_m=(0.0, 0.0)):
        """The request URL, the bbox moved by (east, north) metres."""
        west, south, east, north = self.bbox
        dlat = shift_m[1] / METRES_PER_DEGREE
        dlon = shift_m[0] / (METRES_PER_DEGREE * math.cos(math.radians((south + north) / 2)))
        bbox = ",".join(f"{v:.6f}" for v in (west + dlon, south + dlat, east + dlon, north + dlat))
        return FEATURES_URL + "?" + urlencode({"bbox": bbox, "zoom": self.zoom, "layers": "reports", **self.params})


def _street_bbox(lat, lon, width_m, height_m):
    """A width x height metres box centred on (lat, lon)."""
    dlat = height_m / 2 / METRES_PER_DEGREE
    dlon = width_m / 2 / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def _view_bbox(lat, lon, zoom, width_px, height_px):
    """What a Web Mercator map of that many pixels shows at ``zoom`` (as the /map page asks)."""
    return tuple(bbox_for_view(lat, lon, zoom, width_px, height_px))


#: San Salvario, around Largo Saluzzo: a dense, mixed neighbourhood just south of Porta Nuova.
SAN_SALVARIO = (45.0565, 7.6830)
#: The middle of district 1 (Centro – Crocetta).
DISTRICT_1 = (45.0665, 7.6750)


def scenarios():
    """The four views, in the order they are run and printed."""
    street = _street_bbox(*SAN_SALVARIO, 600, 400)
    return [
        Scenario("city z12 (clusters)", (7.58, 45.00, 7.77, 45.14), 12),
        Scenario("district z14 (clusters)", _view_bbox(*DISTRICT_1, 14, 1280, 800), 14),
        Scenario("street z17 (points)", street, 17),
        Scenario("street z17 status=open", street, 17, {"status": "open"}),
    ]


# --- measuring --------------------------------------------------------------------------------

class SqlTimer:
    """Adds up the time spent in cursor.execute during the requests it is active for.

    On PostgreSQL (psycopg's client-side cursors) execute includes fetching the rows; on
    SQLite it runs the statement up to its first row, which for sorted or grouped queries is
    nearly all of the work. Also keeps the statements of the last request for EXPLAIN.
    """

    def __init__(self, engine):
        self.active = False
        self.total = 0.0
        self.statements = []
        self._started = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self._started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active and self._started is not None:
            self.total += time.perf_counter() - self._started
            self.statements.append((statement, parameters))
            self._started = None

    def start(self):
        self.active, self.total, self.statements = True, 0.0, []

    def stop(self):
        self.active = False
        return self.total


@dataclass
class Result:
    """Timings of one scenario on one dataset."""

    scenario: Scenario
    features: int
    items: int
    truncated: bool
    body_bytes: int
    gzip_bytes: int
    times_ms: list
    sql_ms: list
    statements: list

    @property
    def median(self):
        return statistics.median(self.times_ms)

    @property
    def p95(self):
        return percentile(self.times_ms, 95)

    @property
    def sql_median(self):
        return statistics.median(self.sql_ms)


def percentile(values, pct):
    """Nearest-rank percentile: with 50 samples the p95 is the 48th fastest (3rd slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def run_scenario(app, timer, scenario, requests, warmup, rng):
    """Warm up, then time ``requests`` requests of ``scenario``, each with a slightly moved bbox."""
    client = app.test_client()

    def shift():
        # A few metres each way: every URL differs, the view hardly does.
        return rng.uniform(-20, 20), rng.uniform(-20, 20)

    for _ in range(warmup):
        response = client.get(scenario.url(shift()))
        if response.status_code != 200:
            raise RuntimeError(f"{scenario.name}: HTTP {response.status_code}: {response.get_data(as_text=True)}")
    times, sql, sizes = [], [], []
    body = b""
    for _ in range(requests):
        url = scenario.url(shift())
        timer.start()
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        sql.append(timer.stop() * 1000)
        times.append(elapsed * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{scenario.name}: HTTP {response.status_code}")
        body = response.get_data()
        sizes.append(len(body))
    data = json.loads(body)
    meta = data["meta"]
    return Result(
        scenario=scenario,
        features=meta["returned"],
        items=meta["counts"].get("reports", 0),
        truncated=meta["truncated"],
        body_bytes=int(statistics.median(sizes)),
        gzip_bytes=len(gzip.compress(body)),
        times_ms=times,
        sql_ms=sql,
        statements=list(timer.statements),
    )


# --- databases --------------------------------------------------------------------------------

@contextmanager
def database(engine_name, workdir):
    """The URL of an empty database for ``engine_name``; removed (server stopped) on exit."""
    if engine_name == "sqlite":
        # The directory itself is removed by the caller's TemporaryDirectory.
        yield f"sqlite:///{workdir / 'bench.sqlite'}", None
        return
    from tests.pg import PostgresServer

    server = PostgresServer(dbname="piazza_bench")
    try:
        server.start()
        yield server.url, server
    finally:
        # Also after a failed start: initdb may have run, and the directory exists from __init__.
        server.stop()


def server_version(app):
    """The database server's version string."""
    from app.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "postgresql":
                return "PostgreSQL " + conn.execute(text("SHOW server_version")).scalar()
            return "SQLite " + conn.execute(text("SELECT sqlite_version()")).scalar()


# --- query plans ------------------------------------------------------------------------------

def explain(app, result, out):
    """Print the query plan of each statement a request of ``result.scenario`` ran, and its time alone."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
        with engine.connect() as conn:
            for statement, parameters in result.statements:
                if "reports" not in statement:
                    continue
                print(f"\n  -- {_one_line(statement)}", file=out)
                runs = []
                for _ in range(5):
                    started = time.perf_counter()
                    conn.exec_driver_sql(statement, parameters).fetchall()
                    runs.append((time.perf_counter() - started) * 1000)
                print(f"  -- alone: {statistics.median(runs):.1f} ms (median of 5, rows fetched)", file=out)
                if postgres:
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
                    for (line,) in plan:
                        print(f"  {line}", file=out)
                else:
                    plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                    depth = {0: 0}
                    for node_id, parent, _, detail in plan:
                        depth[node_id] = depth.get(parent, 0) + 1
                        print(f"  {'  ' * depth[node_id]}{detail}", file=out)
            conn.rollback()


def _one_line(sql, limit=400):
    """The statement on one line, long IN lists shortened."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[:limit] + " ..."


# --- output -----------------------------------------------------------------------------------

def load_average():
    """The 1, 5 and 15 minute load averages, as text ("?" where /proc is missing)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine_info():
    """Lines describing where the numbers come from."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    import sqlalchemy

    return [
        f"date:     {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"machine:  {nproc} CPUs ({cpu}){memory}, {platform.system()} {platform.release()}",
        f"software: Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {sqlite3.sqlite_version} (Python's sqlite3 module)",
    ]


HEADER = (f"  {'scenario':<26} {'features':>8} {'reports':>8} {'bytes':>9} {'gzip':>8} "
          f"{'sql ms':>7} {'median ms':>9} {'p95 ms':>7}")


def print_table(title, results, out):
    """One row per scenario."""
    print(f"\n{title}", file=out)
    print(HEADER, file=out)
    print("  " + "-" * (len(HEADER) - 2), file=out)
    for r in results:
        features = f"{r.features}{'+' if r.truncated else ''}"
        print(f"  {r.scenario.name:<26} {features:>8} {r.items:>8,} {r.body_bytes:>9,} {r.gzip_bytes:>8,} "
              f"{r.sql_median:>7.1f} {r.median:>9.1f} {r.p95:>7.1f}", file=out)


def print_scaling(title, small, full, out):
    """How much slower each scenario got with 100x the data."""
    print(f"\n{title}", file=out)
    print(f"  {'scenario':<26} {'p95 small':>9} {'p95 full':>9} {'ratio':>6}", file=out)
    for s, f in zip(small, full):
        print(f"  {s.scenario.name:<26} {s.p95:>9.1f} {f.p95:>9.1f} {f.p95 / s.p95:>5.1f}x", file=out)


# --- the run ----------------------------------------------------------------------------------

def bench_engine(engine_name, n_full, n_small, args, workdir, out):
    """Load and time one engine; returns {"small": [Result], "full": [Result], "version": str, "seed_s": float}.

    Also prints the query plans of the full dataset's slow scenarios (see --explain).
    """
    from flask_migrate import upgrade

    from app import create_app, geo
    from app.extensions import db
    from bench.seed_reports import analyze, ensure_reference_data, seed_reports

    label = f"[{engine_name}] "
    with database(engine_name, workdir) as (url, server):
        if server is not None:
            print(f"{label}private server on 127.0.0.1:{server.port}, data in {server.base}", file=out, flush=True)
        app = create_app(bench_config(url, workdir / f"instance-{engine_name}"))
        try:
            version = server_version(app)
            print(f"\n{label}{version}: migrating and loading reference data", file=out, flush=True)
            with app.app_context():
                timer = SqlTimer(db.engine)
                migrate_quietly(upgrade)
                ensure_reference_data()
            geo.clear_cache()
            results = {"version": version, "seed_s": 0.0}
            # The small dataset first, then the rest added to it: the full one contains the small one.
            for key, count, seed in (("small", n_small, args.seed), ("full", n_full - n_small, args.seed + 1)):
                with app.app_context():
                    results["seed_s"] += seed_reports(count, batch_size=args.batch_size, seed=seed, out=out,
                                                      label=label)
                    started = time.perf_counter()
                    analyze()
                    print(f"{label}analyzed in {time.perf_counter() - started:.1f} s", file=out, flush=True)
                total = n_small if key == "small" else n_full
                print(f"{label}timing {len(scenarios())} scenarios on {total:,} reports "
                      f"({args.warmup} warm-up + {args.requests} timed requests each)", file=out, flush=True)
                rng = random.Random(args.seed)
                results[key] = [run_scenario(app, timer, s, args.requests, args.warmup, rng) for s in scenarios()]
            print(f"{label}seeded {n_full:,} reports in {results['seed_s']:.1f} s in all", file=out, flush=True)
            slow = [r for r in results["full"]
                    if args.explain == "all" or (args.explain == "auto" and r.p95 > args.slow_ms)]
            if slow:
                print(f"\n{label}query plans ({version}, {n_full:,} reports)", file=out)
                for r in slow:
                    print(f"\n  == {r.scenario.name}: median {r.median:.1f} ms, p95 {r.p95:.1f} ms, "
                          f"SQL {r.sql_median:.1f} ms", file=out)
                    explain(app, r, out)
            return results
        finally:
            # Close pooled connections before the server goes away or the file is deleted.
            with app.app_context():
                db.engine.dispose()


def migrate_quietly(upgrade):
    """Run the migrations without Alembic's INFO line per revision (warnings still show)."""
    # Alembic's env.py reconfigures logging from alembic.ini on every run, so a logger level set
    # beforehand would be overwritten; logging.disable is global and survives that.
    logging.disable(logging.INFO)
    try:
        upgrade(directory=str(MIGRATIONS))
    finally:
        logging.disable(logging.NOTSET)


def print_report(all_results, args, n_small, load_before, out):
    """The summary: where it ran, then per engine the full and small tables and their ratio."""
    print("\n" + "=" * 88, file=out)
    print(f"mapFeatures (GET {FEATURES_URL}) benchmark", file=out)
    for line in machine_info():
        print(line, file=out)
    print(f"load:     {load_before} before, {load_average()} after (1/5/15 min load averages)", file=out)
    for res in all_results.values():
        print(f"database: {res['version']}", file=out)
    print(f"requests: {args.warmup} warm-up + {args.requests} timed per scenario, in process (Flask test client)",
          file=out)
    for res in all_results.values():
        print_table(f"{res['version']}, {args.reports:,} reports (seeded in {res['seed_s']:.1f} s)",
                    res["full"], out)
        print_table(f"{res['version']}, {n_small:,} reports ({args.small_percent:g} %)", res["small"], out)
        print_scaling(f"{res['version']}: p95 on {args.reports:,} / p95 on {n_small:,}",
                      res["small"], res["full"], out)
    print("\nfeatures: GeoJSON features returned (clusters or points; '+' = truncated at MAP_MAX_FEATURES); "
          "reports: reports they stand for;\nbytes: response body; gzip: gzip.compress(body) (level 9); "
          "sql ms: median time in cursor.execute per request;\nmedian/p95: whole request through the "
          "test client (p95 = nearest rank).", file=out)


def _raise_on_sigterm(signum, _frame):
    """SIGTERM (a killed `make`, a CI timeout) unwinds like Ctrl-C, so the cleanup runs."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.map_features",
                                     description="Time GET /api/v1/map/features on SQLite and PostgreSQL.")
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--reports", type=int, default=100_000, help="size of the full dataset (default 100,000)")
    parser.add_argument("--small-percent", type=float, default=1.0,
                        help="size of the small dataset, in percent of --reports (default 1)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per scenario (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first (default 5)")
    parser.add_argument("--batch-size", type=int, default=5_000, help="rows per INSERT batch (default 5,000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data and the bbox shifts")
    parser.add_argument("--explain", choices=("auto", "all", "none"), default="auto",
                        help="print query plans: of scenarios with p95 over --slow-ms (auto), all, or none")
    parser.add_argument("--slow-ms", type=float, default=SLOW_P95_MS)
    args = parser.parse_args(argv)
    n_small = max(1, round(args.reports * args.small_percent / 100))
    if not 0 < n_small < args.reports:
        parser.error("--reports must be larger than its --small-percent share")
    if args.requests < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error("--requests and --batch-size must be at least 1, --warmup at least 0")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]

    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    out = sys.stdout
    started = time.perf_counter()
    # Other processes on the machine are the first suspect of a noisy p95: keep the load on record.
    load_before = load_average()
    all_results = {}
    try:
        with tempfile.TemporaryDirectory(prefix="piazza-bench-") as tmp:
            for engine_name in engines:
                all_results[engine_name] = bench_engine(engine_name, args.reports, n_small, args, Path(tmp), out)
    except KeyboardInterrupt:
        print("\ninterrupted: temporary files and servers were removed", file=sys.stderr)
        return 130

    print_report(all_results, args, n_small, load_before, out)
    print(f"total run time {time.perf_counter() - started:.0f} s", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
