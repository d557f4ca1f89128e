"""The figures of the participation dashboard (/statistics), as plain JSON-serialisable dicts and lists.

Every figure is a few GROUP BY queries, whatever the size of the data: a page runs a fixed number of
queries and only counts travel to Python, never rows. Months are Turin's calendar months (Europe/Rome),
bucketed in SQL by :class:`app.assisted.statistics.Window` — one CASE over the months' UTC boundaries,
the same SQL on SQLite and PostgreSQL and right across daylight-saving changes (which strftime or
date_trunc on UTC timestamps are not). Durations go through :class:`days_between`, the one place
where the two engines need different SQL.

What is counted, everywhere: reports not hidden; proposals neither drafts nor hidden; supports on
those proposals (how many, never who); comments neither hidden nor deleted; signatures of pacts in the
public registry; pacts in the public registry (:func:`app.pacts.registry.public_condition`).

The department filter (officials and administrators only, see :func:`department_filter`) keeps what
belongs to one department: a report's department; a proposal's department or, before its threshold
is crossed and a department is assigned, its category's (the one that will review it); a pact's
department. Supports, comments and signatures follow the item they belong to. The houses' share is
computed by app.assisted.statistics and is never filtered.
"""
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Float, and_, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from app.assisted.statistics import KINDS as HOUSE_KINDS
from app.assisted.statistics import Window, district_shares, house_statistics
from app.extensions import db
from app.models.base import utcnow
from app.models.discussion import Comment, Debate
from app.models.pact import Pact, PactSignature, PactStatus
from app.models.place import Category, District
from app.models.proposal import PROPOSAL_TRANSITIONS, Proposal, Support
from app.models.proposal import ProposalStatus as P
from app.models.report import Report, ReportStatus
from app.models.user import Department, Role
from app.pacts.registry import public_condition as pact_is_public
from app.statistics.names import CHARTS, KINDS  # noqa: F401  (part of this module's interface)

#: The proposal funnel's steps: how many proposals ever reached each.
FUNNEL = (P.published, P.threshold_reached, P.accepted, P.completed)
TIMEZONE = "Europe/Rome"


# --- SQL helpers ---------------------------------------------------------------------------------

class days_between(FunctionElement):
    """SQL: days (fractional) from the first timestamp to the second, on SQLite and PostgreSQL."""

    type = Float()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    raise NotImplementedError(f"days_between has no SQL for {compiler.dialect.name}")


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end}) - ({start})) / 86400.0)"


def _reached_from(status):
    """Every status a proposal in ``status`` has passed through or can still reach: who is in any of
    them has, at some point, been in ``status`` (the transition table has no way back)."""
    seen, todo = {status}, [status]
    while todo:
        for following in PROPOSAL_TRANSITIONS[todo.pop()]:
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return frozenset(seen)


#: step -> the current statuses of the proposals that ever reached it.
EVER_REACHED = {step: _reached_from(step) for step in FUNNEL}


def _visible_proposal():
    return and_(Proposal.status != P.draft, Proposal.hidden_at.is_(None))


def _published_at():
    # Seeded or imported proposals may lack published_at; their creation stands in for it.
    return func.coalesce(Proposal.published_at, Proposal.created_at)


def _proposal_department(category):
    return func.coalesce(Proposal.department_id, category.department_id)


# --- scope: the window and the filter ------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What the figures are about: twelve Rome months up to ``now``, perhaps one department."""

    now: datetime
    window: Window
    department_id: int | None = None
    locale: str = "it"

    @property
    def months(self):
        return [m.strftime("%Y-%m") for m in self.window.months]


def scope(department_id=None, now=None, locale="it"):
    """The scope of a page or a download (the last twelve Rome months, this one included)."""
    now = now or utcnow()
    return Scope(now, Window.last(now), department_id, locale)


def may_filter(user):
    """Whether ``user`` gets the department filter: officials and administrators."""
    return user is not None and user.is_authenticated and user.has_role(Role.official, Role.admin)


def department_filter(user, department_id):
    """The Department an official asked for with ``?department=<id>``, or None.

    Anyone else's ``?department=`` is ignored (they get the city-wide figures, exactly as without
    it), and so is an unknown id.
    """
    if department_id is None or not may_filter(user):
        return None
    return db.session.get(Department, department_id)


def departments(locale="it"):
    """Every department as {"id", "slug", "name"}, by name (the filter's choices)."""
    rows = db.session.execute(select(Department.id, Department.slug, Department.name_it, Department.name_en)).all()
    items = [{"id": i, "slug": slug, "name": en if locale == "en" else it} for i, slug, it, en in rows]
    return sorted(items, key=lambda d: d["name"].casefold())


# --- participation per month and per district ---------------------------------------------------

def _count_cells(inner):
    """{(district_id, month index): count} from a subquery with ``district_id`` and ``month`` columns."""
    rows = db.session.execute(select(inner.c.district_id, inner.c.month, func.count())
                              .group_by(inner.c.district_id, inner.c.month))
    return {(district_id, int(month)): n for district_id, month, n in rows}


def _report_cells(s):
    query = select(Report.district_id.label("district_id"), s.window.bucket(Report.created_at).label("month")) \
        .where(Report.is_public, s.window.contains(Report.created_at))
    if s.department_id:
        query = query.where(Report.department_id == s.department_id)
    return _count_cells(query.subquery())


def _with_proposal_department(query, s):
    if not s.department_id:
        return query
    category = aliased(Category)
    return query.outerjoin(category, category.id == Proposal.category_id) \
        .where(_proposal_department(category) == s.department_id)


def _proposal_cells(s):
    query = select(Proposal.district_id.label("district_id"), s.window.bucket(_published_at()).label("month")) \
        .where(_visible_proposal(), s.window.contains(_published_at()))
    return _count_cells(_with_proposal_department(query, s).subquery())


def _support_cells(s):
    query = select(Proposal.district_id.label("district_id"), s.window.bucket(Support.created_at).label("month")) \
        .select_from(Support).join(Proposal, Proposal.id == Support.proposal_id) \
        .where(_visible_proposal(), s.window.contains(Support.created_at))
    return _count_cells(_with_proposal_department(query, s).subquery())


def _comment_cells(s):
    """Comments, in the district of the report, proposal, debate or pact they are under."""
    report, proposal, debate, pact = aliased(Report), aliased(Proposal), aliased(Debate), aliased(Pact)
    district = func.coalesce(report.district_id, proposal.district_id, debate.district_id, pact.district_id)
    query = select(district.label("district_id"), s.window.bucket(Comment.created_at).label("month")) \
        .select_from(Comment) \
        .outerjoin(report, and_(Comment.target_type == "report", report.id == Comment.target_id)) \
        .outerjoin(proposal, and_(Comment.target_type == "proposal", proposal.id == Comment.target_id)) \
        .outerjoin(debate, and_(Comment.target_type == "debate", debate.id == Comment.target_id)) \
        .outerjoin(pact, and_(Comment.target_type == "pact", pact.id == Comment.target_id)) \
        .where(Comment.hidden_at.is_(None), Comment.deleted_at.is_(None), s.window.contains(Comment.created_at))
    if s.department_id:
        category = aliased(Category)
        # Only one of report / proposal / pact matches a comment; debates belong to no department.
        query = query.outerjoin(category, category.id == proposal.category_id).where(
            func.coalesce(report.department_id, proposal.department_id, category.department_id,
                          pact.department_id) == s.department_id)
    return _count_cells(query.subquery())


def _signature_cells(s):
    query = select(Pact.district_id.label("district_id"), s.window.bucket(PactSignature.signed_at).label("month")) \
        .select_from(PactSignature).join(Pact, Pact.id == PactSignature.pact_id) \
        .where(pact_is_public(), s.window.contains(PactSignature.signed_at))
    if s.department_id:
        query = query.where(Pact.department_id == s.department_id)
    return _count_cells(query.subquery())


def _cells(s):
    """kind -> {(district_id, month index): count}: five queries behind two charts."""
    return {"reports": _report_cells(s), "proposals": _proposal_cells(s), "supports": _support_cells(s),
            "comments": _comment_cells(s), "signatures": _signature_cells(s)}


def participation(s, cells=None):
    """New reports, proposals, supports, comments and pact signatures per Rome month."""
    cells = cells if cells is not None else _cells(s)
    series = {kind: [0] * len(s.window.months) for kind in KINDS}
    for kind in KINDS:
        for (_district, month), n in cells[kind].items():
            series[kind][month] += n
    return {"months": s.months, "timezone": TIMEZONE, "series": series,
            "totals": {kind: sum(values) for kind, values in series.items()}}


def _district_rows():
    return db.session.execute(select(District.id, District.number, District.name).order_by(District.number)).all()


def districts(s, cells=None):
    """The same participation per district over the twelve months (for the choropleth)."""
    cells = cells if cells is not None else _cells(s)
    per = {}
    for kind in KINDS:
        for (district_id, _month), n in cells[kind].items():
            counts = per.setdefault(district_id, dict.fromkeys(KINDS, 0))
            counts[kind] += n
    result = []
    for district_id, number, name in _district_rows():
        counts = per.get(district_id, dict.fromkeys(KINDS, 0))
        result.append({"id": district_id, "number": number, "name": name, **counts, "total": sum(counts.values())})
    outside = per.get(None, dict.fromkeys(KINDS, 0))
    return {"months": s.months, "timezone": TIMEZONE, "districts": result,
            "outside_districts": {**outside, "total": sum(outside.values())}}


# --- per category ----------------------------------------------------------------------------------

def categories(s):
    """Reports and proposals per category over the twelve months, the busiest first."""
    reports = select(Report.category_id, func.count()).where(Report.is_public, s.window.contains(Report.created_at))
    if s.department_id:
        reports = reports.where(Report.department_id == s.department_id)
    reports = dict(db.session.execute(reports.group_by(Report.category_id)).all())
    proposals = select(Proposal.category_id, func.count()) \
        .where(_visible_proposal(), s.window.contains(_published_at()))
    proposals = dict(db.session.execute(_with_proposal_department(proposals, s).group_by(Proposal.category_id)).all())
    rows = db.session.execute(select(Category.id, Category.slug, Category.name_it, Category.name_en)).all()
    items = [{"id": i, "slug": slug, "name": en if s.locale == "en" else it,
              "reports": reports.get(i, 0), "proposals": proposals.get(i, 0)} for i, slug, it, en in rows]
    items.sort(key=lambda c: (-(c["reports"] + c["proposals"]), c["name"].casefold()))
    return {"months": s.months, "timezone": TIMEZONE, "categories": items,
            "without_category": {"reports": reports.get(None, 0), "proposals": proposals.get(None, 0)}}


# --- the proposals' funnel --------------------------------------------------------------------------

def funnel(s):
    """Proposals that ever reached each step (published → threshold → accepted → completed), since the start.

    A proposal's current status says which steps it passed: the transition table only moves forward,
    so a completed proposal was once accepted, and one under review once crossed its threshold.
    """
    query = select(Proposal.status, func.count()).where(_visible_proposal())
    by_status = {P(status): n for status, n in
                 db.session.execute(_with_proposal_department(query, s).group_by(Proposal.status))}
    published = sum(n for status, n in by_status.items() if status in EVER_REACHED[P.published])
    steps = []
    for step in FUNNEL:
        n = sum(n for status, n in by_status.items() if status in EVER_REACHED[step])
        steps.append({"step": step.value, "proposals": n,
                      "share_of_published_percent": round(100 * n / published, 1) if published else None})
    return {"steps": steps, "by_status": {status.value: by_status.get(status, 0) for status in P if status != P.draft}}


# --- how long reports take ----------------------------------------------------------------------

def _medians(s, group):
    """[(group value, median days, how many)] of the reports resolved in the window."""
    durations = select(group.label("grp"), days_between(Report.created_at, Report.resolved_at).label("days")) \
        .where(Report.is_public, Report.status.in_((ReportStatus.resolved, ReportStatus.closed)),
               Report.resolved_at.is_not(None), s.window.contains(Report.resolved_at))
    if s.department_id:
        durations = durations.where(Report.department_id == s.department_id)
    durations = durations.subquery()
    ranked = select(durations.c.grp, durations.c.days,
                    func.row_number().over(partition_by=durations.c.grp, order_by=durations.c.days).label("rn"),
                    func.count().over(partition_by=durations.c.grp).label("n")).subquery()
    # The middle row (odd n) or the two middle rows (even n): 2·rn within [n, n + 2].
    middle = and_(2 * ranked.c.rn >= ranked.c.n, 2 * ranked.c.rn <= ranked.c.n + 2)
    rows = db.session.execute(select(ranked.c.grp, func.avg(ranked.c.days), func.max(ranked.c.n))
                              .where(middle).group_by(ranked.c.grp))
    return [(grp, round(float(median), 1), n) for grp, median, n in rows]


def resolution(s):
    """Median days from a report's creation to its resolution, overall and per department.

    Over the reports resolved in the twelve months (resolved now, or resolved and then closed); a
    report reopened and resolved again counts from creation to its latest resolution.
    """
    overall = _medians(s, literal_column("0"))
    by_department = {grp: (median, n) for grp, median, n in _medians(s, Report.department_id)}
    items = []
    for d in departments(s.locale):
        if s.department_id and d["id"] != s.department_id:
            continue
        median, n = by_department.get(d["id"], (None, 0))
        items.append({**d, "median_days": median, "resolved": n})
    items.sort(key=lambda d: (d["median_days"] is None, -(d["median_days"] or 0), d["name"].casefold()))
    median, n = (overall[0][1], overall[0][2]) if overall else (None, 0)
    unrouted = by_department.get(None, (None, 0))
    return {"months": s.months, "timezone": TIMEZONE, "overall": {"median_days": median, "resolved": n},
            "departments": items, "without_department": {"median_days": unrouted[0], "resolved": unrouted[1]}}


# --- pacts ---------------------------------------------------------------------------------------

def pacts(s):
    """Active collaboration pacts per district, today."""
    query = select(Pact.district_id, func.count()).where(pact_is_public(), Pact.status == PactStatus.active)
    if s.department_id:
        query = query.where(Pact.department_id == s.department_id)
    per = dict(db.session.execute(query.group_by(Pact.district_id)).all())
    items = [{"id": i, "number": number, "name": name, "active": per.get(i, 0)} for i, number, name in _district_rows()]
    return {"districts": items, "outside_districts": per.get(None, 0), "total": sum(per.values())}


# --- the neighbourhood houses (computed by app.assisted.statistics) ------------------------------

def _share(through, total):
    return {"through_houses": through, "all": total,
            "share_percent": round(100 * through / total, 1) if total else None}


def houses(s):
    """The share of reports, proposals, supports and comments made with a facilitator, per district and city-wide.

    From :func:`app.assisted.statistics.district_shares` (the figures of /houses/statistics), never
    filtered by department.
    """
    _window, shares, city = district_shares(s.now)
    return {
        "months": s.months, "timezone": TIMEZONE, "filtered_by_department": False,
        "kinds": {kind: _share(*city.counts[kind]) for kind in HOUSE_KINDS},
        "city": _share(city.assisted, city.total),
        "districts": [{"number": d.number, "name": d.name, **_share(d.assisted, d.total)} for d in shares],
    }


def assisted_sessions(s):
    """Assisted sessions per Rome month at all the houses, people helped, and supports cast there or on paper.

    From :func:`app.assisted.statistics.house_statistics`, never filtered by department.
    """
    _window, stats, overall = house_statistics(s.now)
    sessions = [0] * len(s.window.months)
    actions = {}
    for house in stats:
        for i, month in enumerate(reversed(house.months)):  # HouseStats.months is newest first
            sessions[i] += month.sessions
        for action, n in house.actions:
            actions[action] = actions.get(action, 0) + n
    return {"months": s.months, "timezone": TIMEZONE, "filtered_by_department": False, "sessions": sessions,
            "totals": {"sessions": overall.sessions, "people_helped": overall.people,
                       "managed_accounts_created": overall.managed,
                       "supports_at_the_desk": actions.get("support.cast", 0),
                       "supports_on_paper": actions.get("support.paper", 0)}}


# --- the whole page, one chart, and each chart as a table -----------------------------------------

_FIGURES = {"categories": categories, "funnel": funnel, "resolution": resolution, "pacts": pacts, "houses": houses,
            "assisted_sessions": assisted_sessions, "participation": participation, "districts": districts}


#: Computed figures kept per process: key -> (expiry on the monotonic clock, value).
_cache = {}
_cache_lock = threading.Lock()


def _cache_seconds():
    """How long computed figures are reused (STATISTICS_CACHE_SECONDS; off under testing)."""
    return current_app.config["STATISTICS_CACHE_SECONDS"]


def _cached(key, compute):
    """``compute()``, or its value from the last few minutes. The figures move slowly, and on a million
    supports the whole page is about a second of aggregate SQL on PostgreSQL and several on SQLite: a
    public page must not cost that on every visit. The values are shared: callers must not change them."""
    ttl = _cache_seconds()
    if ttl <= 0:
        return compute()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    with _cache_lock:
        for stale in [k for k, (expiry, _v) in _cache.items() if expiry <= now]:
            del _cache[stale]
        _cache[key] = (now + ttl, value)
    return value


def _key(name, s):
    # The window's first month: the figures roll over when a new month begins.
    return name, s.months[0], s.department_id, s.locale


def chart(name, s):
    """The data of one chart (``name`` in CHARTS)."""
    return _cached(_key(name, s), lambda: _FIGURES[name](s))


def _dashboard(s):
    cells = _cells(s)
    data = {"participation": participation(s, cells), "districts": districts(s, cells)}
    for name in CHARTS:
        if name not in data:
            data[name] = _FIGURES[name](s)
    return {name: data[name] for name in CHARTS}


def dashboard(s):
    """Every chart's data, keyed by name: a fixed number of aggregate queries whatever the data's size."""
    return _cached(_key("*", s), lambda: _dashboard(s))


def table(name, data):
    """(column keys, rows) of one chart's data: the CSV download and the page's data table."""
    if name == "participation":
        return ["month", *KINDS], [[month] + [data["series"][k][i] for k in KINDS]
                                   for i, month in enumerate(data["months"])]
    if name == "districts":
        return ["district", "name", *KINDS, "total"], [[d["number"], d["name"], *(d[k] for k in KINDS), d["total"]]
                                                       for d in data["districts"]]
    if name == "categories":
        return ["category", "name", "reports", "proposals"], [[c["slug"], c["name"], c["reports"], c["proposals"]]
                                                              for c in data["categories"]]
    if name == "funnel":
        return ["step", "proposals", "share_of_published_percent"], [
            [step["step"], step["proposals"], step["share_of_published_percent"]] for step in data["steps"]]
    if name == "resolution":
        rows = [["all", "", data["overall"]["median_days"], data["overall"]["resolved"]]]
        rows += [[d["slug"], d["name"], d["median_days"], d["resolved"]] for d in data["departments"]]
        return ["department", "name", "median_days", "resolved"], rows
    if name == "pacts":
        return ["district", "name", "active_pacts"], [[d["number"], d["name"], d["active"]] for d in data["districts"]]
    if name == "houses":
        rows = [[kind, v["through_houses"], v["all"], v["share_percent"]] for kind, v in data["kinds"].items()]
        rows.append(["all", data["city"]["through_houses"], data["city"]["all"], data["city"]["share_percent"]])
        return ["kind", "through_houses", "all", "share_percent"], rows
    if name == "assisted_sessions":
        return ["month", "sessions"], [[month, n] for month, n in zip(data["months"], data["sessions"])]
    raise KeyError(name)
