"""How long each step of a pact took, on Rome's calendar, against the configured time limits; and the
office's queue of pacts to act on, oldest first, with what is overdue. Every test fixes ``now``."""
from datetime import date, datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models.pact import DEFAULT_TIME_LIMITS, Pact, PactStatus
from app.pacts import services
from tests.pact_builders import advance, draft, make_commons, pact_world, step_to

S = PactStatus
UTC = timezone.utc


def set_history(pact, *moments):
    """Give the pact's status changes these times (one per change, in order)."""
    assert len(moments) == len(pact.history)
    for change, moment in zip(pact.history, moments):
        change.at = moment
    pact.status_changed_at = moments[-1]
    db.session.commit()


def test_steps_are_counted_in_rome_calendar_days(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.submitted))
    # 23:30 UTC on 1 March is already 2 March in Turin; 22:00 UTC on 2 March is still 2 March there.
    set_history(pact, datetime(2026, 2, 20, 9, tzinfo=UTC), datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    steps = services.step_durations(pact, now=datetime(2026, 3, 2, 22, tzinfo=UTC))
    assert [(s.status, s.days) for s in steps] == [(S.draft, 10), (S.submitted, 0)]
    assert steps[0].left_at == steps[1].entered_at and steps[1].left_at is None
    assert steps[1].limit_days == DEFAULT_TIME_LIMITS[S.submitted] and not steps[1].overdue
    assert steps[0].limit_days is None and not steps[0].overdue


def test_a_step_is_overdue_the_day_after_its_limit(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.submitted))
    entered = datetime(2026, 4, 1, 8, tzinfo=UTC)
    set_history(pact, entered - timedelta(days=2), entered)
    on_the_limit = entered + timedelta(days=30)
    assert services.current_overdue(pact, now=on_the_limit) is None
    late = services.current_overdue(pact, now=on_the_limit + timedelta(days=1))
    assert (late.status, late.days, late.limit_days, late.overdue) == (S.submitted, 31, 30, True)


def test_the_configuration_overrides_the_default_limits(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "PACT_TIME_LIMITS", {"submitted": 5, "public_consultation": 40})
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.submitted))
    entered = datetime(2026, 4, 1, 8, tzinfo=UTC)
    set_history(pact, entered - timedelta(days=2), entered)
    step = services.current_overdue(pact, now=entered + timedelta(days=6))
    assert (step.limit_days, step.days) == (5, 6)
    assert services.time_limit(S.public_consultation) == 40
    assert services.time_limit(S.co_design) == DEFAULT_TIME_LIMITS[S.co_design]


def test_a_past_step_that_took_too_long_is_flagged_and_a_final_status_never_is(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.inadmissible))
    start = datetime(2026, 1, 10, 10, tzinfo=UTC)
    set_history(pact, start, start + timedelta(days=1), start + timedelta(days=50))
    steps = services.step_durations(pact, now=start + timedelta(days=400))
    assert [(s.status, s.days, s.overdue) for s in steps] == [
        (S.draft, 1, False), (S.submitted, 49, True), (S.inadmissible, 350, False)]
    assert steps[-1].limit_days is None
    assert services.current_overdue(pact, now=start + timedelta(days=400)) is None


def test_the_office_queue_lists_what_the_departments_must_act_on_oldest_first(app_ctx):
    world = pact_world()
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)  # far from Rome's midnight
    old = db.session.get(Pact, advance(world, S.submitted, title="Vecchio"))
    set_history(old, now - timedelta(days=45), now - timedelta(days=40))
    recent = db.session.get(Pact, advance(world, S.submitted, title="Recente"))
    set_history(recent, now - timedelta(days=3), now - timedelta(days=2))
    design = db.session.get(Pact, advance(world, S.co_design, title="In co-progettazione"))
    draft(world, title="Bozza")
    # A consultation still open is not the office's turn yet; one past its end is.
    open_consultation = db.session.get(Pact, advance(world, S.admissible, title="Consultazione aperta"))
    services.open_consultation(open_consultation, world.user("official"), starts_at=now - timedelta(days=1))
    db.session.commit()
    closed_consultation = db.session.get(Pact, advance(world, S.public_consultation, title="Consultazione chiusa"))
    # An active pact appears only while a report waits for review.
    active = db.session.get(Pact, advance(world, S.active, title="Attivo"))
    active.starts_on = date(2025, 1, 1)
    report = services.file_report(active, world.user("author"), period_start=date(2025, 1, 1),
                                  period_end=date(2025, 12, 31), activities="Sfalci.")
    db.session.commit()
    # Another department's pact is not in this official's queue.
    elsewhere = make_commons(db.session.get(type(world.commons.department), world.other_department_id))
    other = draft(world, title="Altro ufficio", commons_id=elsewhere.id)
    step_to(world, other, S.submitted)

    queue = services.office_queue(world.user("official"), now=now)
    titles = [entry.pact.title for entry in queue]
    assert titles[:2] == ["Vecchio", "Recente"]
    assert set(titles) == {"Vecchio", "Recente", "In co-progettazione", "Consultazione chiusa", "Attivo"}
    by_title = {entry.pact.title: entry for entry in queue}
    assert by_title["Vecchio"].overdue and by_title["Vecchio"].step.days == 40
    assert not by_title["Recente"].overdue
    assert by_title["Attivo"].reports_waiting == 1 and by_title["In co-progettazione"].reports_waiting == 0
    assert by_title["In co-progettazione"].pact.id == design.id
    assert closed_consultation.id in {e.pact.id for e in queue}
    assert [e.pact.title for e in services.office_queue(world.user("other_official"), now=now)] == ["Altro ufficio"]
    assert services.office_queue(world.user("admin"), now=now) == []
    services.review_report(report, world.user("official"), accepted=True)
    db.session.commit()
    assert "Attivo" not in {e.pact.title for e in services.office_queue(world.user("official"), now=now)}
    # An open dispute brings the pact back to the office until the dispute is closed.
    dispute = services.open_dispute(active, world.user("author"), "Il cancello resta chiuso la domenica.")
    db.session.commit()
    assert "Attivo" in {e.pact.title for e in services.office_queue(world.user("official"), now=now)}
    services.close_dispute(dispute, world.user("official"), "Il cancello resta aperto dalle 8 alle 20.")
    db.session.commit()
    assert "Attivo" not in {e.pact.title for e in services.office_queue(world.user("official"), now=now)}


@pytest.mark.parametrize("status", [S.co_design, S.signing])
def test_later_steps_have_their_limits_too(app_ctx, status):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, status))
    last = datetime(2026, 5, 4, 10, tzinfo=UTC)  # no change of daylight saving time within the limits
    set_history(pact, *[last - timedelta(days=len(pact.history) - n) for n in range(1, len(pact.history) + 1)])
    limit = DEFAULT_TIME_LIMITS[status]
    assert services.current_overdue(pact, now=last + timedelta(days=limit)) is None
    assert services.current_overdue(pact, now=last + timedelta(days=limit + 1)).status == status
