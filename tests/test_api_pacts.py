"""JSON API v1 pacts: listPacts (only the public registry, filters, keyset pagination) and getPact
(the approved text, its SHA-256 and every signature, verifiable by a program; private pacts 404)."""
import hashlib

import pytest

from app.extensions import db
from app.models.pact import Pact, PactStatus, PactVersion
from tests.pact_builders import advance, draft, pact_world

S = PactStatus


@pytest.fixture
def pacts(app):
    """An active pact, one in consultation, one submitted (private) and a draft (private)."""
    with app.app_context():
        world = pact_world()
        ids = {
            "active": advance(world, S.active, title="Giardino attivo"),
            "consultation": advance(world, S.public_consultation, title="In consultazione"),
            "submitted": advance(world, S.submitted, title="Presentato"),
            "draft": draft(world, title="Bozza").id,
        }
        db.session.commit()
        return ids


def test_list_pacts_shows_the_public_registry_only(client, pacts):
    body = client.get("/api/v1/pacts").get_json()
    assert {item["title"] for item in body["items"]} == {"Giardino attivo", "In consultazione"}
    assert body["next_cursor"] is None
    assert all(item["protocol_number"].startswith("PC-") for item in body["items"])


def test_list_pacts_filters_by_status_and_refuses_unknown_values(client, pacts):
    body = client.get("/api/v1/pacts?status=active").get_json()
    assert [item["id"] for item in body["items"]] == [pacts["active"]]
    response = client.get("/api/v1/pacts?status=draft")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "status"
    assert client.get("/api/v1/pacts?district=99").status_code == 400


def test_list_pacts_pages_with_a_cursor(client, pacts):
    first = client.get("/api/v1/pacts?limit=1").get_json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = client.get(f"/api/v1/pacts?limit=1&cursor={first['next_cursor']}").get_json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert first["items"][0]["id"] != second["items"][0]["id"]
    assert client.get("/api/v1/pacts?cursor=nonsense").status_code == 400


def test_get_pact_carries_a_text_and_signatures_a_program_can_verify(client, pacts):
    body = client.get(f"/api/v1/pacts/{pacts['active']}").get_json()
    assert body["status"] == "active" and body["text_frozen"] is True
    digest = hashlib.sha256(body["approved_text"].encode("utf-8")).hexdigest()
    assert digest == body["approved_text_sha256"]
    assert len(body["signatures"]) == len(body["parties"]) >= 2
    assert all(s["text_sha256"] == digest and s["matches_approved_text"] for s in body["signatures"])
    assert [h["status"] for h in body["history"]][-1] == "active"
    assert "@" not in str(body)  # no email address anywhere


def test_get_pact_shows_a_tampered_text_as_not_matching(app, client, pacts):
    with app.app_context():
        pact = db.session.get(Pact, pacts["active"])
        version = db.session.get(PactVersion, pact.approved_version.id)
        version.text = version.text + "\nUna riga aggiunta dopo le firme."
        db.session.commit()
    body = client.get(f"/api/v1/pacts/{pacts['active']}").get_json()
    assert body["signatures"] and not any(s["matches_approved_text"] for s in body["signatures"])


@pytest.mark.parametrize("which", ["submitted", "draft"])
def test_get_pact_answers_404_for_private_pacts(client, pacts, which):
    response = client.get(f"/api/v1/pacts/{pacts[which]}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_openapi_document_names_the_pact_operations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["paths"]["/pacts"]["get"]["operationId"] == "listPacts"
    assert document["paths"]["/pacts/{pact_id}"]["get"]["operationId"] == "getPact"
