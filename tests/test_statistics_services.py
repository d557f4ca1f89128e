"""The dashboard's figures (app/statistics/services.py) on a small world whose every number is known.

``build_world`` writes it straight into the database at fixed moments around NOW (June 2026, so the
window is July 2025 – June 2026); tests/test_statistics_http.py builds the same world around the real
clock. Hidden items, drafts, non-public pacts and deleted comments sit next to the counted ones so that
every figure proves it leaves them out.
"""
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.assisted.statistics import district_shares
from app.extensions import db
from app.models import Category, Comment, Role
from app.models.commons import Commons, CommonsKind
from app.models.discussion import Debate
from app.models.pact import Pact, PactParty, PactSignature, PactStatus, PactVersion, PartyKind
from app.models.proposal import Process, Proposal, Support
from app.models.proposal import ProposalStatus as P
from app.models.report import Report, ReportStatus
from app.statistics import services
from tests import assisted_builders as b

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
#: Window month indexes around NOW: 0 = July 2025 ... 11 = June 2026.
MAR, APR, MAY, JUN = 8, 9, 10, 11


def at(month, day, hour=12, year=2026):
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class World:
    districts: dict  # number -> id
    dept_a: int
    dept_b: int
    cat_a: int
    cat_b: int
    ids: dict = field(default_factory=dict)


def _report(w, district, category, created, *, status=ReportStatus.new, resolved=None, hidden=False, department=None):
    dept = department or (w.dept_a if category == w.cat_a else w.dept_b)
    row = Report(title="Buca", description="Una buca.", category_id=category, department_id=dept,
                 district_id=w.districts[district] if district else None, lat=45.07, lon=7.68, status=status,
                 created_at=created, updated_at=created, status_changed_at=resolved or created, resolved_at=resolved,
                 hidden_at=created if hidden else None)
    db.session.add(row)
    db.session.flush()
    return row


def _proposal(w, process, status, district, category, published, *, department=None, hidden=False):
    row = Proposal(process_id=process.id, title="Una panchina", body="Qui.", status=status, category_id=category,
                   district_id=w.districts[district] if district else None, department_id=department,
                   created_at=published - timedelta(days=1), published_at=None if status == P.draft else published,
                   status_changed_at=published, hidden_at=published if hidden else None)
    db.session.add(row)
    db.session.flush()
    return row


def _supports(proposal, moment, n):
    for _ in range(n):
        db.session.add(Support(proposal_id=proposal.id, process_id=proposal.process_id, user_id=None, created_at=moment))
        proposal.support_count += 1
    db.session.flush()


def _comment(target_type, target_id, moment, *, hidden=False, deleted=False):
    row = Comment(target_type=target_type, target_id=target_id, body="D'accordo.", created_at=moment,
                  hidden_at=moment if hidden else None, deleted_at=moment if deleted else None)
    db.session.add(row)
    db.session.flush()
    return row


def _pact(w, status, district, department, *, hidden=False, signed=None):
    commons = Commons(name="Giardino", kind=CommonsKind.green_area, lat=45.07, lon=7.68)
    db.session.add(commons)
    db.session.flush()
    pact = Pact(title="Cura del giardino", commons_id=commons.id, status=status,
                district_id=w.districts[district] if district else None, department_id=department,
                hidden_at=at(1, 1) if hidden else None)
    db.session.add(pact)
    db.session.flush()
    if signed:
        version = PactVersion(pact_id=pact.id, number=1, text="Testo del patto.")
        party = PactParty(pact_id=pact.id, kind=PartyKind.city)
        db.session.add_all([version, party])
        db.session.flush()
        db.session.add(PactSignature(pact_id=pact.id, party_id=party.id, version_id=version.id, capacity="per la Città",
                                     text_sha256="0" * 64, signed_at=signed))
        db.session.flush()
    return pact


def build_world(app, make_user, shift=timedelta(0)):
    """The known world; every moment is moved by ``shift`` (HTTP tests move it next to the real clock)."""
    places = b.places(app)
    facilitator = make_user(roles=[Role.facilitator])

    def t(month, day, hour=12, year=2026):
        return at(month, day, hour, year) + shift

    with app.app_context():
        cats = db.session.execute(select(Category.id, Category.department_id).order_by(Category.id)).all()
        (cat_a, dept_a), cat_b, dept_b = cats[0], None, None
        for cid, did in cats:
            if did != dept_a:
                cat_b, dept_b = cid, did
                break
        w = World(places.districts, dept_a, dept_b, cat_a, cat_b)
        # Reports: resolved in 2, 3 and 10 days (department A), 4 and 6 days (B).
        r1 = _report(w, 1, cat_a, t(5, 10), status=ReportStatus.resolved, resolved=t(5, 12))
        _report(w, 1, cat_a, t(5, 1), status=ReportStatus.closed, resolved=t(5, 11))
        _report(w, 1, cat_a, t(4, 1), status=ReportStatus.resolved, resolved=t(4, 4))
        _report(w, 2, cat_b, t(6, 1), status=ReportStatus.resolved, resolved=t(6, 5))
        _report(w, 2, cat_b, t(3, 1), status=ReportStatus.resolved, resolved=t(3, 7))
        _report(w, 2, cat_b, t(6, 2))
        # Reopened after a resolution: not resolved now, so not timed (but a report of May all the same).
        _report(w, 1, cat_a, t(5, 1), status=ReportStatus.acknowledged, resolved=t(5, 20))
        # Hidden: counted nowhere, however slow.
        _report(w, 1, cat_a, t(6, 3), status=ReportStatus.resolved, resolved=t(6, 3) + timedelta(days=1), hidden=True)
        # Resolved before the window: not timed, not counted.
        _report(w, 1, cat_a, t(1, 1, year=2025), status=ReportStatus.resolved, resolved=t(1, 3, year=2025))
        # Proposals: every status once (completed twice), a draft and a hidden one aside.
        process = Process(slug="bilancio", title="Bilancio partecipativo", support_threshold=3)
        db.session.add(process)
        db.session.flush()
        props = {}
        for status in (P.published, P.expired, P.withdrawn, P.threshold_reached, P.under_review, P.rejected,
                       P.in_execution):
            props[status] = _proposal(w, process, status, 2, cat_b, t(5, 5))
        props["published2"] = _proposal(w, process, P.published, 2, cat_b, t(6, 1))
        # Category A's department, unless the review handed it to B.
        props[P.accepted] = _proposal(w, process, P.accepted, 1, cat_a, t(5, 5), department=dept_b)
        props[P.completed] = _proposal(w, process, P.completed, 1, cat_a, t(5, 5))
        props["completed2"] = _proposal(w, process, P.completed, 1, cat_a, t(5, 5))
        props[P.draft] = _proposal(w, process, P.draft, 1, cat_a, t(5, 5))
        props["hidden"] = _proposal(w, process, P.completed, 1, cat_a, t(5, 5), hidden=True)
        _supports(props[P.completed], t(5, 20), 3)
        _supports(props["published2"], t(6, 2), 2)
        _supports(props["hidden"], t(6, 2), 4)
        # Comments: on a report of A (district 1), a proposal of B (district 2), a debate (district 2, no
        # department); a hidden and a deleted one aside.
        debate = Debate(title="Il parco", body="Parliamone.", district_id=w.districts[2], created_at=t(5, 1))
        db.session.add(debate)
        db.session.flush()
        _comment("report", r1.id, t(5, 15))
        _comment("proposal", props["published2"].id, t(6, 3))
        _comment("debate", debate.id, t(6, 4))
        _comment("report", r1.id, t(5, 16), hidden=True)
        _comment("report", r1.id, t(5, 17), deleted=True)
        # Pacts: active ones in district 1 (A, twice) and 2 (B); a hidden active one, a completed one, a
        # submitted one (not public: its signature does not count either).
        _pact(w, PactStatus.active, 1, dept_a, signed=t(5, 20))
        _pact(w, PactStatus.active, 1, dept_a)
        _pact(w, PactStatus.active, 2, dept_b, signed=t(6, 1))
        _pact(w, PactStatus.active, 2, dept_b, hidden=True, signed=t(6, 1))
        _pact(w, PactStatus.completed, 2, dept_b)
        _pact(w, PactStatus.submitted, 1, dept_a, signed=t(6, 1))
        # The report r1 was made at a house, with a facilitator.
        house_id = places.houses[0][0]
        session = b.session(house_id, facilitator.id, t(5, 10) - timedelta(minutes=10))
        b.action(session, "report.created", "reports", r1.id, at=t(5, 10))
        db.session.commit()
        w.ids = {"r1": r1.id, "process": process.id, "house": house_id}
    return w


@pytest.fixture
def world(app, make_user):
    return build_world(app, make_user)


def _scope(world=None, department=None):
    return services.scope(department, now=NOW, locale="en")


def test_participation_counts_each_kind_per_rome_month_and_leaves_out_hidden_drafts_and_private(app_ctx, world):
    data = services.participation(_scope())
    assert data["months"][0] == "2025-07" and data["months"][-1] == "2026-06" and len(data["months"]) == 12
    s = data["series"]
    assert (s["reports"][MAR], s["reports"][APR], s["reports"][MAY], s["reports"][JUN]) == (1, 1, 3, 2)
    assert (s["proposals"][MAY], s["proposals"][JUN]) == (10, 1)  # 11 visible: no draft, no hidden one
    assert (s["supports"][MAY], s["supports"][JUN]) == (3, 2)  # not the 4 on the hidden proposal
    assert (s["comments"][MAY], s["comments"][JUN]) == (1, 2)  # not the hidden nor the deleted one
    assert (s["signatures"][MAY], s["signatures"][JUN]) == (1, 1)  # not on the hidden or the submitted pact
    assert data["totals"] == {"reports": 7, "proposals": 11, "supports": 5, "comments": 3, "signatures": 2}
    json.dumps(data)


def test_months_are_turin_months_not_utc_ones(app_ctx, app):
    places = b.places(app)
    category = db.session.scalar(select(Category.id))
    # 22:30 UTC on 30 April is 00:30 on 1 May in Turin; 21:30 UTC on 31 May is 23:30 in Turin, still May.
    for moment in (datetime(2026, 4, 30, 22, 30, tzinfo=UTC), datetime(2026, 5, 31, 21, 30, tzinfo=UTC)):
        db.session.add(Report(title="Buca", description=".", category_id=category, lat=45.07, lon=7.68,
                              district_id=places.districts[1], created_at=moment, updated_at=moment,
                              status_changed_at=moment))
    db.session.flush()
    series = services.participation(_scope())["series"]["reports"]
    assert (series[APR], series[MAY], series[JUN]) == (0, 2, 0)


def test_per_district_counts_follow_the_item_supported_or_commented(app_ctx, world):
    data = services.districts(_scope())
    rows = {d["number"]: d for d in data["districts"]}
    assert len(rows) == 8
    one, two = rows[1], rows[2]
    assert (one["reports"], one["proposals"], one["supports"], one["comments"], one["signatures"]) == (4, 3, 3, 1, 1)
    assert (two["reports"], two["proposals"], two["supports"], two["comments"], two["signatures"]) == (3, 8, 2, 2, 1)
    assert one["total"] == 12 and two["total"] == 16
    assert rows[3]["total"] == 0
    assert data["outside_districts"]["total"] == 0


def test_categories_count_reports_and_proposals_busiest_first(app_ctx, world):
    data = services.categories(_scope())
    by_id = {c["id"]: c for c in data["categories"]}
    assert (by_id[world.cat_a]["reports"], by_id[world.cat_a]["proposals"]) == (4, 3)
    assert (by_id[world.cat_b]["reports"], by_id[world.cat_b]["proposals"]) == (3, 8)
    assert data["categories"][0]["id"] == world.cat_b  # 11 items before 7
    assert all(c["reports"] == c["proposals"] == 0 for c in data["categories"][2:])
    assert all(c["name"] for c in data["categories"])


def test_funnel_counts_proposals_that_ever_reached_each_step(app_ctx, world):
    data = services.funnel(_scope())
    steps = {s["step"]: s["proposals"] for s in data["steps"]}
    # 11 published (no draft, no hidden); 7 crossed the threshold (now threshold_reached, under_review,
    # rejected, accepted, in_execution, completed ×2); 4 accepted (accepted, in_execution, completed ×2).
    assert steps == {"published": 11, "threshold_reached": 7, "accepted": 4, "completed": 2}
    assert [s["step"] for s in data["steps"]] == ["published", "threshold_reached", "accepted", "completed"]
    shares = [s["share_of_published_percent"] for s in data["steps"]]
    assert shares == [100.0, 63.6, 36.4, 18.2]
    assert data["by_status"]["published"] == 2 and data["by_status"]["completed"] == 2
    assert "draft" not in data["by_status"]


def test_ever_reached_follows_the_transition_table():
    assert services.EVER_REACHED[P.threshold_reached] == {P.threshold_reached, P.under_review, P.accepted,
                                                           P.rejected, P.in_execution, P.completed}
    assert services.EVER_REACHED[P.accepted] == {P.accepted, P.in_execution, P.completed}
    assert P.expired in services.EVER_REACHED[P.published] and P.draft not in services.EVER_REACHED[P.published]


def test_resolution_times_are_medians_overall_and_per_department(app_ctx, world):
    data = services.resolution(_scope())
    # Resolved in the window: 2, 3, 10 days (A) and 4, 6 (B); not the reopened, hidden or old ones.
    assert data["overall"] == {"median_days": 4.0, "resolved": 5}
    per = {d["id"]: d for d in data["departments"]}
    assert (per[world.dept_a]["median_days"], per[world.dept_a]["resolved"]) == (3.0, 3)
    assert (per[world.dept_b]["median_days"], per[world.dept_b]["resolved"]) == (5.0, 2)  # even: the mean of two
    others = [d for d in data["departments"] if d["id"] not in (world.dept_a, world.dept_b)]
    assert others and all(d["median_days"] is None and d["resolved"] == 0 for d in others)
    assert data["departments"][0]["id"] == world.dept_b  # the slowest first


def test_median_of_fractional_durations(app_ctx, app):
    places = b.places(app)
    category = db.session.scalar(select(Category.id))
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    for hours in (6, 36, 54):  # 0.25, 1.5 and 2.25 days
        db.session.add(Report(title="Buca", description=".", category_id=category, lat=45.07, lon=7.68,
                              district_id=places.districts[1], created_at=start, updated_at=start,
                              status_changed_at=start, status=ReportStatus.resolved,
                              resolved_at=start + timedelta(hours=hours)))
    db.session.flush()
    assert services.resolution(_scope())["overall"] == {"median_days": 1.5, "resolved": 3}


def test_active_pacts_per_district_leave_out_hidden_and_other_statuses(app_ctx, world):
    data = services.pacts(_scope())
    rows = {d["number"]: d["active"] for d in data["districts"]}
    assert rows[1] == 2 and rows[2] == 1 and rows[3] == 0
    assert data["total"] == 3


def test_houses_share_is_the_one_of_the_houses_page(app_ctx, world):
    data = services.houses(_scope())
    _window, shares, city = district_shares(NOW)
    assert data["kinds"]["reports"] == {"through_houses": 1, "all": city.counts["reports"][1],
                                        "share_percent": round(100 / city.counts["reports"][1], 1)}
    assert data["city"]["through_houses"] == city.assisted == 1
    assert [d["number"] for d in data["districts"]] == [s.number for s in shares]
    assert data["filtered_by_department"] is False


def test_assisted_sessions_per_month(app_ctx, world):
    data = services.assisted_sessions(_scope())
    assert data["sessions"][MAY] == 1 and sum(data["sessions"]) == 1
    assert data["totals"]["sessions"] == 1


def test_the_department_filter_keeps_one_departments_reports_proposals_and_pacts(app_ctx, world):
    a = services.dashboard(_scope(department=world.dept_a))
    assert a["participation"]["totals"] == {"reports": 4, "proposals": 2, "supports": 3, "comments": 1,
                                            "signatures": 1}
    steps = {s["step"]: s["proposals"] for s in a["funnel"]["steps"]}
    assert steps == {"published": 2, "threshold_reached": 2, "accepted": 2, "completed": 2}
    assert a["resolution"]["overall"] == {"median_days": 3.0, "resolved": 3}
    assert [d["id"] for d in a["resolution"]["departments"]] == [world.dept_a]
    assert a["pacts"]["total"] == 2
    b_ = services.dashboard(_scope(department=world.dept_b))
    # The accepted proposal of category A was handed to B by its review: it is B's.
    assert b_["participation"]["totals"] == {"reports": 3, "proposals": 9, "supports": 2, "comments": 1,
                                             "signatures": 1}
    steps = {s["step"]: s["proposals"] for s in b_["funnel"]["steps"]}
    assert steps == {"published": 9, "threshold_reached": 5, "accepted": 2, "completed": 0}
    assert b_["pacts"]["total"] == 1
    # The houses' figures are city-wide whatever the filter.
    assert a["houses"] == b_["houses"] == services.houses(_scope())


def test_only_officials_and_admins_may_filter(app_ctx, world, make_user):
    official = make_user(roles=[Role.official])
    admin = make_user(roles=[Role.admin])
    citizen = make_user(roles=[Role.citizen])
    moderator = make_user(roles=[Role.moderator])
    assert services.department_filter(official, world.dept_a).id == world.dept_a
    assert services.department_filter(admin, world.dept_b).id == world.dept_b
    assert services.department_filter(citizen, world.dept_a) is None
    assert services.department_filter(moderator, world.dept_a) is None
    assert services.department_filter(None, world.dept_a) is None
    assert services.department_filter(official, 999_999) is None
    assert services.department_filter(official, None) is None


def test_an_empty_database_gives_zeros_and_nones_not_errors(app_ctx):
    data = services.dashboard(_scope())
    assert set(data) == set(services.CHARTS)
    assert data["participation"]["totals"] == dict.fromkeys(services.KINDS, 0)
    assert data["districts"]["districts"] == []
    assert data["funnel"]["steps"][0] == {"step": "published", "proposals": 0, "share_of_published_percent": None}
    assert data["resolution"]["overall"] == {"median_days": None, "resolved": 0}
    json.dumps(data)
    for name in services.CHARTS:
        columns, rows = services.table(name, data[name])
        assert all(len(row) == len(columns) for row in rows)


def test_every_table_has_its_columns_in_every_row(app_ctx, world):
    data = services.dashboard(_scope())
    for name in services.CHARTS:
        columns, rows = services.table(name, data[name])
        assert rows and all(len(row) == len(columns) for row in rows), name


def _count_queries(fn):
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_page_runs_the_same_number_of_queries_however_much_data(app, make_user):
    with app.app_context():
        empty = _count_queries(lambda: services.dashboard(_scope()))
    build_world(app, make_user)
    with app.app_context():
        small = _count_queries(lambda: services.dashboard(_scope()))
        process = db.session.get(Process, db.session.scalar(select(Process.id)))
        proposal = db.session.scalar(select(Proposal).where(Proposal.status == P.published))
        _supports(proposal, at(6, 10), 50)
        for _ in range(20):
            db.session.add(Report(title="Buca", description=".", category_id=proposal.category_id, lat=45.07,
                                  lon=7.68, created_at=at(6, 10), updated_at=at(6, 10), status_changed_at=at(6, 10)))
        db.session.commit()
        assert process is not None
        large = _count_queries(lambda: services.dashboard(_scope()))
    assert small == large
    assert large <= 30, large
    assert empty <= large


def test_figures_are_reused_for_a_few_minutes_when_caching_is_on(app, app_ctx, world, monkeypatch):
    monkeypatch.setitem(app.config, "STATISTICS_CACHE_SECONDS", 60)
    monkeypatch.setattr(services, "_cache", {})
    first = services.dashboard(_scope())
    assert _count_queries(lambda: services.dashboard(_scope())) == 0
    assert services.dashboard(_scope()) is first
    assert _count_queries(lambda: services.chart("funnel", _scope())) > 0  # its own entry
    assert _count_queries(lambda: services.chart("funnel", _scope())) == 0
    assert _count_queries(lambda: services.dashboard(_scope(department=world.dept_a))) > 0
    monkeypatch.setitem(app.config, "STATISTICS_CACHE_SECONDS", 0)
    assert _count_queries(lambda: services.dashboard(_scope())) > 0
