"""Kiosk mode in a real browser: a facilitator turns the shared computer of a house into a kiosk,
a citizen signs in on it and walks away, and the page warns, then signs them out by itself.

The server runs with a kiosk idle time of six seconds (KIOSK_IDLE_MINUTES=0.1), so kiosk.js's
keep-alive while someone types, its warning, the "I am still here" button and the sign-out all
happen within the test.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, NeighbourhoodHouse, Role, user_houses
from app.seed.demo import seed_places
from tests.browser.conftest import serve
from tests.conftest import TEST_PASSWORD

IDLE_SECONDS = 6
SUBMIT = "main form button[type=submit]"


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    """The conftest's live server (same database, CSRF on), with a kiosk idle time of seconds."""
    with serve(database_url, tmp_path_factory.mktemp("live-kiosk-instance"),
               KIOSK_IDLE_MINUTES=IDLE_SECONDS / 60) as server:
        yield server


@pytest.fixture
def cast(app, make_user):
    facilitator = make_user(roles=[Role.facilitator], display_name="Fabiola Facilitatrice", email="fabiola@example.org")
    make_user(display_name="Rosa Bianchi", email="rosa@example.org")
    with app.app_context():
        seed_places()
        house = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id)).first()
        db.session.execute(user_houses.insert().values(user_id=facilitator.id, house_id=house.id))
        db.session.commit()
        return {"house_id": house.id, "house_name": house.name}


def sign_in(page, email):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click(SUBMIT)
    expect(page.locator('header form[action="/logout"]')).to_have_count(1)


@pytest.mark.browser
def test_a_kiosk_signs_an_idle_citizen_out_by_itself(new_page, app, cast):
    page = new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    sign_in(page, "fabiola@example.org")
    page.click("header nav.staff-bar a[href='/kiosk']")
    page.select_option("#k-house", str(cast["house_id"]))
    page.click("#kiosk-start")

    expect(page.locator("body.kiosk")).to_have_count(1)
    # kiosk.css may still be loading when body.kiosk is parsed: wait for it to apply.
    expect(page.locator("html")).to_have_css("font-size", "20px")  # 125 %
    expect(page.locator("#kiosk-bar")).to_contain_text(f"Shared computer at {cast['house_name']}")
    expect(page.locator("footer")).to_have_count(0)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "kiosk.started"))
    page.click("header nav.main-nav button:has-text('Sign out')")
    expect(page.locator(".flash")).to_contain_text("This computer is ready for the next person")

    # A citizen: no "keep me signed in" here.
    page.goto("/login")
    expect(page.locator("#remember")).to_have_count(0)
    sign_in(page, "rosa@example.org")
    expect(page.locator("#kiosk-bar")).to_contain_text("Signed in as Rosa Bianchi")

    # Typing for longer than the idle time, without a single page load, keeps her signed in:
    # kiosk.js tells the server now and then that someone is there.
    for _ in range(IDLE_SECONDS + 3):
        page.keyboard.press("Shift")
        page.wait_for_timeout(1000)
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator("#kiosk-bar")).to_contain_text("Signed in as Rosa Bianchi")

    # Nobody touches the computer: a warning, and "I am still here" puts it off...
    warning = page.locator("#kiosk-warning")
    expect(warning).to_be_visible(timeout=IDLE_SECONDS * 1000)
    expect(warning).to_contain_text("Are you still there?")
    expect(page.locator("#kiosk-stay")).to_be_focused()  # so Enter answers it
    page.keyboard.press("Enter")
    expect(warning).to_be_hidden()
    expect(page.locator("#kiosk-bar")).to_contain_text("Signed in as Rosa Bianchi")

    # ...until nobody answers it: signed out, and the computer is still a kiosk.
    expect(page.locator(".flash")).to_contain_text("You were signed out after 1 minute without activity",
                                                   timeout=(IDLE_SECONDS + 4) * 1000)
    expect(page.locator('header form[action="/logout"]')).to_have_count(0)
    expect(page.locator("header nav.main-nav a", has_text=re.compile("^Sign in$"))).to_be_visible()
    expect(page.locator("body.kiosk")).to_have_count(1)
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.problems == []
