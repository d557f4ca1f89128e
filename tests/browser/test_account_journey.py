"""A visitor's account journey in a real browser: register, confirm, sign in and out, reset a password.

Visible texts may be Italian or English (the catalogue is still being
translated), so the tests find things by id, href and form action, and accept
either language where they check words.
"""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.messaging import OutboxEmail
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

STRONG_PASSWORD = "tram numero quattro per Mirafiori"
#: The submit button of the page's own form (the header holds other forms: contrast, sign-out).
SUBMIT = "#main form[method=post] button[type=submit]"
ACCOUNT_LINK = 'header a[href="/account/"]'
SIGN_IN_LINK = 'header a[href="/login"]'
SIGN_OUT_BUTTON = 'header form[action="/logout"] button[type=submit]'


def either(*texts):
    """A regex matching any of ``texts`` exactly (Italian or English)."""
    return re.compile("^(" + "|".join(re.escape(t) for t in texts) + ")$")


def emailed_link(app, live_server, kind, to_address, path_prefix):
    """The link in the newest outbox email of ``kind`` to ``to_address`` (read in a short app context)."""
    with app.app_context():
        mail = db.session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.kind == kind, OutboxEmail.to_address == to_address)
            .order_by(OutboxEmail.id.desc())
        ).first()
        assert mail is not None, f"no {kind} email to {to_address} in the outbox"
        body = mail.body_text
        db.session.remove()
    match = re.search(re.escape(live_server.url + path_prefix) + r"[A-Za-z0-9_.\-]+", body)
    assert match, f"no {path_prefix} link in the {kind} email:\n{body}"
    return match.group(0)


def user_by_email(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        db.session.remove()
        return user


def urlparse_path(url):
    return urlsplit(url).path


def sign_in(page, email, password):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click(SUBMIT)


def test_register_confirm_sign_in_and_sign_out(page, app, live_server):
    email = "giulia.ferraris@example.org"

    # Register through the real form (CSRF on).
    page.goto("/")
    page.click('header a[href="/register"]')
    expect(page).to_have_url(live_server("/register"))
    page.fill("#display_name", "Giulia F.")
    page.fill("#email", email)
    page.fill("#password", STRONG_PASSWORD)
    page.check("#accept_terms")
    page.click(SUBMIT)

    expect(page.locator("#main h1")).to_have_text(either("Check your email", "Controlla la tua email"))
    expect(page.locator("#main")).to_contain_text(email)
    created = user_by_email(app, email)
    assert created is not None and created.display_name == "Giulia F."
    assert created.email_confirmed_at is None

    # Open the emailed link and press the button (a GET alone confirms nothing).
    link = emailed_link(app, live_server, "confirm_email", email, "/confirm/")
    page.goto(link)
    assert user_by_email(app, email).email_confirmed_at is None
    page.click(SUBMIT)
    expect(page).to_have_url(live_server("/login"))
    expect(page.locator(".flash-success")).to_be_visible()
    assert user_by_email(app, email).email_confirmed_at is not None

    # Sign in through the login form.
    page.fill("#email", email)
    page.fill("#password", STRONG_PASSWORD)
    page.click(SUBMIT)
    expect(page).to_have_url(live_server("/"))
    expect(page.locator(ACCOUNT_LINK)).to_have_text(either("My account", "Il mio account"))
    expect(page.locator(SIGN_IN_LINK)).to_have_count(0)
    expect(page.locator(".banner-warning")).to_have_count(0)  # confirmed: no "not confirmed yet" banner
    assert user_by_email(app, email).last_login_at is not None

    # Sign out with the header's POST button.
    page.click(SIGN_OUT_BUTTON)
    expect(page).to_have_url(live_server("/"))
    expect(page.locator(SIGN_IN_LINK)).to_have_text(either("Sign in", "Accedi"))
    expect(page.locator(ACCOUNT_LINK)).to_have_count(0)
    expect(page.locator(SIGN_OUT_BUTTON)).to_have_count(0)
    # Signed out for real: the account page now sends us to the sign-in form.
    page.goto("/account/")
    assert urlparse_path(page.url) == "/login"

    assert page.problems == []


def test_password_reset_journey(page, app, live_server, make_user):
    user = make_user(display_name="Marco R.")
    new_password = "pioggia sul Valentino a novembre"
    assert new_password != TEST_PASSWORD

    page.goto("/login")
    page.click('#main a[href="/password/forgot"]')
    expect(page).to_have_url(live_server("/password/forgot"))
    page.fill("#email", user.email)
    page.click(SUBMIT)
    expect(page.locator("#main h1")).to_have_text(either("Check your email", "Controlla la tua email"))

    link = emailed_link(app, live_server, "password_reset", user.email, "/password/reset/")
    page.goto(link)
    page.fill("#password", new_password)
    page.fill("#confirm", new_password)
    page.click(SUBMIT)
    expect(page).to_have_url(live_server("/login"))
    expect(page.locator(".flash-success")).to_be_visible()

    sign_in(page, user.email, new_password)
    expect(page).to_have_url(live_server("/"))
    expect(page.locator(ACCOUNT_LINK)).to_have_text(either("My account", "Il mio account"))

    # The link was for one use only.
    page.expected_statuses.add((urlparse_path(link), 400))
    response = page.goto(link)
    assert response.status == 400
    expect(page.locator("#main h1")).to_have_text(either("This link does not work", "Questo link non funziona"))
    expect(page.locator("#main form")).to_have_count(0)
    expect(page.locator('#main a[href="/password/forgot"]')).to_be_visible()

    assert page.problems == []


def test_wrong_password_shows_an_error_summary_linked_to_the_field(page, app, live_server, make_user):
    user = make_user()

    sign_in(page, user.email, "not my password at all, sorry")

    expect(page).to_have_url(live_server("/login"))
    summary = page.locator("#main .error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_visible()
    link = summary.locator('a[href="#password"]')
    expect(link).to_contain_text(re.compile("Wrong email or password|Email o password non corrett"))

    field = page.locator("#password")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bpassword-error\b"))
    expect(page.locator("#password-error")).to_be_visible()
    expect(field).to_have_value("")  # the wrong password is not sent back
    expect(page.locator("#email")).to_have_value(user.email)

    link.click()
    expect(page).to_have_url(live_server("/login#password"))
    expect(field).to_be_focused()

    assert user_by_email(app, user.email).last_login_at is None
    assert page.problems == []
