"""The citizens' side of pacts over HTTP: proposing (registered or new commons), editing, submitting
(protocol number and receipt), withdrawing, "my pacts", the consultation (join requests, competing
proposals), co-design (versions, differences, new versions), signing, volunteers and reports — each
with what changed in the database, and what a stranger, a visitor or an unverified citizen gets."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app, geo
from app.extensions import db
from app.models.base import utcnow
from app.models.commons import Commons, CommonsKind
from app.models.pact import (
    Pact,
    PactJoinRequest,
    PactParty,
    PactReport,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactSupportItem,
    PactVersion,
    PactVolunteer,
    PartyKind,
    RequestStatus,
)
from app.models.place import District
from app.pacts import services
from app.pacts.services import rome_date
from app.seed.demo import seed_places
from tests.conftest import login, make_config
from tests.http_helpers import assert_field_error, english, location_path, text_of
from tests.pact_builders import advance, draft, make_commons, make_person, pact_world, reload_user, step_to

S = PactStatus
DAY = timedelta(days=1)


@pytest.fixture
def client(client):
    return english(client)


def detached_world(app):
    """The builders' cast, with its users loaded and detached (usable by the client in any context)."""
    with app.app_context():
        world = pact_world()
        world.users = {role: reload_user(user.id) for role, user in world.users.items()}
        for user in world.users.values():
            db.session.expunge(user)
        return world


@pytest.fixture
def world(app):
    return detached_world(app)


def _pact(app, pact_id):
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        db.session.refresh(pact)
        _ = (pact.parties, pact.versions, pact.support_items, pact.history, pact.signatures, pact.volunteers)
        db.session.expunge_all()
        return pact


def _count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.session.scalar(query)


def _at(app, world, status, **kwargs):
    with app.app_context():
        return advance(world, status, **kwargs)


def _form(world, **overrides):
    data = {
        "title": "Orti condivisi di via Baltea", "commons_choice": "existing", "commons_id": world.commons_id,
        "organisation_id": world.organisation_id, "kind_requested": "ordinary",
        "objectives": "Un orto per il quartiere.", "activities": "Marzo: vangatura. Poi ogni sabato.",
        "beneficiaries": "Le famiglie della via", "duration_months": "24",
        "own_resources": "- Persone: 8\n- Attrezzi: vanghe", "support-0-kind": "tools",
        "support-0-item": "Guanti e sacchi", "support-0-quantity": "40", "support-0-unit": "pezzi",
        "support-1-kind": "", "support-2-kind": "", "support-3-kind": "",
        "declare_truth": "y", "declare_rules": "y", "declare_privacy": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- visitors and access ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/pacts/new", "/pacts/mine"])
def test_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_visitor_posting_an_action_is_sent_to_sign_in_and_nothing_changes(app, client, world):
    pact_id = _at(app, world, S.active)
    response = client.post(f"/pacts/{pact_id}/volunteers", data={"vo-accept_rules": "y"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _count(app, PactVolunteer) == 0


# --- proposing ------------------------------------------------------------------------------------

def test_the_form_groups_registered_commons_by_district_and_preselects_one(app, client, world):
    with app.app_context():
        seed_places()
        district = db.session.scalar(select(District).where(District.number == 3))
        other = make_commons(name="Piazza del Mercato", district_id=district.id)
        other_id, district_name = other.id, district.name
    login(client, world.author)
    page = text_of(client.get(f"/pacts/new?commons={other_id}"))
    assert f'<optgroup label="District 3 – {district_name}">' in page
    assert re.search(rf'<option selected value="{other_id}">|<option value="{other_id}" selected', page)
    assert 'name="support-3-kind"' in page  # four rows of support
    assert "js/point-picker.js" in page and "js/pact-form.js" in page


def test_a_draft_for_an_organisation_with_support_rows(app, client, world):
    login(client, world.author)
    response = client.post("/pacts/new", data=_form(world))
    assert response.status_code == 302
    pact_id = int(location_path(response).rsplit("/", 1)[1])
    pact = _pact(app, pact_id)
    assert pact.status == S.draft and pact.title == "Orti condivisi di via Baltea"
    assert pact.organisation_id == world.organisation_id and pact.duration_months == 24
    assert pact.declarations_accepted_at is not None and pact.protocol_number is None
    assert [(p.kind, p.organisation_id) for p in pact.parties] == [(PartyKind.proponent, world.organisation_id)]
    assert [(i.kind.value, i.description, i.quantity, i.unit) for i in pact.support_items] == [
        ("tools", "Guanti e sacchi", 40.0, "pezzi")]
    # The draft is the author's: a stranger and a visitor get a 404.
    page = client.get(f"/pacts/{pact_id}")
    assert page.status_code == 200 and "Submit to the City" in text_of(page)
    login(client, world.stranger)
    assert client.get(f"/pacts/{pact_id}").status_code == 404


def test_a_new_commons_placed_on_the_map(app, client, world):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        shape = next(iter(geo.districts())).shape.representative_point()
    login(client, world.stranger)
    response = client.post("/pacts/new", data=_form(
        world, organisation_id="0", commons_choice="new", commons_id="0", new_name="Cortile della scuola Aurora",
        new_kind="school_courtyard", lat=f"{shape.y:.6f}", lon=f"{shape.x:.6f}", new_address="via Aurora 1"))
    assert response.status_code == 302
    pact = _pact(app, int(location_path(response).rsplit("/", 1)[1]))
    with app.app_context():
        commons = db.session.get(Commons, pact.commons_id)
        assert commons.name == "Cortile della scuola Aurora" and commons.kind == CommonsKind.school_courtyard
        assert commons.proposed_by_id == world.stranger.id and commons.registered_at is None
        assert commons.district_id is not None and pact.district_id == commons.district_id
    assert [(p.user_id, p.organisation_id) for p in pact.parties] == [(world.stranger.id, None)]


def _square_around(lat, lon, d=0.0004):
    import json

    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_a_new_commons_with_its_outline(app, client, world):
    """The outline drawn on the pact form's map is kept with the new commons; alone, it gives the point."""
    import json

    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        point = next(iter(geo.districts())).shape.representative_point()
    outline = _square_around(point.y, point.x)
    login(client, world.stranger)
    response = client.post("/pacts/new", data=_form(
        world, organisation_id="0", commons_choice="new", commons_id="0", new_name="Giardino di via Aurora",
        new_kind="green_area", lat="", lon="", new_outline=outline))
    assert response.status_code == 302
    pact = _pact(app, int(location_path(response).rsplit("/", 1)[1]))
    with app.app_context():
        commons = db.session.get(Commons, pact.commons_id)
        assert json.loads(commons.geometry) == json.loads(outline)
        assert abs(commons.lat - point.y) < 0.001 and abs(commons.lon - point.x) < 0.001
        assert commons.district_id is not None
    # The edit page shows the outline back, and saving it unchanged keeps the same commons.
    page = client.get(f"/pacts/{pact.id}/edit")
    assert "Polygon" in text_of(page) and 'data-outline-input="new_outline"' in page.get_data(as_text=True)
    again = client.post(f"/pacts/{pact.id}/edit", data=_form(
        world, organisation_id="0", commons_choice="new", commons_id="0", new_name="Giardino di via Aurora",
        new_kind="green_area", lat=f"{commons.lat}", lon=f"{commons.lon}", new_outline=json.dumps(json.loads(outline))))
    assert again.status_code == 302
    assert _pact(app, pact.id).commons_id == pact.commons_id


def test_a_wrong_outline_is_shown_next_to_its_field_and_nothing_is_lost(app, client, world):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
    commons_before = _count(app, Commons)
    login(client, world.stranger)
    response = client.post("/pacts/new", data=_form(
        world, organisation_id="0", commons_choice="new", commons_id="0", new_name="Cortile della scuola Aurora",
        new_kind="school_courtyard", lat="", lon="", new_outline='{"type": "Polygon", "coordinates": [[[1, 2]]]}'))
    assert response.status_code in (200, 400)
    html = response.get_data(as_text=True)
    assert 'id="new_outline-error"' in html and 'id="pact-outline-text" open' in html
    assert 'value="Cortile della scuola Aurora"' in html
    assert _count(app, Pact) == 0 and _count(app, Commons) == commons_before


def test_missing_fields_are_form_errors_and_no_draft(app, client, world):
    login(client, world.author)
    response = client.post("/pacts/new", data=_form(world, title="", commons_choice="new", new_name=""))
    assert response.status_code == 200
    assert_field_error(response, "title", "Give the pact a title.")
    assert_field_error(response, "new_name", "Give the commons a name.")
    assert _count(app, Pact) == 0


def test_acting_for_an_organisation_one_does_not_represent_is_refused(app, client, world):
    login(client, world.stranger)
    response = client.post("/pacts/new", data=_form(world))
    assert response.status_code == 200
    assert_field_error(response, "organisation_id", "Not a valid choice")
    assert _count(app, Pact) == 0


def test_support_never_cash(app, client, world):
    login(client, world.author)
    response = client.post("/pacts/new", data=_form(world, **{"support-0-kind": "cash"}))
    assert response.status_code == 200
    assert _count(app, Pact) == 0 and _count(app, PactSupportItem) == 0


def test_edit_a_draft_and_strangers_cannot(app, client, world):
    with app.app_context():
        pact_id = draft(world).id
    login(client, world.co_proponent)  # an individual proponent may edit, but not change for whom
    page = client.get(f"/pacts/{pact_id}/edit")
    assert page.status_code == 200 and "Cura del giardino" in text_of(page)
    response = client.post(f"/pacts/{pact_id}/edit", data=_form(world, title="Cura del giardino, insieme"))
    assert response.status_code == 302
    pact = _pact(app, pact_id)
    assert pact.title == "Cura del giardino, insieme" and pact.organisation_id == world.organisation_id
    login(client, world.stranger)
    assert client.get(f"/pacts/{pact_id}/edit").status_code == 404
    assert client.post(f"/pacts/{pact_id}/edit", data=_form(world, title="Mio")).status_code == 404
    assert _pact(app, pact_id).title == "Cura del giardino, insieme"


def test_submit_gives_a_protocol_number_and_a_receipt(app, client, world):
    with app.app_context():
        pact_id = draft(world).id
    login(client, world.author)
    response = client.post(f"/pacts/{pact_id}/submit")
    assert response.status_code == 302 and location_path(response) == f"/pacts/{pact_id}/receipt"
    pact = _pact(app, pact_id)
    assert pact.status == S.submitted and re.fullmatch(r"PC-\d{4}-0001", pact.protocol_number)
    receipt = client.get(f"/pacts/{pact_id}/receipt")
    assert receipt.status_code == 200 and pact.protocol_number in text_of(receipt)
    assert "data-print" in text_of(receipt) and "<script>" not in text_of(receipt)
    login(client, world.stranger)
    assert client.get(f"/pacts/{pact_id}/receipt").status_code == 404
    assert client.post(f"/pacts/{pact_id}/submit").status_code == 404


def test_submit_needs_the_declarations(app, client, world):
    login(client, world.author)
    response = client.post("/pacts/new", data=_form(world, declare_privacy=None))
    pact_id = int(location_path(response).rsplit("/", 1)[1])
    response = client.post(f"/pacts/{pact_id}/submit")
    assert response.status_code == 400
    assert "Accept the declarations" in text_of(response)
    assert _pact(app, pact_id).status == S.draft


def test_a_stranger_cannot_submit_or_withdraw_a_public_proposal(app, client, world):
    pact_id = _at(app, world, S.public_consultation)
    login(client, world.stranger)
    assert client.post(f"/pacts/{pact_id}/withdraw", data={"wd-reason": "No"}).status_code == 403
    assert client.post(f"/pacts/{pact_id}/submit").status_code == 409
    assert _pact(app, pact_id).status == S.public_consultation


def test_withdraw_with_a_reason(app, client, world):
    pact_id = _at(app, world, S.submitted)
    login(client, world.author)
    assert client.post(f"/pacts/{pact_id}/withdraw", data={"wd-reason": ""}).status_code == 400
    assert _pact(app, pact_id).status == S.submitted
    response = client.post(f"/pacts/{pact_id}/withdraw", data={"wd-reason": "Abbiamo trovato un'altra sede."})
    assert response.status_code == 302
    pact = _pact(app, pact_id)
    assert pact.status == S.withdrawn and pact.history[-1].reason == "Abbiamo trovato un'altra sede."


def test_needs_integration_can_be_edited_and_submitted_again(app, client, world):
    pact_id = _at(app, world, S.needs_integration)
    login(client, world.author)
    page = text_of(client.get(f"/pacts/{pact_id}/edit"))
    assert "Manca la planimetria." in page
    assert client.post(f"/pacts/{pact_id}/edit", data=_form(world, objectives="Con planimetria.")).status_code == 302
    assert client.post(f"/pacts/{pact_id}/submit").status_code == 302
    pact = _pact(app, pact_id)
    assert pact.status == S.submitted and pact.objectives == "Con planimetria."


# --- my pacts -----------------------------------------------------------------------------------

def test_my_pacts_lists_drafts_submissions_and_what_waits(app, client, world):
    with app.app_context():
        draft_id = draft(world, title="Bozza nel cassetto").id
    submitted_id = _at(app, world, S.submitted, title="Proposta inviata")
    signing_id = _at(app, world, S.signing, title="Da firmare")
    login(client, world.author)
    page = text_of(client.get("/pacts/mine"))
    for title in ("Bozza nel cassetto", "Proposta inviata", "Da firmare"):
        assert title in page
    assert f'href="/pacts/{signing_id}#signing">to sign' in page
    assert page.index("Waiting for you") < page.index("Da firmare")
    login(client, world.stranger)
    page = text_of(client.get("/pacts/mine"))
    assert "Bozza nel cassetto" not in page and "You do not take part" in page
    del draft_id, submitted_id


# --- consultation ---------------------------------------------------------------------------------

def test_join_requests_asked_and_decided(app, client, world):
    pact_id = _at(app, world, S.public_consultation)
    login(client, world.verified)
    page = text_of(client.get(f"/pacts/{pact_id}"))
    assert "Ask to join this proposal" in page and f"/pacts/new?commons={world.commons_id}" in page
    response = client.post(f"/pacts/{pact_id}/join-requests", data={"jr-organisation_id": "0", "jr-message": "Ci sto"})
    assert response.status_code == 302
    assert _count(app, PactJoinRequest, pact_id=pact_id, user_id=world.verified.id) == 1
    with app.app_context():
        request_id = db.session.scalar(select(PactJoinRequest.id))
    # A stranger cannot decide it; the requester neither.
    for who in (world.stranger, world.verified):
        login(client, who)
        response = client.post(f"/pacts/{pact_id}/join-requests/{request_id}", data={"dc-answer": "accept"})
        assert response.status_code == 403
    assert _count(app, PactJoinRequest, status=RequestStatus.pending) == 1
    login(client, world.representative)
    page = text_of(client.get(f"/pacts/{pact_id}"))
    assert "Requests to join" in page and "Ci sto" in page
    response = client.post(f"/pacts/{pact_id}/join-requests/{request_id}", data={"dc-answer": "accept"})
    assert response.status_code == 302
    assert _count(app, PactJoinRequest, status=RequestStatus.accepted) == 1
    assert _count(app, PactParty, pact_id=pact_id, user_id=world.verified.id) == 1


def test_competing_proposals_side_by_side(app, client, world):
    first = _at(app, world, S.public_consultation, title="Primo progetto")
    second = _at(app, world, S.admissible, title="Secondo progetto")
    _at(app, world, S.submitted, title="Terzo, non ancora pubblico")
    _at(app, world, S.active, title="Patto già attivo")
    page = text_of(client.get(f"/pacts/{first}"))
    assert "Competing proposals for the same commons" in page
    block = page[page.index('class="competing"'):]
    assert "Primo progetto" in block and f'href="/pacts/{second}">Secondo progetto' in block
    assert "Terzo, non ancora pubblico" not in page and "Patto già attivo" not in block
    login(client, world.official)  # the office sees the one under examination too
    assert "Terzo, non ancora pubblico" in text_of(client.get(f"/pacts/{first}"))


# --- co-design ------------------------------------------------------------------------------------

def _co_design_with_two_versions(app, world):
    pact_id = _at(app, world, S.co_design)
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        first = pact.current_version.text
        services.add_version(pact, world.user("official"), text=first.replace("\n", "\nRiga nuova.\n", 1),
                             note="Aggiunta una riga")
        db.session.commit()
    return pact_id


def test_the_difference_between_two_versions(app, client, world):
    pact_id = _co_design_with_two_versions(app, world)
    response = client.get(f"/pacts/{pact_id}/versions/2/diff?against=1")
    assert response.status_code == 200
    page = text_of(response)
    assert re.search(r'<li class="diff-added"><span class="marker" aria-hidden="true">\+</span>'
                     r'<span class="visually-hidden">Added: </span><span>Riga nuova\.</span>', page)
    assert "1 line added" in page
    assert client.get(f"/pacts/{pact_id}/versions/2/diff").status_code == 200  # against the previous one
    assert client.get(f"/pacts/{pact_id}/versions/9/diff?against=1").status_code == 404
    assert client.get(f"/pacts/{pact_id}/versions/1/diff").status_code == 404  # there is no version 0
    version = client.get(f"/pacts/{pact_id}/versions/2")
    assert version.status_code == 200 and "Aggiunta una riga" in text_of(version)


def test_comments_on_a_version(app, client, world):
    pact_id = _co_design_with_two_versions(app, world)
    with app.app_context():
        version_id = db.session.scalar(select(PactVersion.id).where(PactVersion.pact_id == pact_id,
                                                                   PactVersion.number == 2))
    login(client, world.verified)
    response = client.post(f"/comments/pact_version/{version_id}", data={"body": "Meglio il sabato pomeriggio."})
    assert response.status_code == 302
    assert "Meglio il sabato pomeriggio." in text_of(client.get(f"/pacts/{pact_id}/versions/2"))


def test_a_proponent_proposes_a_new_version_and_a_stranger_cannot(app, client, world):
    pact_id = _at(app, world, S.co_design)
    login(client, world.author)
    page = text_of(client.get(f"/pacts/{pact_id}"))
    latest = _pact(app, pact_id).current_version.text
    assert "Propose a new version of the text" in page and latest.splitlines()[0] in page
    # Without a note the form comes back with the text as typed, and no version is added.
    response = client.post(f"/pacts/{pact_id}/versions", data={"vr-text": "Bozza mia, da non perdere", "vr-note": ""})
    assert response.status_code == 400 and "Bozza mia, da non perdere" in text_of(response)
    assert "Explain the change." in text_of(response) and _count(app, PactVersion, pact_id=pact_id) == 1
    response = client.post(f"/pacts/{pact_id}/versions", data={"vr-text": latest + "\r\nOrari: 9-12.",
                                                               "vr-note": "Orari"})
    assert response.status_code == 302
    pact = _pact(app, pact_id)
    assert [v.number for v in pact.versions] == [1, 2] and pact.versions[-1].text.endswith("Orari: 9-12.\n")
    assert "\r" not in pact.versions[-1].text
    login(client, world.stranger)
    assert client.post(f"/pacts/{pact_id}/versions", data={"vr-text": "Mio testo", "vr-note": "x"}).status_code == 403
    assert _count(app, PactVersion, pact_id=pact_id) == 2


@pytest.mark.parametrize("status", [S.approved, S.signing, S.active])
def test_the_text_cannot_change_after_approval(app, client, world, status):
    pact_id = _at(app, world, status)
    before = _pact(app, pact_id)
    login(client, world.author)
    response = client.post(f"/pacts/{pact_id}/versions", data={"vr-text": "Testo cambiato", "vr-note": "x"})
    assert 400 <= response.status_code < 500 and "Propose a new version" not in text_of(response)
    response = client.post(f"/pacts/{pact_id}/edit", data=_form(world, objectives="Altro"))
    assert 400 <= response.status_code < 500
    after = _pact(app, pact_id)
    assert [v.text for v in after.versions] == [v.text for v in before.versions]
    assert after.objectives == before.objectives and after.approved_text_sha256 == before.approved_text_sha256
    assert "Propose a new version" not in text_of(client.get(f"/pacts/{pact_id}"))


# --- signing ---------------------------------------------------------------------------------------

def test_signing_shows_the_hash_and_needs_the_confirmation(app, client, world):
    pact_id = _at(app, world, S.signing)
    pact = _pact(app, pact_id)
    org_party = next(p for p in pact.parties if p.organisation_id == world.organisation_id)
    login(client, world.author)
    page = text_of(client.get(f"/pacts/{pact_id}"))
    assert pact.approved_text_sha256 in page and f'name="sg-party_id" value="{org_party.id}"' in page
    response = client.post(f"/pacts/{pact_id}/sign", data={"sg-party_id": org_party.id})
    assert response.status_code == 400
    assert _count(app, PactSignature) == 0
    response = client.post(f"/pacts/{pact_id}/sign", data={"sg-party_id": org_party.id, "sg-confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        signature = db.session.scalar(select(PactSignature))
        assert signature.party_id == org_party.id and signature.signer_id == world.author.id
        assert signature.text_sha256 == pact.approved_text_sha256
    # Signing twice for the same party is refused.
    response = client.post(f"/pacts/{pact_id}/sign", data={"sg-party_id": org_party.id, "sg-confirm": "y"})
    assert 400 <= response.status_code < 500 and _count(app, PactSignature) == 1


def test_a_stranger_cannot_sign_for_another_party(app, client, world):
    pact_id = _at(app, world, S.signing)
    pact = _pact(app, pact_id)
    login(client, world.verified)
    for party in pact.parties:
        response = client.post(f"/pacts/{pact_id}/sign", data={"sg-party_id": party.id, "sg-confirm": "y"})
        assert response.status_code == 403
    assert _count(app, PactSignature) == 0


def test_an_unverified_proponent_is_told_why_and_refused(app, client, world):
    with app.app_context():
        pact = draft(world)
        pact.parties.append(PactParty(kind=PartyKind.proponent, user_id=world.stranger.id))
        db.session.commit()
        for status in (S.submitted, S.admissible, S.public_consultation, S.co_design, S.approved, S.signing):
            pact = step_to(world, pact, status)
        pact_id = pact.id
        party_id = db.session.scalar(select(PactParty.id).where(PactParty.pact_id == pact_id,
                                                                PactParty.user_id == world.stranger.id))
    login(client, world.stranger)
    page = text_of(client.get(f"/pacts/{pact_id}"))
    assert "verify it at any Casa del Quartiere" in page and 'name="sg-party_id"' not in page
    response = client.post(f"/pacts/{pact_id}/sign", data={"sg-party_id": party_id, "sg-confirm": "y"})
    assert response.status_code == 403 and "verified account" in text_of(response)
    assert _count(app, PactSignature, party_id=party_id) == 0


def test_when_every_party_signed_the_pact_is_active(app, client, world):
    pact_id = _at(app, world, S.signing)
    for role in ("official", "author", "co_proponent"):
        login(client, getattr(world, role))
        with app.app_context():
            parties = services.signable_parties(db.session.get(Pact, pact_id), world.user(role))
            ids = [p.id for p in parties]
        for party_id in ids:
            assert client.post(f"/pacts/{pact_id}/sign",
                               data={"sg-party_id": party_id, "sg-confirm": "y"}).status_code == 302
    pact = _pact(app, pact_id)
    assert pact.status == S.active and len(pact.signatures) == len(pact.parties)


# --- active pacts ----------------------------------------------------------------------------------

def test_volunteers_join_leave_and_are_removed(app, client, world):
    pact_id = _at(app, world, S.active)
    login(client, world.stranger)
    assert client.post(f"/pacts/{pact_id}/volunteers", data={}).status_code == 400
    assert _count(app, PactVolunteer) == 0
    assert client.post(f"/pacts/{pact_id}/volunteers", data={"vo-accept_rules": "y"}).status_code == 302
    assert _count(app, PactVolunteer, pact_id=pact_id, user_id=world.stranger.id) == 1
    assert "You take part in this pact as a volunteer." in text_of(client.get(f"/pacts/{pact_id}"))
    assert client.post(f"/pacts/{pact_id}/volunteers/leave").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(PactVolunteer.left_at)) is not None
    login(client, world.verified)
    client.post(f"/pacts/{pact_id}/volunteers", data={"vo-accept_rules": "y"})
    with app.app_context():
        volunteer_id = db.session.scalar(select(PactVolunteer.id).where(PactVolunteer.user_id == world.verified.id))
    # A volunteer cannot remove another; the representative can, with a reason.
    login(client, world.stranger)
    assert client.post(f"/pacts/{pact_id}/volunteers/{volunteer_id}/remove",
                       data={"rm-reason": "Antipatico"}).status_code == 403
    login(client, world.representative)
    page = text_of(client.get(f"/pacts/{pact_id}"))
    assert "Manage the volunteers" in page and world.verified.display_name in page
    assert client.post(f"/pacts/{pact_id}/volunteers/{volunteer_id}/remove",
                       data={"rm-reason": ""}).status_code == 400
    assert client.post(f"/pacts/{pact_id}/volunteers/{volunteer_id}/remove",
                       data={"rm-reason": "Non rispetta le regole di sicurezza."}).status_code == 302
    with app.app_context():
        removed = db.session.get(PactVolunteer, volunteer_id)
        assert removed.removal_reason == "Non rispetta le regole di sicurezza."
        assert removed.removed_by_id == world.representative.id


def test_the_report_form_never_proposes_an_inverted_period(app, client, world):
    """On the day a pact becomes active the proposed period is that day, not today to yesterday."""
    with app.app_context():
        pact_id = advance(world, S.active)
        starts_on = db.session.get(Pact, pact_id).starts_on
    login(client, world.author)
    page = client.get(f"/pacts/{pact_id}/reports/new").get_data(as_text=True)
    start = re.search(r'name="period_start"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="period_start"', page)
    end = re.search(r'name="period_end"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="period_end"', page)
    start, end = (m.group(1) or m.group(2) for m in (start, end))
    assert start == starts_on.isoformat() and end >= start


def test_proponents_file_a_report(app, client, world):
    with app.app_context():
        pact_id = advance(world, S.active, now=utcnow() - 40 * DAY)
        pact = db.session.get(Pact, pact_id)
        start = pact.starts_on
    login(client, world.stranger)
    assert client.get(f"/pacts/{pact_id}/reports/new").status_code == 403
    login(client, world.author)
    assert client.get(f"/pacts/{pact_id}/reports/new").status_code == 200
    data = {"period_start": start.isoformat(), "period_end": (start + 20 * DAY).isoformat(),
            "activities": "Sei giornate di cura.", "events": "Festa di primavera", "beneficiaries_reached": "120",
            "volunteer_hours": "86.5", "resources_proponents": "Attrezzi", "resources_city": "Sacchi",
            "results": "Aiuole curate", "problems": "Nessuno"}
    response = client.post(f"/pacts/{pact_id}/reports/new", data={**data, "period_end": data["period_start"],
                                                                  "period_start": data["period_end"]})
    assert response.status_code == 400 and _count(app, PactReport) == 0
    response = client.post(f"/pacts/{pact_id}/reports/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        report = db.session.scalar(select(PactReport))
        assert (report.volunteer_hours, report.beneficiaries_reached, report.submitted_by_id) == (
            86.5, 120, world.author.id)
    assert "being reviewed" in text_of(client.get(f"/pacts/{pact_id}"))


# --- durations --------------------------------------------------------------------------------------

def test_step_durations_with_the_overdue_step_highlighted(app, client, world):
    with app.app_context():
        pact = draft(world)
        pact = step_to(world, pact, S.submitted, now=utcnow() - 45 * DAY)
        pact = step_to(world, pact, S.admissible)
        pact_id = pact.id
        # Backdate the admissibility: the 15 days to open the consultation are over.
        change = db.session.scalar(select(PactStatusChange).where(PactStatusChange.pact_id == pact_id,
                                                                  PactStatusChange.to_status == S.admissible))
        change.at = change_at = utcnow() - 20 * DAY
        submitted_at = db.session.scalar(select(PactStatusChange.at).where(
            PactStatusChange.pact_id == pact_id, PactStatusChange.to_status == S.submitted))
        first = db.session.scalar(select(PactStatusChange).where(PactStatusChange.pact_id == pact_id,
                                                                 PactStatusChange.to_status == S.draft))
        first.at = utcnow() - 46 * DAY
        db.session.commit()
    page = text_of(client.get(f"/pacts/{pact_id}"))
    table = page[page.index('class="steps"'):]
    rows = re.findall(r'<tr class="([^"]*)">(.*?)</tr>', table, re.S)
    assert [cls for cls, _row in rows][-2:] == ["", "step-overdue"]  # 25 days of 30, then 20 of 15
    # Rome calendar days: 25, or 24 when one end is past midnight in Rome and the other not (summer time).
    assert f">{(rome_date(change_at) - rome_date(submitted_at)).days}<" in rows[-2][1]
    assert "overdue" in rows[-1][1] and ">15<" in rows[-1][1]


# --- CSRF -------------------------------------------------------------------------------------------

def test_posts_without_a_csrf_token_change_nothing(database_url, tmp_path, world):
    csrf_app = create_app(make_config(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    with csrf_app.app_context():
        pact_id = draft(world).id
    client = english(csrf_app.test_client())
    login(client, world.author)
    assert client.post(f"/pacts/{pact_id}/submit").status_code == 400
    assert client.post("/pacts/new", data=_form(world)).status_code == 400
    with csrf_app.app_context():
        assert db.session.get(Pact, pact_id).status == S.draft
        assert db.session.scalar(select(func.count()).select_from(Pact)) == 1
    page = client.get(f"/pacts/{pact_id}").get_data(as_text=True)
    token = re.search(r'name="sb-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"/pacts/{pact_id}/submit", data={"sb-csrf_token": token}).status_code == 302
    with csrf_app.app_context():
        assert db.session.get(Pact, pact_id).status == S.submitted


def test_unconfirmed_accounts_cannot_propose(app, client):
    with app.app_context():
        person = make_person(confirmed=False)
    login(client, person)
    assert client.get("/pacts/new").status_code == 403


def test_the_own_resources_template_left_empty_is_not_stored(app, client, world):
    login(client, world.author)
    response = client.post("/pacts/new", data=_form(
        world, own_resources="- People: \r\n- Tools: vanghe e rastrelli\r\n- Money for self-financing (EUR): "))
    pact = _pact(app, int(location_path(response).rsplit("/", 1)[1]))
    assert pact.own_resources == "- Tools: vanghe e rastrelli"
    response = client.post("/pacts/new", data=_form(
        world, own_resources="- People: \n- Tools: \n- Money for self-financing (EUR): "))
    assert _pact(app, int(location_path(response).rsplit("/", 1)[1])).own_resources == ""


def test_a_proposal_under_examination_is_seen_by_its_proponents_and_office_only(app, client, world):
    pact_id = _at(app, world, S.submitted)
    assert client.get(f"/pacts/{pact_id}").status_code == 404
    for role, status in (("stranger", 404), ("other_official", 404), ("official", 200), ("co_proponent", 200)):
        login(client, getattr(world, role))
        assert client.get(f"/pacts/{pact_id}").status_code == status, role
    page = text_of(client.get(f"/pacts/{pact_id}"))
    assert "This page is not public" in page and f"/pacts/{pact_id}.pdf" not in page


def test_asking_to_join_for_an_organisation_one_represents(app, client, world):
    pact_id = _at(app, world, S.public_consultation)
    with app.app_context():
        from tests.pact_builders import make_organisation

        school = make_organisation(representatives=[world.user("verified")], name="Scuola Parini")
        school_id = school.id
    login(client, world.verified)
    page = text_of(client.get(f"/pacts/{pact_id}"))
    assert f'<option value="{school_id}">Scuola Parini</option>' in page
    response = client.post(f"/pacts/{pact_id}/join-requests", data={"jr-organisation_id": school_id})
    assert response.status_code == 302
    with app.app_context():
        request = db.session.scalar(select(PactJoinRequest))
        assert (request.user_id, request.organisation_id) == (world.verified.id, school_id)
    # A second request is refused, and nothing is added.
    assert client.post(f"/pacts/{pact_id}/join-requests", data={"jr-organisation_id": 0}).status_code == 400
    assert _count(app, PactJoinRequest) == 1


def test_the_pact_page_maps_its_commons_with_the_outline(app, client, world):
    with app.app_context():
        pact = draft(world)
        pact = step_to(world, pact, S.submitted)
        pact = step_to(world, pact, S.admissible)
        commons = pact.commons
        commons.geometry = _square_around(commons.lat, commons.lon)
        db.session.commit()
        pact_id, outline = pact.id, commons.geometry
    html = client.get(f"/pacts/{pact_id}").get_data(as_text=True)
    assert 'id="pact-commons-map"' in html and "js/place-map.js" in html
    import html as html_lib
    import json

    drawn = re.search(r"data-outline='([^']*)'", html).group(1)
    assert json.loads(html_lib.unescape(drawn)) == json.loads(outline)
    assert "Map of the commons and its outline" in html
