"""/statistics and /api/v1/docs in a real browser, offline: the charts are the server's SVG (no chart
library, no CDN), the district choropleth runs on the vendored Leaflet and recolours when another
measure is chosen, nothing scrolls sideways on a phone; Swagger UI (vendored) renders every operation."""
import pytest
from playwright.sync_api import expect

from app.models.base import utcnow
from tests.browser.conftest import ARTIFACTS, serve
from tests.conftest import ROOT
from tests.test_statistics_services import NOW, build_world

pytestmark = pytest.mark.browser

VENDOR = ROOT / "app" / "static" / "vendor" / "node_modules"
TILES = "**/tile.openstreetmap.org/**"


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    """The live server loading Leaflet and Swagger UI from app/static/vendor (no CDN)."""
    assert (VENDOR / "leaflet" / "dist" / "leaflet.js").exists(), "Leaflet is not vendored: run `make vendor`"
    assert (VENDOR / "swagger-ui-dist" / "swagger-ui-bundle.js").exists(), "Swagger UI is not vendored"
    with serve(database_url, tmp_path_factory.mktemp("live-stats-instance"), LEAFLET_LOCAL=True) as server:
        yield server


@pytest.fixture
def world(app, make_user):
    return build_world(app, make_user, shift=utcnow() - NOW)


def _offline(page):
    page.route(TILES, lambda route: route.abort())
    page.route("https://**", lambda route: route.abort())  # no CDN either
    return page


def _problems(page):
    return [p for p in page.problems if "tile.openstreetmap.org" not in p]


def test_the_dashboard_draws_its_charts_and_recolours_the_districts(new_page, world):
    page = _offline(new_page(locale="en-GB"))
    page.goto("/statistics?lang=en")
    expect(page.get_by_role("heading", name="Participation in numbers", level=1)).to_be_visible()
    # Server-drawn charts: one SVG per monthly series, the funnel, the categories, the resolution times.
    assert page.locator("#participation svg").count() == 5
    assert page.locator("#funnel svg").count() >= 1
    # The choropleth: the Leaflet map replaces the SVG one, a coloured shape per district.
    expect(page.locator("#choropleth-map")).to_be_visible()
    expect(page.locator("#choropleth-svg")).to_be_hidden()
    areas = page.locator("#choropleth-map path.choropleth-area")
    expect(areas).to_have_count(page.locator("#districts-table tbody tr").count())
    before = [areas.nth(i).get_attribute("class") for i in range(areas.count())]
    page.get_by_role("radio", name="Pact signatures").check()
    expect(page.locator('#choropleth-legend .legend[data-measure="signatures"]')).to_be_visible()
    after = [areas.nth(i).get_attribute("class") for i in range(areas.count())]
    assert after != before
    assert "measure=signatures" in page.url
    # Each chart's data downloads, from the page's own link.
    with page.expect_download() as download:
        page.locator('a[href$="/statistics/funnel.csv"]').click()
    assert download.value.suggested_filename.endswith(".csv")
    page.screenshot(path=str(ARTIFACTS / "statistics-desktop.png"), full_page=True)
    assert _problems(page) == []


def test_the_dashboard_fits_a_phone_in_italian(new_page, world):
    page = _offline(new_page(viewport={"width": 375, "height": 800}))
    page.goto("/statistics")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("#choropleth-map path.choropleth-area").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "statistics-phone.png"), full_page=True)
    assert _problems(page) == []


def test_the_api_documentation_renders_every_operation_with_swagger_ui(new_page, client):
    operations = sum(len(ops) for ops in client.get("/api/v1/openapi.json").get_json()["paths"].values())
    page = _offline(new_page(locale="en-GB"))
    page.goto("/api/v1/docs?lang=en")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    expect(page.locator("#swagger-ui .opblock")).to_have_count(operations)
    assert page.locator("table.table tbody tr").count() == operations
    assert _problems(page) == []
