"""Open data: CSV (RFC 4180) and GeoJSON (RFC 7946) downloads per layer and per process, the data
dictionary page, the streamed batches, the consistent snapshot and `flask export open-data DIR` —
and, above all, that nothing private ever leaves: no person, no hidden item, no draft, no private pact.

``open_world`` builds a small city with public items and, next to them, everything that must stay
out; the tests download every file and feed and search the raw bytes for it.
"""
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.models import Category, User
from app.models.base import utcnow
from app.models.commons import Commons, CommonsKind, Organisation, OrganisationKind
from app.models.event import Event, EventKind, EventRegistration
from app.models.pact import Pact, PactStatus
from app.models.place import District, NeighbourhoodHouse
from app.models.proposal import Process, Support
from app.models.report import Report, ReportStatus
from app.opendata import datasets, formats, services
from app.proposals import services as proposal_services
from app.reports import services as report_services
from app.seed.demo import seed_places
from tests.conftest import ROOT
from tests.pact_builders import advance, make_commons, pact_world
from tests.test_proposals import build_process, collecting_moment

S = ReportStatus
NIZZA = (45.0450, 7.6780)  # district 8
CASTELLO = (45.0712, 7.6857)  # district 1
BASE_URL = "https://piazza.example.org"
FEED_NAMES = ("proposals", "resolved-reports", "pacts")

#: People whose every trace must stay out of the open data and the feeds.
PEOPLE = [
    {"email": "zebedeo.quaglierini@secret.example", "display_name": "Zebedeo Quaglierini", "phone": "+39 333 0001111"},
    {"email": "ottavia.strozzapreti@secret.example", "display_name": "Ottavia Strozzapreti",
     "phone": "+39 347 0002222"},
    {"email": "supporter.segreto@secret.example", "display_name": "Sostenitrice Segretissima",
     "phone": "+39 320 0003333"},
]


@dataclass
class World:
    """Ids of what was built and the strings that must never appear."""

    public: dict = field(default_factory=dict)  # kind -> set of ids
    private: dict = field(default_factory=dict)  # kind -> set of ids
    secrets: list = field(default_factory=list)
    visible_texts: list = field(default_factory=list)  # public strings that must appear (positive control)
    processes: list = field(default_factory=list)  # slugs
    districts: dict = field(default_factory=dict)  # number -> id

    def add(self, kind, item_id, public=True):
        (self.public if public else self.private).setdefault(kind, set()).add(item_id)


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()
    geo.clear_cache()
    yield
    geo.clear_cache()


@pytest.fixture
def base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", BASE_URL)
    return BASE_URL


def _report(user, category, point, title, status=None, hidden=False, resolved_days_ago=None, description=None):
    report = report_services.create_report(user, title="Segnalazione", description="Testo.",
                                           category_id=category, lat=point[0], lon=point[1],
                                           address="Via Nizza 120")
    report.title = title
    report.description = description or f"Descrizione di {title}."
    if status is not None:
        report.status = status
    if resolved_days_ago is not None:
        report.resolved_at = utcnow() - timedelta(days=resolved_days_ago)
    if hidden:
        report.hidden_at = utcnow()
    db.session.flush()
    return report


def _proposal(user, process, title, district=None, hidden=False, publish=True, point=None):
    lat, lon = point if point else (None, None)
    proposal = proposal_services.create_proposal(user, process, title=title, body=f"Il testo di {title}.",
                                                 district_id=district, lat=lat, lon=lon)
    if publish:
        proposal_services.publish(proposal, user, now=collecting_moment(process))
    if hidden:
        proposal.hidden_at = utcnow()
    db.session.flush()
    return proposal


def build_world(app, make_user):
    """The city of the privacy tests (see the module docstring). Returns a World."""
    people = [make_user(verified=True, **person) for person in PEOPLE]
    world = World()
    world.secrets += [p[k] for p in PEOPLE for k in ("email", "display_name", "phone")]
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        world.districts = {d.number: d.id for d in db.session.scalars(select(District))}
        category = {c.slug: c.id for c in db.session.scalars(select(Category))}
        reporter, author, supporter = (db.session.get(User, p.id) for p in people)

        # Reports: open, resolved, closed after the fix; hidden ones and one held by pre-moderation.
        r = _report(reporter, category["illuminazione"], NIZZA, "Lampione spento in via Nizza")
        world.add("reports", r.id)
        world.visible_texts.append("Lampione spento in via Nizza")
        r = _report(reporter, category["illuminazione"], CASTELLO, "Buca risolta in piazza Castello",
                    status=S.resolved, resolved_days_ago=2)
        world.add("reports", r.id)
        r = _report(reporter, category["illuminazione"], NIZZA, "Cestino svuotato in via Nizza", status=S.closed,
                    resolved_days_ago=5)
        world.add("reports", r.id)
        for title in ("SEGNALAZIONE-NASCOSTA-UNO", "SEGNALAZIONE-NASCOSTA-RISOLTA"):
            r = _report(reporter, category["illuminazione"], NIZZA, title, hidden=True, status=S.resolved,
                        resolved_days_ago=1)
            world.add("reports", r.id, public=False)
            world.secrets.append(title)

        # Proposals in two processes: published, a draft, a hidden one, one without a place.
        first, second = build_process(), build_process()
        world.processes = [first.slug, second.slug]
        p = _proposal(author, first, "Panchine in via Nizza", district=world.districts[8], point=NIZZA)
        world.add("proposals", p.id)
        world.visible_texts.append("Panchine in via Nizza")
        db.session.add(Support(proposal_id=p.id, process_id=first.id, user_id=supporter.id))
        p.support_count = 1
        p = _proposal(author, second, "Alberi in piazza Castello", district=world.districts[1], point=CASTELLO)
        world.add("proposals", p.id)
        p = _proposal(author, second, "Biblioteca diffusa senza luogo")
        world.add("proposals", p.id)
        for title, kwargs in (("PROPOSTA-BOZZA-SEGRETA", {"publish": False}),
                              ("PROPOSTA-NASCOSTA-SEGRETA", {"hidden": True, "district": world.districts[8],
                                                             "point": NIZZA})):
            p = _proposal(author, first, title, **kwargs)
            world.add("proposals", p.id, public=False)
            world.secrets.append(title)

        # A house with contact details, an event with a registration, one by a hidden organisation.
        house = db.session.scalar(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id))
        house.phone, house.email = "011 4242 9999", "casa.segreta@secret.example"
        world.secrets += [house.phone, house.email]
        now = utcnow()
        event = Event(house_id=house.id, kind=EventKind.assembly, title="Assemblea di quartiere",
                      starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2),
                      district_id=house.district_id, created_by_id=author.id, capacity=30)
        db.session.add(event)
        db.session.flush()
        db.session.add(EventRegistration(event_id=event.id, user_id=supporter.id))
        world.add("events", event.id)
        hidden_org = Organisation(name="ORGANIZZAZIONE-NASCOSTA", kind=OrganisationKind.association, hidden_at=now,
                                  email="org.nascosta@secret.example", tax_code="CFNASCOSTO0001")
        db.session.add(hidden_org)
        db.session.flush()
        event = Event(organisation_id=hidden_org.id, kind=EventKind.other, title="Incontro aperto", address="Via Po 1",
                      starts_at=now + timedelta(days=4), ends_at=now + timedelta(days=4, hours=1))
        db.session.add(event)
        db.session.flush()
        world.add("events", event.id)
        world.secrets += ["ORGANIZZAZIONE-NASCOSTA", "org.nascosta@secret.example", "CFNASCOSTO0001"]

        # Commons: one registered, one only proposed by a citizen, one hidden by moderation.
        registered = Commons(name="Giardino registrato", kind=CommonsKind.green_area, lat=45.06, lon=7.67,
                             registered_at=now, district_id=world.districts[8])
        proposed = Commons(name="BENE-SOLO-PROPOSTO", kind=CommonsKind.square, lat=45.05, lon=7.66,
                           proposed_by_id=author.id, owner_name="Proprietario Privatissimo")
        hidden = Commons(name="BENE-NASCOSTO", kind=CommonsKind.building, lat=45.04, lon=7.65, registered_at=now,
                         hidden_at=now)
        immaterial = Commons(name="Memoria del quartiere", kind=CommonsKind.immaterial, registered_at=now)
        db.session.add_all([registered, proposed, hidden, immaterial])
        db.session.commit()
        world.add("commons", registered.id)
        world.add("commons", immaterial.id)
        world.add("commons", proposed.id, public=False)
        world.add("commons", hidden.id, public=False)
        world.secrets += ["BENE-SOLO-PROPOSTO", "BENE-NASCOSTO", "Proprietario Privatissimo"]

        # Pacts: the cast of tests.pact_builders (an organisation, an individual co-proponent, officials).
        cast = pact_world()
        world.secrets += [u.display_name for u in cast.users.values()] + [u.email for u in cast.users.values()]
        organisation = cast.organisation
        organisation.email, organisation.tax_code = "orti.alti@secret.example", "CFORTIALTI0002"
        world.secrets += [organisation.email, organisation.tax_code]
        world.visible_texts.append(organisation.name)
        commons = cast.commons
        commons.district_id = world.districts[8]
        world.add("commons", commons.id)
        db.session.commit()
        for status, title, public in ((PactStatus.active, "Patto attivo del giardino", True),
                                      (PactStatus.public_consultation, "Patto in consultazione", True),
                                      (PactStatus.draft, "PATTO-BOZZA-SEGRETO", False),
                                      (PactStatus.submitted, "PATTO-PRESENTATO-SEGRETO", False),
                                      (PactStatus.needs_integration, "PATTO-DA-INTEGRARE-SEGRETO", False),
                                      (PactStatus.inadmissible, "PATTO-INAMMISSIBILE-SEGRETO", False),
                                      (PactStatus.withdrawn, "PATTO-RITIRATO-SEGRETO", False)):
            pact_id = advance(cast, status, title=title)
            pact = db.session.get(Pact, pact_id)
            pact.district_id = world.districts[8]
            world.add("pacts", pact_id, public=public)
            if not public:
                world.secrets.append(title)
        hidden_pact = db.session.get(Pact, advance(cast, PactStatus.active, title="PATTO-NASCOSTO-SEGRETO"))
        hidden_pact.hidden_at = utcnow()
        world.add("pacts", hidden_pact.id, public=False)
        world.secrets.append("PATTO-NASCOSTO-SEGRETO")
        # A private pact on a commons of its own: neither the pact nor its commons is public.
        private_commons = make_commons(name="BENE-DEL-PATTO-PRIVATO")
        private_commons.registered_at = None
        private_pact = db.session.get(Pact, advance(cast, PactStatus.submitted, title="PATTO-PRIVATO-SEGRETO"))
        private_pact.commons_id = private_commons.id
        world.add("pacts", private_pact.id, public=False)
        world.add("commons", private_commons.id, public=False)
        world.secrets += ["BENE-DEL-PATTO-PRIVATO", "PATTO-PRIVATO-SEGRETO"]
        db.session.commit()
    world.visible_texts.append("Patto attivo del giardino")
    return world


@pytest.fixture
def open_world(app, make_user, base_url):
    world = build_world(app, make_user)
    geo.clear_cache()
    yield world
    geo.clear_cache()


# --- checkers -------------------------------------------------------------------------------------

def read_csv(body):
    """(header, rows) of a CSV download, checked to be RFC 4180-shaped UTF-8."""
    text = body.decode("utf-8")
    assert not text.startswith("\ufeff")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, data = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in data), "every row has a cell per column"
    return header, data


def _check_position(position):
    assert isinstance(position, list) and len(position) in (2, 3), position
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)
    lon, lat = position[0], position[1]
    assert -180 <= lon <= 180 and -90 <= lat <= 90, position


def _check_geometry(geometry):
    if geometry is None:
        return
    assert set(geometry) >= {"type", "coordinates"} and "crs" not in geometry
    kind, coordinates = geometry["type"], geometry["coordinates"]
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
    assert kind in depth, kind

    def walk(value, level):
        if level == 0:
            _check_position(value)
        else:
            assert isinstance(value, list)
            for item in value:
                walk(item, level - 1)

    walk(coordinates, depth[kind])


def check_rfc7946(doc):
    """Assert ``doc`` is an RFC 7946 FeatureCollection; returns its features."""
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    assert isinstance(doc["features"], list)
    ids = set()
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert "crs" not in feature
        assert isinstance(feature["id"], (int, str)) and not isinstance(feature["id"], bool)
        assert feature["id"] not in ids, "feature ids are unique"
        ids.add(feature["id"])
        assert "geometry" in feature and "properties" in feature
        assert feature["properties"] is None or isinstance(feature["properties"], dict)
        _check_geometry(feature["geometry"])
    return doc["features"]


def download(client, url, media_type):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == media_type
    assert response.is_streamed
    return response


def every_download_url(world):
    urls = []
    for dataset in datasets.DATASETS:
        urls += [f"/open-data/{dataset.name}.csv", f"/open-data/{dataset.name}.geojson"]
    for slug in world.processes:
        urls += [f"/open-data/processes/{slug}/proposals.csv", f"/open-data/processes/{slug}/proposals.geojson"]
    return urls


def every_feed_url(world):
    urls = []
    for name in FEED_NAMES:
        for fmt in ("atom", "rss"):
            urls.append(f"/feeds/{name}.{fmt}")
            urls += [f"/feeds/{name}.{fmt}?district={n}" for n in sorted(world.districts)]
            urls.append(f"/feeds/{name}.{fmt}?lang=en")
    return urls


# --- the files ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", datasets.DATASETS, ids=lambda d: d.name)
def test_every_layer_is_a_csv_whose_header_is_the_dictionary(client, open_world, dataset):
    response = download(client, f"/open-data/{dataset.name}.csv", "text/csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response.headers["Content-Disposition"] == f'attachment; filename="piazza-{dataset.name}.csv"'
    header, rows = read_csv(response.data)
    assert header == [f.name for f in dataset.fields]
    ids = [int(row[0]) for row in rows]
    assert ids == sorted(set(ids)), "one row per item, by number"
    if dataset.name in open_world.public:
        assert set(ids) == open_world.public[dataset.name]


@pytest.mark.parametrize("dataset", datasets.DATASETS, ids=lambda d: d.name)
def test_every_layer_is_rfc7946_geojson_with_the_same_items(client, open_world, dataset):
    response = download(client, f"/open-data/{dataset.name}.geojson", "application/geo+json")
    features = check_rfc7946(json.loads(response.data))
    _header, rows = read_csv(client.get(f"/open-data/{dataset.name}.csv").data)
    assert [f["id"] for f in features] == [int(row[0]) for row in rows]
    for feature in features:
        assert list(feature["properties"]) == [f.name for f in dataset.fields if f.name not in ("lat", "lon")]
    json.loads(response.data, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


def test_geojson_coordinates_are_longitude_then_latitude(client, open_world):
    features = check_rfc7946(client.get("/open-data/reports.geojson").get_json())
    by_title = {f["properties"]["title"]: f for f in features}
    assert by_title["Lampione spento in via Nizza"]["geometry"] == {"type": "Point",
                                                                    "coordinates": [NIZZA[1], NIZZA[0]]}
    _header, rows = read_csv(client.get("/open-data/reports.csv").data)
    header = datasets.REPORTS.csv_header
    row = next(r for r in rows if r[header.index("title")] == "Lampione spento in via Nizza")
    assert (float(row[header.index("lat")]), float(row[header.index("lon")])) == NIZZA


def test_an_item_without_a_place_has_a_null_geometry(client, open_world):
    features = {f["properties"]["title"]: f for f in client.get("/open-data/proposals.geojson").get_json()["features"]}
    assert features["Biblioteca diffusa senza luogo"]["geometry"] is None
    commons = {f["properties"]["name"]: f for f in client.get("/open-data/commons.geojson").get_json()["features"]}
    assert commons["Memoria del quartiere"]["geometry"] is None
    assert commons["Giardino registrato"]["geometry"]["coordinates"] == [7.67, 45.06]


def test_a_report_row_carries_its_public_facts(client, open_world):
    _header, rows = read_csv(client.get("/open-data/reports.csv").data)
    header = datasets.REPORTS.csv_header
    records = [dict(zip(header, row)) for row in rows]
    resolved = next(r for r in records if r["title"] == "Buca risolta in piazza Castello")
    assert resolved["status"] == "resolved" and resolved["status_group"] == "fixed"
    assert resolved["category"] == "illuminazione" and resolved["district"] == "1"
    assert resolved["url"] == f"{BASE_URL}/reports/{resolved['id']}"
    for name in ("created_at", "updated_at", "status_changed_at", "resolved_at"):
        assert resolved[name].endswith("Z")
        assert datetime.fromisoformat(resolved[name].replace("Z", "+00:00")).utcoffset() == timedelta(0)
    open_one = next(r for r in records if r["title"] == "Lampione spento in via Nizza")
    assert open_one["resolved_at"] == "" and open_one["status_group"] == "open"


def test_proposals_carry_counts_and_pacts_name_only_organisations(client, open_world, app):
    proposals = client.get("/open-data/proposals.geojson").get_json()["features"]
    nizza = next(f["properties"] for f in proposals if f["properties"]["title"] == "Panchine in via Nizza")
    assert nizza["support_count"] == 1 and nizza["support_threshold"] == 3 and nizza["status"] == "published"
    pacts = client.get("/open-data/pacts.geojson").get_json()["features"]
    active = next(f["properties"] for f in pacts if f["properties"]["title"] == "Patto attivo del giardino")
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.name.like("Associazione Orti%")))
    assert active["proponent_kind"] == "organisation" and active["proponent_organisation"] == organisation.name
    assert active["status"] == "active" and active["starts_on"] and len(active["starts_on"]) == 10


def test_an_event_of_a_hidden_organisation_does_not_name_it(client, open_world):
    events = {f["properties"]["title"]: f["properties"] for f in client.get("/open-data/events.geojson").get_json()[
        "features"]}
    assert events["Incontro aperto"]["organiser_kind"] == "organisation"
    assert events["Incontro aperto"]["organiser"] is None
    assert events["Assemblea di quartiere"]["organiser_kind"] == "house"
    assert events["Assemblea di quartiere"]["place"]


def test_csv_quotes_commas_quotes_and_line_breaks_as_rfc_4180(client, app, city, make_user):
    user = make_user()
    tricky = 'Dice: "qui, proprio qui"\r\nseconda riga\nterza; fine'
    with app.app_context():
        category = db.session.scalar(select(Category.id).where(Category.slug == "illuminazione"))
        _report(db.session.get(User, user.id), category, NIZZA, "Virgole, «virgolette» e a capo", description=tricky)
        db.session.commit()
    body = client.get("/open-data/reports.csv").data
    assert b'"Dice: ""qui, proprio qui""\r\nseconda riga\nterza; fine"' in body
    header, rows = read_csv(body)
    assert rows[0][header.index("description")] == tricky
    assert rows[0][header.index("title")] == "Virgole, «virgolette» e a capo"


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "\tTab", "\rCR"])
def test_csv_cells_cannot_start_a_formula(client, app, city, make_user, text):
    user = make_user()
    with app.app_context():
        category = db.session.scalar(select(Category.id).where(Category.slug == "illuminazione"))
        _report(db.session.get(User, user.id), category, NIZZA, text)
        db.session.commit()
    header, rows = read_csv(client.get("/open-data/reports.csv").data)
    assert rows[0][header.index("title")] == "'" + text
    geojson = client.get("/open-data/reports.geojson").get_json()
    assert geojson["features"][0]["properties"]["title"] == text  # the original text, untouched


def test_numbers_are_not_quoted_away():
    assert formats.csv_cell(-7.5) == "-7.5"
    assert formats.csv_cell(True) == "true" and formats.csv_cell(None) == ""
    assert formats.csv_cell(float("nan")) == ""


def test_a_process_export_has_that_process_only(client, open_world, app):
    first, second = open_world.processes
    header, rows = read_csv(client.get(f"/open-data/processes/{first}/proposals.csv").data)
    assert {row[header.index("process")] for row in rows} == {first}
    assert [row[header.index("title")] for row in rows] == ["Panchine in via Nizza"]
    response = client.get(f"/open-data/processes/{second}/proposals.geojson")
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="piazza-process-{second}-proposals.geojson"'
    features = check_rfc7946(response.get_json())
    assert sorted(f["properties"]["title"] for f in features) == ["Alberi in piazza Castello",
                                                                 "Biblioteca diffusa senza luogo"]


@pytest.mark.parametrize("url", ["/open-data/people.csv", "/open-data/users.geojson", "/open-data/REPORTS.csv",
                                 "/open-data/processes/no-such-process/proposals.csv",
                                 "/open-data/processes/no-such-process/proposals.geojson"])
def test_unknown_datasets_and_processes_are_404(client, url):
    assert client.get(url).status_code == 404


def test_an_empty_database_gives_a_header_and_an_empty_collection(client):
    for dataset in datasets.DATASETS:
        header, rows = read_csv(client.get(f"/open-data/{dataset.name}.csv").data)
        assert header == dataset.csv_header and rows == []
        assert check_rfc7946(client.get(f"/open-data/{dataset.name}.geojson").get_json()) == []


def test_downloads_are_public_cacheable_and_readable_cross_origin(client, city):
    response = client.get("/open-data/houses.geojson")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    geojson = response.get_json()
    assert geojson["licence"] == {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}


def test_a_signed_in_download_stays_out_of_shared_caches(client, city, make_user, login_as):
    login_as(make_user())
    assert client.get("/open-data/houses.csv").headers["Cache-Control"] == "private, no-store"


# --- streaming ------------------------------------------------------------------------------------

def test_exports_are_read_in_keyset_batches_and_written_in_chunks(app, open_world):
    with app.app_context():
        export = services.layer_export("reports")
        statements = []

        def execute(stmt):
            statements.append(str(stmt))
            return db.session.execute(stmt)

        chunks = list(services.chunks(execute, export, "csv", batch_size=2))
        whole = "".join(services.chunks(db.session.execute, export, "csv"))
    assert "".join(chunks) == whole
    assert len(chunks) == 1 + 2  # the header, then one chunk per batch of two (3 public reports)
    assert len(statements) == 2
    assert "OFFSET" not in " ".join(statements).upper()
    assert "reports.id >" in statements[1]


def test_a_download_is_a_generator_reading_inside_a_snapshot(app, open_world, monkeypatch):
    opened = []
    real = services.snapshot

    def spy():
        opened.append(True)
        return real()

    monkeypatch.setattr(services, "snapshot", spy)
    with app.app_context():
        stream = services.stream(services.layer_export("reports"), "geojson", batch_size=1)
        assert not opened, "nothing is read before the response starts"
        body = b"".join(stream)
    assert opened == [True]
    assert len(check_rfc7946(json.loads(body))) == 3


# --- the snapshot -------------------------------------------------------------------------------

def test_a_snapshot_sees_one_state_while_others_write(app, open_world, make_user):
    writer = make_user()
    with app.app_context():
        with services.snapshot() as conn:
            before = conn.execute(select(func.count()).select_from(Report)).scalar_one()
            category = db.session.scalar(select(Category.id).where(Category.slug == "illuminazione"))
            _report(db.session.get(User, writer.id), category, NIZZA, "Arrivata durante l'export")
            db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(Report)) == before + 1
            assert conn.execute(select(func.count()).select_from(Report)).scalar_one() == before
        with services.snapshot() as conn:
            assert conn.execute(select(func.count()).select_from(Report)).scalar_one() == before + 1


def test_a_snapshot_is_read_only_and_repeatable_on_postgresql(app):
    with app.app_context():
        with services.snapshot() as conn:
            if conn.dialect.name != "postgresql":
                assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
                return
            assert conn.exec_driver_sql("SHOW transaction_isolation").scalar_one() == "repeatable read"
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar_one() == "on"


# --- the data dictionary ------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_dictionary_page_describes_every_dataset_and_links_every_download(client, open_world, lang):
    response = client.get(f"/open-data?lang={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
    for dataset in datasets.DATASETS:
        assert f'href="/open-data/{dataset.name}.csv"' in page
        assert f'href="/open-data/{dataset.name}.geojson"' in page
        for f in dataset.fields:
            assert f"<code>{f.name}</code>" in page
    for slug in open_world.processes:
        assert f'href="/open-data/processes/{slug}/proposals.csv"' in page
        assert f'href="/open-data/processes/{slug}/proposals.geojson"' in page
    for name in FEED_NAMES:
        assert f'href="/feeds/{name}.atom"' in page and f'href="/feeds/{name}.rss"' in page
        assert f'href="/feeds/{name}.atom?district=8"' in page
    assert '<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY 4.0</a>' in page
    assert "Città di Torino – Piazza" in page
    assert page.count("<caption") == len(datasets.DATASETS) + 1
    assert 'style="' not in page and "<script>" not in page


def test_the_licence_comes_from_the_configuration(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "OPEN_DATA_LICENCE", "IODL 2.0")
    monkeypatch.setitem(app.config, "OPEN_DATA_LICENCE_URL", "https://www.dati.gov.it/iodl/2.0/")
    page = client.get("/open-data").get_data(as_text=True)
    assert '<a href="https://www.dati.gov.it/iodl/2.0/" rel="license">IODL 2.0</a>' in page
    assert client.get("/open-data/reports.geojson").get_json()["licence"]["name"] == "IODL 2.0"


def test_the_licence_defaults_and_reads_the_environment():
    script = "import config; print(config.Config.OPEN_DATA_LICENCE, '|', config.Config.OPEN_DATA_LICENCE_URL)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPEN_DATA_")}
    default = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=True).stdout.strip()
    assert default == "CC BY 4.0 | https://creativecommons.org/licenses/by/4.0/"
    env.update(OPEN_DATA_LICENCE="ODbL 1.0", OPEN_DATA_LICENCE_URL="https://opendatacommons.org/licenses/odbl/1-0/")
    configured = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                                check=True).stdout.strip()
    assert configured == "ODbL 1.0 | https://opendatacommons.org/licenses/odbl/1-0/"


def test_every_field_has_a_known_type_and_a_description():
    for dataset in datasets.DATASETS:
        names = [f.name for f in dataset.fields]
        assert len(names) == len(set(names)) and names[:2] == ["id", "url"]
        assert ("lat" in names) == ("lon" in names)
        for f in dataset.fields:
            assert f.type in datasets.TYPES and str(f.description)
            assert re.fullmatch(r"[a-z][a-z0-9_]*", f.name)


# --- nothing private leaves ---------------------------------------------------------------------

def test_no_person_hidden_item_draft_or_private_pact_appears_in_any_export_or_feed(client, app, runner, open_world,
                                                                                     tmp_path):
    outputs = {}
    for url in every_download_url(open_world) + every_feed_url(open_world) + ["/open-data", "/open-data?lang=en"]:
        response = client.get(url)
        assert response.status_code == 200, url
        outputs[url] = response.data
    result = runner.invoke(args=["export", "open-data", str(tmp_path / "snapshot")])
    assert result.exit_code == 0, result.output
    for path in (tmp_path / "snapshot").iterdir():
        outputs[path.name] = path.read_bytes()
    everything = b"\n".join(outputs.values())
    for text in open_world.visible_texts:  # the search would find these: it works
        assert text.encode("utf-8") in everything, text
    leaks = [(secret, where) for secret in open_world.secrets for where, body in outputs.items()
             if secret.encode("utf-8") in body]
    assert leaks == []
    # No supporter identity either: supports appear as a count only, and no personal column exists.
    personal = ("email", "phone", "display_name", "reporter", "author", "supporter", "tax_code", "codice_fiscale",
                "birth_date", "ip_address", "user_id", "volunteer")
    for dataset in datasets.DATASETS:
        assert not [name for name in dataset.csv_header if any(word in name for word in personal)]


def test_hidden_drafts_and_private_items_are_left_out_by_number(client, open_world):
    for kind, private_ids in open_world.private.items():
        features = client.get(f"/open-data/{kind}.geojson").get_json()["features"]
        assert not {f["id"] for f in features} & private_ids, kind
        _header, rows = read_csv(client.get(f"/open-data/{kind}.csv").data)
        assert not {int(row[0]) for row in rows} & private_ids, kind


def test_a_commons_hidden_after_its_pact_became_public_is_not_named_in_the_pact(client, app, open_world):
    with app.app_context():
        pact = db.session.scalar(select(Pact).where(Pact.title == "Patto attivo del giardino"))
        name = pact.commons.name
        pact.commons.hidden_at = utcnow()
        db.session.commit()
    pacts = client.get("/open-data/pacts.geojson").get_json()["features"]
    active = next(f for f in pacts if f["properties"]["title"] == "Patto attivo del giardino")
    assert active["properties"]["commons_name"] is None and active["geometry"] is None
    assert name.encode() not in client.get("/open-data/pacts.csv").data
    assert name.encode() not in client.get("/feeds/pacts.atom").data


# --- flask export open-data DIR -----------------------------------------------------------------

def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_cli_writes_every_dataset_and_a_matching_manifest(app, runner, open_world, tmp_path):
    target = tmp_path / "open-data"
    result = runner.invoke(args=["export", "open-data", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote 16 files" in result.output
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    expected = [d.name for d in datasets.DATASETS] + [f"process-{slug}-proposals" for slug in open_world.processes]
    assert sorted(entry["name"] for entry in manifest["datasets"]) == sorted(expected)
    written = {p.name for p in target.iterdir()}
    assert written == {f"{name}.{ext}" for name in expected for ext in ("csv", "geojson")} | {"manifest.json",
                                                                                               "README.txt"}
    for entry in manifest["datasets"]:
        dataset = datasets.BY_NAME[entry["dataset"]]
        csv_file, geojson_file = (target / f["path"] for f in entry["files"])
        header, rows = read_csv(csv_file.read_bytes())
        assert header == dataset.csv_header
        features = check_rfc7946(json.loads(geojson_file.read_text(encoding="utf-8")))
        assert entry["rows"] == len(rows) == len(features)
        for f in entry["files"]:
            assert f["sha256"] == _sha256(target / f["path"]) and f["bytes"] == (target / f["path"]).stat().st_size
        if entry["name"] in open_world.public:
            assert entry["rows"] == len(open_world.public[entry["name"]])
    assert manifest["licence"] == {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
    assert manifest["attribution"] == "Città di Torino – Piazza"
    generated = datetime.fromisoformat(manifest["generated_at"].replace("Z", "+00:00"))
    assert abs(generated - utcnow()) < timedelta(minutes=5)
    assert [f["name"] for f in manifest["dictionary"]["reports"]] == datasets.REPORTS.csv_header
    assert manifest["dictionary"]["reports"][0]["description_en"]
    assert "CC BY 4.0" in (target / "README.txt").read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary directory is left"


def test_the_snapshot_files_equal_the_downloads(app, runner, client, open_world, tmp_path):
    target = tmp_path / "snapshot"
    assert runner.invoke(args=["export", "open-data", str(target)]).exit_code == 0
    for dataset in datasets.DATASETS:
        assert (target / f"{dataset.name}.csv").read_bytes() == client.get(f"/open-data/{dataset.name}.csv").data
        assert (target / f"{dataset.name}.geojson").read_bytes() == \
            client.get(f"/open-data/{dataset.name}.geojson").data


def test_the_cli_replaces_an_earlier_export_whole(app, runner, city, tmp_path):
    target = tmp_path / "open-data"
    assert runner.invoke(args=["export", "open-data", str(target)]).exit_code == 0
    (target / "stale-file.csv").write_text("old")
    assert runner.invoke(args=["export", "open-data", str(target)]).exit_code == 0
    assert not (target / "stale-file.csv").exists()
    assert (target / "houses.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["open-data"]


def test_the_cli_refuses_to_replace_a_directory_that_is_not_an_export(app, runner, tmp_path):
    target = tmp_path / "documents"
    target.mkdir()
    (target / "thesis.odt").write_text("precious")
    result = runner.invoke(args=["export", "open-data", str(target)])
    assert result.exit_code != 0
    assert "not an earlier open data export" in result.output
    assert (target / "thesis.odt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]


def test_a_failed_export_leaves_the_previous_one_and_no_half_written_files(app, runner, city, tmp_path, monkeypatch):
    target = tmp_path / "open-data"
    assert runner.invoke(args=["export", "open-data", str(target)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    real = formats.csv_chunks

    def failing(export, row_batches):
        if export.stem == "events":
            raise OSError("disk full")
        return real(export, row_batches)

    monkeypatch.setattr(formats, "csv_chunks", failing)
    result = runner.invoke(args=["export", "open-data", str(target)])
    assert result.exit_code != 0
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["open-data"]


def test_the_cli_shows_a_progress_bar_over_every_row(app, open_world, tmp_path, monkeypatch):
    lengths, updates = [], []

    class Bar:
        def __init__(self, length):
            lengths.append(length)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            updates.append(n)

    with app.app_context():
        manifest = services.export_open_data(tmp_path / "out", progress_bar=Bar, batch_size=2)
    total = 2 * sum(entry["rows"] for entry in manifest["datasets"])
    assert lengths == [total] and sum(updates) == total and len(updates) > len(manifest["datasets"])
    assert os.listdir(tmp_path) == ["out"]


def test_the_cli_is_registered_with_a_help_text(runner):
    result = runner.invoke(args=["export", "open-data", "--help"])
    assert result.exit_code == 0 and "manifest.json" in result.output


def test_process_exports_cover_every_process_even_empty_ones(app, city, tmp_path):
    with app.app_context():
        process = Process(slug="vuoto-2027", title="Processo senza proposte")
        db.session.add(process)
        db.session.commit()
        manifest = services.export_open_data(tmp_path / "out")
    entry = next(e for e in manifest["datasets"] if e["name"] == "process-vuoto-2027-proposals")
    assert entry["rows"] == 0 and entry["scope"] == {"process": "vuoto-2027"}
    assert (tmp_path / "out" / "process-vuoto-2027-proposals.csv").read_bytes().count(b"\r\n") == 1


def test_downloads_are_limited_per_address(database_url, tmp_path_factory):
    from app import create_app
    from app.extensions import limiter
    from tests.conftest import make_config

    limited = create_app(make_config(database_url, tmp_path_factory.mktemp("od-limited"), RATELIMIT_ENABLED=True,
                                     OPEN_DATA_DOWNLOAD_LIMIT="2 per minute"))
    limiter.reset()
    client = limited.test_client()
    statuses = [client.get(path).status_code for path in
                ("/open-data/houses.csv", "/open-data/houses.geojson", "/open-data/houses.csv")]
    assert statuses == [200, 200, 429]
    assert client.get("/open-data").status_code == 200  # the dictionary page is not a download


def test_statistics_json_names_its_page_on_base_url_not_the_host_header(client):
    body = client.get("/statistics/funnel.json", headers={"Host": "evil.example"}).get_json()
    assert body["page"].startswith(client.application.config["BASE_URL"].rstrip("/") + "/statistics")
    assert "evil.example" not in body["page"]
