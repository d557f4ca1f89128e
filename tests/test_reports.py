"""Report rules: creation and routing, every transition (legal and illegal), duplicates, triage, flags."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.services import verify_chain
from app.extensions import db
from app.models import AuditEvent, Category, Department, District, Follow, Notification, Role, User
from app.models.base import DomainError, IllegalTransition, PermissionDenied, utcnow
from app.models.report import TRANSITIONS, Flag, Report, ReportStatus, RoutingRule
from app.reports import services
from app.seed.demo import seed_places

S = ReportStatus
#: Via Nizza 120 (San Salvario / district 8) and a point ~150 m north of it.
NIZZA = (45.0450, 7.6780)
NIZZA_150M_NORTH = (45.04635, 7.6780)
NIZZA_400M_NORTH = (45.0486, 7.6780)
OUTSIDE = (45.2000, 7.9000)


@pytest.fixture
def city(app_ctx):
    """Districts, departments and categories of the demo, committed."""
    seed_places()
    db.session.commit()
    from app import geo

    geo.clear_cache()
    return {c.slug: c for c in db.session.scalars(select(Category))}


@pytest.fixture
def people(city, make_user):
    """A citizen, an official of the lighting department, an official of another, a second citizen."""
    lighting = db.session.scalar(select(Department).where(Department.slug == "illuminazione"))
    parks = db.session.scalar(select(Department).where(Department.slug == "verde"))
    # make_user writes from its own connection: build everyone before changing anything here.
    ids = [make_user().id, make_user().id] + [make_user(roles=[Role.official]).id for _ in range(3)]
    citizen, neighbour, official, colleague, other = (db.session.get(User, i) for i in ids)
    official.departments = [lighting]
    colleague.departments = [lighting]
    other.departments = [parks]
    db.session.commit()
    return {"citizen": citizen, "neighbour": neighbour, "official": official, "colleague": colleague,
            "other": other}


def new_report(people, city, point=NIZZA, category="illuminazione", **kw):
    report = services.create_report(people["citizen"], title=kw.pop("title", "Lampione spento"),
                                    description="Il lampione davanti al civico 120 è spento da una settimana.",
                                    category_id=city[category].id, lat=point[0], lon=point[1], **kw)
    db.session.commit()
    return report


def test_a_new_report_is_located_routed_and_followed_by_its_reporter(people, city):
    report = new_report(people, city)
    assert report.status == S.new
    assert report.district.number == 8
    assert report.department.slug == "illuminazione"
    assert report.updates[0].kind == "created"
    assert db.session.scalar(select(Follow).where(Follow.target_type == "report")).user_id == people["citizen"].id


def test_a_district_rule_overrides_the_category_department(people, city):
    district8 = db.session.scalar(select(District).where(District.number == 8))
    parks = db.session.scalar(select(Department).where(Department.slug == "verde"))
    db.session.add(RoutingRule(category_id=city["illuminazione"].id, district_id=district8.id,
                               department_id=parks.id))
    db.session.commit()
    assert new_report(people, city).department_id == parks.id


def test_reports_outside_the_city_are_refused_with_a_clear_message(people, city):
    from flask_babel import force_locale

    with force_locale("en"), pytest.raises(DomainError, match="outside the city"):
        new_report(people, city, point=OUTSIDE)
    assert db.session.scalar(select(func.count(Report.id))) == 0


@pytest.mark.parametrize("field, value", [("title", "   "), ("description", ""), ("category_id", None)])
def test_missing_fields_are_refused(people, city, field, value):
    kwargs = dict(title="Buca", description="Una buca profonda.", category_id=city["buche-strade"].id,
                  lat=NIZZA[0], lon=NIZZA[1])
    kwargs[field] = value
    with pytest.raises(DomainError):
        services.create_report(people["citizen"], **kwargs)


def test_unconfirmed_accounts_cannot_report(city, make_user):
    user = db.session.get(User, make_user(confirmed=False).id)
    with pytest.raises(PermissionDenied):
        services.create_report(user, title="x", description="y", category_id=city["rifiuti"].id,
                               lat=NIZZA[0], lon=NIZZA[1])


def test_placing_by_district_without_the_map_uses_a_point_inside_it(people, city):
    district4 = db.session.scalar(select(District).where(District.number == 4))
    report = services.create_report(people["citizen"], title="Buca", description="In via Saccarelli.",
                                    category_id=city["buche-strade"].id, district_id=district4.id,
                                    address="Via Saccarelli 18")
    assert report.district_id == district4.id and report.address == "Via Saccarelli 18"


# --- duplicates -------------------------------------------------------------------------------

def test_nearby_open_reports_of_the_same_category_within_250_metres(people, city):
    near = new_report(people, city, point=NIZZA_150M_NORTH, title="vicino")
    new_report(people, city, point=NIZZA_400M_NORTH, title="lontano")
    new_report(people, city, point=NIZZA, category="rifiuti", title="altra categoria")
    found = services.nearby_open(city["illuminazione"].id, *NIZZA)
    assert [r.title for r, _ in found] == ["vicino"]
    assert 100 < found[0][1] < 200
    assert found[0][0].id == near.id


def test_closed_or_hidden_reports_are_not_offered_as_duplicates(people, city):
    closed = new_report(people, city, title="chiuso")
    services.change_status(closed, people["official"], S.rejected, "Non è un lampione pubblico.")
    hidden = new_report(people, city, title="nascosto")
    hidden.hidden_at = utcnow()
    db.session.commit()
    assert services.nearby_open(city["illuminazione"].id, *NIZZA) == []


# --- transitions ----------------------------------------------------------------------------

ALL_MOVES = [(a, b) for a in S for b in S]


def _report_in(people, city, status):
    """A report brought to ``status`` by legal moves."""
    report = new_report(people, city)
    path = {
        S.new: [], S.acknowledged: [S.acknowledged], S.in_progress: [S.acknowledged, S.in_progress],
        S.resolved: [S.acknowledged, S.in_progress, S.resolved],
        S.closed: [S.acknowledged, S.in_progress, S.resolved, S.closed],
        S.not_responsible: [S.not_responsible], S.rejected: [S.rejected],
    }
    if status == S.duplicate:
        original = new_report(people, city, title="originale")
        services.merge_duplicate(report, people["official"], original.id)
    for step in path.get(status, []):
        services.change_status(report, people["official"], step, "nota")
    db.session.commit()
    assert report.status == status
    return report


@pytest.mark.parametrize("current, target", ALL_MOVES, ids=[f"{a.value}->{b.value}" for a, b in ALL_MOVES])
def test_every_staff_move_follows_the_transition_table(people, city, current, target):
    report = _report_in(people, city, current)
    legal = target in TRANSITIONS[current]
    kwargs = {}
    if target == S.duplicate:
        kwargs["duplicate_of_id"] = new_report(people, city, title="originale2").id
    if legal:
        services.change_status(report, people["official"], target, "nota pubblica", **kwargs)
        assert report.status == target
        assert report.updates[-1].to_status == target and report.updates[-1].from_status == current
    else:
        with pytest.raises(IllegalTransition):
            services.change_status(report, people["official"], target, "nota pubblica", **kwargs)
        assert report.status == current


def test_status_changes_are_audited_and_notify_followers_but_not_the_actor(people, city):
    report = new_report(people, city)
    db.session.add(Follow(user_id=people["neighbour"].id, target_type="report", target_id=report.id))
    db.session.add(Follow(user_id=people["official"].id, target_type="report", target_id=report.id))
    services.change_status(report, people["official"], S.acknowledged, "Preso in carico.")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.status_changed"))
    assert event.actor_id == people["official"].id and event.details == {"from": "new", "to": "acknowledged"}
    notified = set(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "report.status_changed")))
    assert notified == {people["citizen"].id, people["neighbour"].id}
    assert verify_chain().ok


def test_only_officials_of_the_responsible_department_move_a_report(people, city):
    report = new_report(people, city)
    for who in ("citizen", "other"):
        with pytest.raises(PermissionDenied):
            services.change_status(report, people[who], S.acknowledged)
    services.change_status(report, people["colleague"], S.acknowledged)


@pytest.mark.parametrize("target", [S.rejected, S.not_responsible])
def test_refusals_need_a_public_explanation(people, city, target):
    report = new_report(people, city)
    with pytest.raises(DomainError):
        services.change_status(report, people["official"], target, "  ")


def test_reporter_reopens_or_confirms_a_resolved_report(people, city):
    report = _report_in(people, city, S.resolved)
    with pytest.raises(PermissionDenied):
        services.reporter_answer(report, people["neighbour"], fixed=False)
    services.reporter_answer(report, people["citizen"], fixed=False)
    assert report.status == S.acknowledged
    services.change_status(report, people["official"], S.in_progress)
    services.change_status(report, people["official"], S.resolved)
    services.reporter_answer(report, people["citizen"], fixed=True)
    assert report.status == S.closed
    with pytest.raises(IllegalTransition):
        services.reporter_answer(report, people["citizen"], fixed=False)


def test_reporter_cannot_answer_before_it_is_resolved(people, city):
    report = _report_in(people, city, S.in_progress)
    with pytest.raises(IllegalTransition):
        services.reporter_answer(report, people["citizen"], fixed=True)


def test_is_it_fixed_is_asked_four_weeks_after_resolution_once(people, city):
    report = _report_in(people, city, S.resolved)
    assert services.ask_if_fixed() == 0
    later = utcnow() + timedelta(weeks=4, minutes=1)
    assert services.ask_if_fixed(now=later) == 1
    db.session.commit()
    assert services.ask_if_fixed(now=later) == 0
    note = db.session.scalar(select(Notification).where(Notification.kind == "report.is_it_fixed"))
    assert note.user_id == people["citizen"].id and note.url == f"/reports/{report.id}"


# --- triage -----------------------------------------------------------------------------------

def test_triage_queue_shows_only_the_officials_departments_oldest_first(people, city):
    first = new_report(people, city, title="primo")
    second = new_report(people, city, title="secondo")
    new_report(people, city, category="verde-alberi", title="albero")
    queue = db.session.scalars(services.triage_queue(people["official"])).all()
    assert [r.id for r in queue] == [first.id, second.id]
    parks_queue = db.session.scalars(services.triage_queue(people["other"])).all()
    assert [r.title for r in parks_queue] == ["albero"]


def test_bulk_acknowledge_moves_only_new_reports_the_official_handles(people, city):
    a, b = new_report(people, city), new_report(people, city)
    tree = new_report(people, city, category="verde-alberi")
    moved = services.acknowledge_many(people["official"], [a.id, b.id, tree.id])
    assert moved == 2 and tree.status == S.new and a.status == S.acknowledged


def test_assign_to_a_colleague_of_the_department_only(people, city):
    report = new_report(people, city)
    services.assign(report, people["official"], people["colleague"].id)
    assert report.assigned_to_id == people["colleague"].id
    with pytest.raises(DomainError):
        services.assign(report, people["official"], people["other"].id)
    assert db.session.scalar(select(Notification).where(Notification.kind == "report.assigned")).user_id == \
        people["colleague"].id


def test_merging_a_duplicate_moves_its_followers_to_the_original(people, city):
    original = new_report(people, city, title="originale")
    copy = services.create_report(people["neighbour"], title="copia", description="Stesso lampione.",
                                  category_id=city["illuminazione"].id, lat=NIZZA[0], lon=NIZZA[1])
    db.session.commit()
    services.merge_duplicate(copy, people["official"], original.id)
    db.session.commit()
    assert copy.status == S.duplicate and copy.duplicate_of_id == original.id
    followers = set(db.session.scalars(select(Follow.user_id).where(
        Follow.target_type == "report", Follow.target_id == original.id)))
    assert followers == {people["citizen"].id, people["neighbour"].id}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.merged")).details == \
        {"into": original.id}


def test_a_report_cannot_be_merged_into_itself_or_a_closed_one(people, city):
    report = new_report(people, city)
    with pytest.raises(DomainError):
        services.merge_duplicate(report, people["official"], report.id)
    closed = _report_in(people, city, S.rejected)
    with pytest.raises(DomainError):
        services.merge_duplicate(report, people["official"], closed.id)


def test_notes_are_public_updates_and_audited(people, city):
    report = new_report(people, city)
    services.add_note(report, people["official"], "Squadra in arrivo lunedì.")
    db.session.commit()
    assert report.updates[-1].kind == "note" and report.updates[-1].note == "Squadra in arrivo lunedì."
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "report.note_added"))


# --- flags ------------------------------------------------------------------------------------

def test_one_flag_per_user_per_item(people, city):
    report = new_report(people, city)
    services.flag(people["neighbour"], "report", report.id, "spam")
    db.session.flush()
    services.flag(people["neighbour"], "report", report.id, "offensive")
    db.session.commit()
    flags = db.session.scalars(select(Flag)).all()
    assert len(flags) == 1 and flags[0].reason == "offensive"


@pytest.mark.parametrize("reason, text", [("nonsense", None), ("other", "  ")])
def test_flags_need_a_known_reason_and_text_for_other(people, city, reason, text):
    report = new_report(people, city)
    with pytest.raises(DomainError):
        services.flag(people["neighbour"], "report", report.id, reason, text)


def test_ask_if_fixed_command(app, runner, people, city):
    report = _report_in(people, city, S.resolved)
    report.resolved_at = utcnow() - timedelta(weeks=5)
    db.session.commit()
    result = runner.invoke(args=["reports", "ask-if-fixed"])
    assert result.exit_code == 0 and "Asked 1 reporter" in result.output
