"""Admin management of participatory processes: local-time phases stored in UTC, validation, audit, threshold."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.admin import processes as admin_processes
from app.audit.services import verify_chain
from app.extensions import db
from app.models import AuditEvent, DomainError, Role, User
from app.models.place import Category, District
from app.models.proposal import PhaseKind, Process, Proposal, ProposalStatus
from tests.conftest import refetch

P = ProposalStatus
UTC = timezone.utc
NEW = "/admin/processes/new?lang=en"


def edit_url(process_id):
    return f"/admin/processes/{process_id}/edit?lang=en"


def form_data(**overrides):
    """A valid new-process form (Italian local times); ``None`` drops a field (an unticked checkbox)."""
    data = {
        "title": "Bilancio partecipativo 2027 – primo round", "slug": "bp-2027-1", "description": "Le regole.",
        "district_id": "0",
        "collection_starts": "2027-01-15T09:00", "collection_ends": "2027-02-28T18:00",
        "support_starts": "2027-03-01T00:00", "support_ends": "2027-04-30T23:59",
        "review_starts": "2027-05-01T00:00", "review_ends": "2027-06-30T00:00",
        "execution_starts": "", "execution_ends": "",
        "support_threshold": "250", "supports_per_citizen": "0", "supports_past_threshold": "y",
        "minimum_age": "16", "verified_only": "y", "support_retention_months": "6",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin(make_user, login_as):
    return login_as(make_user(roles=[Role.admin]))


def _process(app, slug="bp-2027-1"):
    with app.app_context():
        process = db.session.scalar(select(Process).where(Process.slug == slug))
        if process is None:
            return None
        _ = (process.phases, process.categories)
        db.session.expunge_all()
        return process


def _events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.seq)).all()


def test_only_admins_reach_the_process_screens(client, make_user, login_as):
    assert client.get("/admin/processes?lang=en").status_code == 302  # visitor: to the sign-in page
    login_as(make_user(roles=[Role.official, Role.citizen]))
    assert client.get("/admin/processes?lang=en").status_code == 403
    assert client.post(NEW, data=form_data()).status_code == 403


def test_create_stores_phases_in_utc_from_italian_time_across_the_dst_switch(app, client, admin):
    # Europe/Rome moves to summer time on 28 March 2027 (02:00 → 03:00) and back on 31 October (03:00 → 02:00).
    response = client.post(NEW, data=form_data(
        collection_starts="2027-01-15T09:00", collection_ends="2027-03-28T01:30",   # CET, UTC+1
        support_starts="2027-03-28T03:30", support_ends="2027-10-31T02:30",         # CEST, UTC+2 (first 02:30)
        review_starts="2027-11-01T09:00", review_ends="2027-12-01T09:00"))          # CET again
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/processes")
    process = _process(app)
    windows = {p.kind: (p.starts_at, p.ends_at) for p in process.phases}
    assert windows[PhaseKind.collection] == (datetime(2027, 1, 15, 8, 0, tzinfo=UTC),
                                             datetime(2027, 3, 28, 0, 30, tzinfo=UTC))
    assert windows[PhaseKind.support] == (datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
                                          datetime(2027, 10, 31, 0, 30, tzinfo=UTC))
    assert windows[PhaseKind.review] == (datetime(2027, 11, 1, 8, 0, tzinfo=UTC),
                                         datetime(2027, 12, 1, 8, 0, tzinfo=UTC))
    assert PhaseKind.execution not in windows
    assert (process.support_threshold, process.supports_per_citizen, process.minimum_age,
            process.verified_only, process.supports_past_threshold, process.support_retention_months,
            process.district_id, process.categories) == (250, 0, 16, True, True, 6, None, [])
    # The edit page shows the same wall-clock times back.
    page = client.get(edit_url(process.id)).get_data(as_text=True)
    assert 'value="2027-03-28T03:30"' in page and 'value="2027-01-15T09:00"' in page


def test_a_time_skipped_by_the_clocks_is_refused_and_the_form_keeps_its_values(app, client, admin):
    response = client.post(NEW, data=form_data(collection_ends="2027-03-28T02:30",
                                                                  support_starts="2027-03-28T03:00"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "clocks go forward" in page
    assert 'value="2027-03-28T02:30"' in page and "Bilancio partecipativo 2027" in page
    assert _process(app) is None


@pytest.mark.parametrize(("overrides", "message"), [
    ({"slug": "Bilancio 2027"}, "lowercase letters, digits and single hyphens"),
    ({"slug": "bp--2027"}, "lowercase letters, digits and single hyphens"),
    ({"title": ""}, "This field is required"),
    ({"support_threshold": "0"}, "at least 1"),
    ({"supports_per_citizen": "-1"}, "Number must be between 0 and"),
    ({"support_retention_months": "-2"}, "Number must be between 0 and"),
    ({"support_starts": "", "support_ends": ""}, "is required"),
    ({"review_ends": ""}, "or neither"),
    ({"collection_ends": "2027-01-10T09:00"}, "must end after it starts"),
    ({"support_starts": "2027-02-20T00:00"}, "phases may not overlap"),
    ({"execution_starts": "2027-06-01T00:00", "execution_ends": "2027-12-31T00:00"}, "phases may not overlap"),
    ({"collection_starts": "15/01/2027"}, "Enter a date and time"),
])
def test_invalid_processes_are_refused_with_a_clear_message(app, client, admin, overrides, message):
    response = client.post(NEW, data=form_data(**overrides))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page and "Le regole." in page  # the error is on a field; values kept
    assert _process(app) is None and _events(app, "process.created") == []


def test_the_slug_must_be_unique(app, client, admin):
    assert client.post(NEW, data=form_data()).status_code == 302
    response = client.post(NEW, data=form_data(title="Un altro"))
    assert response.status_code == 200 and "Another process already uses this short name." in response.get_data(
        as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(Process)).all()) == 1


def test_create_is_audited_with_every_field(app, client, admin):
    with app.app_context():
        district = District(number=3, name="San Paolo", geometry="{}")
        category = Category(slug="verde", name_it="Verde", name_en="Parks")
        db.session.add_all([district, category])
        db.session.commit()
        district_id, category_id = district.id, category.id
    response = client.post(NEW, data=form_data(district_id=str(district_id),
                                                                  categories=[str(category_id)],
                                                                  supports_past_threshold=None))
    assert response.status_code == 302
    process = _process(app)
    assert process.district_id == district_id and [c.id for c in process.categories] == [category_id]
    assert process.supports_past_threshold is False
    event, = _events(app, "process.created")
    assert event.actor_id == admin.id and event.target_type == "process" and event.target_id == process.id
    fields = event.details["fields"]
    assert fields["slug"] == "bp-2027-1" and fields["category_ids"] == [category_id]
    assert fields["district_id"] == district_id and fields["supports_past_threshold"] is False
    assert fields["phases"]["support"] == ["2027-02-28T23:00:00+00:00", "2027-04-30T21:59:00+00:00"]


def test_edit_audits_only_what_changed_including_phases(app, client, admin):
    client.post(NEW, data=form_data())
    process_id = _process(app).id
    response = client.post(edit_url(process_id), data=form_data(
        title="Bilancio 2027 – round di primavera", review_starts="", review_ends="",
        execution_starts="2027-05-15T00:00", execution_ends="2028-05-15T00:00"))
    assert response.status_code == 302
    process = _process(app)
    assert process.title == "Bilancio 2027 – round di primavera"
    assert sorted(p.kind.value for p in process.phases) == ["collection", "execution", "support"]
    event, = _events(app, "process.updated")
    assert set(event.details["changed"]) == {"title", "phases"}
    before, after = event.details["changed"]["phases"]
    assert "review" in before and "review" not in after and after["execution"][0] == "2027-05-14T22:00:00+00:00"
    # Sending the same values again changes nothing and records nothing.
    response = client.post(edit_url(process_id), data=form_data(
        title="Bilancio 2027 – round di primavera", review_starts="", review_ends="",
        execution_starts="2027-05-15T00:00", execution_ends="2028-05-15T00:00"), follow_redirects=True)
    assert "Nothing changed." in response.get_data(as_text=True)
    assert len(_events(app, "process.updated")) == 1
    with app.app_context():
        assert verify_chain().ok


def test_editing_an_unknown_process_is_404(client, admin):
    assert client.get("/admin/processes/999/edit").status_code == 404


# --- the threshold ---------------------------------------------------------------------------

def _with_proposal(app, author_id, status, count, crossed=False):
    """A process (made through the HTTP form earlier) gets one proposal in ``status`` with ``count`` supports."""
    with app.app_context():
        process = db.session.scalar(select(Process))
        db.session.add(Proposal(process_id=process.id, author_id=author_id, title="Panchine", body="Tre panchine.",
                                status=status, support_count=count,
                                threshold_reached_at=datetime(2027, 3, 20, tzinfo=UTC) if crossed else None))
        db.session.commit()
        return process.id


def test_threshold_changes_are_refused_once_a_proposal_crossed_it(app, client, admin, make_user):
    author = make_user()
    client.post(NEW, data=form_data())
    process_id = _with_proposal(app, author.id, P.threshold_reached, 250, crossed=True)
    response = client.post(edit_url(process_id), data=form_data(support_threshold="300"))
    assert response.status_code == 200
    assert "already crossed it" in response.get_data(as_text=True)
    assert refetch(app, Process, process_id).support_threshold == 250
    # Other settings still change.
    response = client.post(edit_url(process_id), data=form_data(minimum_age="18"))
    assert response.status_code == 302
    assert refetch(app, Process, process_id).minimum_age == 18
    assert [e.details["changed"] for e in _events(app, "process.updated")] == [{"minimum_age": [16, 18]}]


def test_threshold_may_change_before_any_crossing_but_not_below_a_current_count(app, client, admin, make_user):
    author = make_user()
    client.post(NEW, data=form_data())
    process_id = _with_proposal(app, author.id, P.published, 120)
    response = client.post(edit_url(process_id), data=form_data(support_threshold="120"))
    assert response.status_code == 200 and "already has 120 supports" in response.get_data(as_text=True)
    response = client.post(edit_url(process_id), data=form_data(support_threshold="121"))
    assert response.status_code == 302
    assert refetch(app, Process, process_id).support_threshold == 121
    assert _events(app, "process.updated")[0].details["changed"] == {"support_threshold": [250, 121]}


def test_the_service_refuses_a_threshold_change_after_crossing(app_ctx, make_user):
    admin = make_user(roles=[Role.admin])
    author = make_user()
    admin = db.session.get(User, admin.id)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    phases = {PhaseKind.collection: (now, now + timedelta(days=30)),
              PhaseKind.support: (now + timedelta(days=30), now + timedelta(days=60))}
    values = dict(title="Round", slug="round", description="", district_id=None, category_ids=[], phases=phases,
                  support_threshold=100, supports_per_citizen=0, supports_past_threshold=True, minimum_age=16,
                  verified_only=True, support_retention_months=6)
    process, changed = admin_processes.save_process(admin, None, values)
    assert changed
    db.session.add(Proposal(process_id=process.id, author_id=author.id, title="T", body="B",
                            status=P.accepted, support_count=130))
    db.session.flush()
    with pytest.raises(DomainError) as refused:
        admin_processes.save_process(admin, process, {**values, "support_threshold": 150})
    assert refused.value.details == {"field": "support_threshold"}


def test_the_list_shows_the_current_phase_and_counts(app, client, admin, make_user):
    author = make_user()
    now = datetime.now(UTC)
    local = now.astimezone(admin_processes.ZoneInfo("Europe/Rome"))
    fmt = "%Y-%m-%dT%H:%M"
    client.post(NEW, data=form_data(
        collection_starts=(local - timedelta(days=20)).strftime(fmt),
        collection_ends=(local - timedelta(days=2)).strftime(fmt),
        support_starts=(local - timedelta(days=2)).strftime(fmt), support_ends=(local + timedelta(days=20)).strftime(fmt),
        review_starts="", review_ends=""))
    _with_proposal(app, author.id, P.published, 40)
    _with_proposal(app, author.id, P.threshold_reached, 260, crossed=True)
    _with_proposal(app, author.id, P.draft, 0)
    page = client.get("/admin/processes?lang=en").get_data(as_text=True)
    assert "Bilancio partecipativo 2027" in page and "collection of supports" in page
    assert "<dd>2</dd>" in page and "<dd>300</dd>" in page and "<dd>1</dd>" in page
