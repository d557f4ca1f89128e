"""JSON API v1: districts, categories, processes and houses; and what every API answer shares —
ETags and 304s, CORS on reads only, the per-token rate limit, the documentation page."""
import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db, limiter
from app.models.place import HouseHours, NeighbourhoodHouse
from app.models.proposal import Process, ProposalStatus
from app.seed.demo import seed_places
from tests.conftest import make_config
from tests.test_api_proposals import bearer, make_process, propose, token_for
from tests.test_proposals import DAY

P = ProposalStatus


@pytest.fixture
def author(make_user):
    return make_user(verified=True, display_name="Rosa Bianchi")


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        house = db.session.scalar(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.slug))
        house.phone, house.email = "011 123456", "info@casa.example.org"
        db.session.add(HouseHours(house_id=house.id, weekday=2, hours="9:00–13:00"))
        db.session.commit()
        return house.slug


def test_districts_come_by_number_without_their_outlines(client, city):
    items = client.get("/api/v1/districts").get_json()["items"]
    assert [d["number"] for d in items] == list(range(1, 9))
    assert set(items[0]) == {"number", "name"}


def test_categories_name_their_department(client, city):
    items = client.get("/api/v1/categories").get_json()["items"]
    assert items and all(c["department"] and c["department"]["slug"] for c in items)
    assert {"slug", "name_it", "name_en", "department"} == set(items[0])


def test_houses_carry_public_contacts_and_hours_but_never_their_facilitators(client, city, make_user):
    facilitator = make_user(roles=["facilitator"], email="facilitatrice.segreta@example.org",
                            display_name="Facilitatrice Segreta")
    with client.application.app_context():
        house = db.session.scalar(select(NeighbourhoodHouse).where(NeighbourhoodHouse.slug == city))
        house.facilitators.append(db.session.get(type(facilitator), facilitator.id))
        db.session.commit()
    listed = client.get("/api/v1/houses").get_json()["items"]
    assert len(listed) == 9 and "upcoming_events" not in listed[0]
    response = client.get(f"/api/v1/houses/{city}")
    body = response.get_json()
    assert body["phone"] == "011 123456" and body["email"] == "info@casa.example.org"
    assert body["hours"] == [{"weekday": 2, "hours": "9:00–13:00"}]
    assert body["upcoming_events"] == []
    assert b"Segreta" not in response.data and b"facilitatrice" not in response.data
    missing = client.get("/api/v1/houses/no-such-house")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_processes_count_public_proposals_only_and_name_the_current_phase(app, client, city, author):
    slug, process_id = make_process(app, phases={"collection": (-10 * DAY, 10 * DAY)})
    propose(app, process_id, author, title="Pubblica")
    propose(app, process_id, author, title="Nascosta", hidden=True)
    propose(app, process_id, author, title="Bozza", publish=False)
    listed = client.get("/api/v1/processes").get_json()["items"]
    assert [p["slug"] for p in listed] == [slug]
    body = client.get(f"/api/v1/processes/{slug}").get_json()
    assert body["proposal_count"] == 1
    assert body["current_phase"] == "collection"
    assert [p["kind"] for p in body["phases"]] == ["collection"]
    assert body["proposals_url"].endswith(f"/api/v1/proposals?process={slug}")
    assert client.get(f"/api/v1/proposals?process={slug}").get_json()["items"][0]["title"] == "Pubblica"
    assert client.get("/api/v1/processes/nothing").status_code == 404
    with app.app_context():
        assert db.session.get(Process, process_id).slug == slug


def test_a_list_answers_304_to_its_own_etag_until_it_changes(app, client, city, author):
    first = client.get("/api/v1/districts")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/api/v1/districts", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    slug, process_id = make_process(app)
    listing = client.get("/api/v1/processes")
    propose(app, process_id, author)
    changed = client.get("/api/v1/processes", headers={"If-None-Match": listing.headers["ETag"]})
    assert changed.status_code == 200 and changed.get_json()["items"][0]["proposal_count"] == 1


def test_reads_are_open_to_other_origins_and_writes_are_not(client, city):
    read = client.get("/api/v1/districts", headers={"Origin": "https://dati.example.org"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    assert read.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    preflight = client.open("/api/v1/reports", method="OPTIONS",
                            headers={"Origin": "https://dati.example.org", "Access-Control-Request-Method": "GET",
                                     "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    write = client.post("/api/v1/reports", json={}, headers={"Origin": "https://dati.example.org"})
    assert "Access-Control-Allow-Origin" not in write.headers
    private = client.get("/account/profile", headers={"Origin": "https://dati.example.org"})
    assert "Access-Control-Allow-Origin" not in private.headers


@pytest.fixture
def limited(database_url, tmp_path_factory):
    """An app with the API limits on: 3 per minute per token, 2 per minute without one."""
    application = create_app(make_config(database_url, tmp_path_factory.mktemp("limited"), RATELIMIT_ENABLED=True,
                                         API_RATE_LIMIT="3 per minute", API_RATE_LIMIT_ANONYMOUS="2 per minute"))
    limiter.reset()
    return application


def test_the_rate_limit_counts_per_token_across_endpoints(limited, make_user):
    client = limited.test_client()
    one, other = make_user(), make_user()
    secret, second = token_for(limited, one), token_for(limited, other)
    statuses = [client.get(path, headers=bearer(secret)).status_code
                for path in ("/api/v1/districts", "/api/v1/categories", "/api/v1/houses", "/api/v1/districts")]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/processes", headers=bearer(secret))
    assert refused.status_code == 429 and refused.get_json()["error"]["code"]
    # Another token has its own allowance; no token, the address's (smaller) one.
    assert client.get("/api/v1/districts", headers=bearer(second)).status_code == 200
    assert [client.get("/api/v1/districts").status_code for _ in range(3)] == [200, 200, 429]
    # An invalid token is no way around the address's limit.
    assert client.get("/api/v1/districts", headers=bearer("pzt_made-up")).status_code == 429


def test_a_nul_character_is_a_validation_error_not_a_database_error(client, city):
    response = client.get("/api/v1/proposals?category=a%00b")
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid", "field": "category",
                                            "message": response.get_json()["error"]["message"]}
    assert client.get("/reports?q=%00").status_code == 400


def test_the_documentation_page_lists_every_operation_and_loads_swagger_ui(client):
    page = client.get("/api/v1/docs?lang=en")
    assert page.status_code == 200
    spec = client.get("/api/v1/openapi.json").get_json()
    for ops in spec["paths"].values():
        for op in ops.values():
            assert f"<code>{op['operationId']}</code>" in page.text
    assert "swagger-ui-bundle.js" in page.text and 'data-spec-url="/api/v1/openapi.json"' in page.text
    assert "<script>" not in page.text  # the CSP forbids inline scripts: api-docs.js starts Swagger UI
    assert client.get("/api/v1/docs").status_code == 200  # Italian


def test_every_operation_documents_the_malformed_request_and_the_rate_limit(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for ops in spec["paths"].values():
        for op in ops.values():
            assert {"400", "429"} <= set(op["responses"]), op["operationId"]


def test_swagger_ui_is_pinned_with_sri_hashes_of_the_vendored_files(client, app, monkeypatch):
    import base64
    import hashlib
    import json
    import re
    from pathlib import Path

    from app.api.routes import SWAGGER_UI_VERSION

    vendor = Path(app.root_path) / "static" / "vendor"
    package = vendor / "node_modules" / "swagger-ui-dist"
    assert (package / "swagger-ui-bundle.js").exists(), "Swagger UI is not vendored: run `make vendor`"
    assert json.loads((vendor / "package.json").read_text())["dependencies"]["swagger-ui-dist"] == SWAGGER_UI_VERSION
    assert json.loads((package / "package.json").read_text())["version"] == SWAGGER_UI_VERSION
    monkeypatch.setitem(app.config, "LEAFLET_LOCAL", False)
    page = client.get("/api/v1/docs").text
    tags = re.findall(r'(?:src|href)="https://unpkg\.com/swagger-ui-dist@([^/"]+)/([^"]+)" integrity="([^"]+)"', page)
    assert {file for _v, file, _i in tags} == {"swagger-ui-bundle.js", "swagger-ui.css"}
    for version, file, integrity in tags:
        assert version == SWAGGER_UI_VERSION
        assert integrity == "sha384-" + base64.b64encode(hashlib.sha384((package / file).read_bytes()).digest()).decode()
    monkeypatch.setitem(app.config, "LEAFLET_LOCAL", True)
    local = client.get("/api/v1/docs").text
    assert "unpkg.com" not in local
    for path in re.findall(r'(?:src|href)="(/static/vendor/node_modules/swagger-ui-dist/[^"]+)"', local):
        assert client.get(path).status_code == 200
    assert client.get("/static/vendor/node_modules/swagger-ui-dist/index.html").status_code == 404


def test_every_example_in_the_document_is_valid_against_its_schema(client):
    import jsonschema_rs

    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    checked = 0
    for name, schema in schemas.items():
        for example in schema.get("examples", []):
            root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                    "$ref": f"#/components/schemas/{name}", "components": spec["components"]}
            errors = [e.message for e in jsonschema_rs.validator_for(root).iter_errors(example)]
            assert errors == [], f"{name}: {errors}"
            checked += 1
    assert checked >= 15
    for name in ("Report", "Proposal", "PactSummary", "Process", "Event", "Error", "ValidationError", "Token"):
        assert schemas[name].get("examples"), name


def _b64(text):
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


CRAFTED_CURSORS = [_b64("9223372036854775808"), _b64('["2026-01-01T00:00:00+00:00", 100000000000000000000]'),
                   _b64('["0001-01-01T00:00:00+14:00", 1]'), _b64("[" * 1500), "A" * 5000, _b64('["x", 1]')]


@pytest.mark.parametrize("cursor", CRAFTED_CURSORS)
@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/proposals", "/api/v1/pacts", "/api/v1/debates",
                                  "/api/v1/events"])
def test_a_crafted_cursor_is_a_validation_error_on_every_list(client, path, cursor):
    response = client.get(path, query_string={"cursor": cursor})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "cursor"


@pytest.mark.parametrize("cursor", CRAFTED_CURSORS)
def test_a_crafted_comment_cursor_is_a_validation_error(app, client, city, author, cursor):
    _slug, process_id = make_process(app)
    proposal_id = propose(app, process_id, author)
    response = client.get(f"/api/v1/comments/proposal/{proposal_id}", query_string={"cursor": cursor})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "cursor"


@pytest.mark.parametrize("body", ["[" * 330 + "]" * 330, '{"a":' * 400 + "1" + "}" * 400,
                                  "[" * 3000 + "]" * 3000])
def test_deeply_nested_json_is_refused_not_a_server_error(client, body):
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code in (400, 422) and response.get_json()["error"]["code"] in ("bad_request", "invalid")


def test_an_id_of_thousands_of_digits_is_simply_not_found(client):
    assert client.get("/reports/" + "9" * 5000).status_code == 404
    assert client.get("/api/v1/debates/" + "9" * 5000).status_code == 404


def test_all_tokens_of_an_account_share_its_allowance(limited, make_user):
    client = limited.test_client()
    user = make_user()
    tokens = [token_for(limited, user) for _ in range(3)]
    statuses = [client.get("/api/v1/districts", headers=bearer(t)).status_code for t in tokens + tokens[:1]]
    assert statuses == [200, 200, 200, 429]


def test_the_language_switch_never_links_off_site(client):
    page = client.get("/%5Cevil.example/x").text
    assert 'href="/%5Cevil.example/x?lang=en"' in page
    assert 'href="/\\evil.example' not in page
