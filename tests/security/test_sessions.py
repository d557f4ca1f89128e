"""Ending sessions for real: a cookie copied before signing out, changing or resetting the password must
not sign anyone in afterwards — the session cookie, the remember-me cookie, and (password) API tokens.

Complements tests/test_auth_http.py (logout, remember me, "log out everywhere", timeouts),
tests/test_account_http.py and tests/test_password_reset.py, which check the browser that acted;
here an attacker replays cookies captured earlier, in a browser of their own.
"""
import time

import pytest
from sqlalchemy import func, select

from app.api.tokens import usable_token
from app.auth import sessions
from app.extensions import db
from app.models import User
from app.models.login import EndedLogin
from tests.conftest import TEST_PASSWORD, refetch
from tests.http_helpers import NEW_PASSWORD, link_path, new_client, outbox, sign_in

SESSION, REMEMBER = "piazza_session", "piazza_remember"


def signed_in(client):
    response = client.get("/account/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def replay(app, **cookies):
    """A fresh browser holding only ``cookies`` (name -> value), as an attacker who copied them."""
    browser = new_client(app)
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def captured(client, *names):
    """The values of the client's cookies ``names`` now."""
    return {name: client.get_cookie(name).value for name in names}


def api_token(client, email, password=TEST_PASSWORD):
    response = client.post("/api/v1/tokens", json={"email": email, "password": password, "name": "phone"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def token_works(app, secret):
    with app.app_context():
        return usable_token(secret) is not None


@pytest.fixture
def rosa(make_user):
    return make_user(email="rosa@example.org")


# --- signing out -------------------------------------------------------------------------------

def test_a_session_cookie_copied_before_signing_out_no_longer_signs_in(app, client, rosa):
    sign_in(client, rosa.email)
    stolen = captured(client, SESSION)
    assert signed_in(replay(app, **stolen))  # the copy works while the owner is signed in

    assert client.post("/logout").status_code == 302

    assert not signed_in(client)
    assert not signed_in(replay(app, **stolen))


def test_a_remember_me_cookie_copied_before_signing_out_no_longer_signs_in(app, client, rosa):
    sign_in(client, rosa.email, remember=True)
    stolen = captured(client, REMEMBER)
    assert signed_in(replay(app, **stolen))

    client.post("/logout")

    assert not signed_in(replay(app, **stolen))
    assert not signed_in(replay(app, **stolen, **{SESSION: "garbage"}))


def test_signing_out_ends_only_that_sign_in(app, client, rosa):
    phone = new_client(app)
    sign_in(phone, rosa.email, remember=True)
    phone_cookies = captured(phone, SESSION, REMEMBER)
    sign_in(client, rosa.email)

    client.post("/logout")

    assert signed_in(phone)
    assert signed_in(replay(app, **phone_cookies))
    assert refetch(app, User, rosa.id).session_version == 1  # not "log out everywhere"


def test_signing_in_again_after_signing_out_starts_a_new_login(app, client, rosa):
    sign_in(client, rosa.email)
    old = captured(client, SESSION)
    client.post("/logout")

    assert sign_in(client, rosa.email).status_code == 302

    assert signed_in(client)
    assert not signed_in(replay(app, **old))


def test_a_session_restored_from_remember_me_ends_with_the_sign_out(app, client, rosa):
    sign_in(client, rosa.email, remember=True)
    remember = captured(client, REMEMBER)
    laptop = replay(app, **remember)  # the browser came back days later: session restored from the cookie
    assert signed_in(laptop)
    restored = captured(laptop, SESSION)

    laptop.post("/logout")

    assert not signed_in(replay(app, **restored))
    assert not signed_in(replay(app, **remember))
    assert not signed_in(client)  # the same sign-in, in the first browser's session


def test_a_kiosk_sign_out_ends_the_copied_session_too(app, client, make_user):
    from app.models import NeighbourhoodHouse, Role
    from app.seed.demo import seed_places

    with app.app_context():
        seed_places()
        db.session.commit()
        house_id = db.session.scalar(select(NeighbourhoodHouse.id).order_by(NeighbourhoodHouse.id))
    admin = make_user(roles=[Role.admin], email="admin@example.org")
    sign_in(client, admin.email)
    assert client.post("/kiosk/start", data={"k-house": str(house_id)}).status_code == 302
    client.post("/logout")
    citizen = make_user(email="anna@example.org")
    sign_in(client, citizen.email)
    stolen = captured(client, SESSION)
    assert signed_in(replay(app, **stolen))

    client.post("/logout")

    assert not signed_in(replay(app, **stolen))


# --- the login id --------------------------------------------------------------------------------

def test_a_login_older_than_the_remember_me_duration_is_refused(app, client, rosa):
    too_old = time.time() - app.config["REMEMBER_COOKIE_DURATION"].total_seconds() - 60
    fresh = time.time() - 60
    for started, expected in ((too_old, False), (fresh, True)):
        browser = new_client(app)
        with browser.session_transaction() as sess:
            sess.update({"_user_id": f"{rosa.id}:1:{sessions.new_login_id(started)}", "_fresh": True,
                         "login_at": time.time(), "seen_at": time.time()})
        assert signed_in(browser) is expected


@pytest.mark.parametrize("login_id", ["", "zz", "0" * 24 + "0", "g" * 24, "../../etc/passwd", "1:2"])
def test_a_malformed_login_id_signs_nobody_in(app, rosa, login_id):
    browser = new_client(app)
    with browser.session_transaction() as sess:
        sess.update({"_user_id": f"{rosa.id}:1:{login_id}", "login_at": time.time(), "seen_at": time.time()})
    assert not signed_in(browser)


def test_ended_logins_are_forgotten_once_no_cookie_could_carry_them(app, client, rosa, monkeypatch):
    from datetime import timedelta

    from app.models.base import utcnow

    with app.app_context():
        db.session.add(EndedLogin(login_id="0" * 24, user_id=rosa.id,
                                  ended_at=utcnow() - sessions.max_login_age() - timedelta(minutes=1)))
        db.session.commit()
    sign_in(client, rosa.email)
    client.post("/logout")
    with app.app_context():
        assert db.session.scalars(select(EndedLogin.login_id)).all() != ["0" * 24]
        assert db.session.get(EndedLogin, "0" * 24) is None
        assert db.session.scalar(select(func.count()).select_from(EndedLogin)) == 1


# --- changing and resetting the password -----------------------------------------------------------

def test_changing_the_password_ends_every_other_session_remember_me_cookie_and_api_token(app, client, rosa):
    phone = new_client(app)
    sign_in(phone, rosa.email, remember=True)
    phone_cookies = captured(phone, SESSION, REMEMBER)
    sign_in(client, rosa.email)
    before = captured(client, SESSION)  # this browser's cookie before the change, copied
    secret = api_token(new_client(app), rosa.email)
    assert token_works(app, secret)

    response = client.post("/account/password", data={"current_password": TEST_PASSWORD, "password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.status_code == 302

    assert signed_in(client)  # this browser carries on
    assert not signed_in(phone)
    assert not signed_in(replay(app, **phone_cookies))
    assert not signed_in(replay(app, **{REMEMBER: phone_cookies[REMEMBER]}))
    assert not signed_in(replay(app, **before))
    assert not token_works(app, secret)  # SESSION_ENDERS: API tokens end with the sessions


def test_resetting_the_password_ends_every_session_remember_me_cookie_and_api_token(app, client, rosa):
    phone = new_client(app)
    sign_in(phone, rosa.email, remember=True)
    phone_cookies = captured(phone, SESSION, REMEMBER)
    secret = api_token(new_client(app), rosa.email)
    new_client(app).post("/password/forgot", data={"email": rosa.email})
    path = link_path(outbox(app, to_address=rosa.email, kind="password_reset")[-1]["body"], "/password/reset/")

    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302

    assert not signed_in(phone)
    assert not signed_in(replay(app, **phone_cookies))
    assert not signed_in(replay(app, **{REMEMBER: phone_cookies[REMEMBER]}))
    assert not token_works(app, secret)
    # the old password gives no new session either
    assert sign_in(new_client(app), rosa.email, TEST_PASSWORD).status_code == 200


def test_a_session_cookie_from_before_log_out_everywhere_is_refused(app, client, rosa):
    sign_in(client, rosa.email, remember=True)
    stolen = captured(client, SESSION, REMEMBER)

    client.post("/account/sessions/end-all")

    assert not signed_in(replay(app, **stolen))
    assert not signed_in(replay(app, **{REMEMBER: stolen[REMEMBER]}))
