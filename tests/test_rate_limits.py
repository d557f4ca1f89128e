"""Rate limits on login and registration, on an app built with limits switched on.

Limits used here: 3 failed logins per minute per (account, address), 10 login
attempts per minute per address, 2 registrations per hour per address.
The limiter is a module-level singleton: each test resets its counters at the end.
"""
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db, limiter
from app.models.base import utcnow
from tests.conftest import TEST_PASSWORD, make_config
from tests.http_helpers import count_users, english, register, sign_in

WRONG = "definitely not the password"
ATTACKER = {"REMOTE_ADDR": "127.0.0.1"}
ELSEWHERE = {"REMOTE_ADDR": "10.0.0.2"}


@pytest.fixture
def limited_app(app, database_url, tmp_path):
    """The app with rate limits on, on the test database (``app`` has migrated it)."""
    limited = create_app(make_config(
        database_url, tmp_path,
        RATELIMIT_ENABLED=True,
        LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="3 per minute",
        LOGIN_LIMIT_PER_ADDRESS="10 per minute",
        REGISTER_LIMIT="2 per hour",
    ))
    limiter.reset()
    yield limited
    limiter.reset()
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def client_from(limited_app, environ):
    """A client of ``limited_app`` with ``environ`` (its address), asking for English pages."""
    client = limited_app.test_client()
    client.environ_base.update(environ)
    return english(client)


def attempt_login(client, email, password=WRONG):
    """Post the login form, with a wrong password unless told otherwise."""
    return sign_in(client, email, password)


def assert_too_many_requests(response):
    """Refused by a rate limit, with an HTML page and a Retry-After header."""
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "<!doctype html>" in response.get_data(as_text=True).lower()
    assert int(response.headers["Retry-After"]) > 0


# --- login: per account and address ------------------------------------------------------------

def test_failed_logins_for_one_account_from_one_address_are_limited(limited_app, make_user):
    make_user(email="victim@example.org")
    attacker = client_from(limited_app, ATTACKER)

    for _ in range(3):
        assert attempt_login(attacker, "victim@example.org").status_code == 200

    assert_too_many_requests(attempt_login(attacker, "victim@example.org"))
    # even the right password is not tried any more from there
    assert attempt_login(attacker, "victim@example.org", TEST_PASSWORD).status_code == 429


def _exhaust_login(client):
    for _ in range(3):
        attempt_login(client, "victim@example.org")
    return attempt_login(client, "victim@example.org")


def _exhaust_register(client):
    register(client, "one@example.org")
    register(client, "two@example.org")
    return register(client, "three@example.org")


@pytest.mark.parametrize("exhaust", [_exhaust_login, _exhaust_register], ids=["login", "register"])
@pytest.mark.parametrize("language, title, message", [
    ("en", "Too many requests", "Too many attempts in a short time. Please wait a little and try again."),
    ("it", "Troppe richieste", "Troppi tentativi in poco tempo. Aspetta un po' e riprova."),
], ids=["en", "it"])
def test_the_429_page_is_html_that_explains_in_the_visitors_language(limited_app, make_user, exhaust, language,
                                                                    title, message):
    make_user(email="victim@example.org")
    client = client_from(limited_app, ATTACKER)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language

    response = exhaust(client)

    assert_too_many_requests(response)
    page = html.unescape(response.get_data(as_text=True))
    assert f'lang="{language}"' in page
    assert re.search(rf"<h1>\s*{title}\s*</h1>", page), page
    assert message in page
    # not the limiter's raw wording ("3 per 1 minute") in place of an explanation
    assert not re.search(r"\d+ per \d+ (second|minute|hour|day)", page)


def test_another_email_from_the_same_address_is_still_allowed(limited_app, make_user):
    make_user(email="victim@example.org")
    make_user(email="neighbour@example.org")
    shared = client_from(limited_app, ATTACKER)
    for _ in range(3):
        attempt_login(shared, "victim@example.org")
    assert attempt_login(shared, "victim@example.org").status_code == 429

    response = attempt_login(shared, "neighbour@example.org", TEST_PASSWORD)

    assert response.status_code == 302


def test_the_victim_can_still_sign_in_from_another_address(limited_app, make_user):
    make_user(email="victim@example.org")
    attacker = client_from(limited_app, ATTACKER)
    for _ in range(3):
        attempt_login(attacker, "victim@example.org")
    assert attempt_login(attacker, "victim@example.org").status_code == 429

    victim = client_from(limited_app, ELSEWHERE)
    # a typo of the victim's own is not blocked either
    assert attempt_login(victim, "victim@example.org").status_code == 200
    response = attempt_login(victim, "victim@example.org", TEST_PASSWORD)

    assert response.status_code == 302
    with victim.session_transaction() as sess:
        assert sess.get("_user_id")


def test_successful_logins_do_not_count_toward_the_failed_login_limit(limited_app, make_user):
    make_user(email="citizen@example.org")
    address = dict(ATTACKER)

    for _ in range(2):
        assert attempt_login(client_from(limited_app, address), "citizen@example.org").status_code == 200
    for _ in range(4):  # more successes than the limit allows failures
        assert attempt_login(client_from(limited_app, address), "citizen@example.org",
                             TEST_PASSWORD).status_code == 302
    # the third failure is still allowed: only two failures were counted so far
    assert attempt_login(client_from(limited_app, address), "citizen@example.org").status_code == 200

    assert attempt_login(client_from(limited_app, address), "citizen@example.org").status_code == 429


def test_the_per_account_limit_does_not_care_about_the_case_of_the_address(limited_app, make_user):
    make_user(email="victim@example.org")
    attacker = client_from(limited_app, ATTACKER)
    for spelling in ("victim@example.org", "Victim@example.org", "VICTIM@EXAMPLE.ORG"):
        assert attempt_login(attacker, spelling).status_code == 200

    assert attempt_login(attacker, " Victim@Example.org ").status_code == 429


# --- login: per address ------------------------------------------------------------------------

def test_login_attempts_from_one_address_are_limited_across_accounts(limited_app, make_user):
    attacker = client_from(limited_app, ATTACKER)

    for n in range(10):
        assert attempt_login(attacker, f"guess{n}@example.org").status_code == 200

    assert_too_many_requests(attempt_login(attacker, "guess10@example.org"))
    # another address is not affected
    make_user(email="citizen@example.org")
    assert attempt_login(client_from(limited_app, ELSEWHERE), "citizen@example.org",
                         TEST_PASSWORD).status_code == 302


def test_login_page_itself_is_not_limited(limited_app):
    attacker = client_from(limited_app, ATTACKER)
    for n in range(10):
        attempt_login(attacker, f"guess{n}@example.org")

    assert attacker.get("/login").status_code == 200


# --- registration ------------------------------------------------------------------------------

def test_registrations_from_one_address_are_limited(limited_app):
    client = client_from(limited_app, ATTACKER)
    assert register(client, "one@example.org").status_code == 200
    assert register(client, "two@example.org").status_code == 200

    response = register(client, "three@example.org")

    assert_too_many_requests(response)
    assert count_users(limited_app) == 2
    # the form is still shown; only sending it is limited
    assert client.get("/register").status_code == 200


def test_registration_from_another_address_is_not_limited(limited_app):
    client = client_from(limited_app, ATTACKER)
    register(client, "one@example.org")
    register(client, "two@example.org")
    assert register(client, "three@example.org").status_code == 429

    response = register(client_from(limited_app, ELSEWHERE), "three@example.org")

    assert response.status_code == 200
    assert count_users(limited_app) == 3


# --- new content and flags: per account (tighter for new accounts) and per address ----------------

OLD = {"created_at": utcnow() - timedelta(days=30)}
DEBATE = {"title": "Un mercato in piazza?", "body": "Ogni sabato mattina.", "category_id": "0", "district_id": "0"}


@pytest.fixture
def limits(app, database_url, tmp_path):
    """``limits(**config)``: the app with rate limits on and these limits (the rest generous)."""
    built = []

    def build(**config):
        settings = {"CONTENT_LIMIT": "100 per hour", "NEW_ACCOUNT_CONTENT_LIMIT": "100 per hour",
                    "CONTENT_LIMIT_PER_ADDRESS": "100 per hour", "FLAG_LIMIT": "100 per hour",
                    "NEW_ACCOUNT_FLAG_LIMIT": "100 per hour", "FLAG_LIMIT_PER_ADDRESS": "100 per hour", **config}
        limited = create_app(make_config(database_url, tmp_path, RATELIMIT_ENABLED=True, **settings))
        limiter.reset()
        built.append(limited)
        return limited

    yield build
    limiter.reset()
    for limited in built:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


def signed_in(limited, user, environ=ATTACKER):
    from tests.conftest import login

    client = client_from(limited, environ)
    login(client, user)
    return client


def open_debates(client, n):
    return [client.post("/debates/new", data={**DEBATE, "title": f"Dibattito {i}"}).status_code for i in range(n)]


def test_new_reports_are_limited_per_account(limits, make_user):
    from app.seed.demo import seed_places

    limited = limits(CONTENT_LIMIT="2 per hour")
    with limited.app_context():
        seed_places()
        db.session.commit()
        from app import geo
        from app.models import Category

        geo.clear_cache()
        category_id = db.session.scalar(select(Category.id).where(Category.slug == "rifiuti"))
    client = signed_in(limited, make_user(**OLD))
    form = {"category_id": str(category_id), "title": "Rifiuti", "description": "Sacchi.",
            "lat": "45.045", "lon": "7.678", "district_id": "0", "confirmed_new": "1"}
    statuses = [client.post("/reports/new", data=form).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]


def test_a_brand_new_account_reaches_the_tighter_content_limit_first(limits, make_user):
    limited = limits(CONTENT_LIMIT="3 per hour", NEW_ACCOUNT_CONTENT_LIMIT="1 per hour")
    newcomer = signed_in(limited, make_user())
    veteran = signed_in(limited, make_user(**OLD))

    assert open_debates(newcomer, 2) == [302, 429]
    assert open_debates(veteran, 4) == [302, 302, 302, 429]
    assert_too_many_requests(newcomer.post("/debates/new", data=DEBATE))


def test_a_form_sent_back_with_errors_does_not_count(limits, make_user):
    limited = limits(CONTENT_LIMIT="1 per hour", NEW_ACCOUNT_CONTENT_LIMIT="1 per hour")
    client = signed_in(limited, make_user(**OLD))
    assert client.post("/debates/new", data={**DEBATE, "title": ""}).status_code == 200
    assert open_debates(client, 2) == [302, 429]


def test_the_per_address_limit_stops_many_accounts_from_one_address(limits, make_user):
    limited = limits(CONTENT_LIMIT_PER_ADDRESS="2 per hour")
    accounts = [signed_in(limited, make_user(**OLD)) for _ in range(3)]

    assert [open_debates(client, 1)[0] for client in accounts] == [302, 302, 429]
    # the same kind of account elsewhere is not affected
    assert open_debates(signed_in(limited, make_user(**OLD), ELSEWHERE), 1) == [302]


def test_each_kind_of_content_keeps_its_own_counter(limits, make_user):
    limited = limits(NEW_ACCOUNT_CONTENT_LIMIT="1 per hour")
    debate_id = _debates_by(limited, make_user(**OLD), 1)[0]
    client = signed_in(limited, make_user())

    comments = [client.post(f"/comments/debate/{debate_id}", data={"body": f"Commento {i}"}).status_code
                for i in range(2)]

    assert comments == [302, 429]
    # writing comments does not use up the debates
    assert open_debates(client, 2) == [302, 429]


def _debates_by(limited, author, n):
    from app.models.discussion import Debate

    with limited.app_context():
        rows = [Debate(author_id=author.id, title=f"Dibattito {i}", body="Testo.") for i in range(n)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def flag(client, debate_id):
    return client.post(f"/flags/debate/{debate_id}", data={"fl-reason": "spam", "next": "/debates"}).status_code


def test_flags_are_limited_per_account_tighter_for_new_accounts(limits, make_user):
    limited = limits(FLAG_LIMIT="3 per hour", NEW_ACCOUNT_FLAG_LIMIT="1 per hour")
    debate_ids = _debates_by(limited, make_user(**OLD), 4)
    newcomer = signed_in(limited, make_user())
    veteran = signed_in(limited, make_user(**OLD))

    assert [flag(newcomer, i) for i in debate_ids[:2]] == [302, 429]
    assert [flag(veteran, i) for i in debate_ids] == [302, 302, 302, 429]
    # the flag form of a debate's page is limited the same way (with its own counter)
    on_page = [newcomer.post(f"/debates/{i}/flag", data={"fl-reason": "spam"}) for i in debate_ids[2:]]
    assert on_page[0].status_code == 302
    assert_too_many_requests(on_page[1])


def test_flags_from_one_address_are_limited_across_accounts(limits, make_user):
    limited = limits(FLAG_LIMIT_PER_ADDRESS="2 per hour")
    debate_ids = _debates_by(limited, make_user(**OLD), 1)
    statuses = [flag(signed_in(limited, make_user(**OLD)), debate_ids[0]) for _ in range(3)]
    assert statuses == [302, 302, 429]


def test_the_json_api_answers_a_refusal_in_json(limits, make_user):
    from app.api.tokens import issue_token
    from app.models import User

    limited = limits(NEW_ACCOUNT_CONTENT_LIMIT="1 per hour")
    user = make_user()
    with limited.app_context():
        _token, secret = issue_token(db.session.get(User, user.id), "test")
        db.session.commit()
    client = client_from(limited, ATTACKER)
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"title": "Lampione", "description": "Spento.", "category": "nessuna", "lat": 45.045, "lon": 7.678}
    # refused requests (an unknown category here) do not count; the token's account is the one counted
    assert client.post("/api/v1/reports", json=body, headers=headers).status_code == 422
    with limited.app_context():
        from app.seed.demo import seed_places

        seed_places()
        db.session.commit()
        from app import geo

        geo.clear_cache()
    body["category"] = "illuminazione"
    assert client.post("/api/v1/reports", json=body, headers=headers).status_code == 201

    response = client.post("/api/v1/reports", json=body, headers=headers)

    assert response.status_code == 429 and response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "rate_limited"
