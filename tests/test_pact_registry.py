"""The public registry of pacts: what each status shows to visitors, filters, a pact's page with
verifiable signatures, statistics from the status history, and the CSV / GeoJSON open data."""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.commons import Commons, CommonsKind, Organisation, OrganisationKind
from app.models.pact import (
    PUBLIC_STATUSES,
    Pact,
    PactKind,
    PactParty,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactVersion,
    PartyKind,
    text_sha256,
)
from app.models.place import District
from app.seed.demo import seed_places

S = PactStatus
DAY = timedelta(days=1)
TEXT = "# Patto per il giardino di via Baltea\n\nLe parti si impegnano a curare il giardino.\n"


@pytest.fixture
def place(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        district = db.session.scalar(select(District).where(District.number == 7))
        garden = Commons(name="Giardino di via Baltea", kind=CommonsKind.green_area, lat=45.0870, lon=7.6900,
                         district_id=district.id, registered_at=utcnow())
        courtyard = Commons(name="Cortile della scuola Pestalozzi", kind=CommonsKind.school_courtyard,
                            lat=45.0900, lon=7.6950, district_id=district.id, registered_at=utcnow())
        db.session.add_all([garden, courtyard])
        db.session.commit()
        return {"garden": garden.id, "courtyard": courtyard.id, "district": district.id}


def make_pact(app, place, status, title=None, commons="garden", organisation=None, kind=PactKind.ordinary,
              history=(), signed_by=()):
    """A pact in ``status`` with a status history of (status, days ago) and, when signed, its text and signatures."""
    with app.app_context():
        org = None
        if organisation:
            org = Organisation(name=organisation, kind=OrganisationKind.association)
            db.session.add(org)
        pact = Pact(title=title or f"Patto {status.value}", commons_id=place[commons], district_id=place["district"],
                    status=status, kind=kind, organisation=org, objectives="Curare il verde.",
                    activities="Sfalcio e pulizia.", protocol_number=f"PC-2026-{abs(hash((title, status))) % 9000 + 1000}")
        db.session.add(pact)
        db.session.flush()
        now = utcnow()
        previous = None
        for st, days_ago in history or [(status, 1)]:
            db.session.add(PactStatusChange(pact_id=pact.id, from_status=previous, to_status=st, at=now - days_ago * DAY))
            previous = st
        if signed_by:
            version = PactVersion(pact_id=pact.id, number=1, text=TEXT)
            db.session.add(version)
            db.session.flush()
            pact.approved_version_number, pact.approved_text_sha256 = 1, text_sha256(TEXT)
            for capacity in signed_by:
                party = PactParty(pact_id=pact.id, kind=PartyKind.proponent)
                db.session.add(party)
                db.session.flush()
                db.session.add(PactSignature(pact_id=pact.id, party_id=party.id, version_id=version.id,
                                             capacity=capacity, text_sha256=text_sha256(TEXT)))
        db.session.commit()
        return pact.id


@pytest.mark.parametrize("status", list(S))
def test_each_status_is_public_or_not_as_the_procedure_says(app, client, place, status):
    pact_id = make_pact(app, place, status, title="Un patto")
    with app.app_context():  # admitted by an office (see the next test for a withdrawal before that)
        from app.models.user import Department

        db.session.get(Pact, pact_id).department_id = db.session.scalar(select(Department.id).limit(1))
        db.session.commit()
    page = client.get(f"/pacts/{pact_id}")
    listed = "Un patto" in client.get("/pacts").get_data(as_text=True)
    if status in PUBLIC_STATUSES:
        assert page.status_code == 200 and listed
    else:
        assert page.status_code == 404 and not listed


def test_a_proposal_withdrawn_before_admissibility_stays_private(app, client, place):
    pact_id = make_pact(app, place, S.withdrawn, title="Ritirato presto")
    assert client.get(f"/pacts/{pact_id}").status_code == 404
    assert "Ritirato presto" not in client.get("/pacts").get_data(as_text=True)


def test_a_hidden_pact_is_not_public(app, client, place):
    pact_id = make_pact(app, place, S.active, title="Giardino segreto")
    with app.app_context():
        db.session.get(Pact, pact_id).hidden_at = utcnow()
        db.session.commit()
    page = client.get(f"/pacts/{pact_id}")  # a placeholder saying it was hidden, not a 404
    assert page.status_code == 200 and "data-moderation-notice" in page.get_data(as_text=True)
    assert "Giardino segreto" not in page.get_data(as_text=True)
    assert "Giardino segreto" not in client.get("/pacts").get_data(as_text=True)


def test_filters_by_status_commons_kind_type_and_proponent(app, client, place):
    make_pact(app, place, S.active, title="Giardino attivo", organisation="Associazione Baltea")
    make_pact(app, place, S.co_design, title="Cortile in co-progettazione", commons="courtyard",
              kind=PactKind.complex)

    def titles(query):
        text = client.get(f"/pacts?{query}").get_data(as_text=True)
        return {t for t in ("Giardino attivo", "Cortile in co-progettazione") if t in text}

    assert titles("status=active") == {"Giardino attivo"}
    assert titles("commons=school_courtyard") == {"Cortile in co-progettazione"}
    assert titles("kind=complex") == {"Cortile in co-progettazione"}
    assert titles("proponent=organisation") == {"Giardino attivo"}
    assert titles("proponent=individual") == {"Cortile in co-progettazione"}
    assert titles(f"district={place['district']}") == {"Giardino attivo", "Cortile in co-progettazione"}
    assert titles("status=draft&commons=nothing&kind=x") == {"Giardino attivo", "Cortile in co-progettazione"}


def test_signatures_are_verified_against_the_stored_approved_text(app, client, place):
    pact_id = make_pact(app, place, S.active, signed_by=("Associazione Baltea", "Città di Torino"))
    page = client.get(f"/pacts/{pact_id}").get_data(as_text=True)
    assert text_sha256(TEXT) in page
    assert page.count("tag-ok") >= 2 and "tag-warn" not in page
    # Someone changes one character of the approved text in the database: no signature matches any more.
    with app.app_context():
        version = db.session.scalar(select(PactVersion).where(PactVersion.pact_id == pact_id))
        version.text = TEXT.replace("curare", "gestire")
        db.session.commit()
    tampered = client.get(f"/pacts/{pact_id}").get_data(as_text=True)
    assert tampered.count("tag-warn") == 2


def test_statistics_count_the_funnel_and_median_days_per_step(app, client, place):
    make_pact(app, place, S.active, history=[(S.submitted, 100), (S.admissible, 80), (S.public_consultation, 70),
                                             (S.co_design, 40), (S.approved, 20), (S.signing, 15), (S.active, 10)])
    make_pact(app, place, S.public_consultation, history=[(S.submitted, 50), (S.admissible, 20),
                                                           (S.public_consultation, 10)])
    make_pact(app, place, S.inadmissible, history=[(S.submitted, 30), (S.inadmissible, 25)])
    with app.app_context():
        from app.pacts.registry import statistics_summary

        stats = statistics_summary()
    assert stats["funnel"] == [(S.submitted, 3), (S.admissible, 2), (S.active, 1)]
    medians = {status: (days, n) for status, days, n in stats["medians"]}
    assert medians[S.submitted] == (20.0, 3)  # 20, 30 and 5 days
    assert medians[S.admissible] == (10.0, 2)
    page = client.get("/pacts/statistics")
    assert page.status_code == 200


def test_open_data_csv_and_geojson_hold_only_public_pacts(app, client, place):
    make_pact(app, place, S.active, title="Giardino condiviso", organisation="Associazione Baltea")
    make_pact(app, place, S.submitted, title="Ancora in esame")
    response = client.get("/pacts.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["title"], r["status"], r["proponent"], r["commons_kind"]) for r in rows] == [
        ("Giardino condiviso", "active", "Associazione Baltea", "green_area")]
    geo_json = client.get("/pacts.geojson")
    assert geo_json.mimetype == "application/geo+json"
    features = geo_json.get_json()["features"]
    assert len(features) == 1
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [7.69, 45.087]}  # lon, lat


def test_the_map_layer_shows_public_pacts_at_their_commons(app, client, place):
    make_pact(app, place, S.active, title="Giardino condiviso")
    make_pact(app, place, S.draft, title="Bozza")
    data = client.get("/api/v1/map/features?bbox=7.68,45.08,7.70,45.10&zoom=17&layers=pacts").get_json()
    titles = [f["properties"]["title"] for f in data["features"]]
    assert titles == ["Giardino condiviso"]
    assert data["features"][0]["geometry"]["coordinates"] == [7.69, 45.087]


def test_a_pact_page_names_former_participants_neutrally(app, client, place):
    pact_id = make_pact(app, place, S.active)
    with app.app_context():
        user = User(email=None, display_name="", deleted_at=utcnow())
        db.session.add(user)
        db.session.flush()
        db.session.add(PactParty(pact_id=pact_id, kind=PartyKind.proponent, user_id=user.id))
        db.session.commit()
    page = client.get(f"/pacts/{pact_id}?lang=en").get_data(as_text=True)
    assert "Former participant" in page
