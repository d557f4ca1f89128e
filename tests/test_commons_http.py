"""The commons registry over HTTP: the public list, page, map layer and GeoJSON; the office's pages
(who may reach them, what each form changes in the database, how refusals are shown)."""
import io
import json
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models import User
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.commons import Commons, CommonsCall, CommonsKind, CommonsOwner
from app.models.pact import Pact, PactStatus
from app.models.photo import Photo
from app.models.place import District
from app.models.user import Department, Role
from app.seed.demo import seed_places
from tests.http_helpers import assert_field_error, english, location_path, text_of

HOUR = timedelta(hours=1)
OUTLINE = {"type": "Polygon", "coordinates": [[[7.6848, 45.0633], [7.6858, 45.0633], [7.6858, 45.0641],
                                               [7.6848, 45.0641], [7.6848, 45.0633]]]}


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def places(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        ids = {"district1": db.session.scalar(select(District.id).where(District.number == 1)),
               "department": db.session.scalar(select(Department.id).order_by(Department.id).limit(1))}
    yield ids
    geo.clear_cache()


@pytest.fixture
def official(make_user, login_as):
    return login_as(make_user(roles=[Role.official]))


def add_commons(app, name="Giardino Cavour", registered=True, proposed_by=None, hidden=False, **fields):
    with app.app_context():
        fields = {"kind": CommonsKind.green_area, "lat": 45.0637, "lon": 7.6853, **fields}
        commons = Commons(name=name, registered_at=utcnow() if registered else None, proposed_by_id=proposed_by,
                          hidden_at=utcnow() if hidden else None, **fields)
        db.session.add(commons)
        db.session.commit()
        return commons.id


def add_call(app, commons_id, title="Adotta il giardino", opens=-1, closes=48):
    with app.app_context():
        now = utcnow()
        db.session.add(CommonsCall(commons_id=commons_id, title=title, opens_at=now + opens * HOUR,
                                   closes_at=now + closes * HOUR, requirements="Cinque volontari"))
        db.session.commit()


def form_data(**overrides):
    data = {"name": "Giardino Cavour", "kind": "green_area", "description": "Un giardino storico.",
            "address": "Via Cavour", "lat": "45.0637", "lon": "7.6853", "geometry": "", "district_id": "0",
            "owner": "city", "owner_name": "", "owner_consent": "", "department_id": "0"}
    data.update(overrides)
    return data


def _one(app, model, *where):
    with app.app_context():
        obj = db.session.scalar(select(model).where(*where))
        if obj is not None:
            db.session.expunge(obj)
        return obj


# --- public pages -------------------------------------------------------------------------------

def test_the_registry_lists_registered_commons_but_not_proposed_or_hidden_ones(app, client, places):
    add_commons(app, "Giardino Cavour")
    add_commons(app, "Aiuola proposta", registered=False)
    add_commons(app, "Piazza nascosta", hidden=True)
    page = text_of(client.get("/commons"))
    assert "Giardino Cavour" in page
    assert "Aiuola proposta" not in page and "Piazza nascosta" not in page
    assert "1 commons matches your filters." in page


def test_the_registry_filters_by_name_kind_and_offered_for_care(app, client, places):
    garden = add_commons(app, "Giardino Cavour")
    add_commons(app, "Piazza Bengasi", kind=CommonsKind.square, lat=45.0196, lon=7.6517)
    add_call(app, garden)
    assert "Piazza Bengasi" not in text_of(client.get("/commons?offered=1"))
    assert "Giardino Cavour" in text_of(client.get("/commons?offered=1"))
    assert "Giardino Cavour" not in text_of(client.get("/commons?kind=square"))
    assert "Giardino Cavour" not in text_of(client.get("/commons?q=bengasi"))
    assert client.get("/commons?kind=dragon&district=x&page=999999").status_code == 200


def test_the_registry_is_paginated_keeping_its_filters(app, client, places):
    for n in range(27):
        add_commons(app, f"Aiuola {n:02d}")
    first = text_of(client.get("/commons?kind=green_area"))
    assert "Page 1 of 2" in first and "page=2" in first and "kind=green_area" in first
    assert "Aiuola 26" in text_of(client.get("/commons?kind=green_area&page=2"))


def test_a_commons_page_shows_its_facts_calls_and_public_pacts_only(app, client, places):
    commons_id = add_commons(app, "Cortile Pestalozzi", kind=CommonsKind.school_courtyard, owner=CommonsOwner.third_party,
                             owner_name="Istituto Pestalozzi", owner_consent="Delibera del consiglio d'istituto 12/2026",
                             department_id=places["department"], heritage_constraint=True, address="Via Banfo 32",
                             district_id=places["district1"])
    add_call(app, commons_id, title="Cura del cortile")
    add_call(app, commons_id, title="Bando scaduto", opens=-100, closes=-50)
    with app.app_context():
        db.session.add_all([
            Pact(title="Patto attivo", commons_id=commons_id, status=PactStatus.active,
                 department_id=places["department"]),
            Pact(title="Bozza privata", commons_id=commons_id, status=PactStatus.draft)])
        db.session.commit()
    response = client.get(f"/commons/{commons_id}")
    page = text_of(response)
    assert response.status_code == 200
    for expected in ("Cortile Pestalozzi", "school courtyard", "Via Banfo 32", "Istituto Pestalozzi",
                     "consent recorded", "Delibera del consiglio", "heritage protection", "Cura del cortile",
                     "Cinque volontari", "1 past call", "Bando scaduto", "Patto attivo", 'id="commons-map"'):
        assert expected in page, expected
    assert "Bozza privata" not in page
    assert "For the office" not in page


def test_a_proposed_commons_page_is_hidden_from_visitors_until_registered(app, client, places, make_user, login_as):
    commons_id = add_commons(app, "Aiuola proposta", registered=False)
    assert client.get(f"/commons/{commons_id}").status_code == 404
    assert client.get("/commons/999999").status_code == 404
    login_as(make_user(roles=[Role.official]))
    page = text_of(client.get(f"/commons/{commons_id}"))
    assert "not in the registry yet" in page and "Register it" in page


def test_the_geojson_is_rfc7946_lon_lat_with_outlines(app, client, places):
    point = add_commons(app, "Giardino Cavour")
    outlined = add_commons(app, "Aiuola", geometry=json.dumps(OUTLINE))
    add_commons(app, "Memoria del Lingotto", kind=CommonsKind.immaterial, lat=None, lon=None)
    add_commons(app, "Non registrato", registered=False)
    response = client.get("/commons.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = response.get_json(force=True)
    assert data["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in data["features"]}
    assert len(by_id) == 3
    assert by_id[point]["geometry"] == {"type": "Point", "coordinates": [7.6853, 45.0637]}
    assert by_id[outlined]["geometry"]["type"] == "Polygon"
    assert by_id[outlined]["properties"]["url"] == f"/commons/{outlined}"
    assert [f["geometry"] for f in data["features"] if f["properties"]["kind"] == "immaterial"] == [None]


def test_the_map_layer_shows_visible_commons_only(app, client, places):
    add_commons(app, "Giardino Cavour")
    add_commons(app, "Non registrato", registered=False, lat=45.0640, lon=7.6860)
    response = client.get("/api/v1/map/features", query_string={"bbox": "7.58,45.00,7.78,45.15", "zoom": "17",
                                                                "layers": "commons"})
    assert response.status_code == 200
    titles = [f["properties"]["title"] for f in response.get_json(force=True)["features"]]
    assert titles == ["Giardino Cavour"]


# --- who reaches the office -------------------------------------------------------------------

def test_a_citizen_cannot_reach_the_office(app, client, places, make_user, login_as):
    commons_id = add_commons(app)
    login_as(make_user(verified=True))
    assert client.get("/office/commons").status_code == 403
    assert client.get("/office/commons/new").status_code == 403
    assert client.post("/office/commons/new", data=form_data(name="Altro")).status_code == 403
    assert client.post(f"/office/commons/{commons_id}/hide", data={"hd-reason": "no"}).status_code == 403
    assert _one(app, Commons, Commons.name == "Altro") is None
    assert _one(app, Commons, Commons.id == commons_id).hidden_at is None


def test_a_visitor_is_sent_to_sign_in(client, places):
    response = client.get("/office/commons")
    assert response.status_code == 302 and location_path(response) == "/login"


# --- the office's forms -----------------------------------------------------------------------

def _png():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 140, 60)).save(out, "PNG")
    out.seek(0)
    return out


def test_an_official_adds_a_commons_with_a_photo(app, client, places, official):
    response = client.post("/office/commons/new", data={**form_data(department_id=str(places["department"]),
                                                                    heritage_constraint="y"),
                                                        "photos": (_png(), "giardino.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    commons = _one(app, Commons, Commons.name == "Giardino Cavour")
    assert location_path(response) == f"/commons/{commons.id}"
    assert commons.registered_at is not None and commons.district_id == places["district1"]
    assert commons.heritage_constraint and commons.department_id == places["department"]
    assert _one(app, AuditEvent, AuditEvent.action == "commons.created").actor_id == official.id
    assert _one(app, Photo, Photo.owner_type == "commons", Photo.owner_id == commons.id) is not None
    assert "Photo 1 of the commons" in text_of(client.get(f"/commons/{commons.id}"))


def test_invalid_geojson_is_refused_with_a_clear_message(app, client, places, official):
    response = client.post("/office/commons/new", data=form_data(geometry='{"type": "Polygon", "coordinates": [[['))
    assert response.status_code == 200
    assert_field_error(response, "geometry", "not valid GeoJSON")
    response = client.post("/office/commons/new", data=form_data(
        geometry=json.dumps({"type": "LineString", "coordinates": [[7.68, 45.06], [7.69, 45.07]]})))
    assert_field_error(response, "geometry", "must be a GeoJSON Polygon or MultiPolygon")
    assert _one(app, Commons) is None


def test_a_point_outside_turin_is_refused(app, client, places, official):
    response = client.post("/office/commons/new", data=form_data(lat="45.4642", lon="9.1900"))
    assert response.status_code == 200
    assert_field_error(response, "lat", "outside the city of Turin")
    assert _one(app, Commons) is None


def test_a_third_party_owner_without_consent_is_refused(app, client, places, official):
    response = client.post("/office/commons/new", data=form_data(owner="third_party", owner_name="Parrocchia"))
    assert_field_error(response, "owner_consent", "consent")
    assert _one(app, Commons) is None


def test_an_official_edits_a_commons_and_adds_an_outline(app, client, places, official):
    commons_id = add_commons(app)
    assert client.get(f"/office/commons/{commons_id}/edit").status_code == 200
    response = client.post(f"/office/commons/{commons_id}/edit",
                           data=form_data(name="Giardino Cavour (aiuole)", geometry=json.dumps(OUTLINE)))
    assert response.status_code == 302 and location_path(response) == f"/commons/{commons_id}"
    commons = _one(app, Commons, Commons.id == commons_id)
    assert commons.name == "Giardino Cavour (aiuole)" and json.loads(commons.geometry)["type"] == "Polygon"
    assert _one(app, AuditEvent, AuditEvent.action == "commons.updated").target_id == commons_id


def test_an_official_registers_a_commons_a_citizen_proposed(app, client, places, official, make_user):
    citizen = make_user()
    commons_id = add_commons(app, "Aiuola proposta", registered=False, proposed_by=citizen.id)
    listing = text_of(client.get("/office/commons?status=proposed"))
    assert "Aiuola proposta" in listing and "proposed by" in listing
    response = client.post(f"/office/commons/{commons_id}/register")
    assert response.status_code == 302
    assert _one(app, Commons, Commons.id == commons_id).registered_at is not None
    assert _one(app, AuditEvent, AuditEvent.action == "commons.registered").actor_id == official.id
    assert "Aiuola proposta" in text_of(client.get("/commons"))


def test_hiding_needs_a_reason_and_restoring_brings_it_back(app, client, places, official):
    commons_id = add_commons(app)
    client.post(f"/office/commons/{commons_id}/hide", data={"hd-reason": ""})
    assert _one(app, Commons, Commons.id == commons_id).hidden_at is None
    response = client.post(f"/office/commons/{commons_id}/hide", data={"hd-reason": "Doppione"})
    assert response.status_code == 302
    assert _one(app, Commons, Commons.id == commons_id).hidden_at is not None
    assert "Giardino Cavour" not in text_of(client.get("/commons"))
    client.post(f"/office/commons/{commons_id}/restore")
    assert _one(app, Commons, Commons.id == commons_id).hidden_at is None


def test_an_official_opens_a_call_for_care_in_rome_time(app, client, places, official):
    commons_id = add_commons(app)
    response = client.post(f"/office/commons/{commons_id}/calls/new", data={
        "title": "Cura delle aiuole", "description": "Le aiuole di via Cavour.", "requirements": "Cinque volontari",
        "criteria": "Continuità", "opens_at": "2026-03-01T09:00", "closes_at": "2099-03-31T18:00"})
    assert response.status_code == 302 and location_path(response) == f"/commons/{commons_id}"
    call = _one(app, CommonsCall, CommonsCall.commons_id == commons_id)
    assert call.opens_at.isoformat() == "2026-03-01T08:00:00+00:00"  # 09:00 in Turin, winter time
    assert call.closes_at.isoformat() == "2099-03-31T16:00:00+00:00"  # 18:00 in Turin, summer time
    assert _one(app, AuditEvent, AuditEvent.action == "commons_call.opened").target_id == call.id
    assert "Cura delle aiuole" in text_of(client.get(f"/commons/{commons_id}"))
    assert "Giardino Cavour" in text_of(client.get("/commons?offered=1"))


def test_a_call_closing_before_it_opens_is_refused(app, client, places, official):
    commons_id = add_commons(app)
    response = client.post(f"/office/commons/{commons_id}/calls/new", data={
        "title": "Bando", "opens_at": "2099-03-10T09:00", "closes_at": "2099-03-01T09:00"})
    assert response.status_code == 200
    assert_field_error(response, "closes_at", "must close after it opens")
    assert _one(app, CommonsCall) is None


def test_an_official_closes_a_call_early(app, client, places, official):
    commons_id = add_commons(app)
    add_call(app, commons_id)
    call = _one(app, CommonsCall)
    assert client.post(f"/office/commons/calls/{call.id}/close").status_code == 302
    assert _one(app, CommonsCall).closes_at <= utcnow()
    assert "Giardino Cavour" not in text_of(client.get("/commons?offered=1"))


def test_office_pages_answer_404_for_missing_commons(client, places, official):
    assert client.get("/office/commons/999/edit").status_code == 404
    assert client.post("/office/commons/999/register").status_code == 404
    assert client.post("/office/commons/calls/999/close").status_code == 404


def test_officials_see_their_tools_on_the_public_page(app, client, places, official):
    commons_id = add_commons(app)
    page = text_of(client.get(f"/commons/{commons_id}"))
    assert "For the office" in page and "Offer it for care" in page
    with app.app_context():
        assert db.session.get(User, official.id).has_role(Role.official)


def test_the_citizen_who_proposed_a_commons_sees_its_page(app, client, places, make_user, login_as):
    rosa = make_user()
    commons_id = add_commons(app, "Aiuola di Rosa", registered=False, proposed_by=rosa.id)
    login_as(make_user())
    assert client.get(f"/commons/{commons_id}").status_code == 404
    login_as(rosa)
    response = client.get(f"/commons/{commons_id}")
    assert response.status_code == 200 and "not in the registry yet" in text_of(response)
    assert "For the office" not in text_of(response)


def test_the_shared_map_offers_the_commons_layer(client, places):
    response = client.get("/map?layers=commons")
    assert response.status_code == 200
    assert "Urban commons" in text_of(response)


def test_a_registered_commons_page_offers_to_propose_a_pact_for_it(app, client, places, make_user, login_as):
    commons_id = add_commons(app)
    proposed_id = add_commons(app, "Aiuola proposta", registered=False)
    page = text_of(client.get(f"/commons/{commons_id}"))
    assert "Propose a pact for this commons" in page and f"/pacts/new?commons={commons_id}" in page
    login_as(make_user(roles=[Role.official]))
    assert "Propose a pact for this commons" not in text_of(client.get(f"/commons/{proposed_id}"))
