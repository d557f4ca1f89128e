"""Report pages over HTTP: list, detail, placing a report (with photos and "already reported?"), staff actions."""
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, Department, Notification, Role, User
from app.models.photo import Photo
from app.models.report import Flag, Report, ReportStatus
from app.reports import services
from app.seed.demo import seed_places
from tests.conftest import refetch

S = ReportStatus
NIZZA = (45.0450, 7.6780)


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        from app import geo

        geo.clear_cache()
        return {c.slug: c.id for c in db.session.scalars(select(Category))}


@pytest.fixture
def official(app, make_user, city):
    user = make_user(roles=[Role.official])
    with app.app_context():
        u = db.session.get(User, user.id)
        u.departments = [db.session.scalar(select(Department).where(Department.slug == "illuminazione"))]
        db.session.commit()
    return refetch(app, User, user.id)


def _report(app, reporter, city, point=NIZZA, title="Lampione spento"):
    with app.app_context():
        report = services.create_report(db.session.get(User, reporter.id), title=title,
                                        description="Spento da una settimana.", category_id=city["illuminazione"],
                                        lat=point[0], lon=point[1])
        db.session.commit()
        return report.id


def _jpeg_bytes():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_public_list_filters_and_counts(app, client, make_user, city):
    reporter = make_user()
    _report(app, reporter, city, title="Primo lampione")
    page = client.get("/reports?lang=en")
    assert page.status_code == 200 and "Primo lampione" in page.text
    assert "1 open, 0 fixed, 0 closed" in page.text
    assert "Primo lampione" not in client.get("/reports?status=closed").text
    assert client.get("/reports?status=nonsense&district=abc").status_code == 200


def test_report_page_shows_timeline_and_hides_staff_actions_from_citizens(app, client, make_user, login_as, city):
    reporter = make_user()
    report_id = _report(app, reporter, city)
    login_as(make_user())
    page = client.get(f"/reports/{report_id}?lang=en")
    assert page.status_code == 200
    assert "Report sent." in page.text and "Office actions" not in page.text
    assert client.get("/reports/999999").status_code == 404


def test_hidden_reports_leave_the_list_and_their_page_says_so(app, client, make_user, city):
    report_id = _report(app, make_user(), city)
    with app.app_context():
        db.session.get(Report, report_id).hidden_at = __import__("app.models.base", fromlist=["utcnow"]).utcnow()
        db.session.commit()
    page = client.get(f"/reports/{report_id}")
    assert page.status_code == 200 and "data-moderation-notice" in page.text  # a placeholder, not a 404
    assert "Lampione spento" not in page.text
    assert "Lampione spento" not in client.get("/reports").text
    assert client.get("/reports/999999").status_code == 404


def test_placing_a_report_with_a_photo(app, client, make_user, login_as, city):
    user = login_as(make_user())
    response = client.post("/reports/new", data={
        "category_id": str(city["illuminazione"]), "title": "Lampione spento in via Nizza",
        "description": "Spento da giorni.", "lat": str(NIZZA[0]), "lon": str(NIZZA[1]), "district_id": "0",
        "address": "via Nizza 120", "photos": [(io.BytesIO(_jpeg_bytes()), "lampione.jpg")],
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        report = db.session.scalar(select(Report))
        assert report.reporter_id == user.id and report.district.number == 8 and report.address == "via Nizza 120"
        photo = db.session.scalar(select(Photo))
        assert (photo.owner_type, photo.owner_id) == ("report", report.id)
        assert response.headers["Location"] == f"/reports/{report.id}"


def test_a_hostile_photo_refuses_the_whole_report_with_a_message(app, client, make_user, login_as, city):
    login_as(make_user())
    response = client.post("/reports/new?lang=en", data={
        "category_id": str(city["illuminazione"]), "title": "Lampione", "description": "Spento.",
        "lat": str(NIZZA[0]), "lon": str(NIZZA[1]), "district_id": "0",
        "photos": [(io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
                    "photo.jpg")],
    }, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "not a photo we can accept" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 0
        assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_already_reported_is_offered_before_saving_a_duplicate(app, client, make_user, login_as, city):
    existing = _report(app, make_user(), city, title="Lampione già segnalato")
    login_as(make_user())
    form = {"category_id": str(city["illuminazione"]), "title": "Lampione", "description": "Spento.",
            "lat": str(NIZZA[0] + 0.0005), "lon": str(NIZZA[1]), "district_id": "0"}
    page = client.post("/reports/new?lang=en", data=form)
    assert page.status_code == 200
    assert "Already reported?" in page.text and f"/reports/{existing}" in page.text
    assert 'name="confirmed_new" type="hidden" value="1"' in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 1
    response = client.post("/reports/new", data={**form, "confirmed_new": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 2


def test_outside_the_city_is_refused_with_a_clear_message(app, client, make_user, login_as, city):
    login_as(make_user())
    page = client.post("/reports/new?lang=en", data={
        "category_id": str(city["illuminazione"]), "title": "Lampione", "description": "Spento.",
        "lat": "45.3", "lon": "7.9", "district_id": "0"})
    assert "outside the city of Turin" in page.text


def test_reporting_by_district_without_the_map(app, client, make_user, login_as, city):
    login_as(make_user())
    with app.app_context():
        from app.models import District

        district = db.session.scalar(select(District).where(District.number == 5))
        district_id = district.id
    response = client.post("/reports/new", data={
        "category_id": str(city["rifiuti"]), "title": "Rifiuti", "description": "Sacchi abbandonati.",
        "lat": "", "lon": "", "district_id": str(district_id), "address": "Piazza Montale"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Report)).district_id == district_id


def test_nearby_json_lists_open_reports_of_the_category(app, client, make_user, city):
    report_id = _report(app, make_user(), city)
    data = client.get(f"/reports/nearby.json?category={city['illuminazione']}&lat={NIZZA[0]}&lon={NIZZA[1]}").get_json()
    assert data["radius_m"] == 250 and data["reports"][0]["id"] == report_id
    assert client.get("/reports/nearby.json?category=1").status_code == 400


def test_official_moves_a_report_and_the_reporter_is_notified(app, client, make_user, login_as, city, official):
    reporter = make_user()
    report_id = _report(app, reporter, city)
    login_as(official)
    assert "Office actions" in client.get(f"/reports/{report_id}?lang=en").text
    response = client.post(f"/reports/{report_id}/status", data={"st-status": "acknowledged", "st-note": "Visto."})
    assert response.status_code == 302
    assert refetch(app, Report, report_id).status == S.acknowledged
    with app.app_context():
        assert db.session.scalar(select(Notification.user_id).where(
            Notification.kind == "report.status_changed")) == reporter.id


def test_an_illegal_move_over_http_changes_nothing_and_says_why(app, client, make_user, login_as, city, official):
    report_id = _report(app, make_user(), city)
    login_as(official)
    page = client.post(f"/reports/{report_id}/status", data={"st-status": "closed"}, follow_redirects=True,
                       headers={"Accept-Language": "en"})
    assert "cannot become" in page.text
    assert refetch(app, Report, report_id).status == S.new


def test_officials_of_other_departments_and_citizens_cannot_act(app, client, make_user, login_as, city):
    report_id = _report(app, make_user(), city)
    login_as(make_user(roles=[Role.official]))  # no department
    client.post(f"/reports/{report_id}/status", data={"st-status": "acknowledged"})
    assert refetch(app, Report, report_id).status == S.new
    citizen_client = app.test_client()
    from tests.conftest import login

    login(citizen_client, make_user())
    assert citizen_client.post(f"/reports/{report_id}/status", data={"st-status": "acknowledged"}).status_code == 403


def test_reporter_answers_is_it_fixed(app, client, make_user, login_as, city, official):
    reporter = make_user()
    report_id = _report(app, reporter, city)
    with app.app_context():
        report = db.session.get(Report, report_id)
        off = db.session.get(User, official.id)
        for step in (S.acknowledged, S.in_progress, S.resolved):
            services.change_status(report, off, step)
        db.session.commit()
    login_as(reporter)
    assert "Is it really fixed?" in client.get(f"/reports/{report_id}?lang=en").text
    client.post(f"/reports/{report_id}/fixed", data={"answer": "no"})
    assert refetch(app, Report, report_id).status == S.acknowledged


def test_flagging_a_report(app, client, make_user, login_as, city):
    report_id = _report(app, make_user(), city)
    login_as(make_user())
    client.post(f"/reports/{report_id}/flag", data={"fl-reason": "spam"})
    client.post(f"/reports/{report_id}/flag", data={"fl-reason": "offensive"})
    with app.app_context():
        assert [f.reason for f in db.session.scalars(select(Flag))] == ["offensive"]


def test_triage_queue_and_bulk_acknowledge(app, client, make_user, login_as, city, official):
    ids = [_report(app, make_user(), city, title=f"Lampione {n}") for n in range(3)]
    login_as(official)
    page = client.get("/staff/reports?lang=en")
    assert all(f"Lampione {n}" in page.text for n in range(3))
    client.post("/staff/reports/acknowledge", data={"report_id": [str(i) for i in ids[:2]]})
    assert [refetch(app, Report, i).status for i in ids] == [S.acknowledged, S.acknowledged, S.new]


def test_assign_and_note(app, client, make_user, login_as, city, official):
    report_id = _report(app, make_user(), city)
    login_as(official)
    client.post(f"/reports/{report_id}/assign", data={"as-assignee": str(official.id)})
    client.post(f"/reports/{report_id}/note", data={"no-note": "Sopralluogo fatto."})
    report = refetch(app, Report, report_id)
    assert report.assigned_to_id == official.id
    assert "Sopralluogo fatto." in client.get(f"/reports/{report_id}").text


@pytest.mark.parametrize("path", ["/reports/99999999999999999999", "/api/v1/reports/99999999999999999999",
                                  "/open311/v2/requests/99999999999999999999.json"])
def test_huge_ids_are_not_found_not_errors(client, path):
    assert client.get(path).status_code == 404


def test_huge_or_odd_filters_are_ignored(client, city):
    assert client.get("/reports?category=99999999999999999999&district=-1").status_code == 200
    assert client.get("/reports?layers=x&endpoint=y&_external=1&_anchor=z").status_code == 200


def test_photos_of_hidden_reports_are_not_served(app, client, make_user, login_as, city):
    from app.models.base import utcnow

    login_as(make_user())
    client.post("/reports/new", data={
        "category_id": str(city["illuminazione"]), "title": "Lampione", "description": "Spento.",
        "lat": str(NIZZA[0]), "lon": str(NIZZA[1]), "district_id": "0", "confirmed_new": "1",
        "photos": [(io.BytesIO(_jpeg_bytes()), "a.jpg")]}, content_type="multipart/form-data")
    with app.app_context():
        photo = db.session.scalar(select(Photo))
        key = photo.storage_key
    response = client.get(f"/media/{key}")
    assert response.status_code == 200 and response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    with app.app_context():
        db.session.scalar(select(Report)).hidden_at = utcnow()
        db.session.commit()
    assert client.get(f"/media/{key}").status_code == 404


def test_control_characters_never_reach_the_stored_text(app, make_user, city):
    reporter = make_user()
    with app.app_context():
        report = services.create_report(db.session.get(User, reporter.id), title="Lamp\x0bione",
                                        description="Spento\x00 da\x1f giorni.\nDavvero.",
                                        category_id=city["illuminazione"], lat=NIZZA[0], lon=NIZZA[1])
        assert report.title == "Lampione" and report.description == "Spento da giorni.\nDavvero."


def test_unrouted_reports_reach_every_officials_queue(app, client, make_user, login_as, city, official):
    with app.app_context():
        category = db.session.get(Category, city["cultura"])
        category.department_id = None
        db.session.commit()
        report = services.create_report(db.session.get(User, make_user().id), title="Bacheca rotta",
                                        description="Vetro rotto.", category_id=city["cultura"],
                                        lat=NIZZA[0], lon=NIZZA[1])
        db.session.commit()
        assert report.department_id is None
    login_as(official)
    assert "Bacheca rotta" in client.get("/staff/reports").text


def test_public_api_reads_allow_other_origins(client):
    assert client.get("/api/v1/reports").headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/reports").headers


def test_the_already_reported_step_offers_to_follow_the_existing_report(app, client, make_user, login_as, city):
    from app.models import Follow

    existing = _report(app, make_user(), city)
    user = login_as(make_user())
    page = client.post("/reports/new?lang=en", data={
        "category_id": str(city["illuminazione"]), "title": "Lampione", "description": "Spento.",
        "lat": str(NIZZA[0]), "lon": str(NIZZA[1]), "district_id": "0"})
    assert f'action="/follow/report/{existing}"' in page.text and "Follow this one instead" in page.text
    response = client.post(f"/follow/report/{existing}", data={"next": f"/reports/{existing}"})
    assert response.headers["Location"] == f"/reports/{existing}"
    with app.app_context():
        assert db.session.scalar(select(Follow).where(Follow.user_id == user.id)).target_id == existing
