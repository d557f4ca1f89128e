"""An official draws a commons' outline in a real browser, and the outline shows wherever the commons does.

On the office's form (/office/commons/new) the official chooses "Draw the outline", clicks (or, on a
phone, taps) five corners, takes the last one back with "Undo the last corner", closes the outline
with "Finish the outline" and saves, without placing a point: the GeoJSON text field holds the
polygon, the database stores it (lon/lat, where the clicks were) and the point inside it. The commons'
page then draws the outline (an SVG path in Leaflet's overlay pane) under its marker, and so does
the city map's commons layer, whose outline opens the same popup as the marker. Desktop in English
and phone (390 px, touch) in Italian; Leaflet and Leaflet-Geoman come from app/static/vendor, tiles
are aborted as offline. Screenshots land in tests/artifacts/outline-*.png.
"""
import json
import math
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models import Role
from app.models.commons import Commons
from app.seed.demo import seed_places
from tests.browser.conftest import serve
from tests.browser.test_report_journey import (
    LEAFLET_JS,
    mercator_px,
    no_sideways_scroll,
    offline_page,
    shot,
    sign_in,
    site_problems,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

GEOMAN_JS = (ROOT / "app" / "static" / "vendor" / "node_modules" / "@geoman-io" / "leaflet-geoman-free" / "dist"
             / "leaflet-geoman.min.js")
PICKER = "#commons-picker"
NAME = "Giardino Nicola Grosa"
#: Corners, in pixels from the picker's centre: a slightly irregular quadrilateral, then a fifth
#: corner that the official takes back.
CORNERS = [(-70, -45), (65, -55), (75, 40), (-55, 50)]
EXTRA = (0, 90)


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    assert LEAFLET_JS.exists() and GEOMAN_JS.exists(), "the map libraries are not vendored: run `make vendor`"
    instance = tmp_path_factory.mktemp("live-outline-instance")
    with serve(database_url, instance, LEAFLET_LOCAL=True, UPLOAD_DIR=str(instance / "uploads")) as server:
        yield server


@pytest.fixture
def official(app, make_user):
    with app.app_context():
        seed_places()
        db.session.commit()
    geo.clear_cache()
    yield make_user(roles=[Role.official], display_name="Ufficio Verde")
    geo.clear_cache()


def lat_lon_at(x, y, zoom):
    """Inverse of mercator_px: the latitude and longitude at Leaflet pixel (x, y)."""
    scale = 256 * 2 ** zoom
    lon = x / scale * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale))))
    return lat, lon


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_official_draws_an_outline_and_the_commons_shows_it(app, new_page, live_server, official, device):
    phone = device == "phone"
    page = offline_page(new_page, device)
    sign_in(page, official.email, live_server)

    # --- the form: the drawing tools replace the folded GeoJSON text ---------------------------
    page.goto("/office/commons/new")
    expect(page.locator(PICKER)).to_have_class(re.compile(r"\bleaflet-container\b"))
    expect(page.locator("#outline-tools")).to_be_visible()
    expect(page.locator("#outline-text")).not_to_have_attribute("open", re.compile(".*"))
    expect(page.locator("#geometry")).to_be_hidden()
    page.fill("#name", NAME)
    page.fill("#address", "Via Saluzzo 25")

    picker = page.locator(PICKER)
    picker.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.click("[data-outline-action=draw]")
    expect(page.locator("[data-outline-action=finish]")).to_be_disabled()
    if not phone:
        expect(page.locator("[data-outline-status]")).to_contain_text("click the map at each corner")
    picker.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = picker.bounding_box()
    centre = (box["width"] / 2, box["height"] / 2)

    def put(offset):
        position = {"x": centre[0] + offset[0], "y": centre[1] + offset[1]}
        assert 5 < position["x"] < box["width"] - 5 and 5 < position["y"] < box["height"] - 5
        if phone:
            picker.tap(position=position)
        else:
            picker.click(position=position)

    for n, corner in enumerate(CORNERS + [EXTRA], start=1):
        put(corner)
        expect(page.locator(f"{PICKER} .marker-icon:not(.cursor-marker):not(.marker-icon-middle)")).to_have_count(n)
    page.click("[data-outline-action=undo]")
    expect(page.locator(f"{PICKER} .marker-icon:not(.cursor-marker):not(.marker-icon-middle)")).to_have_count(4)
    if not phone:
        expect(page.locator("[data-outline-status]")).to_contain_text("4 corners placed")
    shot(page, "drawing", device, journey="outline")
    page.click("[data-outline-action=finish]")

    # Drawn: the outline is on the map, in the text field, and the tools offer to adjust or remove it.
    expect(page.locator(f"{PICKER} .leaflet-overlay-pane path.map-outline")).to_have_count(1)
    expect(page.locator("[data-outline-action=edit]")).to_be_visible()
    expect(page.locator("[data-outline-action=clear]")).to_be_visible()
    expect(page.locator("[data-outline-action=draw]")).to_be_hidden()
    drawn = json.loads(page.input_value("#geometry"))
    assert drawn["type"] == "Polygon" and len(drawn["coordinates"]) == 1
    ring = drawn["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    # The corners are where the clicks were (lon, lat order), to within a pixel or two.
    zoom = int(picker.get_attribute("data-zoom"))
    centre_lat, centre_lon = (float(v) for v in picker.get_attribute("data-center").split(","))
    cx, cy = mercator_px(centre_lat, centre_lon, zoom)
    for (lon, lat), (dx, dy) in zip(ring[:4], CORNERS):
        want_lat, want_lon = lat_lon_at(cx + dx, cy + dy, zoom)
        assert geo.distance_m(lat, lon, want_lat, want_lon) < 40, ((lat, lon), (want_lat, want_lon))
    assert page.input_value("#lat") == "" and page.input_value("#lon") == ""
    no_sideways_scroll(page, device, "the commons form while drawing")
    shot(page, "drawn", device, journey="outline")

    with page.expect_navigation():
        page.click("form.staff-form button[type=submit]")
    assert re.search(r"/commons/\d+$", page.url), page.url

    # --- stored: the polygon as drawn, and the point inside it -------------------------------
    with app.app_context():
        commons = db.session.scalar(select(Commons).where(Commons.name == NAME))
        stored = json.loads(commons.geometry)
        point = (commons.lat, commons.lon)
        commons_id = commons.id
    assert stored["type"] == "Polygon"
    flat = [v for position in ring[:4] for v in position]
    assert [v for position in stored["coordinates"][0][:4] for v in position] == pytest.approx(flat)
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    assert min(lats) < point[0] < max(lats) and min(lons) < point[1] < max(lons)
    assert page.url.endswith(f"/commons/{commons_id}")

    # --- the commons' page: the outline under the marker -------------------------------------
    expect(page.locator("#commons-map.leaflet-container")).to_have_count(1)
    expect(page.locator("#commons-map .leaflet-overlay-pane svg path.map-outline")).to_have_count(1)
    expect(page.locator("#commons-map .leaflet-marker-pane .leaflet-marker-icon")).to_have_count(1)
    path = page.locator("#commons-map .leaflet-overlay-pane svg path.map-outline").get_attribute("d")
    assert path and path.count("L") >= 3 and path.rstrip().endswith("z"), path
    no_sideways_scroll(page, device, "the commons page")
    shot(page, "page", device, journey="outline")

    # --- the city map's commons layer: outline and marker, the same popup ---------------------
    page.goto(f"/map?layers=commons&lat={point[0]:.5f}&lon={point[1]:.5f}&z=15")
    outline = page.locator("#city-map .leaflet-overlay-pane path.map-outline--commons")
    expect(outline).to_have_count(1)
    expect(page.locator("#city-map .leaflet-marker-pane .map-pin--commons")).to_have_count(1)
    page.locator("#city-map").evaluate("el => el.scrollIntoView({block: 'center'})")
    # A click inside the outline, away from the marker (the path's bounding box is small).
    outline_box = outline.bounding_box()
    page.mouse.click(outline_box["x"] + outline_box["width"] * 0.3, outline_box["y"] + outline_box["height"] * 0.75)
    popup = page.locator("#city-map .leaflet-popup .map-popup")
    expect(popup).to_be_visible()
    expect(popup.locator("a.map-popup-title")).to_have_text(NAME)
    expect(popup.locator("a.map-popup-title")).to_have_attribute("href", f"/commons/{commons_id}")
    shot(page, "map", device, journey="outline")
    assert site_problems(page) == []


def test_a_refused_outline_comes_back_unfolded_with_its_error(app, new_page, live_server, official):
    page = offline_page(new_page, "desktop")
    sign_in(page, official.email, live_server)
    page.goto("/office/commons/new")
    expect(page.locator("#outline-tools")).to_be_visible()
    page.fill("#name", NAME)
    # Pasted text, not drawn: a bow tie whose edges cross.
    page.locator("#outline-text summary").click()
    bow_tie = {"type": "Polygon", "coordinates": [[[7.6848, 45.0633], [7.6858, 45.0641], [7.6858, 45.0633],
                                                   [7.6848, 45.0641], [7.6848, 45.0633]]]}
    page.fill("#geometry", json.dumps(bow_tie))
    page.locator("#geometry").dispatch_event("change")
    expect(page.locator(f"{PICKER} .leaflet-overlay-pane path.map-outline")).to_have_count(1)
    with page.expect_navigation():
        page.click("form.staff-form button[type=submit]")
    expect(page.locator("#outline-text")).to_have_attribute("open", "")
    expect(page.locator("#geometry-error")).to_be_visible()
    expect(page.locator("#geometry-error")).to_contain_text("must not cross")
    expect(page.locator("#name")).to_have_value(NAME)
    # The refused outline is back on the map, ready to adjust.
    expect(page.locator(f"{PICKER} .leaflet-overlay-pane path.map-outline")).to_have_count(1)
    expect(page.locator("[data-outline-action=edit]")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Commons).where(Commons.name == NAME)) is None
    assert site_problems(page) == []
