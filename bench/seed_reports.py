"""Bulk-load N believable reports spread over Turin, fast enough for 100,000 in well under a minute.

The app's own paths (``app.reports.services``, ``app.seed.reports``) write a timeline entry, a
follow, audit events and notifications per report through the ORM: right for real reports,
hours for 100,000. This module writes only ``reports`` rows, with SQLAlchemy Core ``insert()``
executemany in batches, one transaction per batch. Nothing else reads the missing side rows on
the map, which is what the benchmarks measure.

What the rows look like:

* **Where**: a mixture of a wide Gaussian around the centre (Piazza Castello, the map's default
  centre), tighter Gaussians around the nine Case del Quartiere (neighbourhood activity) and a
  uniform background; points outside the eight district polygons are drawn again, and each row
  gets the id of the district that covers it (the same rule as :func:`app.geo.district_for`,
  vectorised with shapely so 100,000 lookups take milliseconds, not seconds).
* **What and when**: a category and its department, a title from the demo seed's problems and
  streets, a creation date within three years (more recent ones more likely), a status that
  depends on age (recent reports are mostly open, old ones mostly closed), and about 0.5 %
  hidden by moderation (so the map's ``hidden_at IS NULL`` filter has something to drop).

Usable on its own, e.g. to study query plans by hand on a database that stays around::

    .venv/bin/python -m bench.seed_reports --database-url sqlite:////tmp/piazza-bench.sqlite --reports 100000
"""
import argparse
import math
import random
import sys
import time
from datetime import timedelta

import numpy as np
import shapely
from sqlalchemy import insert, select

from app import geo
from app.extensions import db
from app.models.base import utcnow
from app.models.place import Category
from app.models.report import Report, ReportStatus
from app.models.user import User
from app.reports.services import route
from app.seed import turin
from app.seed.demo import seed_accounts, seed_places
from app.seed.reports import PROBLEMS, STREETS

S = ReportStatus
#: Rows per INSERT executemany and per transaction: big enough to amortise the round trips,
#: small enough that a progress line comes every second or so.
BATCH_SIZE = 5_000
#: Reports are spread over the last three years.
HISTORY_DAYS = 3 * 365
METRES_PER_DEG_LAT = geo.METRES_PER_DEGREE

#: Mixture of where reports are made: (share, kind, sigma in metres).
#: A city centre draws most, neighbourhoods keep their own hot spots, the rest is everywhere.
PLACEMENT = (
    (0.45, "centre", 2200.0),
    (0.20, "houses", 600.0),
    (0.35, "uniform", None),
)
#: How closed reports ended (weights), for reports no longer open.
CLOSED_MIX = ((S.resolved, 25), (S.closed, 50), (S.duplicate, 9), (S.not_responsible, 8), (S.rejected, 8))
#: How open reports are spread over the open states, once older than a couple of days.
OPEN_MIX = ((S.new, 35), (S.acknowledged, 30), (S.in_progress, 35))
SOURCES = (("web", 85), ("api", 10), ("open311", 5))
HIDDEN_SHARE = 0.005


def ensure_reference_data():
    """Districts, houses, departments, categories and the demo citizens (idempotent), committed."""
    seed_places()
    seed_accounts()
    db.session.commit()
    # The district outlines were (re)written: read them again from this database.
    geo.clear_cache()


def _district_shapes():
    """(id, shapely geometry) of every district, lowest number first (border points go there)."""
    shapes = [(d.id, d.shape) for d in geo.districts()]
    if not shapes:
        raise RuntimeError("no districts in the database: run ensure_reference_data() first")
    return shapes


def _candidates(rng, m, centre, houses, bounds):
    """``m`` candidate (lat, lon) pairs drawn from the placement mixture (numpy arrays)."""
    shares = np.array([share for share, _, _ in PLACEMENT])
    kind = rng.choice(len(PLACEMENT), size=m, p=shares / shares.sum())
    lat = np.empty(m)
    lon = np.empty(m)
    metres_per_deg_lon = METRES_PER_DEG_LAT * math.cos(math.radians(centre[0]))
    for k, (_, name, sigma) in enumerate(PLACEMENT):
        mask = kind == k
        count = int(mask.sum())
        if not count:
            continue
        if name == "uniform":
            lat[mask] = rng.uniform(bounds.min_lat, bounds.max_lat, count)
            lon[mask] = rng.uniform(bounds.min_lon, bounds.max_lon, count)
            continue
        if name == "centre":
            mid_lat = np.full(count, centre[0])
            mid_lon = np.full(count, centre[1])
        else:  # around a neighbourhood house picked at random
            picked = rng.integers(0, len(houses), count)
            mid_lat, mid_lon = houses[picked, 0], houses[picked, 1]
        lat[mask] = mid_lat + rng.normal(0.0, sigma / METRES_PER_DEG_LAT, count)
        lon[mask] = mid_lon + rng.normal(0.0, sigma / metres_per_deg_lon, count)
    return lat, lon


def random_positions(n, rng, centre):
    """``n`` (lat, lon, district_id) inside the districts, as three lists.

    Candidates outside every district are dropped and drawn again; the district is the
    lowest-numbered one covering the point, exactly as :func:`app.geo.district_for` decides.
    """
    shapes = _district_shapes()
    bounds = geo.city_bounds()
    houses = np.array([(h[4], h[5]) for h in turin.HOUSES])
    lats, lons, ids = [], [], []
    missing = n
    while missing > 0:
        m = int(missing * 1.5) + 100  # the city is not its bounding box: over-draw, then trim
        lat, lon = _candidates(rng, m, centre, houses, bounds)
        points = shapely.points(lon, lat)
        district = np.zeros(m, dtype=np.int64)  # 0: outside every district
        for district_id, outline in shapes:
            free = district == 0
            district[free & shapely.covers(outline, points)] = district_id
        inside = np.flatnonzero(district)[:missing]
        lats.extend(lat[inside].tolist())
        lons.extend(lon[inside].tolist())
        ids.extend(district[inside].tolist())
        missing = n - len(lats)
    return lats, lons, ids


def _check_districts(lats, lons, ids, rng, sample=200):
    """Spot-check the vectorised lookup against the app's own district_for."""
    for i in rng.sample(range(len(lats)), min(sample, len(lats))):
        expected = geo.district_for(lats[i], lons[i])
        if expected != ids[i]:
            raise AssertionError(f"district of ({lats[i]}, {lons[i]}): {ids[i]} != district_for {expected}")


def _status_and_dates(rng, now):
    """(status, created_at, status_changed_at, resolved_at) of one report, consistent with each other."""
    # Squaring a uniform draw makes recent dates likelier: more people use the app over time.
    age_days = HISTORY_DAYS * rng.random() ** 2
    created = now - timedelta(days=age_days)
    # Young reports are mostly still open; after a few months a few stay open for good.
    if rng.random() < 0.08 + 0.9 * math.exp(-age_days / 45):
        status = S.new if age_days < 2 else rng.choices([s for s, _ in OPEN_MIX], [w for _, w in OPEN_MIX])[0]
    else:
        status = rng.choices([s for s, _ in CLOSED_MIX], [w for _, w in CLOSED_MIX])[0]
    if status == S.new:
        return status, created, created, None
    changed = created + timedelta(days=rng.uniform(0, min(age_days, 90)))
    resolved = None
    if status == S.resolved:
        resolved = changed
    elif status == S.closed:  # resolved first, then confirmed by the reporter
        resolved = created + (changed - created) / 2
    return status, created, changed, resolved


def _weighted(rng, choices):
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


class _Context:
    """What every row needs from the reference data, read once per seeding run."""

    def __init__(self):
        self.categories = {c.slug: c for c in db.session.scalars(select(Category))}
        missing = set(PROBLEMS) - set(self.categories)
        if missing:
            raise RuntimeError(f"categories missing from the database: {sorted(missing)}")
        self.reporters = list(db.session.scalars(
            select(User.id).where(User.email.like("citizen%@example.org")).order_by(User.id)))
        if not self.reporters:
            raise RuntimeError("no demo citizens in the database: run ensure_reference_data() first")
        self._departments = {}

    def department(self, category, district_id):
        """The routed department; memoised, as there are only categories x districts answers."""
        key = (category.id, district_id)
        if key not in self._departments:
            self._departments[key] = route(category, district_id)
        return self._departments[key]


def generate_rows(n, seed=2026):
    """``n`` report rows (dicts of column values) ready for ``insert(Report.__table__)``."""
    from flask import current_app

    rng = random.Random(seed)
    positions = random_positions(n, np.random.default_rng(seed), current_app.config["MAP_CENTER"])
    _check_districts(*positions, rng)
    context = _Context()
    slugs = sorted(PROBLEMS)
    now = utcnow()
    rows = []
    for lat, lon, district_id in zip(*positions):
        slug = rng.choice(slugs)
        category = context.categories[slug]
        title, text = rng.choice(PROBLEMS[slug])
        street = f"{rng.choice(STREETS)} {rng.randint(1, 200)}"
        status, created, changed, resolved = _status_and_dates(rng, now)
        rows.append({
            "title": f"{title} in {street}"[:140],
            "description": text,
            "category_id": category.id,
            "department_id": context.department(category, district_id),
            "district_id": district_id,
            "lat": lat,
            "lon": lon,
            "address": street,
            "status": status,
            "reporter_id": rng.choice(context.reporters),
            "assigned_to_id": None,
            "duplicate_of_id": None,
            "source": _weighted(rng, SOURCES),
            "created_at": created,
            "updated_at": changed,
            "status_changed_at": changed,
            "resolved_at": resolved,
            "fixed_check_sent_at": None,
            "hidden_at": changed if rng.random() < HIDDEN_SHARE else None,
        })
    return rows


def seed_reports(n, batch_size=BATCH_SIZE, seed=2026, out=sys.stdout, label=""):
    """Insert ``n`` generated reports in batches (one transaction each); returns the seconds spent.

    Needs an application context and the reference data (:func:`ensure_reference_data`).
    Prints one progress line per batch. The time includes generating the rows.
    """
    started = time.perf_counter()
    rows = generate_rows(n, seed=seed)
    generated = time.perf_counter() - started
    print(f"{label}generated {n:,} rows in {generated:.1f} s; inserting in batches of {batch_size:,}",
          file=out, flush=True)
    table = Report.__table__
    stmt = insert(table)
    for start in range(0, n, batch_size):
        batch = rows[start:start + batch_size]
        # One short transaction per batch: a failure loses one batch, and neither engine has to
        # hold 100,000 uncommitted rows.
        with db.engine.begin() as conn:
            conn.execute(stmt, batch)
        done = start + len(batch)
        elapsed = time.perf_counter() - started
        print(f"{label}  {done:>9,} / {n:,} reports   {elapsed:6.1f} s   ({done / elapsed:,.0f} rows/s)",
              file=out, flush=True)
    return time.perf_counter() - started


def analyze():
    """Refresh the planner's statistics, as a production database would have them after the load.

    SQLite: ``ANALYZE`` (fills sqlite_stat1, which the planner uses to choose between indexes).
    PostgreSQL: ``VACUUM (ANALYZE)``, not only ``ANALYZE``: autovacuum would get to a freshly
    loaded table at some unpredictable moment during the timings; doing it now sets the
    visibility map (index-only scans) and the statistics once, before anything is measured.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def main(argv=None):
    """Migrate the database at --database-url and add --reports generated reports to it."""
    parser = argparse.ArgumentParser(prog="python -m bench.seed_reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="e.g. sqlite:////tmp/piazza-bench.sqlite")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=2026, help="random seed (the same seed gives the same rows)")
    args = parser.parse_args(argv)

    import tempfile
    from pathlib import Path

    from flask_migrate import upgrade

    from app import create_app
    from bench.map_features import bench_config, migrate_quietly

    with tempfile.TemporaryDirectory(prefix="piazza-bench-instance-") as instance:
        app = create_app(bench_config(args.database_url, Path(instance)))
        with app.app_context():
            migrate_quietly(upgrade)
            ensure_reference_data()
            seconds = seed_reports(args.reports, batch_size=args.batch_size, seed=args.seed)
            analyze()
            db.engine.dispose()
    print(f"seeded {args.reports:,} reports in {seconds:.1f} s")


if __name__ == "__main__":
    main()
