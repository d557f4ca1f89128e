"""Registration, email confirmation, login/logout, remember me and sessions, over HTTP.

Every request runs without an application context; the database is checked in
short ``with app.app_context():`` blocks. Pages are asked for in English
(``Accept-Language: en``) so that messages can be compared with the source strings.
"""
import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role, User
from tests.conftest import refetch
from tests.http_helpers import (
    NEW_PASSWORD,
    assert_field_error,
    comparable,
    count_users,
    english,
    link_path,
    location_path,
    new_client,
    outbox,
    register,
    sign_in,
    text_of,
)

# --- helpers -----------------------------------------------------------------------------

@pytest.fixture
def client(client):
    """The conftest client, asking for English pages."""
    return english(client)


def location(response):
    """The Location header as sent (path and query for local redirects)."""
    return response.headers["Location"]


def session_of(client):
    """A copy of the client's session contents."""
    with client.session_transaction() as sess:
        return dict(sess)


def user_by_email(app, email):
    """The user with ``email`` (case-insensitively), detached with its roles loaded, or None."""
    with app.app_context():
        user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is not None:
            _ = user.role_rows
            db.session.expunge(user)
        return user


def assert_signed_out(client):
    """The client is anonymous: a page for signed-in users sends it to the login page."""
    response = client.get("/account/")
    assert response.status_code == 302
    assert location_path(response) == "/login"


def assert_signed_in(client):
    """The client is signed in: the account page answers instead of redirecting."""
    response = client.get("/account/")
    assert response.status_code == 200, response.headers.get("Location")


# --- registration --------------------------------------------------------------------------

def test_register_creates_an_unconfirmed_citizen_with_an_argon2id_hash_and_queues_a_confirmation(app, client):
    response = register(client, "Rosa.Bianchi@Example.org")

    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    user = user_by_email(app, "rosa.bianchi@example.org")
    assert user is not None
    assert user.email == "rosa.bianchi@example.org"  # stored lower-cased
    assert user.display_name == "Rosa Bianchi"
    assert user.email_confirmed_at is None
    assert user.roles == frozenset({Role.citizen})
    assert user.terms_accepted_at is not None
    assert user.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in user.password_hash
    mails = outbox(app)
    assert [(m["to"], m["kind"], m["user_id"]) for m in mails] == [
        ("rosa.bianchi@example.org", "confirm_email", user.id)]
    assert link_path(mails[0]["body"], "/confirm/")
    # registering does not sign in
    assert "_user_id" not in session_of(client)


def test_confirmation_link_is_built_on_base_url_not_on_the_request_host(app, client):
    register(client, "host@example.org", base_url="http://evil.example")
    (mail,) = outbox(app, kind="confirm_email")
    base = app.config["BASE_URL"].rstrip("/")
    links = re.findall(r"https?://[^\s<>\"]+", mail["body"])
    assert links and all(link.startswith(base) for link in links), links
    assert "evil.example" not in mail["body"]


@pytest.mark.parametrize("password, message", [
    ("password123", "too easy to guess"),
    ("qwertyuiop", "too easy to guess"),
    ("iloveyou12", "too easy to guess"),
    ("short1!", "Use at least 10 characters."),
])
def test_register_refuses_weak_or_common_password_with_an_error_on_the_password_field(app, client, password,
                                                                                        message):
    response = register(client, "weak@example.org", password=password)

    assert response.status_code == 200
    assert_field_error(response, "password", message)
    assert count_users(app) == 0
    assert outbox(app) == []


def test_register_refuses_without_accepting_the_terms(app, client):
    response = register(client, "noterms@example.org", accept_terms=False)

    assert response.status_code == 200
    assert_field_error(response, "accept_terms", "You need to accept the terms to register.")
    assert count_users(app) == 0
    assert outbox(app) == []


@pytest.mark.parametrize("address", ["not-an-email", "two@@example.org", "spaces in@example.org", "@example.org"])
def test_register_refuses_an_invalid_email_address(app, client, address):
    response = register(client, address)

    assert response.status_code == 200
    assert_field_error(response, "email", "Enter a valid email address.")
    assert count_users(app) == 0
    assert outbox(app) == []


def test_register_refuses_a_blank_name(app, client):
    response = register(client, "blank@example.org", display_name="   ")

    assert response.status_code == 200
    assert_field_error(response, "display_name", "This field is required.")
    assert count_users(app) == 0


def test_register_with_an_existing_email_reveals_nothing_and_tells_the_owner(app, client, make_user):
    owner = make_user(email="taken@example.org", display_name="Owner")

    fresh = register(new_client(app), "fresh@example.org")
    again = register(client, "Taken@Example.org", display_name="Intruder")

    assert again.status_code == fresh.status_code == 200
    # the very same page, but for the address typed in
    assert comparable(again, "Taken@Example.org") == comparable(fresh, "fresh@example.org")
    assert count_users(app, "taken@example.org") == 1
    assert refetch(app, User, owner.id).display_name == "Owner"
    to_owner = outbox(app, to_address="taken@example.org")
    assert [(m["kind"], m["user_id"]) for m in to_owner] == [("already_registered", owner.id)]
    assert link_path(to_owner[0]["body"], "/password/forgot")


# --- email confirmation --------------------------------------------------------------------

def _confirm_path(app, email):
    (mail,) = outbox(app, to_address=email, kind="confirm_email")
    return link_path(mail["body"], "/confirm/")


def test_confirmation_link_get_shows_a_button_and_does_not_confirm(app, client):
    register(client, "confirm@example.org")
    path = _confirm_path(app, "confirm@example.org")

    response = client.get(path)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<form method="post"', page)
    assert re.search(r"<button[^>]*type=\"submit\"[^>]*>\s*Confirm\s*</button>", page)
    assert user_by_email(app, "confirm@example.org").email_confirmed_at is None


def test_confirmation_link_post_confirms_the_address(app, client):
    register(client, "confirm@example.org")
    path = _confirm_path(app, "confirm@example.org")

    response = client.post(path)

    assert response.status_code == 302
    assert location_path(response) == "/login"
    assert user_by_email(app, "confirm@example.org").email_confirmed_at is not None
    # the account now signs in and acts as a confirmed citizen
    sign_in(client, "confirm@example.org", NEW_PASSWORD)
    assert_signed_in(client)


@pytest.mark.parametrize("token", ["garbage", "eyJ1aWQiOjF9.AAAAAA.bm90LWEtc2lnbmF0dXJl"])
def test_confirmation_with_a_garbage_token_is_a_bad_link(app, client, token):
    response = client.post(f"/confirm/{token}")
    assert response.status_code == 400
    assert "This link does not work" in text_of(response)


def test_confirmation_token_for_a_previous_address_is_refused(app, client):
    register(client, "old@example.org")
    old_token_path = _confirm_path(app, "old@example.org")
    user = user_by_email(app, "old@example.org")
    # the (still unconfirmed) user moves to a new address through the account page
    assert sign_in(client, "old@example.org", NEW_PASSWORD).status_code == 302
    response = client.post("/account/email", data={"new_email": "new@example.org", "password": NEW_PASSWORD})
    assert response.status_code == 302
    (change,) = outbox(app, kind="confirm_new_email")
    assert client.post(link_path(change["body"], "/account/email/confirm/")).status_code == 302
    assert refetch(app, User, user.id).email == "new@example.org"

    response = new_client(app).post(old_token_path)

    assert response.status_code == 400
    assert "This link does not work" in text_of(response)


# --- login -----------------------------------------------------------------------------------

def test_login_with_right_credentials_redirects_and_starts_a_session(app, client, make_user):
    user = make_user(email="citizen@example.org")

    response = sign_in(client, "Citizen@Example.org")

    assert response.status_code == 302
    assert location_path(response) == "/"
    assert session_of(client)["_user_id"] == f"{user.id}:1"
    assert_signed_in(client)
    assert refetch(app, User, user.id).last_login_at is not None


def test_login_with_wrong_password_shows_an_error_and_starts_no_session(client, make_user):
    make_user(email="citizen@example.org")

    response = sign_in(client, "citizen@example.org", "not the right password at all")

    assert response.status_code == 200
    assert_field_error(response, "password", "Wrong email or password.")
    assert "_user_id" not in session_of(client)
    assert_signed_out(client)


def test_login_with_unknown_email_gives_the_same_answer_as_a_wrong_password(app, client, make_user):
    make_user(email="known@example.org")

    wrong = sign_in(client, "known@example.org", "not the right password at all")
    unknown = sign_in(new_client(app), "nobody@example.org", "not the right password at all")

    assert unknown.status_code == wrong.status_code == 200
    assert_field_error(unknown, "password", "Wrong email or password.")
    assert comparable(unknown, "nobody@example.org") == comparable(wrong, "known@example.org")


def test_login_of_a_blocked_user_is_refused_with_an_explanation(client, make_user):
    make_user(email="blocked@example.org", is_blocked=True)

    response = sign_in(client, "blocked@example.org")

    assert response.status_code == 200
    assert_field_error(response, "password", "This account has been blocked by the moderators.")
    assert "To contest it, write to moderazione@piazza.example.org." in text_of(response)
    assert "_user_id" not in session_of(client)


def test_a_blocked_user_reads_when_and_why(client, make_user):
    from datetime import datetime, timezone

    make_user(email="blocked2@example.org", is_blocked=True, blocked_at=datetime(2026, 11, 5, 10, tzinfo=timezone.utc),
              block_reason="Pubblicità ripetuta in tutte le discussioni")

    response = sign_in(client, "blocked2@example.org")

    assert_field_error(response, "password", "This account was blocked by the moderators on November 5, 2026: "
                                             "Pubblicità ripetuta in tutte le discussioni.")
    assert "_user_id" not in session_of(client)


def test_blocking_a_user_ends_their_current_session(app, client, make_user):
    user = make_user(email="soon-blocked@example.org")
    sign_in(client, "soon-blocked@example.org")
    assert_signed_in(client)

    with app.app_context():
        db.session.get(User, user.id).is_blocked = True
        db.session.commit()

    assert_signed_out(client)


def test_login_of_an_unconfirmed_user_works_and_asks_to_confirm(client, make_user):
    make_user(email="unconfirmed@example.org", confirmed=False)

    response = sign_in(client, "unconfirmed@example.org")

    assert response.status_code == 302
    assert "Please confirm your email address" in text_of(client.get(location(response)))


def test_login_follows_a_local_next_path(client, make_user):
    make_user(email="citizen@example.org")

    response = sign_in(client, "citizen@example.org", query_string={"next": "/account/?tab=follows"})

    assert response.status_code == 302
    assert location(response) == "/account/?tab=follows"


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "/\tevil.example",
    "evil.example",
])
def test_login_does_not_follow_a_next_parameter_that_leaves_the_site(client, make_user, target):
    make_user(email="citizen@example.org")

    response = sign_in(client, "citizen@example.org", query_string={"next": target})

    assert response.status_code == 302
    assert location(response) == "/"


def test_login_page_of_a_signed_in_user_does_not_follow_an_external_next(client, make_user):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org")

    response = client.get("/login", query_string={"next": "//evil.example"})

    assert response.status_code == 302
    assert location(response) == "/"


# --- logout ----------------------------------------------------------------------------------

def test_logout_by_get_is_not_allowed_and_keeps_the_session(client, make_user):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org")

    response = client.get("/logout")

    assert response.status_code == 405
    assert_signed_in(client)


def test_logout_by_post_ends_the_session(client, make_user):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org")
    assert_signed_in(client)

    response = client.post("/logout")

    assert response.status_code == 302
    assert location_path(response) == "/"
    assert "_user_id" not in session_of(client)
    assert_signed_out(client)


def test_logout_with_remember_me_also_ends_the_remembered_login(client, make_user):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org", remember=True)
    assert client.get_cookie("piazza_remember") is not None

    response = client.post("/logout")

    assert response.status_code == 302
    assert_signed_out(client)
    assert client.get_cookie("piazza_remember") is None


# --- remember me -----------------------------------------------------------------------------

def _set_cookie_header(response, name):
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return headers[0] if headers else None


def test_remember_me_sets_an_httponly_samesite_lax_cookie_for_at_most_14_days(client, make_user):
    make_user(email="citizen@example.org")

    before = datetime.now(timezone.utc)
    response = sign_in(client, "citizen@example.org", remember=True)

    header = _set_cookie_header(response, "piazza_remember")
    assert header is not None
    attributes = [part.strip().lower() for part in header.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    expires = next(part for part in header.split(";") if part.strip().lower().startswith("expires="))
    expiry = parsedate_to_datetime(expires.split("=", 1)[1].strip())
    assert before < expiry <= before + timedelta(days=14, seconds=5)
    cookie = client.get_cookie("piazza_remember")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_without_remember_me_no_remember_cookie_is_set(client, make_user):
    make_user(email="citizen@example.org")

    response = sign_in(client, "citizen@example.org")

    assert response.status_code == 302
    assert _set_cookie_header(response, "piazza_remember") is None
    assert client.get_cookie("piazza_remember") is None


def test_remember_me_cookie_signs_in_again_when_the_session_cookie_is_gone(client, make_user):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org", remember=True)

    client.delete_cookie("piazza_session")

    assert_signed_in(client)


def test_without_remember_me_losing_the_session_cookie_signs_out(client, make_user):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org")

    client.delete_cookie("piazza_session")

    assert_signed_out(client)


# --- sessions --------------------------------------------------------------------------------

def test_login_regenerates_the_session_and_keeps_only_language_and_contrast(client, make_user):
    user = make_user(email="citizen@example.org")
    client.get("/")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker-chosen value"
        sess["lang"] = "en"
        sess["contrast"] = "high"
    before = client.get_cookie("piazza_session").value

    sign_in(client, "citizen@example.org")

    after = client.get_cookie("piazza_session").value
    assert after != before
    sess = session_of(client)
    assert "planted" not in sess
    assert sess["lang"] == "en"
    assert sess["contrast"] == "high"
    assert sess["_user_id"] == f"{user.id}:1"


def test_log_out_everywhere_ends_other_sessions_and_their_remember_me_cookies(app, client, make_user):
    user = make_user(email="citizen@example.org")
    laptop = new_client(app)
    phone = new_client(app)
    sign_in(client, "citizen@example.org")
    sign_in(laptop, "citizen@example.org")
    sign_in(phone, "citizen@example.org", remember=True)
    # the phone is held by its remember-me cookie alone
    phone.delete_cookie("piazza_session")
    assert_signed_in(phone)
    phone.delete_cookie("piazza_session")

    response = client.post("/account/sessions/end-all")

    assert response.status_code == 302
    assert location_path(response) == "/login"
    assert refetch(app, User, user.id).session_version == 2
    assert_signed_out(client)
    assert_signed_out(laptop)
    assert_signed_out(phone)
    # and a fresh login still works
    assert sign_in(laptop, "citizen@example.org").status_code == 302
    assert_signed_in(laptop)


def _timeouts(app):
    return (app.config["SESSION_IDLE_TIMEOUT"].total_seconds(),
            app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds())


@pytest.mark.parametrize("which, beyond, still_signed_in", [
    ("idle", +60, False),
    ("idle", -60, True),
    ("absolute", +60, False),
    ("absolute", -60, True),
])
def test_session_ends_after_the_idle_or_absolute_timeout(app, client, make_user, which, beyond, still_signed_in):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org")
    assert_signed_in(client)
    idle, absolute = _timeouts(app)
    now = time.time()
    with client.session_transaction() as sess:
        if which == "idle":
            sess["seen_at"] = now - idle - beyond
        else:
            sess["login_at"] = now - absolute - beyond
            sess["seen_at"] = now

    response = client.get("/account/")

    if still_signed_in:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert location_path(response) == "/login"
        assert "_user_id" not in session_of(client)
        assert "Your session has expired" in text_of(client.get(location(response)))


def test_after_a_timeout_a_valid_remember_me_cookie_starts_a_fresh_session(app, client, make_user):
    make_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org", remember=True)
    idle, _ = _timeouts(app)
    with client.session_transaction() as sess:
        sess["seen_at"] = time.time() - idle - 60
        sess["login_at"] = time.time() - idle - 120

    response = client.get("/account/")

    assert response.status_code == 200
    assert session_of(client)["login_at"] > time.time() - 30
