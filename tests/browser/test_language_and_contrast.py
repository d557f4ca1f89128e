"""Language choice and the high-contrast theme, in a real browser; screenshots of the home page.

The screenshots (desktop 1280 px and phone 390 px, normal and high contrast)
land in tests/artifacts/ (git-ignored) for a person to look at; the test itself
checks what a machine can: no sideways scrolling and the right theme applied.
"""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.place import NeighbourhoodHouse
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

HTML = "html"
EN_LINK = 'header .lang-switch a[hreflang="en"]'
IT_LINK = 'header .lang-switch a[hreflang="it"]'
CONTRAST_BUTTON = 'header form[action="/preferences/contrast"] button[type=submit]'


def test_home_page_is_italian_for_an_italian_browser_and_en_switches_to_english(page, live_server):
    page.goto("/")
    expect(page.locator(HTML)).to_have_attribute("lang", "it")
    expect(page.locator(IT_LINK)).to_have_count(0)  # Italian is the current language: not a link

    page.click(EN_LINK)
    expect(page).to_have_url(live_server("/?lang=en"))
    expect(page.locator(HTML)).to_have_attribute("lang", "en")
    expect(page.locator("#main h1")).to_have_text("Turin, together")
    expect(page.locator(EN_LINK)).to_have_count(0)
    expect(page.locator(IT_LINK)).to_be_visible()

    # The choice sticks for the rest of the visit, without ?lang= in the address.
    page.click('footer a[href="/terms"]')
    expect(page).to_have_url(live_server("/terms"))
    expect(page.locator(HTML)).to_have_attribute("lang", "en")

    # And back to Italian from there.
    page.click(IT_LINK)
    expect(page).to_have_url(live_server("/terms?lang=it"))
    expect(page.locator(HTML)).to_have_attribute("lang", "it")
    page.goto("/")
    expect(page.locator(HTML)).to_have_attribute("lang", "it")

    assert page.problems == []


def test_an_english_browser_gets_english_at_once(new_page):
    page = new_page(locale="en-US")
    page.goto("/")
    expect(page.locator(HTML)).to_have_attribute("lang", "en")
    expect(page.locator("#main h1")).to_have_text("Turin, together")
    expect(page.locator(IT_LINK)).to_be_visible()
    assert page.problems == []


def test_high_contrast_toggle_turns_on_and_off(page, live_server):
    page.goto("/terms")
    html = page.locator(HTML)
    body = page.locator("body")
    button = page.locator(CONTRAST_BUTTON)
    expect(html).not_to_have_attribute("data-contrast", "high")
    expect(button).to_have_attribute("aria-pressed", "false")
    normal_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert normal_background not in ("rgb(0, 0, 0)", "rgba(0, 0, 0, 0)")  # the stylesheet is applied

    with page.expect_navigation():
        button.click()
    expect(page).to_have_url(live_server("/terms"))  # back on the same page
    expect(html).to_have_attribute("data-contrast", "high")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(body).to_have_css("background-color", "rgb(0, 0, 0)")

    # It stays on from page to page.
    page.goto("/")
    expect(html).to_have_attribute("data-contrast", "high")
    expect(button).to_have_attribute("aria-pressed", "true")

    with page.expect_navigation():
        button.click()
    expect(page).to_have_url(live_server("/"))
    expect(html).not_to_have_attribute("data-contrast", "high")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(body).to_have_css("background-color", normal_background)

    assert page.problems == []


HOUSES = [
    ("cascina-roccafranca", "Cascina Roccafranca", "Mirafiori Nord", "Via Rubino 45", 45.0436, 7.6225),
    ("casa-san-salvario", "Casa del Quartiere di San Salvario", "San Salvario", "Via Morgari 14", 45.0560, 7.6800),
    ("bagni-via-aglie", "Bagni Pubblici di via Agliè", "Barriera di Milano", "Via Agliè 9", 45.0900, 7.6950),
    ("cecchi-point", "Cecchi Point", "Aurora", "Via Cecchi 17", 45.0840, 7.6850),
]


@pytest.mark.parametrize("device,viewport", [
    ("desktop", {"width": 1280, "height": 800}),
    ("phone", {"width": 390, "height": 844}),
], ids=["desktop", "phone"])
def test_home_page_screenshots_normal_and_high_contrast(new_page, app, device, viewport):
    with app.app_context():
        db.session.add_all(NeighbourhoodHouse(slug=slug, name=name, neighbourhood=area, address=address,
                                              lat=lat, lon=lon)
                           for slug, name, area, address, lat, lon in HOUSES)
        db.session.commit()
        db.session.remove()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = new_page(viewport=viewport)

    page.goto("/")
    expect(page.locator(".house-list li")).to_have_count(len(HOUSES))
    for mode in ("normal", "high-contrast"):
        if mode == "high-contrast":
            with page.expect_navigation():  # waits for the new page's load event (stylesheet included)
                page.click(CONTRAST_BUTTON)
            expect(page.locator(HTML)).to_have_attribute("data-contrast", "high")
            expect(page.locator("body")).to_have_css("background-color", "rgb(0, 0, 0)")
        page.screenshot(path=str(ARTIFACTS / f"home-{device}-{mode}.png"), full_page=True)
        # Nothing sticks out sideways: no horizontal scrolling, on a phone either.
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= viewport["width"], f"{mode}: page is {scroll_width}px wide"
        for selector in ("header .brand", "header .lang-switch", CONTRAST_BUTTON, 'header a[href="/login"]',
                         'header a[href="/register"]', "#main h1"):
            box = page.locator(selector).bounding_box()
            assert box is not None, f"{selector} is not displayed"
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], f"{selector} is off screen"

    assert page.problems == []
