"""Bearer tokens: createToken (credentials, blocking, CSRF, rate limit) and the profile page's token section."""
import json
import re
from datetime import timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import func, select

from app import create_app
from app.account import services as account_services
from app.api.tokens import issue_token, usable_token
from app.extensions import db, limiter
from app.models import ApiToken, User
from app.models.api import secret_hash
from app.models.base import utcnow
from tests.conftest import TEST_PASSWORD, login, make_config
from tests.http_helpers import english, text_of


@pytest.fixture
def client(client):
    """The test client, asking for English pages."""
    return english(client)


def request_token(client, email, password=TEST_PASSWORD, **extra):
    """POST createToken with these credentials."""
    return client.post("/api/v1/tokens", json={"email": email, "password": password, **extra})


def tokens_in_db(app, user_id=None):
    """Every token row as a detached-safe dict."""
    with app.app_context():
        query = select(ApiToken).order_by(ApiToken.id)
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        return [{"id": t.id, "name": t.name, "hash": t.token_hash, "prefix": t.prefix, "user_id": t.user_id,
                 "expires_at": t.expires_at, "revoked_at": t.revoked_at} for t in db.session.scalars(query)]


# --- createToken ------------------------------------------------------------------------------

def test_good_credentials_get_a_token_stored_only_as_a_hash(client, app, make_user):
    user = make_user(email="anna@example.org")
    response = request_token(client, "Anna@Example.org", name="my phone")
    assert response.status_code == 201, response.data
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["name"] == "my phone"
    secret = body["token"]
    assert secret.startswith("pzt_") and len(secret) >= 47 and body["prefix"] == secret[:8]
    (row,) = tokens_in_db(app)
    assert row["user_id"] == user.id and row["hash"] == secret_hash(secret) and row["name"] == "my phone"
    assert secret not in json.dumps({k: str(v) for k, v in row.items()})
    assert timedelta(days=89) < row["expires_at"] - utcnow() <= timedelta(days=90)
    assert body["expires_at"].endswith("Z")
    with app.app_context():
        assert usable_token(secret).user_id == user.id


def test_a_token_without_a_name_gets_a_default_one(client, app, make_user):
    user = make_user()
    assert request_token(client, user.email).status_code == 201
    assert tokens_in_db(app)[0]["name"]


@pytest.mark.parametrize("email, password", [("anna@example.org", "wrong password"),
                                             ("nobody@example.org", TEST_PASSWORD)])
def test_wrong_credentials_are_a_json_401(client, app, make_user, email, password):
    make_user(email="anna@example.org")
    response = request_token(client, email, password)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert tokens_in_db(app) == []


def test_a_blocked_account_gets_a_403(client, app, make_user):
    make_user(email="blocked@example.org", is_blocked=True)
    response = request_token(client, "blocked@example.org")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "blocked"
    assert tokens_in_db(app) == []


def test_an_unconfirmed_account_gets_a_token_that_cannot_write(client, app, make_user):
    make_user(email="new@example.org", confirmed=False)
    secret = request_token(client, "new@example.org").get_json()["token"]
    response = client.post("/api/v1/reports", json={}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403


@pytest.mark.parametrize("body, field", [({"password": TEST_PASSWORD}, "email"),
                                         ({"email": "a@example.org"}, "password"),
                                         ({"email": "a@example.org", "password": 123}, "password"),
                                         ({"email": "a@example.org", "password": TEST_PASSWORD, "name": 5}, "name"),
                                         ({"email": "a@example.org", "password": TEST_PASSWORD, "name": "n" * 81},
                                          "name")])
def test_missing_or_malformed_fields_are_422s(client, app, make_user, body, field):
    make_user(email="a@example.org")
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    assert tokens_in_db(app) == []


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/api/v1/tokens", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_create_token_needs_no_csrf_token(app, database_url, tmp_path, make_user):
    make_user(email="anna@example.org")
    protected = create_app(make_config(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    try:
        assert request_token(protected.test_client(), "anna@example.org").status_code == 201
    finally:
        with protected.app_context():
            db.engine.dispose()


def test_create_token_is_rate_limited_per_address(app, database_url, tmp_path, make_user):
    make_user(email="anna@example.org")
    limited = create_app(make_config(database_url, tmp_path, RATELIMIT_ENABLED=True,
                                     LOGIN_LIMIT_PER_ADDRESS="3 per minute",
                                     LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="2 per minute"))
    limiter.reset()
    try:
        attacker = limited.test_client()
        # Per account and address: failures only.
        for _ in range(2):
            assert request_token(attacker, "anna@example.org", "wrong").status_code == 401
        response = request_token(attacker, "anna@example.org")
        assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"
        # Per address: every attempt, whatever the account.
        assert request_token(attacker, "other@example.org", "wrong").status_code == 401
        assert request_token(attacker, "third@example.org", "wrong").status_code == 429
        elsewhere = limited.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.7"
        assert request_token(elsewhere, "anna@example.org").status_code == 201
    finally:
        limiter.reset()
        with limited.app_context():
            db.engine.dispose()


# --- the profile page ----------------------------------------------------------------------------

def test_creating_a_token_from_the_profile_shows_it_once(client, app, make_user):
    user = make_user()
    login(client, user)
    response = client.post("/account/tokens", data={"token-name": "neighbourhood bot"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/")
    (row,) = tokens_in_db(app, user.id)
    assert row["name"] == "neighbourhood bot"
    page = text_of(client.get("/account/"))
    secret = re.search(r"pzt_[A-Za-z0-9_-]{43}", page).group(0)
    assert secret_hash(secret) == row["hash"]
    assert secret not in text_of(client.get("/account/"))  # once only


def test_the_profile_page_lists_the_tokens_with_a_revoke_button_each(client, app, make_user):
    user = make_user()
    with app.app_context():
        phone = issue_token(db.session.get(User, user.id), "phone")[0]
        script = issue_token(db.session.get(User, user.id), "script")[0]
        db.session.commit()
        rows = [(t.id, t.prefix) for t in (phone, script)]
    login(client, user)
    page = text_of(client.get("/account/"))
    assert "API tokens" in page and "phone" in page and "script" in page
    for token_id, prefix in rows:
        assert prefix in page and f'action="/account/tokens/{token_id}/revoke"' in page
    assert 'action="/account/tokens"' in page


def test_a_token_needs_a_name_on_the_profile(client, app, make_user):
    login(client, make_user())
    client.post("/account/tokens", data={"token-name": " "})
    assert tokens_in_db(app) == []
    assert "This field is required" in text_of(client.get("/account/"))


def test_revoking_a_token_from_the_profile(client, app, make_user):
    user = make_user()
    with app.app_context():
        token, secret = issue_token(db.session.get(User, user.id), "old laptop")
        db.session.commit()
        token_id = token.id
    login(client, user)
    response = client.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/")
    assert tokens_in_db(app)[0]["revoked_at"] is not None
    with app.app_context():
        assert usable_token(secret) is None
    assert "old laptop" in text_of(client.get("/account/"))  # the confirmation message


def test_nobody_revokes_someone_elses_token(client, app, make_user):
    owner, other = make_user(), make_user()
    with app.app_context():
        token_id = issue_token(db.session.get(User, owner.id), "mine")[0].id
        db.session.commit()
    login(client, other)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.post("/account/tokens/999999/revoke").status_code == 404
    assert tokens_in_db(app)[0]["revoked_at"] is None


@pytest.mark.parametrize("url", ["/account/tokens", "/account/tokens/1/revoke"])
def test_visitors_are_sent_to_sign_in(client, url):
    response = client.post(url, data={"token-name": "x"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_token_section_lists_live_tokens_with_revoke_buttons(app, make_user):
    user = make_user()
    with app.app_context():
        db_user = db.session.get(User, user.id)
        live = issue_token(db_user, "phone")[0]
        expired = issue_token(db_user, "old script")[0]
        expired.expires_at = utcnow() - timedelta(days=1)
        issue_token(db_user, "revoked one")[0].revoked_at = utcnow()
        db.session.commit()
        live_id, expired_id = live.id, expired.id
    with app.test_request_context("/account/", headers={"Accept-Language": "en"}):
        login_user(db.session.get(User, user.id))
        html = render_template("account/_tokens.html")
    assert "phone" in html and "old script" in html and "revoked one" not in html
    assert f"/account/tokens/{live_id}/revoke" in html and f"/account/tokens/{expired_id}/revoke" in html
    assert "expired" in html and 'name="token-name"' in html and 'for="token-name"' in html
    assert "pzt_" in html  # prefixes only
    assert not re.search(r"pzt_[A-Za-z0-9_-]{43}", html)


def test_the_token_section_for_someone_without_tokens(app, make_user):
    user = make_user()
    with app.test_request_context("/account/", headers={"Accept-Language": "en"}):
        login_user(db.session.get(User, user.id))
        html = render_template("account/_tokens.html")
    assert "You have no API tokens." in html


# --- the account's data ---------------------------------------------------------------------------

def test_tokens_are_in_the_data_download_without_their_hashes(client, app, make_user):
    user = make_user()
    with app.app_context():
        issue_token(db.session.get(User, user.id), "phone")
        db.session.commit()
    login(client, user)
    data = client.get("/account/data.json").get_json()
    (token,) = data["api_tokens"]
    assert token["name"] == "phone" and "hash" not in json.dumps(data["api_tokens"])


def test_deleting_the_account_erases_its_tokens(app, make_user):
    user = make_user()
    with app.app_context():
        _token, secret = issue_token(db.session.get(User, user.id), "phone")
        account_services.delete_account(db.session.get(User, user.id), TEST_PASSWORD)
        db.session.commit()
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0
        assert usable_token(secret) is None


def test_ending_all_sessions_also_revokes_api_tokens(app, make_user):
    from app.auth.services import end_all_sessions

    user = make_user()
    with app.app_context():
        u = db.session.get(User, user.id)
        _, secret = issue_token(u, "phone app")
        db.session.commit()
        assert usable_token(secret) is not None
        end_all_sessions(u)
        db.session.commit()
        assert usable_token(secret) is None
