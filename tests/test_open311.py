"""Open311 GeoReport v2: discovery, services, requests (filters, status mapping, dates), POST with keys, errors.

Every XML answer is parsed with defusedxml and checked against the spec's element names.
"""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from defusedxml import ElementTree as SafeET
from sqlalchemy import func, select

from app import create_app
from app.extensions import db, limiter
from app.models import ApiKey, AuditEvent, Category, Photo, Report, ReportStatus, User
from app.models.api import secret_hash
from app.models.base import utcnow
from app.open311 import services as open311
from app.reports import services as reports
from app.seed.demo import seed_places
from tests.conftest import make_config

S = ReportStatus
NIZZA = (45.0450, 7.6780)
OUTSIDE = (45.2000, 7.9000)
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def other_app(database_url, tmp_path, **config):
    """Another app on the test database, with different settings."""
    return create_app(make_config(database_url, tmp_path, **config))


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
    return make_user(display_name="Rosa Bianchi")


def place(app, user, city, category="illuminazione", point=NIZZA, status=None, created_days_ago=None,
          hidden=False, note=None, **kwargs):
    """A report, with its status, age, visibility and a note set directly; returns its id."""
    with app.app_context():
        report = reports.create_report(db.session.get(User, user.id), title=kwargs.pop("title", "Lampione spento"),
                                       description=kwargs.pop("description", "Il lampione è spento da giorni."),
                                       category_id=city[category], lat=point[0], lon=point[1], **kwargs)
        if status is not None:
            report.status = status
        if created_days_ago is not None:
            report.created_at = utcnow() - timedelta(days=created_days_ago)
        if hidden:
            report.hidden_at = utcnow()
        if note:
            from app.models import ReportUpdate

            report.updates.append(ReportUpdate(kind="note", note=note))
        db.session.commit()
        return report.id


@pytest.fixture
def key(app, city, make_user):
    """An API key of a confirmed citizen: (secret, owner)."""
    owner = make_user(display_name="App Segnala Torino")
    with app.app_context():
        _key, secret = open311.create_api_key("segnala-app", db.session.get(User, owner.id))
        db.session.commit()
    return secret, owner


def xml_of(response):
    """The response parsed safely, after checking the spec's declaration and content type."""
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return SafeET.fromstring(response.data)


def json_of(response):
    """The response parsed as JSON, after checking its content type."""
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.data)


def assert_spec_error(response, status, fmt="json", says=None):
    """The spec's error document with ``status`` in the HTTP status and in the body."""
    assert response.status_code == status, response.data
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors"
        errors = root.findall("error")
        assert len(errors) == 1 and [c.tag for c in errors[0]] == ["code", "description"]
        assert errors[0].findtext("code") == str(status)
        description = errors[0].findtext("description")
    else:
        body = json_of(response)
        assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
        assert body[0]["code"] == status
        description = body[0]["description"]
    assert description
    if says:
        assert says in description, description


def post_request(client, secret, fmt="json", **fields):
    """POST a valid service request with ``secret``; ``fields`` override it (None leaves a field out)."""
    data = {"api_key": secret, "service_code": "illuminazione", "lat": str(NIZZA[0]), "long": str(NIZZA[1]),
            "description": "Lampione spento davanti al civico 120 di via Nizza, da una settimana."}
    data.update(fields)
    return client.post(f"/open311/v2/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


# --- discovery and services ---------------------------------------------------------------------

def test_discovery_in_json_names_the_spec_the_url_and_both_formats(client, app):
    body = json_of(client.get("/open311/v2/discovery.json"))
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": app.config["BASE_URL"].rstrip("/") + "/open311/v2",
                        "changeset": body["changeset"], "type": "production",
                        "formats": ["text/xml", "application/json"]}
    assert datetime.fromisoformat(body["changeset"]).tzinfo is not None


def test_discovery_in_xml_has_the_spec_elements(client):
    root = xml_of(client.get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert [c.tag for c in endpoint] == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"


def test_services_are_the_categories_in_italian_by_default(client, city):
    body = json_of(client.get("/open311/v2/services.json"))
    assert sorted(s["service_code"] for s in body) == sorted(city)
    lighting = next(s for s in body if s["service_code"] == "illuminazione")
    assert list(lighting) == SERVICE_FIELDS
    assert lighting["service_name"] == "Illuminazione pubblica"
    assert lighting["group"] == "Illuminazione Pubblica"
    assert lighting["metadata"] is False and lighting["type"] == "realtime"
    assert "street lighting" in lighting["keywords"]


@pytest.mark.parametrize("query", ["lang=en", "locale=en", "locale=en_GB"])
def test_services_in_english_on_request(client, city, query):
    body = json_of(client.get(f"/open311/v2/services.json?{query}"))
    lighting = next(s for s in body if s["service_code"] == "illuminazione")
    assert lighting["service_name"] == "Street lighting" and lighting["group"] == "Street Lighting"


def test_services_in_xml(client, city):
    root = xml_of(client.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(city)
    assert [c.tag for c in services[0]] == SERVICE_FIELDS
    assert {s.findtext("metadata") for s in services} == {"false"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_service_definition_has_no_attributes(client, city, fmt):
    response = client.get(f"/open311/v2/services/rifiuti.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert json_of(response) == {"service_code": "rifiuti", "attributes": []}
    else:
        root = xml_of(response)
        assert root.tag == "service_definition"
        assert [c.tag for c in root] == ["service_code", "attributes"] and len(root.find("attributes")) == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_definition_is_a_spec_404(client, city, fmt):
    assert_spec_error(client.get(f"/open311/v2/services/no-such-thing.{fmt}"), 404, fmt)


# --- reading requests -------------------------------------------------------------------------------

def test_requests_in_json_have_exactly_the_spec_fields(client, app, city, reporter):
    report_id = place(app, reporter, city, address="Via Nizza 120", note="Segnalato al tecnico di zona.")
    (item,) = json_of(client.get("/open311/v2/requests.json"))
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == report_id
    assert item["status"] == "open"
    assert item["status_notes"] == "Segnalato al tecnico di zona."
    assert item["service_code"] == "illuminazione" and item["service_name"] == "Illuminazione pubblica"
    assert item["agency_responsible"] == "Illuminazione Pubblica"
    assert item["address"] == "Via Nizza 120"
    assert (item["lat"], item["long"]) == NIZZA
    assert item["media_url"] is None and item["expected_datetime"] is None
    requested = datetime.fromisoformat(item["requested_datetime"])
    assert requested.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Europe/Rome
    assert abs(requested - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert "Rosa" not in json.dumps(item)  # the reporter is never named


def test_requests_in_xml_have_the_spec_elements(client, app, city, reporter):
    place(app, reporter, city)
    root = xml_of(client.get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [c.tag for c in request] == REQUEST_FIELDS
    assert request.findtext("status") == "open"
    assert request.findtext("media_url") in ("", None)


@pytest.mark.parametrize("status", list(S))
def test_each_report_status_maps_to_open_or_closed_like_fixmystreet(client, app, city, reporter, status):
    report_id = place(app, reporter, city, status=status)
    expected = "open" if status in (S.new, S.acknowledged, S.in_progress) else "closed"
    other = "closed" if expected == "open" else "open"
    assert [r["status"] for r in json_of(client.get("/open311/v2/requests.json"))] == [expected]
    assert [r["service_request_id"] for r in json_of(client.get(f"/open311/v2/requests.json?status={expected}"))] \
        == [report_id]
    assert json_of(client.get(f"/open311/v2/requests.json?status={other}")) == []
    assert len(json_of(client.get("/open311/v2/requests.json?status=open,closed"))) == 1


def test_requests_by_ids_override_the_other_filters(client, app, city, reporter):
    first = place(app, reporter, city)
    second = place(app, reporter, city, category="rifiuti", created_days_ago=200)
    place(app, reporter, city)
    body = json_of(client.get(f"/open311/v2/requests.json?service_request_id={first},{second}&status=closed"))
    assert sorted(r["service_request_id"] for r in body) == sorted([first, second])


def test_requests_by_service_code(client, app, city, reporter):
    lamp = place(app, reporter, city)
    rubbish = place(app, reporter, city, category="rifiuti")
    place(app, reporter, city, category="verde-alberi")
    body = json_of(client.get("/open311/v2/requests.json?service_code=illuminazione,rifiuti"))
    assert sorted(r["service_request_id"] for r in body) == sorted([lamp, rubbish])
    assert json_of(client.get("/open311/v2/requests.json?service_code=no-such-code")) == []


def test_requests_default_to_the_last_90_days_and_follow_a_date_range(client, app, city, reporter):
    recent = place(app, reporter, city, created_days_ago=10)
    old = place(app, reporter, city, created_days_ago=100)
    ancient = place(app, reporter, city, created_days_ago=400)
    ids = lambda r: sorted(i["service_request_id"] for i in json_of(r))  # noqa: E731
    assert ids(client.get("/open311/v2/requests.json")) == [recent]
    now = datetime.now(timezone.utc)
    start = (now - timedelta(days=150)).isoformat(timespec="seconds")
    end = (now - timedelta(days=50)).isoformat(timespec="seconds")
    assert ids(client.get(f"/open311/v2/requests.json?start_date={quote(start)}&end_date={quote(end)}")) == [old]
    assert ids(client.get(f"/open311/v2/requests.json?start_date={quote(start)}")) == sorted([recent, old])
    # An end date alone looks 90 days back from it.
    assert ids(client.get(f"/open311/v2/requests.json?end_date={quote(end)}")) == [old]
    # A "+01:00" offset sent without URL-encoding arrives as a space: still understood.
    local = (now - timedelta(days=500)).astimezone(open311.ZoneInfo("Europe/Rome")).isoformat(timespec="seconds")
    assert ids(client.get(f"/open311/v2/requests.json?start_date={local}")) == sorted([recent, old, ancient])
    # Dates without an offset are in the city's time zone; Z is UTC.
    assert ids(client.get("/open311/v2/requests.json?start_date=2000-01-01T00:00:00Z")) \
        == sorted([recent, old, ancient])


@pytest.mark.parametrize("query, says", [
    ("start_date=yesterday", "start_date"),
    ("end_date=2026-13-45", "end_date"),
    ("status=fixed", "status"),
    ("service_request_id=1,abc", "service_request_id"),
    ("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "start_date"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_request_parameters_are_spec_400s(client, city, query, says, fmt):
    assert_spec_error(client.get(f"/open311/v2/requests.{fmt}?{query}&lang=en"), 400, fmt, says=says)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_request_by_id(client, app, city, reporter, fmt):
    report_id = place(app, reporter, city, status=S.resolved)
    response = client.get(f"/open311/v2/requests/{report_id}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        (item,) = json_of(response)
        assert item["service_request_id"] == report_id and item["status"] == "closed"
    else:
        root = xml_of(response)
        assert root.tag == "service_requests"
        assert root.findtext("request/service_request_id") == str(report_id)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_hidden_reports_are_absent_from_lists_and_404_by_id(client, app, city, reporter, fmt):
    hidden = place(app, reporter, city, hidden=True)
    visible = place(app, reporter, city)
    listing = client.get(f"/open311/v2/requests.{fmt}?service_request_id={hidden},{visible}")
    if fmt == "json":
        assert [r["service_request_id"] for r in json_of(listing)] == [visible]
    else:
        assert [e.text for e in xml_of(listing).findall("request/service_request_id")] == [str(visible)]
    assert_spec_error(client.get(f"/open311/v2/requests/{hidden}.{fmt}"), 404, fmt)
    assert_spec_error(client.get(f"/open311/v2/requests/999999.{fmt}"), 404, fmt)


def test_media_url_is_the_first_visible_photo(client, app, city, reporter):
    report_id = place(app, reporter, city)
    with app.app_context():
        for position, key, hidden in ((0, "hidden-first.jpg", True), (1, "second.jpg", False),
                                      (2, "third.jpg", False)):
            db.session.add(Photo(owner_type="report", owner_id=report_id, position=position, storage_key=key,
                                 thumb_key="t-" + key, width=10, height=10, thumb_width=5, thumb_height=5,
                                 size_bytes=100, hidden_at=utcnow() if hidden else None))
        db.session.commit()
    (item,) = json_of(client.get(f"/open311/v2/requests/{report_id}.json"))
    assert item["media_url"] == app.config["BASE_URL"].rstrip("/") + "/media/second.jpg"
    (listed,) = json_of(client.get("/open311/v2/requests.json"))
    assert listed["media_url"] == item["media_url"]


# --- posting requests -------------------------------------------------------------------------------

def test_a_post_with_a_valid_key_places_a_report_for_the_keys_owner(client, app, city, key):
    secret, owner = key
    long_text = "Lampione spento davanti al civico 120 di via Nizza,\nda una settimana. " * 3
    response = post_request(client, secret, description=long_text, email="mario@example.org",
                            first_name="Mario", last_name="Rossi", phone="+39 011 555 1234",
                            address_string="Via Nizza 120")
    assert response.status_code == 201
    (body,) = json_of(response)
    assert list(body) == ["service_request_id", "service_notice", "account_id"]
    assert "Illuminazione Pubblica" in body["service_notice"] and body["account_id"] is None
    with app.app_context():
        report = db.session.get(Report, body["service_request_id"])
        assert report.reporter_id == owner.id and report.source == "open311"
        assert report.title == " ".join(long_text.split())[:80].strip() and len(report.title) <= 80
        assert report.description == long_text.strip()
        assert report.address == "Via Nizza 120"
        # The submitter's personal data is not stored anywhere.
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "mario@example.org")) == 0
        assert "Rossi" not in report.description and "555" not in (report.address or "")
        assert db.session.scalar(select(ApiKey).where(ApiKey.name == "segnala-app")).last_used_at is not None


def test_a_post_answers_in_xml_too(client, city, key):
    response = post_request(client, key[0], fmt="xml")
    assert response.status_code == 201
    root = xml_of(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
    assert request.findtext("service_request_id").isdigit()


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("secret", [None, "", "pzk_not-a-real-key", "revoked"])
def test_a_post_without_a_valid_key_is_a_spec_403(client, app, city, key, secret, fmt):
    if secret == "revoked":
        with app.app_context():
            open311.revoke_api_key("segnala-app")
            db.session.commit()
        secret = key[0]
    assert_spec_error(post_request(client, secret, fmt=fmt), 403, fmt)
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 0


def test_a_key_whose_owner_was_blocked_cannot_post(client, app, city, key):
    with app.app_context():
        db.session.get(User, key[1].id).is_blocked = True
        db.session.commit()
    assert_spec_error(post_request(client, key[0]), 403)


@pytest.mark.parametrize("fields, says", [
    ({"service_code": "no-such-code"}, "service_code"),
    ({"service_code": None}, "service_code"),
    ({"lat": str(OUTSIDE[0]), "long": str(OUTSIDE[1])}, "outside the city"),
    ({"lat": None, "long": None, "address_string": "Via Nizza 120"}, "lat/long required"),
    ({"lat": "nan", "long": "7.6"}, "lat/long required"),
    ({"description": "  "}, "description"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_post_that_cannot_be_placed_is_a_spec_400(client, app, city, key, fields, says, fmt):
    response = post_request(client, key[0], fmt=fmt, lang="en", **fields)
    assert_spec_error(response, 400, fmt, says=says)
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 0


def test_posting_needs_no_csrf_token(app, database_url, tmp_path, city, key):
    protected = other_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    response = post_request(client, key[0])
    assert response.status_code == 201, response.data
    # Errors of the exempt endpoint keep the spec's shape.
    assert_spec_error(post_request(client, "pzk_wrong", fmt="xml"), 403, "xml")
    with protected.app_context():
        db.engine.dispose()


def test_posting_is_rate_limited_per_address_in_the_spec_format(app, database_url, tmp_path, city, key):
    limited = other_app(database_url, tmp_path, RATELIMIT_ENABLED=True, OPEN311_POST_LIMIT="2 per minute")
    limiter.reset()
    try:
        client = limited.test_client()
        for _ in range(2):
            assert post_request(client, "pzk_wrong").status_code == 403
        assert_spec_error(post_request(client, "pzk_wrong"), 429)
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        assert post_request(other, "pzk_wrong").status_code == 403
        # Reading is not limited.
        assert client.get("/open311/v2/discovery.json").status_code == 200
    finally:
        limiter.reset()
        with limited.app_context():
            db.engine.dispose()


# --- addresses and methods that do not exist ------------------------------------------------------

@pytest.mark.parametrize("path, fmt", [("/open311/v2/nothing.xml", "xml"), ("/open311/v2/nothing", "json"),
                                       ("/open311/v2/requests/abc.json", "json"), ("/open311/v2/", "json")])
def test_unknown_addresses_under_open311_are_spec_404s(client, path, fmt):
    assert_spec_error(client.get(path), 404, fmt)


@pytest.mark.parametrize("method, path, allow", [
    ("post", "/open311/v2/discovery.json", "GET"),
    ("delete", "/open311/v2/requests.xml", "GET, POST"),
])
def test_a_wrong_method_is_a_spec_405_with_allow(client, method, path, allow):
    response = getattr(client, method)(path)
    assert_spec_error(response, 405, "xml" if path.endswith(".xml") else "json")
    assert response.headers["Allow"] == allow


# --- flask api-keys ---------------------------------------------------------------------------

def test_api_keys_create_prints_the_key_last_and_stores_only_its_hash(app, runner, city):
    result = runner.invoke(args=["api-keys", "create", "--name", "test"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("pzk_") and len(secret) > 40
    with app.app_context():
        key = db.session.scalar(select(ApiKey).where(ApiKey.name == "test"))
        assert key.key_hash == secret_hash(secret) and key.prefix == secret[:8]
        assert secret not in {key.key_hash, key.prefix, key.name}
        # Without --owner: a service account named after the key, able to report.
        owner = key.owner
        assert owner.email is None and owner.password_hash is None and owner.display_name == "test"
        assert owner.is_citizen and owner.is_active
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_key.created"))
        assert event.target_type == "api_key" and event.target_id == key.id
        assert event.details["service_account"] is True and secret not in json.dumps(event.details)


def test_a_key_from_the_command_line_can_post(app, runner, client, city):
    secret = runner.invoke(args=["api-keys", "create", "--name", "app"]).output.strip().splitlines()[-1]
    assert post_request(client, secret).status_code == 201


def test_api_keys_create_for_an_owner(app, runner, city, make_user):
    owner = make_user(email="partner@example.org")
    result = runner.invoke(args=["api-keys", "create", "--name", "partner", "--owner", "Partner@Example.org"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(ApiKey.owner_id).where(ApiKey.name == "partner")) == owner.id


@pytest.mark.parametrize("owner", ["nobody@example.org", "unconfirmed@example.org", "blocked@example.org"])
def test_api_keys_create_refuses_owners_who_cannot_report(app, runner, make_user, owner):
    make_user(email="unconfirmed@example.org", confirmed=False)
    make_user(email="blocked@example.org", is_blocked=True)
    result = runner.invoke(args=["api-keys", "create", "--name", "x", "--owner", owner])
    assert result.exit_code != 0 and "Error" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiKey.id))) == 0


def test_api_keys_names_are_unique(runner):
    assert runner.invoke(args=["api-keys", "create", "--name", "dup"]).exit_code == 0
    result = runner.invoke(args=["api-keys", "create", "--name", "dup"])
    assert result.exit_code != 0 and "dup" in result.output


def test_api_keys_list_and_revoke(app, runner, client, city, make_user):
    make_user(email="owner@example.org")
    secret = runner.invoke(args=["api-keys", "create", "--name", "alpha"]).output.strip().splitlines()[-1]
    runner.invoke(args=["api-keys", "create", "--name", "beta", "--owner", "owner@example.org"])
    listing = runner.invoke(args=["api-keys", "list"]).output.splitlines()
    assert [line.split("\t")[0] for line in listing] == ["alpha", "beta"]
    assert secret[:8] in listing[0] and "owner@example.org" in listing[1]
    assert all("active" in line and "last used -" in line for line in listing)
    assert secret not in "\n".join(listing)

    result = runner.invoke(args=["api-keys", "revoke", "alpha"])
    assert result.exit_code == 0 and "Revoked" in result.output
    assert "already revoked" in runner.invoke(args=["api-keys", "revoke", "alpha"]).output
    assert runner.invoke(args=["api-keys", "revoke", "nope"]).exit_code != 0
    assert "revoked" in runner.invoke(args=["api-keys", "list"]).output.splitlines()[0]
    assert_spec_error(post_request(client, secret), 403)
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions.count("api_key.revoked") == 1

