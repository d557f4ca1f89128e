"""Outlines of urban commons over HTTP: drawn on the office's form (a GeoJSON field the drawing tools
fill), validated by the commons service, stored, exported in /commons.geojson, sent with the map
layer and shown on the commons' page; the drawing library pinned with SRI like Leaflet."""
import base64
import hashlib
import html
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models.commons import Commons
from app.models.place import District
from app.models.user import Department, Role
from app.seed.demo import seed_places
from tests.conftest import ROOT
from tests.http_helpers import assert_field_error, english, location_path, text_of
from tests.test_commons_http import OUTLINE, add_commons, form_data

VENDOR = ROOT / "app" / "static" / "vendor"
GEOMAN = "@geoman-io/leaflet-geoman-free"
#: A bow tie: two edges cross.
CROSSING = {"type": "Polygon", "coordinates": [[[7.6848, 45.0633], [7.6858, 45.0641], [7.6858, 45.0633],
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


def _commons(app, name):
    with app.app_context():
        commons = db.session.scalar(select(Commons).where(Commons.name == name))
        if commons is not None:
            db.session.expunge(commons)
        return commons


def _attr(page, element_id, name):
    """The value of attribute ``name`` on the element with id ``element_id``."""
    tag = re.search(rf'<[a-z]+\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', page, re.S)
    assert tag, f"no element with id={element_id!r}"
    value = re.search(rf'\b{re.escape(name)}=(["\'])(.*?)\1', tag.group(0), re.S)
    return html.unescape(value.group(2)) if value else None


# --- drawing on the office's form -----------------------------------------------------------

def test_the_office_form_offers_the_drawing_tools_wired_to_the_geojson_field(client, places, official):
    page = client.get("/office/commons/new").get_data(as_text=True)
    assert _attr(page, "commons-picker", "data-picker") == "auto"
    assert _attr(page, "commons-picker", "data-outline-input") == "geometry"
    assert _attr(page, "commons-picker", "data-lat-input") == "lat"
    assert _attr(page, "commons-picker", "data-outline-tools") == "outline-tools"
    messages = json.loads(_attr(page, "commons-picker", "data-outline-messages"))
    assert {"drawing", "oneCorner", "corners", "drawn", "editing", "removed", "crossing",
            "firstVertex", "continueLine", "finishPoly"} <= set(messages)
    assert "{n}" in messages["corners"]
    # The tools wait for the script; the GeoJSON text is there (and open) without it.
    assert re.search(r'<div class="outline-tools" id="outline-tools"[^>]*\bhidden>', page)
    assert re.search(r'<details class="outline-text" id="outline-text" open>', page)
    assert '<textarea' in page and 'id="geometry"' in page
    for action in ("draw", "undo", "finish", "cancel", "edit", "done", "clear"):
        assert f'data-outline-action="{action}"' in page
    scripts = re.findall(r'<script src="([^"]+)"', page)
    names = [s.rsplit("/", 1)[-1] for s in scripts]
    assert names.index("outline-drawer.js") < names.index("point-picker.js")
    assert "proposal-form.js" not in names  # the commons form no longer borrows the proposal form's script


def test_a_drawn_outline_is_saved_with_the_form_and_gives_the_point(app, client, places, official):
    response = client.post("/office/commons/new", data=form_data(name="Aiuola disegnata", lat="", lon="",
                                                                 geometry=json.dumps(OUTLINE)))
    assert response.status_code == 302
    commons = _commons(app, "Aiuola disegnata")
    assert location_path(response) == f"/commons/{commons.id}"
    stored = json.loads(commons.geometry)
    assert stored["type"] == "Polygon"
    assert stored["coordinates"][0][0] == pytest.approx([7.6848, 45.0633])  # lon, lat as drawn
    # No point given: the point is inside the outline.
    assert 7.6848 < commons.lon < 7.6858 and 45.0633 < commons.lat < 45.0641
    assert commons.district_id == places["district1"]


def test_an_outline_drawn_as_a_feature_is_stored_as_its_geometry(app, client, places, official):
    feature = {"type": "Feature", "properties": {}, "geometry": OUTLINE}
    assert client.post("/office/commons/new", data=form_data(geometry=json.dumps(feature))).status_code == 302
    assert json.loads(_commons(app, "Giardino Cavour").geometry)["type"] == "Polygon"


def test_an_invalid_outline_comes_back_with_its_error_and_nothing_lost(app, client, places, official):
    data = form_data(name="Aiuola storta", description="Con **due** aiuole.", address="Via Cavour 3",
                     lat="45.0637", lon="7.6853", geometry=json.dumps(CROSSING),
                     department_id=str(places["department"]), heritage_constraint="y")
    response = client.post("/office/commons/new", data=data)
    assert response.status_code == 200
    assert_field_error(response, "geometry", "edges must not cross")
    page = response.get_data(as_text=True)
    # The error is where the outline is, and the text that holds it stays unfolded.
    assert re.search(r'<details class="outline-text" id="outline-text" open>', page)
    assert '<a href="#geometry">' in page  # the error summary links to the field
    text = text_of(response)
    for kept in ('value="Aiuola storta"', "Con **due** aiuole.", 'value="Via Cavour 3"', 'value="45.0637"',
                 'value="7.6853"', json.dumps(CROSSING)):
        assert kept in text, kept
    assert re.search(rf'<option selected value="{places["department"]}">', page)
    assert re.search(r'<input checked id="heritage_constraint"', page)
    assert _commons(app, "Aiuola storta") is None


def test_an_outline_far_from_the_point_is_refused_next_to_the_outline(app, client, places, official):
    response = client.post("/office/commons/new", data=form_data(lat="45.0703", lon="7.6869",
                                                                 geometry=json.dumps(OUTLINE)))
    assert response.status_code == 200
    assert_field_error(response, "geometry", "far from the outline")


def test_clearing_the_outline_on_the_form_removes_it(app, client, places, official):
    commons_id = add_commons(app, geometry=json.dumps(OUTLINE))
    page = client.get(f"/office/commons/{commons_id}/edit").get_data(as_text=True)
    assert json.loads(html.unescape(re.search(r'<textarea[^>]*id="geometry"[^>]*>(.*?)</textarea>', page,
                                              re.S).group(1)))["type"] == "Polygon"
    response = client.post(f"/office/commons/{commons_id}/edit", data=form_data(geometry=""))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Commons, commons_id).geometry is None


# --- showing it -----------------------------------------------------------------------------

def test_the_commons_page_map_carries_the_outline(app, client, places):
    outlined = add_commons(app, "Aiuola", geometry=json.dumps(OUTLINE))
    plain = add_commons(app, "Giardino")
    page = client.get(f"/commons/{outlined}").get_data(as_text=True)
    assert json.loads(_attr(page, "commons-map", "data-outline")) == OUTLINE
    assert _attr(page, "commons-map", "aria-label") == "Map of the commons and its outline"
    assert "place-map.js" in page and "leaflet-geoman" not in page  # no drawing tools for visitors
    page = client.get(f"/commons/{plain}").get_data(as_text=True)
    assert _attr(page, "commons-map", "data-outline") is None and _attr(page, "commons-map", "data-lat") == "45.0637"


def test_the_geojson_export_has_the_outline_as_geometry_and_the_point_in_properties(app, client, places):
    outlined = add_commons(app, "Aiuola", geometry=json.dumps(OUTLINE), lat=45.0637, lon=7.6853)
    data = client.get("/commons.geojson").get_json(force=True)
    feature = next(f for f in data["features"] if f["id"] == outlined)
    assert feature["geometry"] == OUTLINE
    assert (feature["properties"]["lat"], feature["properties"]["lon"]) == (45.0637, 7.6853)


def test_the_map_layer_sends_the_outline_with_the_point(app, client, places):
    outlined = add_commons(app, "Aiuola", geometry=json.dumps(OUTLINE))
    add_commons(app, "Giardino", lat=45.0700, lon=7.6800)
    response = client.get("/api/v1/map/features", query_string={"bbox": "7.58,45.00,7.78,45.15", "zoom": "17",
                                                                "layers": "commons"})
    features = {f["properties"]["title"]: f for f in response.get_json(force=True)["features"]}
    assert features["Aiuola"]["geometry"] == {"type": "Point", "coordinates": [7.6853, 45.0637]}
    assert features["Aiuola"]["properties"]["outline"] == OUTLINE
    assert features["Aiuola"]["id"] == f"commons:{outlined}"
    assert "outline" not in features["Giardino"]["properties"]


def test_the_openapi_document_describes_the_outline_property(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    outline = doc["components"]["schemas"]["MapPointFeature"]["properties"]["properties"]["properties"]["outline"]
    assert outline["properties"]["type"]["enum"] == ["Polygon", "MultiPolygon"]


# --- the drawing library, pinned like Leaflet -------------------------------------------------

def _sri(path):
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def test_geoman_loads_from_the_cdn_with_the_sri_hash_of_the_vendored_file(app, client, places, official,
                                                                          monkeypatch):
    assert (VENDOR / "node_modules" / GEOMAN / "package.json").exists(), "Geoman is not vendored: run `make vendor`"
    monkeypatch.setitem(app.config, "LEAFLET_LOCAL", False)
    page = client.get("/office/commons/new").get_data(as_text=True)
    tags = re.findall(r'<(?:script src|link rel="stylesheet" href)="https://unpkg\.com/(@geoman-io/[^@"]+)@([^/"]+)/'
                      r'([^"]+)" integrity="([^"]+)" crossorigin="anonymous"', page)
    assert {(pkg, file) for pkg, _v, file, _i in tags} == {(GEOMAN, "dist/leaflet-geoman.min.js"),
                                                           (GEOMAN, "dist/leaflet-geoman.css")}
    pinned = json.loads((VENDOR / "package.json").read_text())["dependencies"][GEOMAN]
    installed = json.loads((VENDOR / "node_modules" / GEOMAN / "package.json").read_text())["version"]
    lock = json.loads((VENDOR / "package-lock.json").read_text())["packages"][f"node_modules/{GEOMAN}"]
    for package, version, file, integrity in tags:
        assert version == pinned == installed == lock["version"]
        assert integrity == _sri(VENDOR / "node_modules" / package / Path(file))


def test_geoman_is_served_locally_when_leaflet_local_but_only_its_dist(app, client, places, official, monkeypatch):
    monkeypatch.setitem(app.config, "LEAFLET_LOCAL", True)
    page = client.get("/office/commons/new").get_data(as_text=True)
    local = re.findall(r'(?:src|href)="(/static/vendor/node_modules/@geoman-io/[^"]+)"', page)
    assert len(local) == 2
    for path in local:
        assert client.get(path).status_code == 200
    assert client.get(f"/static/vendor/node_modules/{GEOMAN}/package.json").status_code == 404
    # Its bundled dependencies are in node_modules too, for npm, never served.
    assert client.get("/static/vendor/node_modules/lodash/lodash.js").status_code == 404
