"""The /map page in a real browser: Leaflet (the vendored copy), markers, clusters and the list twin.

Map tiles come from the internet, which tests never reach: every tile request is aborted,
as on a machine without a connection, and the map must still show its markers, the district
outlines and the list. Screenshots (desktop 1280 px and phone 390 px) land in tests/artifacts/.
"""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.maps.services import register_layer, unregister_layer
from app.seed.demo import seed_places
from tests.browser.conftest import ARTIFACTS, serve
from tests.conftest import ROOT
from tests.test_maps import GridLayer, insert_points

pytestmark = pytest.mark.browser

LEAFLET_JS = ROOT / "app" / "static" / "vendor" / "node_modules" / "leaflet" / "dist" / "leaflet.js"
TILES = "**/tile.openstreetmap.org/**"
HOUSE_PINS = ".leaflet-marker-pane .map-pin--houses"
LIST = "#city-map-list"
STATUS = "#city-map-status"
FEATURES_PATH = "/api/v1/map/features"


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    """The conftest's live server (same database, CSRF on), but loading Leaflet from app/static/vendor."""
    assert LEAFLET_JS.exists(), "Leaflet is not vendored: run `make vendor` (needs npm)"
    with serve(database_url, tmp_path_factory.mktemp("live-map-instance"), LEAFLET_LOCAL=True) as server:
        yield server


@pytest.fixture
def places(app):
    """The districts and the nine neighbourhood houses."""
    with app.app_context():
        seed_places()
        db.session.commit()


@pytest.fixture
def map_page(new_page):
    """Factory: a recorded page whose tile requests fail, as offline."""

    def make(**options):
        page = new_page(**options)
        page.route(TILES, lambda route: route.abort())
        return page

    return make


def site_problems(page):
    """The page's recorded problems, except the tile requests this test blocks on purpose."""
    return [p for p in page.problems if "tile.openstreetmap.org" not in p]


def houses_on_map(page):
    """Houses shown on the map: pins, plus those the browser groups where pins would overlap."""
    pins = page.locator(HOUSE_PINS).count()
    grouped = page.locator(".leaflet-marker-pane .map-cluster--houses span").all_inner_texts()
    return pins + sum(int(n) for n in grouped)


def features_request(request):
    return FEATURES_PATH in request.url


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def test_the_map_shows_the_houses_as_markers_and_in_the_list(map_page, live_server, places):
    page = map_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.goto("/map?z=12")
    expect(page.locator(HOUSE_PINS)).to_have_count(9)
    # The script's list (with its buttons) has replaced the server's.
    expect(page.locator(f"{LIST} > li button")).to_have_count(9)
    expect(page.locator(f"{LIST} > li")).to_have_count(9)
    expect(page.locator(STATUS)).to_have_text("9 items in this area.")
    expect(page.locator(f"{LIST} .map-item-title", has_text="Casa del Quartiere di San Salvario")).to_be_visible()
    expect(page.locator("path.map-district")).to_have_count(8)  # outlines, though no tile loaded
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
    assert page.evaluate("typeof L.markerClusterGroup") == "function"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-desktop.png"), full_page=True)
    assert site_problems(page) == []


def test_the_map_on_a_phone(map_page, live_server, places):
    page = map_page(locale="it-IT", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto("/map?z=11")
    expect(page.locator(f"{LIST} > li button")).to_have_count(9)
    assert houses_on_map(page) == 9
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-phone.png"), full_page=False)
    page.screenshot(path=str(ARTIFACTS / "map-phone-full.png"), full_page=True)
    assert site_problems(page) == []


def test_zooming_and_moving_fetch_the_new_area_and_update_the_address(map_page, live_server, places):
    page = map_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.goto("/map?z=12")
    expect(page.locator(f"{LIST} > li button")).to_have_count(9)

    with page.expect_request(features_request) as zoomed:
        page.click(".leaflet-control-zoom-in")
    assert query_of(zoomed.value.url)["zoom"] == "13"
    expect(page).to_have_url(re.compile(r"[?&]z=13(&|$)"))
    # Closer in, the outlying houses leave the view and the list.
    expect(page.locator(f"{LIST} > li")).not_to_have_count(9)
    expect(page.locator(HOUSE_PINS)).to_have_count(page.locator(f"{LIST} > li").count())

    before = query_of(page.url)
    with page.expect_request(features_request) as moved:
        page.locator("#city-map").focus()
        page.keyboard.press("ArrowRight")  # Leaflet pans with the arrow keys
    after = query_of(page.url)
    bbox_before = [float(v) for v in query_of(zoomed.value.url)["bbox"].split(",")]
    bbox_after = [float(v) for v in query_of(moved.value.url)["bbox"].split(",")]
    assert bbox_after[0] > bbox_before[0]  # the view went east
    expect(page).not_to_have_url(re.compile(re.escape(f"lon={before['lon']}&")))
    # Every default layer stays selected while panning (reports and houses today).
    assert "houses" in after["layers"].split(",")
    assert site_problems(page) == []


def test_layer_switch_and_filter_apply_at_once_and_stay_in_the_address(map_page, live_server, places):
    page = map_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.goto("/map?z=12")
    expect(page.locator(f"{LIST} > li button")).to_have_count(9)
    expect(page.locator(".map-apply")).to_be_hidden()  # changes apply without it

    with page.expect_request(features_request) as filtered:
        page.select_option("#filter-district", "8")
    assert query_of(filtered.value.url)["district"] == "8"
    expect(page.locator(f"{LIST} > li")).to_have_count(3)
    expect(page.locator(HOUSE_PINS)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"[?&]district=8(&|$)"))

    for box in page.locator("input[id^='layer-']").all():
        box.uncheck()
    expect(page.locator(f"{LIST} > li")).to_have_count(0)
    expect(page.locator(HOUSE_PINS)).to_have_count(0)
    expect(page.locator(STATUS)).to_have_text("Choose at least one layer to see items.")
    expect(page).to_have_url(re.compile(r"[?&]layers=(&|$)"))

    # The address is a shareable view: opening it again gives the same choice.
    page.check("#layer-houses")
    expect(page.locator(HOUSE_PINS)).to_have_count(3)
    shared = page.url
    other = map_page(locale="en-US", viewport={"width": 1280, "height": 900})
    other.goto(shared)
    expect(other.locator("#filter-district")).to_have_value("8")
    expect(other.locator("#layer-houses")).to_be_checked()
    expect(other.locator(f"{LIST} > li button")).to_have_count(3)
    assert site_problems(page) == [] and site_problems(other) == []


def test_the_list_twin_works_with_the_keyboard(map_page, live_server, places):
    page = map_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.goto("/map?z=12")
    button = page.locator(f"{LIST} li", has_text="Barrito").locator("button")
    expect(button).to_have_count(1)
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Barrito")
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Nizza Millefonti, Via Tepice 23/C")
    # Focus stays on the item's button, even when the popup moved the map and the list was redrawn.
    page.wait_for_timeout(600)
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]")
    assert focused == ["BUTTON", "Show on map: Barrito"]

    # Tab goes on through the list, not into the map's markers.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#city-map-list') !== null")
    assert site_problems(page) == []


@pytest.fixture
def crowded_layer(app):
    """300 generated points in a clustered throwaway layer (registered in this process, so the live server has it)."""
    positions = [(45.04 + (i % 20) * 0.003, 7.64 + (i // 20) * 0.004) for i in range(300)]
    insert_points(app, positions)
    register_layer("test-grid", GridLayer())
    yield "test-grid"
    unregister_layer("test-grid")


def test_clusters_are_count_bubbles_that_zoom_in(map_page, live_server, crowded_layer):
    page = map_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.goto(f"/map?layers={crowded_layer}&z=12")
    bubbles = page.locator(".leaflet-marker-pane .map-cluster")
    expect(bubbles.first).to_be_visible()
    counts = [int(t) for t in bubbles.all_inner_texts()]
    assert sum(counts) + page.locator(".leaflet-marker-pane .map-pin").count() == 300
    expect(page.locator(f"{LIST} li.map-item-cluster").first).to_contain_text("items here")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-clusters.png"))

    with page.expect_request(features_request) as zoomed:
        bubbles.first.click()
    assert int(query_of(zoomed.value.url)["zoom"]) > 12

    # The list's "Zoom in" does the same, from the keyboard.
    page.goto(f"/map?layers={crowded_layer}&z=12")
    zoom_in = page.locator(f"{LIST} li.map-item-cluster button").first
    expect(zoom_in).to_have_text("Zoom in")
    with page.expect_request(features_request) as zoomed:
        zoom_in.focus()
        page.keyboard.press("Enter")
    assert int(query_of(zoomed.value.url)["zoom"]) > 12
    assert site_problems(page) == []


def test_high_contrast_colours_reach_the_map(map_page, live_server, places):
    page = map_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.goto("/map?z=12")
    expect(page.locator(HOUSE_PINS)).to_have_count(9)
    with page.expect_navigation():
        page.click('header form[action="/preferences/contrast"] button[type=submit]')
    expect(page.locator("html")).to_have_attribute("data-contrast", "high")
    expect(page.locator(HOUSE_PINS)).to_have_count(9)
    pin_colour = page.evaluate(
        "getComputedStyle(document.querySelector('.map-pin--houses'), '::before').backgroundColor")
    assert pin_colour == "rgb(0, 255, 255)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-desktop-high-contrast.png"))
    assert site_problems(page) == []
