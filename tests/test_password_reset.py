"""Password reset: the emailed link is signed, expires, works once, for one account only."""
import base64
import json
import time

import itsdangerous.timed
import pytest
from sqlalchemy import select

from app.auth import services, tokens
from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.messaging import Notification
from tests.conftest import TEST_PASSWORD, refetch
from tests.http_helpers import (
    NEW_PASSWORD,
    assert_field_error,
    comparable,
    english,
    link_path,
    links_in,
    location_path,
    new_client,
    outbox,
    password_works,
    sign_in,
    text_of,
)

OTHER_PASSWORD = "purple lantern drifts over Po 88"


# --- helpers -----------------------------------------------------------------------------

@pytest.fixture
def client(client):
    """The conftest client, asking for English pages."""
    return english(client)


def reset_path(app, email):
    """Ask for a reset link for ``email`` and return the path of the link emailed (the newest)."""
    response = new_client(app).post("/password/forgot", data={"email": email})
    assert response.status_code == 200
    mails = outbox(app, to_address=email.lower(), kind="password_reset")
    assert mails, f"no reset email for {email}"
    return link_path(mails[-1]["body"], "/password/reset/")


def token_of(path):
    """The token, the last segment of a link path."""
    return path.rsplit("/", 1)[1]


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    """Post the new-password form at ``path``; the confirmation repeats the password unless given."""
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm})


def assert_bad_link(response):
    """The page for a link that does not work (expired, used or forged)."""
    assert response.status_code == 400
    page = text_of(response)
    assert "This link does not work" in page
    assert "It may have expired, or it was already used." in page


def _shift_token_clock(monkeypatch, seconds):
    """Make itsdangerous see "now" as ``seconds`` later than the real clock (tokens only)."""
    real = time.time
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: int(real()) + seconds)


def _b64decode(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- a valid reset ---------------------------------------------------------------------------

def test_forgot_password_emails_a_reset_link_built_on_base_url(app, client, make_user):
    user = make_user(email="rosa@example.org")

    response = client.post("/password/forgot", data={"email": "Rosa@Example.org"},
                           base_url="http://evil.example")

    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    (mail,) = outbox(app)
    assert (mail["to"], mail["kind"], mail["user_id"]) == ("rosa@example.org", "password_reset", user.id)
    base = app.config["BASE_URL"].rstrip("/")
    links = links_in(mail["body"])
    assert links and all(link.startswith(base) for link in links)
    assert "evil.example" not in mail["body"]


def test_reset_link_shows_the_form_and_changes_nothing_on_get(app, client, make_user):
    user = make_user(email="rosa@example.org")
    path = reset_path(app, "rosa@example.org")

    response = client.get(path)

    assert response.status_code == 200
    assert 'id="password"' in response.get_data(as_text=True)
    assert password_works(app, user.id, TEST_PASSWORD)
    assert refetch(app, User, user.id).session_version == 1


def test_valid_reset_sets_the_new_password_and_ends_every_other_session(app, client, make_user):
    user = make_user(email="rosa@example.org")
    other_device = new_client(app)
    assert sign_in(other_device, "rosa@example.org").status_code == 302
    assert other_device.get("/account/").status_code == 200
    path = reset_path(app, "rosa@example.org")

    response = choose(client, path)

    assert response.status_code == 302
    assert location_path(response) == "/login"
    assert password_works(app, user.id, NEW_PASSWORD)
    assert not password_works(app, user.id, TEST_PASSWORD)
    assert refetch(app, User, user.id).session_version == 2
    # the device signed in before the reset is signed out
    stale = other_device.get("/account/")
    assert stale.status_code == 302
    assert location_path(stale) == "/login"
    # the owner is told in the app
    with app.app_context():
        kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)).all()
    assert kinds == ["account.password_changed"]
    # old password refused, new one accepted
    assert sign_in(new_client(app), "rosa@example.org", TEST_PASSWORD).status_code == 200
    assert sign_in(new_client(app), "rosa@example.org", NEW_PASSWORD).status_code == 302


def test_reset_link_cannot_be_used_twice(app, client, make_user):
    user = make_user(email="rosa@example.org")
    path = reset_path(app, "rosa@example.org")
    assert choose(client, path).status_code == 302

    assert_bad_link(new_client(app).get(path))
    assert_bad_link(choose(new_client(app), path, password=OTHER_PASSWORD))
    assert password_works(app, user.id, NEW_PASSWORD)
    assert refetch(app, User, user.id).session_version == 2


def test_an_older_reset_link_stops_working_once_a_newer_one_was_used(app, client, make_user, monkeypatch):
    user = make_user(email="rosa@example.org")
    with monkeypatch.context() as earlier:
        _shift_token_clock(earlier, -60)  # minted a minute ago
        first = reset_path(app, "rosa@example.org")
    second = reset_path(app, "rosa@example.org")
    assert first != second

    assert choose(client, second).status_code == 302

    assert_bad_link(choose(new_client(app), first, password=OTHER_PASSWORD))
    assert password_works(app, user.id, NEW_PASSWORD)


def test_reset_confirms_an_unconfirmed_address(app, client, make_user):
    user = make_user(email="rosa@example.org", confirmed=False)
    path = reset_path(app, "rosa@example.org")

    assert choose(client, path).status_code == 302

    assert refetch(app, User, user.id).email_confirmed_at is not None


# --- expiry ------------------------------------------------------------------------------------

@pytest.mark.parametrize("late_by, still_valid", [(-120, True), (+120, False)])
def test_reset_link_expires_after_password_reset_max_age(app, client, make_user, monkeypatch, late_by,
                                                         still_valid):
    user = make_user(email="rosa@example.org")
    path = reset_path(app, "rosa@example.org")
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    assert max_age == 3600  # the emails promise one hour

    _shift_token_clock(monkeypatch, max_age + late_by)

    with app.app_context():
        if still_valid:
            assert tokens.read_token("reset", token_of(path), max_age)["uid"] == user.id
        else:
            with pytest.raises(tokens.InvalidToken) as refused:
                tokens.read_token("reset", token_of(path), max_age)
            assert str(refused.value) == "expired"  # refused for its age, not its signature
    response = choose(client, path)
    if still_valid:
        assert response.status_code == 302
        assert password_works(app, user.id, NEW_PASSWORD)
    else:
        assert_bad_link(response)
        assert_bad_link(new_client(app).get(path))
        assert password_works(app, user.id, TEST_PASSWORD)
        assert refetch(app, User, user.id).session_version == 1


# --- one account only; tampering -------------------------------------------------------------

def test_changing_the_uid_inside_a_reset_token_breaks_its_signature(app, client, make_user):
    alice = make_user(email="alice@example.org")
    bob = make_user(email="bob@example.org")
    path = reset_path(app, "alice@example.org")
    payload, stamp, signature = token_of(path).split(".")
    data = json.loads(_b64decode(payload))
    assert data["uid"] == alice.id
    data["uid"] = bob.id
    forged = ".".join([_b64encode(json.dumps(data, separators=(",", ":")).encode()), stamp, signature])

    assert_bad_link(client.get(f"/password/reset/{forged}"))
    assert_bad_link(choose(client, f"/password/reset/{forged}"))
    assert password_works(app, bob.id, TEST_PASSWORD)
    assert password_works(app, alice.id, TEST_PASSWORD)


def test_a_validly_signed_token_with_another_users_fingerprint_is_refused(app, client, make_user):
    alice = make_user(email="alice@example.org")
    bob = make_user(email="bob@example.org")
    with app.app_context():
        alice_db = db.session.get(User, alice.id)
        # even someone holding the key cannot point Alice's token at Bob
        forged = tokens.make_token("reset", {"uid": bob.id, "fp": services._reset_fingerprint(alice_db)})

    assert_bad_link(choose(client, f"/password/reset/{forged}"))
    assert password_works(app, bob.id, TEST_PASSWORD)


def test_a_reset_token_for_one_user_changes_only_that_user(app, client, make_user):
    alice = make_user(email="alice@example.org")
    bob = make_user(email="bob@example.org")
    path = reset_path(app, "alice@example.org")

    assert choose(client, path).status_code == 302

    assert password_works(app, alice.id, NEW_PASSWORD)
    assert password_works(app, bob.id, TEST_PASSWORD)
    assert refetch(app, User, bob.id).session_version == 1


@pytest.mark.parametrize("token", ["garbage", "eyJ1aWQiOjF9.Zm9v.YmFy", "a.b.c.d"])
def test_a_garbage_reset_token_is_a_bad_link(app, client, make_user, token):
    user = make_user(email="rosa@example.org")

    assert_bad_link(client.get(f"/password/reset/{token}"))
    assert_bad_link(choose(client, f"/password/reset/{token}"))
    assert password_works(app, user.id, TEST_PASSWORD)


def test_a_truncated_or_altered_reset_token_is_a_bad_link(app, client, make_user):
    user = make_user(email="rosa@example.org")
    token = token_of(reset_path(app, "rosa@example.org"))
    # Not the last character: in base64 its low bits are padding, so some changes decode to the
    # very same signature bytes (and the token is, rightly, still valid).
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]

    for bad in (token[:-5], flipped, token + "x"):
        assert_bad_link(choose(client, f"/password/reset/{bad}"))
    assert password_works(app, user.id, TEST_PASSWORD)


def test_a_confirmation_token_is_not_a_reset_token(app, client, make_user):
    user = make_user(email="rosa@example.org")
    with app.app_context():
        confirm = tokens.make_token("confirm", {"uid": user.id, "fp": tokens.fingerprint(user.email)})

    assert_bad_link(choose(client, f"/password/reset/{confirm}"))
    assert password_works(app, user.id, TEST_PASSWORD)


# --- no account enumeration ------------------------------------------------------------------

def test_forgot_password_answers_the_same_for_an_unknown_email_and_sends_nothing(app, client, make_user):
    make_user(email="known@example.org")

    known = client.post("/password/forgot", data={"email": "known@example.org"})
    assert len(outbox(app)) == 1
    unknown = new_client(app).post("/password/forgot", data={"email": "nobody@example.org"})

    assert unknown.status_code == known.status_code == 200
    assert comparable(unknown, "nobody@example.org") == comparable(known, "known@example.org")
    assert len(outbox(app)) == 1
    assert outbox(app, to_address="nobody@example.org") == []


@pytest.mark.parametrize("state", ["blocked", "deleted"])
def test_forgot_password_sends_no_link_to_an_inactive_account(app, client, make_user, state):
    columns = {"is_blocked": True} if state == "blocked" else {"deleted_at": utcnow()}
    make_user(email="inactive@example.org", **columns)

    response = client.post("/password/forgot", data={"email": "inactive@example.org"})

    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    assert outbox(app) == []


# --- password rules on reset -------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["password123", "qwertyuiop", "short"])
def test_reset_refuses_a_weak_password_and_keeps_the_old_one(app, client, make_user, weak):
    user = make_user(email="rosa@example.org")
    path = reset_path(app, "rosa@example.org")

    response = choose(client, path, password=weak)

    assert response.status_code == 200
    message = "Use at least 10 characters." if len(weak) < 10 else "too easy to guess"
    assert_field_error(response, "password", message)
    assert password_works(app, user.id, TEST_PASSWORD)
    assert refetch(app, User, user.id).session_version == 1
    # the link still works for a better password
    assert choose(client, path).status_code == 302
    assert password_works(app, user.id, NEW_PASSWORD)


def test_reset_refuses_two_different_passwords(app, client, make_user):
    user = make_user(email="rosa@example.org")
    path = reset_path(app, "rosa@example.org")

    response = choose(client, path, password=NEW_PASSWORD, confirm=OTHER_PASSWORD)

    assert response.status_code == 200
    assert_field_error(response, "confirm", "The two passwords differ.")
    assert password_works(app, user.id, TEST_PASSWORD)
