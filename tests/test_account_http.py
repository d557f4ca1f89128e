"""The signed-in user's own account over HTTP: profile, password, email, data export, deletion."""
import html
import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role, User, UserRole
from app.models.messaging import Follow, Notification
from app.models.user import NotificationPref
from tests.conftest import TEST_PASSWORD, refetch
from tests.http_helpers import (
    NEW_PASSWORD,
    english,
    link_path,
    location_path,
    new_client,
    outbox,
    password_works,
    text_of,
)
from tests.http_helpers import sign_in as post_login

# --- helpers -----------------------------------------------------------------------------

@pytest.fixture
def client(client):
    """The conftest client, asking for English pages."""
    return english(client)


def sign_in(client, email, password=TEST_PASSWORD):
    """Sign in through the login form; the test fails here if the login is refused."""
    response = post_login(client, email, password)
    assert response.status_code == 302, "sign-in failed"
    return response


def signed_in(client):
    """Whether the client is signed in; anything but the account page or a redirect to login fails."""
    response = client.get("/account/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and location_path(response) == "/login"
    return False


def notification_kinds(app, user_id):
    """The kinds of the in-app notifications of user ``user_id``, oldest first."""
    with app.app_context():
        return db.session.scalars(
            select(Notification.kind).where(Notification.user_id == user_id).order_by(Notification.id)).all()


def field_error(response, field_id):
    """The error text shown for a field, or None; asserts the control is marked invalid when there is one."""
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    if error is None:
        return None
    tag = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    if tag is not None:  # radio groups carry the error on their fieldset
        assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    return html.unescape(error.group(1))


def flashes(response):
    """The texts of the flash messages on a page, in order."""
    return [html.unescape(m) for m in re.findall(r'<p class="flash flash-\w+">(.*?)</p>', response.get_data(as_text=True),
                                                 re.S)]


# --- profile -------------------------------------------------------------------------------

PROFILE = {"display_name": "Rosa B.", "bio": "Cycling in Vanchiglia.", "locale": "en", "notification_pref": "daily"}


def test_profile_update_saves_name_bio_language_and_notification_preference(app, client, make_user, login_as):
    user = login_as(make_user(display_name="Rosa", locale="it"))

    response = client.post("/account/", data=PROFILE)

    assert response.status_code == 302
    assert location_path(response) == "/account/"
    saved = refetch(app, User, user.id)
    assert saved.display_name == "Rosa B."
    assert saved.bio == "Cycling in Vanchiglia."
    assert saved.locale == "en"
    assert saved.notification_pref == NotificationPref.daily
    assert "Your profile is saved." in flashes(client.get("/account/"))


@pytest.mark.parametrize("field, value", [
    ("notification_pref", "weekly"),
    ("locale", "fr"),
    ("display_name", "   "),
    ("display_name", "x" * 81),
])
def test_profile_update_rejects_an_invalid_value(app, client, make_user, login_as, field, value):
    user = login_as(make_user(display_name="Rosa", locale="it"))

    response = client.post("/account/", data={**PROFILE, field: value})

    assert response.status_code == 200
    assert field_error(response, field)
    saved = refetch(app, User, user.id)
    assert (saved.display_name, saved.bio, saved.locale, saved.notification_pref) == \
        ("Rosa", None, "it", NotificationPref.immediate)


# --- change password -------------------------------------------------------------------------

def change_password(client, current=TEST_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={"current_password": current, "password": new,
                                                  "confirm": new if confirm is None else confirm})


def test_change_password_keeps_this_client_signed_in_and_signs_out_the_others(app, client, make_user):
    user = make_user(email="rosa@example.org")
    sign_in(client, "rosa@example.org")
    tablet = new_client(app)
    sign_in(tablet, "rosa@example.org")
    assert signed_in(tablet)

    response = change_password(client)
    assert response.status_code == 302
    assert location_path(response) == "/account/"
    # this browser carries on, with the new session version
    page = client.get("/account/")
    assert page.status_code == 200
    assert "Your password is changed. Other devices have been signed out." in flashes(page)
    assert signed_in(client)

    assert password_works(app, user.id, NEW_PASSWORD)
    assert refetch(app, User, user.id).session_version == 2
    assert not signed_in(tablet)
    assert notification_kinds(app, user.id) == ["account.password_changed"]


def test_change_password_needs_the_current_password(app, client, make_user, login_as):
    user = login_as(make_user())

    response = change_password(client, current="not my password at all")

    assert response.status_code == 200
    assert "Your current password is not right." in field_error(response, "current_password")
    assert password_works(app, user.id, TEST_PASSWORD)
    assert refetch(app, User, user.id).session_version == 1
    assert notification_kinds(app, user.id) == []


@pytest.mark.parametrize("weak, message", [
    ("password123", "too easy to guess"),
    ("qwertyuiop", "too easy to guess"),
    ("short", "Use at least 10 characters."),
])
def test_change_password_refuses_a_weak_password(app, client, make_user, login_as, weak, message):
    user = login_as(make_user())

    response = change_password(client, new=weak)

    assert response.status_code == 200
    assert message in field_error(response, "password")
    assert password_works(app, user.id, TEST_PASSWORD)
    assert refetch(app, User, user.id).session_version == 1


def test_change_password_refuses_two_different_new_passwords(app, client, make_user, login_as):
    user = login_as(make_user())

    response = change_password(client, confirm="purple lantern drifts over Po 88")

    assert response.status_code == 200
    assert "The two passwords differ." in field_error(response, "confirm")
    assert password_works(app, user.id, TEST_PASSWORD)


# --- change email ------------------------------------------------------------------------------

def request_email_change(client, new_email, password=TEST_PASSWORD):
    return client.post("/account/email", data={"new_email": new_email, "password": password})


def test_change_email_sends_a_link_to_the_new_address_and_changes_nothing_yet(app, client, make_user, login_as):
    user = login_as(make_user(email="old@example.org"))

    response = request_email_change(client, "New@Example.org")

    assert response.status_code == 302
    assert refetch(app, User, user.id).email == "old@example.org"
    mails = outbox(app)
    assert [(m["to"], m["kind"]) for m in mails] == [("new@example.org", "confirm_new_email")]
    path = link_path(mails[0]["body"], "/account/email/confirm/")
    # opening the link (GET) shows a button and still changes nothing
    page = new_client(app).get(path)
    assert page.status_code == 200
    assert "Confirm your new email address" in text_of(page)
    assert refetch(app, User, user.id).email == "old@example.org"


def test_confirming_the_new_email_changes_it_and_tells_the_old_address(app, client, make_user, login_as):
    user = login_as(make_user(email="old@example.org"))
    request_email_change(client, "new@example.org")
    (mail,) = outbox(app, kind="confirm_new_email")

    response = client.post(link_path(mail["body"], "/account/email/confirm/"))

    assert response.status_code == 302
    saved = refetch(app, User, user.id)
    assert saved.email == "new@example.org"
    assert saved.email_confirmed_at is not None
    told = outbox(app, kind="email_changed")
    assert [(m["to"], m["user_id"]) for m in told] == [("old@example.org", user.id)]
    assert "new@example.org" in told[0]["body"]
    assert "account.email_changed" in notification_kinds(app, user.id)
    # the new address signs in, the old one no longer does
    assert new_client(app).post("/login", data={"email": "new@example.org",
                                                "password": TEST_PASSWORD}).status_code == 302
    assert new_client(app).post("/login", data={"email": "old@example.org",
                                                "password": TEST_PASSWORD}).status_code == 200


def test_an_email_change_link_works_only_once(app, client, make_user, login_as):
    user = login_as(make_user(email="old@example.org"))
    request_email_change(client, "new@example.org")
    path = link_path(outbox(app, kind="confirm_new_email")[0]["body"], "/account/email/confirm/")
    assert client.post(path).status_code == 302

    again = client.post(path)

    assert again.status_code == 400
    assert "This link does not work" in text_of(again)
    assert refetch(app, User, user.id).email == "new@example.org"
    assert len(outbox(app, kind="email_changed")) == 1


def test_change_email_needs_the_current_password(app, client, make_user, login_as):
    user = login_as(make_user(email="old@example.org"))

    response = request_email_change(client, "new@example.org", password="not my password at all")

    assert response.status_code == 200
    assert "Your current password is not right." in field_error(response, "password")
    assert outbox(app) == []
    assert refetch(app, User, user.id).email == "old@example.org"


@pytest.mark.parametrize("address, message", [
    ("not-an-email", "Enter a valid email address."),
    ("OLD@example.org", "That is already your email address."),
])
def test_change_email_refuses_an_invalid_or_unchanged_address(app, client, make_user, login_as, address, message):
    login_as(make_user(email="old@example.org"))

    response = request_email_change(client, address)

    assert response.status_code == 200
    assert message in field_error(response, "new_email")
    assert outbox(app) == []


def test_change_to_an_address_of_another_account_reveals_nothing(app, client, make_user, login_as):
    owner = make_user(email="taken@example.org")
    user = login_as(make_user(email="old@example.org"))

    taken = request_email_change(client, "taken@example.org")
    taken_flashes = flashes(client.get(taken.headers["Location"]))
    free = request_email_change(client, "free@example.org")
    free_flashes = flashes(client.get(free.headers["Location"]))

    assert taken.status_code == free.status_code == 302
    assert taken.headers["Location"] == free.headers["Location"]
    message = "We sent a link to {}. Your address changes when you open it."
    assert taken_flashes == [message.format("taken@example.org")]
    assert free_flashes == [message.format("free@example.org")]
    to_owner = outbox(app, to_address="taken@example.org")
    assert [(m["kind"], m["user_id"]) for m in to_owner] == [("already_registered", owner.id)]
    assert "/account/email/confirm/" not in to_owner[0]["body"]
    assert outbox(app, kind="confirm_new_email", to_address="taken@example.org") == []
    assert [m["to"] for m in outbox(app, kind="confirm_new_email")] == ["free@example.org"]
    assert refetch(app, User, user.id).email == "old@example.org"
    assert refetch(app, User, owner.id).email == "taken@example.org"


# --- data export -------------------------------------------------------------------------------

def _add_activity(app, user_id, follows, kinds):
    with app.app_context():
        for target_id in follows:
            db.session.add(Follow(user_id=user_id, target_type="report", target_id=target_id))
        for kind in kinds:
            db.session.add(Notification(user_id=user_id, kind=kind, params={"owner": user_id}))
        db.session.commit()


def test_data_export_is_a_json_attachment_with_this_users_account_follows_and_notifications_only(
        app, client, make_user, login_as):
    user = login_as(make_user(email="rosa@example.org", display_name="Rosa"))
    other = make_user(email="other@example.org", display_name="Other")
    _add_activity(app, user.id, follows=[11, 12], kinds=["account.verified"])
    _add_activity(app, other.id, follows=[99], kinds=["account.role_granted", "account.password_changed"])

    response = client.get("/account/data.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="[^"]+\.json"', disposition)
    assert "no-store" in response.headers.get("Cache-Control", "")
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["id"] == user.id
    assert data["account"]["email"] == "rosa@example.org"
    assert data["account"]["display_name"] == "Rosa"
    assert data["account"]["roles"] == ["citizen"]
    assert sorted(f["target_id"] for f in data["follows"]) == [11, 12]
    assert [n["kind"] for n in data["notifications"]] == ["account.verified"]
    assert all(n["params"] == {"owner": user.id} for n in data["notifications"])
    body = response.get_data(as_text=True)
    assert "other@example.org" not in body
    assert "account.role_granted" not in body


def test_data_export_needs_a_signed_in_user(client):
    response = client.get("/account/data.json")
    assert response.status_code == 302
    assert location_path(response) == "/login"


# --- delete the account ------------------------------------------------------------------------

def delete_account(client, password=TEST_PASSWORD, confirm=True):
    data = {"password": password}
    if confirm:
        data["confirm"] = "y"
    return client.post("/account/delete", data=data)


@pytest.mark.parametrize("password, confirm, field, message", [
    ("", True, "password", "This field is required."),
    ("not my password at all", True, "password", "Your current password is not right."),
    (TEST_PASSWORD, False, "confirm", "Tick the box to confirm."),
])
def test_delete_needs_the_password_and_the_confirm_box(app, client, make_user, login_as, password, confirm, field,
                                                      message):
    user = login_as(make_user(email="rosa@example.org"))

    response = delete_account(client, password=password, confirm=confirm)

    assert response.status_code == 200
    assert message in field_error(response, field)
    saved = refetch(app, User, user.id)
    assert saved.deleted_at is None
    assert saved.email == "rosa@example.org"
    assert signed_in(client)


def test_delete_erases_personal_data_ends_the_session_and_frees_the_address(app, client, make_user):
    user = make_user(email="rosa@example.org", display_name="Rosa", bio="About me")
    _add_activity(app, user.id, follows=[1, 2], kinds=["account.verified"])
    other = make_user(email="other@example.org")
    _add_activity(app, other.id, follows=[1], kinds=["account.verified"])
    sign_in(client, "rosa@example.org")
    phone = new_client(app)
    sign_in(phone, "rosa@example.org")

    response = delete_account(client)

    assert response.status_code == 302
    assert location_path(response) == "/"
    saved = refetch(app, User, user.id)
    assert saved.email is None
    assert saved.display_name == ""
    assert saved.bio is None
    assert saved.password_hash is None
    assert saved.deleted_at is not None
    assert saved.role_rows == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserRole).where(UserRole.user_id == user.id)) == 0
        assert db.session.scalar(select(func.count()).select_from(Follow).where(Follow.user_id == user.id)) == 0
        assert db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == user.id)) == 0
        # somebody else's data is untouched
        assert db.session.scalar(select(func.count()).select_from(Follow).where(Follow.user_id == other.id)) == 1
        assert db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == other.id)) == 1
    assert not signed_in(client)
    assert not signed_in(phone)
    # the old credentials no longer work, and the address can be registered again
    assert new_client(app).post("/login", data={"email": "rosa@example.org",
                                                "password": TEST_PASSWORD}).status_code == 200
    again = new_client(app).post("/register", data={"display_name": "Rosa again", "email": "rosa@example.org",
                                                    "password": NEW_PASSWORD, "accept_terms": "y"})
    assert again.status_code == 200
    with app.app_context():
        reborn = db.session.scalar(select(User).where(User.email == "rosa@example.org"))
        assert reborn is not None and reborn.id != user.id
    assert [m["kind"] for m in outbox(app, to_address="rosa@example.org")] == ["confirm_email"]


def test_the_last_admin_cannot_delete_their_account(app, client, make_user, login_as):
    admin = login_as(make_user(roles=[Role.admin], email="admin@example.org"))

    response = delete_account(client)

    assert response.status_code == 200
    assert "You are the last administrator" in field_error(response, "confirm")
    saved = refetch(app, User, admin.id)
    assert saved.deleted_at is None
    assert saved.email == "admin@example.org"
    assert saved.roles == frozenset({Role.admin})
    assert signed_in(client)


def test_an_admin_can_delete_their_account_when_another_admin_remains(app, client, make_user, login_as):
    make_user(roles=[Role.admin], email="admin2@example.org")
    admin = login_as(make_user(roles=[Role.admin], email="admin@example.org"))

    response = delete_account(client)

    assert response.status_code == 302
    assert refetch(app, User, admin.id).deleted_at is not None
