"""The map: the layer registry, /api/v1/map/features and /districts (GeoJSON), and the /map page."""
import base64
import hashlib
import json
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import Float, insert, literal, select

from app import geo
from app.extensions import db
from app.geo import within_bbox
from app.maps import services
from app.maps.services import MapLayer, cell_index, grid_clusters, register_layer, unregister_layer
from app.models.place import NeighbourhoodHouse
from app.seed import turin
from app.seed.demo import seed_places
from tests.conftest import ROOT
from tests.http_helpers import english

FEATURES = "/api/v1/map/features"
CITY_BBOX = "7.58,45.005,7.77,45.14"
VENDOR = ROOT / "app" / "static" / "vendor"
#: Where the generated points lie: a rectangle in the middle of Turin.
GRID_AREA = geo.BBox(7.62, 45.03, 7.74, 45.11)


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def places(app):
    """Districts and the nine neighbourhood houses, with a fresh district cache."""
    with app.app_context():
        seed_places()
        db.session.commit()
    geo.clear_cache()
    yield
    geo.clear_cache()


class GridLayer(MapLayer):
    """A throwaway clustered layer over rows of the neighbourhood_houses table."""

    label = "Test grid"
    item_label = "Test point"
    clusterable = True

    def __init__(self, generated=True):
        #: The generated test points only, or the real houses only.
        self.generated = generated

    def _rows(self):
        house = NeighbourhoodHouse
        test_rows = house.neighbourhood == "Test"
        return select(house.id, house.lat, house.lon, house.name).where(test_rows if self.generated else ~test_rows)

    def points(self, bbox, filters):
        house = NeighbourhoodHouse
        return self._rows().where(within_bbox(house.lat, house.lon, bbox)).order_by(house.id)

    def clusters(self, bbox, filters, cell_deg):
        return grid_clusters(self._rows(), NeighbourhoodHouse.lat, NeighbourhoodHouse.lon, bbox, cell_deg)

    def properties(self, row):
        return {"title": row.name}


@pytest.fixture
def grid_layer():
    register_layer("test-grid", GridLayer())
    yield "test-grid"
    unregister_layer("test-grid")


def insert_points(app, positions, prefix="p"):
    """House rows at ``positions`` [(lat, lon)], in one statement."""
    rows = [{"slug": f"{prefix}-{i}", "name": f"Point {prefix}{i}", "neighbourhood": "Test", "address": "Test",
             "lat": lat, "lon": lon} for i, (lat, lon) in enumerate(positions)]
    with app.app_context():
        db.session.execute(insert(NeighbourhoodHouse), rows)
        db.session.commit()


@pytest.fixture
def many_points(app):
    """500 points spread over GRID_AREA (the same ones every run)."""
    rng = random.Random(7)
    positions = [(rng.uniform(GRID_AREA.min_lat, GRID_AREA.max_lat), rng.uniform(GRID_AREA.min_lon, GRID_AREA.max_lon))
                 for _ in range(500)]
    insert_points(app, positions)
    return positions


def get_features(client, **params):
    return client.get(FEATURES, query_string=params)


# --- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize("params, code", [
    ({"zoom": "13"}, "invalid_bbox"),                                          # missing
    ({"bbox": "", "zoom": "13"}, "invalid_bbox"),
    ({"bbox": "7.6,45.0,7.7", "zoom": "13"}, "invalid_bbox"),                  # three numbers
    ({"bbox": "7.6,45.0,7.7,north", "zoom": "13"}, "invalid_bbox"),
    ({"bbox": "7.6,45.0,7.7,45.1,1", "zoom": "13"}, "invalid_bbox"),
    ({"bbox": "7.7,45.0,7.6,45.1", "zoom": "13"}, "invalid_bbox"),             # east before west
    ({"bbox": "7.6,45.1,7.7,45.0", "zoom": "13"}, "invalid_bbox"),             # north before south
    ({"bbox": "7.6,45.0,181,45.1", "zoom": "13"}, "invalid_bbox"),
    ({"bbox": "0,40,10,50", "zoom": "6"}, "bbox_too_large"),
    ({"bbox": CITY_BBOX}, "invalid_zoom"),                                     # missing
    ({"bbox": CITY_BBOX, "zoom": "-1"}, "invalid_zoom"),
    ({"bbox": CITY_BBOX, "zoom": "23"}, "invalid_zoom"),
    ({"bbox": CITY_BBOX, "zoom": "12.5"}, "invalid_zoom"),
    ({"bbox": CITY_BBOX, "zoom": "big"}, "invalid_zoom"),
    ({"bbox": CITY_BBOX, "zoom": "13", "layers": "houses,dragons"}, "unknown_layer"),
    ({"bbox": CITY_BBOX, "zoom": "13", "layers": ""}, "invalid_layers"),
    ({"bbox": CITY_BBOX, "zoom": "13", "layers": "houses", "district": "99"}, "invalid_filter"),
    ({"bbox": CITY_BBOX, "zoom": "13", "layers": "houses", "district": "two"}, "invalid_filter"),
])
def test_bad_requests_get_a_400_json_error(client, places, params, code):
    response = get_features(client, **params)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and not error["message"].startswith("<")


@pytest.mark.parametrize("zoom", ["0", "22"])
def test_zoom_limits_are_inclusive(client, places, zoom):
    assert get_features(client, bbox=CITY_BBOX, zoom=zoom).status_code == 200


def test_unknown_parameters_are_ignored(client, places):
    response = get_features(client, bbox=CITY_BBOX, zoom="13", layers="houses", colour="blue")
    assert response.status_code == 200


# --- the GeoJSON ---------------------------------------------------------------------------

def test_houses_are_a_geojson_feature_collection_in_lon_lat_order(client, places):
    response = get_features(client, bbox=CITY_BBOX, zoom="13", layers="houses")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    data = response.get_json()
    assert data["type"] == "FeatureCollection"
    assert data["bbox"] == [7.58, 45.005, 7.77, 45.14]
    assert len(data["features"]) == len(turin.HOUSES) == 9
    by_title = {f["properties"]["title"]: f for f in data["features"]}
    salvario = by_title["Casa del Quartiere di San Salvario"]
    assert salvario["type"] == "Feature"
    assert salvario["geometry"] == {"type": "Point", "coordinates": [7.681, 45.0535]}  # [lon, lat]
    props = salvario["properties"]
    assert props["layer"] == "houses" and "cluster" not in props
    assert props["name"] == "Casa del Quartiere di San Salvario"
    assert props["neighbourhood"] == "San Salvario"
    assert props["address"] == "Via Oddino Morgari 14"
    assert salvario["id"] == f"houses:{props['id']}"
    assert data["meta"] == {"zoom": 13, "layers": ["houses"], "clustered": [], "counts": {"houses": 9},
                            "returned": 9, "truncated": False}


def test_houses_are_never_clustered(client, places):
    data = get_features(client, bbox=CITY_BBOX, zoom="10", layers="houses").get_json()
    assert len(data["features"]) == 9
    assert data["meta"]["clustered"] == []


def test_only_features_inside_the_bbox(client, places):
    # A box around San Salvario only (45.0535, 7.6810).
    data = get_features(client, bbox="7.675,45.05,7.69,45.06", zoom="16", layers="houses").get_json()
    assert [f["properties"]["title"] for f in data["features"]] == ["Casa del Quartiere di San Salvario"]


def test_district_filter(client, places):
    data = get_features(client, bbox=CITY_BBOX, zoom="13", layers="houses", district="8").get_json()
    titles = sorted(f["properties"]["title"] for f in data["features"])
    assert titles == ["Barrito", "Bossoli83", "Casa del Quartiere di San Salvario"]


def test_all_layers_when_none_are_named(client, places, grid_layer):
    from app.maps.services import layers

    data = get_features(client, bbox=CITY_BBOX, zoom="16").get_json()
    assert set(data["meta"]["layers"]) == {layer.name for layer in layers()}
    assert {"houses", "test-grid"} <= set(data["meta"]["layers"])


# --- clustering ----------------------------------------------------------------------------

def test_low_zoom_gives_clusters_that_add_up(client, places, grid_layer, many_points):
    data = get_features(client, bbox=CITY_BBOX, zoom="12", layers=grid_layer).get_json()
    features = data["features"]
    clusters = [f for f in features if f["properties"].get("cluster")]
    assert data["meta"]["clustered"] == [grid_layer]
    assert clusters and len(features) < 100
    total = sum(f["properties"]["count"] if f["properties"].get("cluster") else 1 for f in features)
    assert total == 500 == data["meta"]["counts"][grid_layer]
    for cluster in clusters:
        props = cluster["properties"]
        assert props == {"layer": grid_layer, "cluster": True, "count": props["count"]}
        assert props["count"] >= 2
        west, south, east, north = cluster["bbox"]
        lon, lat = cluster["geometry"]["coordinates"]
        assert west <= lon <= east and south <= lat <= north  # the mean lies among its items
        assert 7.58 <= west and east <= 7.77
    counts = [f["properties"]["count"] for f in clusters]
    assert counts == sorted(counts, reverse=True)  # biggest first


def test_cluster_cells_follow_the_zoom(client, places, grid_layer, many_points):
    at_11 = get_features(client, bbox=CITY_BBOX, zoom="11", layers=grid_layer).get_json()["features"]
    at_13 = get_features(client, bbox=CITY_BBOX, zoom="13", layers=grid_layer).get_json()["features"]
    assert len(at_11) < len(at_13)


def test_high_zoom_gives_points(client, places, grid_layer, many_points):
    box = geo.BBox(7.66, 45.06, 7.70, 45.08)
    data = get_features(client, bbox=",".join(map(str, box)), zoom="15", layers=grid_layer).get_json()
    inside = [p for p in many_points if box.contains(*p)]
    assert data["meta"]["clustered"] == []
    assert len(data["features"]) == len(inside) > 20
    assert not any(f["properties"].get("cluster") for f in data["features"])
    for feature in data["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert box.contains(lat, lon)


def test_a_lone_item_in_a_cell_comes_as_itself(client, app, grid_layer):
    # Two points a few metres apart share a cell at zoom 12; the third is alone in its own.
    insert_points(app, [(45.0500, 7.6500), (45.0501, 7.6501), (45.1000, 7.7200)])
    features = get_features(client, bbox=CITY_BBOX, zoom="12", layers=grid_layer).get_json()["features"]
    assert len(features) == 2
    cluster, lone = features
    assert cluster["properties"]["count"] == 2
    assert cluster["bbox"] == [7.65, 45.05, 7.6501, 45.0501]
    assert lone["properties"]["title"] == "Point p2"
    assert lone["geometry"]["coordinates"] == [7.72, 45.1]


@pytest.mark.parametrize("value, floor", [(2.7, 2), (3.0, 3), (0.2, 0), (-0.5, -1), (-2.0, -2), (-2.3, -3)])
def test_cell_index_is_floor_on_every_engine(app_ctx, value, floor):
    assert db.session.scalar(select(cell_index(literal(value, Float)))) == floor


def test_cell_size_halves_with_each_zoom_level():
    assert services.cell_size(13) == pytest.approx(360 / 2**13 / services.CELLS_PER_TILE)
    assert services.cell_size(14) == pytest.approx(services.cell_size(13) / 2)


# --- limits --------------------------------------------------------------------------------

@pytest.fixture
def real_houses_layer():
    register_layer("test-few", GridLayer(generated=False))
    yield "test-few"
    unregister_layer("test-few")


def test_never_more_than_map_max_features(client, app, places, grid_layer, real_houses_layer, many_points,
                                          monkeypatch):
    monkeypatch.setitem(app.config, "MAP_MAX_FEATURES", 50)
    data = get_features(client, bbox=CITY_BBOX, zoom="18", layers=f"{real_houses_layer},{grid_layer}").get_json()
    assert len(data["features"]) == 50 == data["meta"]["returned"]
    assert data["meta"]["truncated"] is True
    # The small layer is not crowded out by the big one.
    assert data["meta"]["counts"] == {real_houses_layer: 9, grid_layer: 41}


def test_clusters_are_capped_too(client, app, places, grid_layer, many_points, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_MAX_FEATURES", 5)
    data = get_features(client, bbox=CITY_BBOX, zoom="13", layers=grid_layer).get_json()
    assert len(data["features"]) == 5 and data["meta"]["truncated"] is True


def test_not_truncated_when_everything_fits(client, places, grid_layer, many_points):
    data = get_features(client, bbox=CITY_BBOX, zoom="18", layers=grid_layer).get_json()
    assert len(data["features"]) == 500 and data["meta"]["truncated"] is False


# --- caching ---------------------------------------------------------------------------------

def test_responses_are_publicly_cacheable_with_an_etag(client, app, places):
    params = {"bbox": CITY_BBOX, "zoom": "13", "layers": "houses"}
    first = client.get(FEATURES, query_string=params)
    assert first.headers["Cache-Control"] == "public, max-age=30"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and "Accept-Language" in first.headers["Vary"]

    again = client.get(FEATURES, query_string=params, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    insert_points(app, [(45.07, 7.68)], prefix="new")
    changed = client.get(FEATURES, query_string=params, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_districts_endpoint(client, places):
    response = client.get("/api/v1/map/districts")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.headers["Cache-Control"] == "public, max-age=3600" and response.headers["ETag"]
    data = response.get_json()
    assert data["type"] == "FeatureCollection"
    assert [f["properties"]["number"] for f in data["features"]] == list(range(1, 9))
    centre = data["features"][0]
    assert centre["geometry"]["type"] == "Polygon"
    assert centre["geometry"]["coordinates"][0][0] == [7.655, 45.055]  # lon, lat
    assert centre["properties"]["name"] == "Centro – Crocetta"


def test_openapi_documents_the_map_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    features = doc["paths"]["/map/features"]["get"]
    assert features["operationId"] == "mapFeatures"
    assert {p["name"] for p in features["parameters"]} >= {"bbox", "zoom", "layers"}
    schema = features["responses"]["200"]["content"]["application/geo+json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/MapFeatureCollection"}
    assert "MapFeatureCollection" in doc["components"]["schemas"]
    assert doc["paths"]["/map/districts"]["get"]["operationId"] == "mapDistricts"


# --- the registry ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Houses", "two words", "a,b", "bbox", "zoom", "", "x" * 41])
def test_layer_names_must_fit_in_a_url_list(name):
    with pytest.raises(ValueError):
        register_layer(name, GridLayer())


def test_a_layer_name_is_registered_once(grid_layer):
    with pytest.raises(ValueError):
        register_layer(grid_layer, GridLayer())
    register_layer(grid_layer, GridLayer(), replace=True)  # explicit replacement is allowed


# --- the page --------------------------------------------------------------------------------

def test_map_page_lists_the_houses_without_javascript(client, places):
    response = client.get("/map?layers=houses&district=8&z=11")
    assert response.status_code == 200
    page = response.text
    assert re.search(r'<input type="checkbox" name="layers" value="houses" id="layer-houses"\s+checked>', page)
    assert '<option value="8" selected>' in page
    items = re.findall(r'<li class="map-item map-item--houses".*?</li>', page, re.S)
    titles = sorted(re.search(r'class="map-item-title">([^<]+)<', item).group(1) for item in items)
    assert titles == ["Barrito", "Bossoli83", "Casa del Quartiere di San Salvario"]
    assert "3 items in this area." in page


def test_map_page_carries_its_state_in_data_attributes(client, places):
    page = client.get("/map?layers=houses&lat=45.05&lon=7.66&z=15&district=2").text
    panel = re.search(r'<div class="map" id="city-map"[^>]*>', page, re.S).group(0)
    assert 'data-endpoint="/api/v1/map/features"' in panel
    assert 'data-districts="/api/v1/map/districts"' in panel
    assert 'data-layers="houses"' in panel
    assert 'data-center="45.05000,7.66000"' in panel and 'data-zoom="15"' in panel
    assert 'data-tile-url="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in panel
    assert "data-attribution=" in panel and "OpenStreetMap" in panel
    assert json.loads(re.search(r"data-filters='([^']*)'", panel).group(1)) == {"district": "2"}
    messages = json.loads(re.search(r"data-messages='([^']*)'", panel).group(1))
    assert messages["show"] == "Show on map"


@pytest.mark.parametrize("query", ["lat=50&lon=9&z=13", "lat=x&lon=y&z=99", "z=3"])
def test_map_page_ignores_views_it_cannot_show(client, app, places, query):
    page = client.get(f"/map?{query}").text
    lat, lon = app.config["MAP_CENTER"]
    assert f'data-center="{lat:.5f},{lon:.5f}"' in page
    assert f'data-zoom="{app.config["MAP_ZOOM"]}"' in page


def test_map_page_with_every_layer_switched_off(client, places):
    page = client.get("/map?layers=").text
    assert "checked" not in re.search(r'<fieldset class="map-layer-switch">.*?</fieldset>', page, re.S).group(0)
    assert "Choose at least one layer to see items." in page
    assert '<li class="map-item' not in page


def test_map_page_has_no_inline_script_or_style(client, places):
    page = client.get("/map").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "<style" not in page and " style=" not in page and "onclick" not in page


def _sri(path):
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def test_cdn_assets_are_pinned_with_sri_hashes_of_the_vendored_files(client, app, monkeypatch):
    # `make test` vendors Leaflet first; without it these checks must fail, not pass silently.
    assert (VENDOR / "node_modules" / "leaflet" / "dist" / "leaflet.js").exists(), \
        "Leaflet is not vendored: run `make vendor`"
    monkeypatch.setitem(app.config, "LEAFLET_LOCAL", False)
    page = client.get("/map").text
    pins = json.loads((VENDOR / "package.json").read_text())["dependencies"]
    tags = re.findall(r'<(?:script src|link rel="stylesheet" href)="https://unpkg\.com/([^@"]+)@([^/"]+)/([^"]+)"'
                      r' integrity="([^"]+)" crossorigin="anonymous"', page)
    assert {(pkg, file) for pkg, _v, file, _i in tags} == {
        ("leaflet", "dist/leaflet.js"), ("leaflet", "dist/leaflet.css"),
        ("leaflet.markercluster", "dist/leaflet.markercluster.js"),
        ("leaflet.markercluster", "dist/MarkerCluster.css"),
    }
    for package, version, file, integrity in tags:
        assert version == pins[package]
        installed = json.loads((VENDOR / "node_modules" / package / "package.json").read_text())["version"]
        assert installed == version
        assert integrity == _sri(VENDOR / "node_modules" / package / Path(file))
    assert "/static/vendor/" not in page


def test_local_assets_when_leaflet_local(client, app, monkeypatch):
    # `make test` vendors Leaflet first; without it these checks must fail, not pass silently.
    assert (VENDOR / "node_modules" / "leaflet" / "dist" / "leaflet.js").exists(), \
        "Leaflet is not vendored: run `make vendor`"
    monkeypatch.setitem(app.config, "LEAFLET_LOCAL", True)
    page = client.get("/map").text
    assert "unpkg.com" not in page
    local = re.findall(r'(?:src|href)="(/static/vendor/node_modules/[^"]+)"', page)
    assert len(local) == 4
    for path in local:
        assert client.get(path).status_code == 200


def test_vendor_lock_pins_exact_versions_from_the_npm_registry():
    lock = json.loads((VENDOR / "package-lock.json").read_text())
    packages = lock["packages"]
    assert packages["node_modules/leaflet"]["version"] == "1.9.4"
    assert packages["node_modules/leaflet.markercluster"]["version"] == "1.5.3"
    for name, entry in packages.items():
        if name:
            assert entry["integrity"].startswith("sha512-")
            assert entry.get("resolved", "https://registry.npmjs.org/").startswith("https://registry.npmjs.org/")


def test_csp_allows_the_tiles_and_the_cdn(client):
    csp = client.get("/map").headers["Content-Security-Policy"]
    img = re.search(r"img-src ([^;]+)", csp).group(1).split()
    assert "https://tile.openstreetmap.org" in img and "https://*.tile.openstreetmap.org" in img
    assert "https://unpkg.com" in re.search(r"script-src ([^;]+)", csp).group(1)
