"""JSON API v1 reports: listReports (filters, keyset pagination), getReport, createReport with bearer tokens."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.account import services as account_services
from app.api.tokens import issue_token
from app.extensions import db
from app.models import ApiToken, Category, Department, Report, ReportStatus, Role, User
from app.models.base import utcnow
from app.reports import services as reports
from app.seed.demo import seed_places
from tests.conftest import TEST_PASSWORD, login

S = ReportStatus
NIZZA = (45.0450, 7.6780)          # district 8
CASTELLO = (45.0712, 7.6857)       # Piazza Castello, district 1
OUTSIDE = (45.2000, 7.9000)
REPORT_FIELDS = {"id", "title", "description", "status", "status_group", "category", "district", "department",
                 "lat", "lon", "address", "reporter_name", "source", "created_at", "updated_at", "url", "updates"}


@pytest.fixture
def city(app):
    """Districts, departments and categories of the demo: {slug: category id}."""
    with app.app_context():
        seed_places()
        db.session.commit()
        from app import geo

        geo.clear_cache()
        return {c.slug: c.id for c in db.session.scalars(select(Category))}


@pytest.fixture
def reporter(city, make_user):
    """A citizen, in a city with districts and categories."""
    return make_user(display_name="Rosa Bianchi", email="rosa@example.org")


def place(app, user, city, category="illuminazione", point=NIZZA, status=None, hidden=False, **kwargs):
    """A report with its status and visibility set directly; returns its id."""
    with app.app_context():
        report = reports.create_report(db.session.get(User, user.id), title=kwargs.pop("title", "Lampione spento"),
                                       description="Il lampione è spento da giorni.", category_id=city[category],
                                       lat=point[0], lon=point[1], **kwargs)
        if status is not None:
            report.status = status
        if hidden:
            report.hidden_at = utcnow()
        db.session.commit()
        return report.id


def token_for(app, user, **columns):
    """A bearer token of ``user`` (columns such as expires_at or revoked_at set on it); returns the secret."""
    with app.app_context():
        token, secret = issue_token(db.session.get(User, user.id), "test")
        for name, value in columns.items():
            setattr(token, name, value)
        db.session.commit()
    return secret


def bearer(secret):
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


NEW_REPORT = {"title": "Buca in via Nizza", "description": "Una buca profonda davanti al civico 120.",
              "category": "buche-strade", "lat": NIZZA[0], "lon": NIZZA[1], "address": "Via Nizza 120"}


# --- getReport ------------------------------------------------------------------------------

def test_a_report_shows_its_public_facts_and_no_personal_data(client, app, city, reporter, make_user):
    report_id = place(app, reporter, city, address="Via Nizza 120")
    official = make_user(roles=[Role.official], display_name="Ufficiale Verdi", email="verdi@torino.example")
    with app.test_request_context():  # notifications link to the report page
        db.session.get(User, official.id).departments = [
            db.session.scalar(select(Department).where(Department.slug == "illuminazione"))]
        report = db.session.get(Report, report_id)
        reports.change_status(report, db.session.get(User, official.id), S.acknowledged, "Preso in carico.")
        db.session.commit()
    response = client.get(f"/api/v1/reports/{report_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == REPORT_FIELDS
    assert body["status"] == "acknowledged" and body["status_group"] == "open"
    assert body["category"] == {"slug": "illuminazione", "name_it": "Illuminazione pubblica",
                                "name_en": "Street lighting"}
    assert body["district"]["number"] == 8 and body["department"]["slug"] == "illuminazione"
    assert (body["lat"], body["lon"], body["address"]) == (*NIZZA, "Via Nizza 120")
    assert body["reporter_name"] == "Rosa Bianchi" and body["source"] == "web"
    assert body["url"] == app.config["BASE_URL"].rstrip("/") + f"/reports/{report_id}"
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert [(u["kind"], u["from_status"], u["to_status"], u["note"]) for u in body["updates"]] == [
        ("created", None, "new", None), ("status", "new", "acknowledged", "Preso in carico.")]
    assert all(set(u) == {"kind", "from_status", "to_status", "note", "created_at"} for u in body["updates"])
    text = json.dumps(body)
    for private in ("rosa@example.org", "verdi@torino.example", "Ufficiale Verdi"):
        assert private not in text


def test_a_deleted_reporter_is_not_named(client, app, city, reporter):
    report_id = place(app, reporter, city)
    with app.app_context():
        account_services.delete_account(db.session.get(User, reporter.id), TEST_PASSWORD)
        db.session.commit()
    assert client.get(f"/api/v1/reports/{report_id}").get_json()["reporter_name"] is None


@pytest.mark.parametrize("hidden", [True, False])
def test_missing_and_hidden_reports_are_json_404s(client, app, city, reporter, hidden):
    report_id = place(app, reporter, city, hidden=True) if hidden else 999999
    response = client.get(f"/api/v1/reports/{report_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


# --- listReports --------------------------------------------------------------------------------

def ids_of(response):
    """The sorted report ids of a successful listReports page."""
    assert response.status_code == 200, response.data
    return sorted(item["id"] for item in response.get_json()["items"])


def test_list_filters_by_status_group_category_district_and_bbox(client, app, city, reporter):
    lamp = place(app, reporter, city)
    fixed = place(app, reporter, city, category="rifiuti", status=S.resolved)
    closed = place(app, reporter, city, status=S.rejected, point=CASTELLO)
    castle = place(app, reporter, city, category="rifiuti", point=CASTELLO)
    hidden = place(app, reporter, city, hidden=True)
    assert hidden not in ids_of(client.get("/api/v1/reports"))
    assert ids_of(client.get("/api/v1/reports")) == sorted([lamp, fixed, closed, castle])
    assert ids_of(client.get("/api/v1/reports?status=open")) == sorted([lamp, castle])
    assert ids_of(client.get("/api/v1/reports?status=fixed")) == [fixed]
    assert ids_of(client.get("/api/v1/reports?status=closed")) == [closed]
    assert ids_of(client.get("/api/v1/reports?category=rifiuti")) == sorted([fixed, castle])
    with app.app_context():
        castle_district = db.session.get(Report, castle).district.number
    assert ids_of(client.get(f"/api/v1/reports?district={castle_district}")) == sorted([closed, castle])
    assert ids_of(client.get("/api/v1/reports?bbox=7.68,45.06,7.69,45.08")) == sorted([closed, castle])
    assert ids_of(client.get("/api/v1/reports?bbox=7.68,45.06,7.69,45.08&status=open&category=rifiuti")) \
        == [castle]


@pytest.mark.parametrize("query, field", [
    ("status=hidden", "status"),
    ("category=no-such-category", "category"),
    ("district=99", "district"),
    ("district=first", "district"),
    ("bbox=7.6,45.0,7.7", "bbox"),
    ("bbox=7.7,45.1,7.6,45.0", "bbox"),
    ("limit=0", "limit"),
    ("limit=many", "limit"),
    ("cursor=not-a-cursor", "cursor"),
])
def test_bad_list_parameters_are_400s_naming_the_parameter(client, city, query, field):
    response = client.get(f"/api/v1/reports?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["field"] == field and error["message"]


def test_keyset_pagination_visits_every_report_once_in_order(client, app, city, reporter):
    ids = [place(app, reporter, city, title=f"Report {n}") for n in range(23)]
    with app.app_context():
        # Several reports created in the same instant: the id breaks the tie.
        same = utcnow() - timedelta(hours=1)
        for report_id in ids[5:12]:
            db.session.get(Report, report_id).created_at = same
        db.session.commit()
        expected = [r.id for r in db.session.scalars(select(Report).order_by(Report.created_at.desc(),
                                                                            Report.id.desc()))]
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get("/api/v1/reports", query_string={"limit": 4, **({"cursor": cursor} if cursor else {})})
        body = response.get_json()
        assert len(body["items"]) <= 4
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and pages == 6


def test_a_new_report_does_not_shift_the_next_page(client, app, city, reporter):
    ids = [place(app, reporter, city) for _ in range(4)]
    first = client.get("/api/v1/reports?limit=2").get_json()
    place(app, reporter, city)  # arrives between two page loads
    second = client.get(f"/api/v1/reports?limit=2&cursor={first['next_cursor']}").get_json()
    assert [i["id"] for i in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


def test_limit_is_capped_at_100(client, app, city, reporter):
    with app.app_context():
        user = db.session.get(User, reporter.id)
        for _ in range(101):
            reports.create_report(user, title="Buca", description="Buca.", category_id=city["buche-strade"],
                                  lat=NIZZA[0], lon=NIZZA[1])
        db.session.commit()
    body = client.get("/api/v1/reports?limit=500").get_json()
    assert len(body["items"]) == 100 and body["next_cursor"] is not None
    assert len(client.get("/api/v1/reports").get_json()["items"]) == 20


# --- createReport ---------------------------------------------------------------------------------

def test_a_citizen_with_a_token_creates_a_report(client, app, city, reporter):
    response = client.post("/api/v1/reports", json=NEW_REPORT, headers=bearer(token_for(app, reporter)))
    assert response.status_code == 201, response.data
    body = response.get_json()
    assert response.headers["Location"] == app.config["BASE_URL"].rstrip("/") + f"/api/v1/reports/{body['id']}"
    assert body["title"] == NEW_REPORT["title"] and body["status"] == "new" and body["district"]["number"] == 8
    assert body["department"]["slug"] == "suolo-pubblico" and body["source"] == "api"
    with app.app_context():
        report = db.session.get(Report, body["id"])
        assert report.reporter_id == reporter.id and report.address == "Via Nizza 120"
    assert client.get(response.headers["Location"].split("127.0.0.1:5000")[-1]).status_code == 200


def _refused(response, status):
    """A JSON error with ``status``."""
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    assert set(response.get_json()["error"]) >= {"code", "message"}


def test_creating_without_a_token_is_a_401_with_a_bearer_challenge(client, app, city):
    response = client.post("/api/v1/reports", json=NEW_REPORT)
    _refused(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_does_not_authorise_api_writes(client, app, city, reporter):
    login(client, reporter)
    assert client.get("/account/").status_code == 200  # signed in for the site...
    _refused(client.post("/api/v1/reports", json=NEW_REPORT), 401)  # ...but not for the API
    with app.app_context():
        assert db.session.scalar(select(Report.id)) is None


@pytest.mark.parametrize("kind", ["revoked", "expired", "unknown", "other scheme", "empty"])
def test_unusable_tokens_are_401s(client, app, city, reporter, kind):
    if kind == "revoked":
        headers = bearer(token_for(app, reporter, revoked_at=utcnow()))
    elif kind == "expired":
        headers = bearer(token_for(app, reporter, expires_at=utcnow() - timedelta(seconds=1)))
    elif kind == "unknown":
        headers = bearer("pzt_" + "x" * 43)
    elif kind == "other scheme":
        headers = {"Authorization": f"Basic {token_for(app, reporter)}"}
    else:
        headers = {"Authorization": "Bearer "}
    _refused(client.post("/api/v1/reports", json=NEW_REPORT, headers=headers), 401)


def test_a_blocked_users_token_stops_working(client, app, city, reporter):
    secret = token_for(app, reporter)
    with app.app_context():
        db.session.get(User, reporter.id).is_blocked = True
        db.session.commit()
    _refused(client.post("/api/v1/reports", json=NEW_REPORT, headers=bearer(secret)), 401)


def test_an_unconfirmed_users_token_is_refused_with_403(client, app, city, make_user):
    secret = token_for(app, make_user(confirmed=False))
    _refused(client.post("/api/v1/reports", json=NEW_REPORT, headers=bearer(secret)), 403)


def test_staff_without_the_citizen_role_cannot_report(client, app, city, make_user):
    secret = token_for(app, make_user(roles=[Role.moderator]))
    _refused(client.post("/api/v1/reports", json=NEW_REPORT, headers=bearer(secret)), 403)


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("change, field", [
    ({"title": None}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 141}, "title"),
    ({"description": ""}, "description"),
    ({"description": 42}, "description"),
    ({"category": "no-such-category"}, "category"),
    ({"category": None}, "category"),
    ({"lat": "45.04"}, "lat"),
    ({"lon": True}, "lon"),
    ({"lat": 95.0}, "location"),
    ({"lat": OUTSIDE[0], "lon": OUTSIDE[1]}, "location"),
    ({"address": ["Via Nizza"]}, "address"),
])
def test_invalid_reports_are_422s_naming_the_field(client, app, city, reporter, change, field, language):
    body = {k: v for k, v in {**NEW_REPORT, **change}.items() if v is not None}
    response = client.post("/api/v1/reports", json=body, headers={**bearer(token_for(app, reporter)),
                                                                  "Accept-Language": language})
    assert response.status_code == 422, response.data
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["field"] == field and error["message"]
    with app.app_context():
        assert db.session.scalar(select(Report.id)) is None


@pytest.mark.parametrize("data", ["not json", "[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_a_400(client, app, city, reporter, data):
    response = client.post("/api/v1/reports", data=data, content_type="application/json",
                           headers=bearer(token_for(app, reporter)))
    _refused(response, 400)


def test_using_a_token_records_it_at_most_once_a_minute(client, app, city, reporter):
    secret = token_for(app, reporter)
    client.post("/api/v1/reports", json=NEW_REPORT, headers=bearer(secret))
    with app.app_context():
        first = db.session.scalar(select(ApiToken.last_used_at))
    assert first is not None
    client.post("/api/v1/reports", json={**NEW_REPORT, "title": "x" * 200}, headers=bearer(secret))
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) == first
        db.session.scalar(select(ApiToken)).last_used_at = first - timedelta(minutes=2)
        db.session.commit()
    # Recorded even when the request itself then fails.
    client.post("/api/v1/reports", json={**NEW_REPORT, "title": "x" * 200}, headers=bearer(secret))
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) > first


# --- the OpenAPI document -------------------------------------------------------------------------

def test_the_openapi_document_describes_the_report_and_token_operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    operations = {op["operationId"]: (path, method, op) for path, ops in doc["paths"].items()
                  for method, op in ops.items()}
    for operation_id in ("createToken", "listReports", "getReport", "createReport"):
        assert operation_id in operations
    path, method, create = operations["createReport"]
    assert (path, method) == ("/reports", "post")
    assert create["security"] == [{"bearerAuth": []}]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NewReport"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Report"
    for status in ("401", "403"):
        assert create["responses"][status] == {"$ref": "#/components/responses/Error"}
    assert operations["getReport"][0] == "/reports/{report_id}"
    assert operations["getReport"][2]["responses"]["404"] == {"$ref": "#/components/responses/Error"}
    assert operations["createToken"][2]["responses"]["401"] == {"$ref": "#/components/responses/Error"}
    listing = operations["listReports"][2]
    assert {p["name"] for p in listing["parameters"]} == {"status", "category", "district", "bbox", "limit", "cursor"}
    schemas = doc["components"]["schemas"]
    for name in ("Report", "ReportList", "ReportUpdate", "NewReport", "Token", "TokenRequest", "ValidationError"):
        assert name in schemas
    assert "email" not in json.dumps(schemas["Report"])
    for ref in refs_in(doc):
        _hash, _components, kind, name = ref.split("/")
        assert name in doc["components"][kind], f"{ref} does not resolve"


def refs_in(node):
    """Every "$ref" value anywhere in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)

