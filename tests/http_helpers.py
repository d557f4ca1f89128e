"""Helpers shared by the HTTP tests: English clients, page text, redirects, forms, the outbox.

Plain functions and constants, not fixtures: a test module imports what it uses. A module
that wants the conftest ``client`` in English overrides it locally with :func:`english`::

    @pytest.fixture
    def client(client):
        return english(client)

Helpers that touch the database open their own short ``app.app_context()``, so that no
application context is held while requests are made.
"""
import html
import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from app.auth.passwords import verify_password
from app.extensions import db
from app.models import User
from app.models.messaging import OutboxEmail
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "violet tram under Superga 1706"
"""A strong password, other than ``TEST_PASSWORD``, to register with or change to."""

_URL = re.compile(r"https?://[^\s<>\"]+")


# --- clients -------------------------------------------------------------------------------

def english(client):
    """Make ``client`` ask for English pages (``Accept-Language: en``) and return it."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def new_client(app):
    """A fresh test client of ``app`` (no cookies, so a second browser), asking for English pages."""
    return english(app.test_client())


# --- responses -----------------------------------------------------------------------------

def text_of(response):
    """The response body as text, with HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def comparable(response, typed_email):
    """The page text with the address typed in and the per-session CSRF tokens blanked out."""
    page = text_of(response).replace(typed_email, "EMAIL")
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', 'name="csrf_token" value=""', page)


def location_path(response):
    """The path of the redirect target in the Location header (no scheme, host or query)."""
    return urlsplit(response.headers["Location"]).path


def field_tag(page, field_id):
    """The opening tag of the form control with id ``field_id``; fails the test if there is none."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    assert match, f"no form control with id={field_id!r} in the page"
    return match.group(0)


def assert_field_error(response, field_id, message):
    """The control is marked invalid, points at its error, and the error says ``message``."""
    page = response.get_data(as_text=True)
    tag = field_tag(page, field_id)
    assert 'aria-invalid="true"' in tag, tag
    described = re.search(r'aria-describedby="([^"]*)"', tag)
    assert described and f"{field_id}-error" in described.group(1).split(), tag
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert error, f"no error message for {field_id}"
    assert message in html.unescape(error.group(1)), error.group(1)


# --- forms ---------------------------------------------------------------------------------

def sign_in(client, email, password=TEST_PASSWORD, remember=False, **kwargs):
    """Post the login form (ticking "remember me" if asked); ``kwargs`` go to ``client.post``."""
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, **kwargs)


def register(client, email, password=NEW_PASSWORD, display_name="Rosa Bianchi", accept_terms=True, **kwargs):
    """Post the registration form (accepting the terms unless told not to); ``kwargs`` go to ``client.post``."""
    data = {"display_name": display_name, "email": email, "password": password}
    if accept_terms:
        data["accept_terms"] = "y"
    return client.post("/register", data=data, **kwargs)


# --- database ------------------------------------------------------------------------------

def count_users(app, email=None):
    """How many user rows there are, or how many with ``email`` (case-insensitively)."""
    with app.app_context():
        query = select(func.count()).select_from(User)
        if email is not None:
            query = query.where(func.lower(User.email) == email.lower())
        return db.session.scalar(query)


def password_works(app, user_id, password):
    """Whether ``password`` matches the stored hash of user ``user_id``."""
    with app.app_context():
        return verify_password(db.session.get(User, user_id).password_hash, password)


# --- email -----------------------------------------------------------------------------------

def outbox(app, **filters):
    """Outbox rows as plain dicts, oldest first, filtered by column values."""
    with app.app_context():
        query = select(OutboxEmail).order_by(OutboxEmail.id)
        for column, value in filters.items():
            query = query.where(getattr(OutboxEmail, column) == value)
        return [
            {"to": r.to_address, "kind": r.kind, "body": r.body_text, "user_id": r.user_id, "subject": r.subject}
            for r in db.session.scalars(query)
        ]


def links_in(body):
    """Every http(s) URL in an email body, in order."""
    return _URL.findall(body)


def link_path(body, prefix):
    """The path of the first link in ``body`` whose path starts with ``prefix``."""
    for url in links_in(body):
        path = urlsplit(url).path
        if path.startswith(prefix):
            return path
    raise AssertionError(f"no link to {prefix} in email body:\n{body}")
