"""Notification centre, follows, email preferences and daily digests."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Follow, Notification, NotificationPref, OutboxEmail, User
from app.notifications import services
from tests.conftest import refetch


class Thing:
    def __init__(self, id):
        self.id = id


@pytest.fixture
def followable_things():
    """Register a followable test type ('thing'): ids 1-9 exist, others don't."""
    services.register_followable("thing", load=lambda i: Thing(i) if 0 < i < 10 else None,
                                 url=lambda t: f"/things/{t.id}", title=lambda t: f"Thing {t.id}")
    services.register_kind("test.thing_changed", services._l("Thing %(n)s changed."))
    yield
    services.FOLLOWABLE.pop("thing", None)
    services.KINDS.pop("test.thing_changed", None)


def _user(make_user, **kw):
    return make_user(**kw)


def test_notify_creates_rows_and_emails_immediate_users_only(app_ctx, make_user):
    immediate = db.session.get(User, make_user(notification_pref=NotificationPref.immediate).id)
    daily = db.session.get(User, make_user(notification_pref=NotificationPref.daily).id)
    silent = db.session.get(User, make_user(notification_pref=NotificationPref.none).id)
    services.notify([immediate, daily, silent, immediate], "account.verified")
    db.session.commit()
    assert db.session.scalar(select(func.count(Notification.id))) == 3  # duplicates collapsed
    emails = db.session.scalars(select(OutboxEmail)).all()
    assert [e.to_address for e in emails] == [immediate.email]


def test_notifications_render_in_the_readers_language(app_ctx, make_user):
    from flask_babel import force_locale

    user = db.session.get(User, make_user().id)
    note = services.notify([user], "account.role_granted", {"role": "official"})[0]
    with force_locale("en"):
        assert services.message_for(note) == "You were given the role: official."
    with force_locale("it"):
        assert "funzionario" in services.message_for(note)


def test_unknown_kind_is_a_programming_error(app_ctx, make_user):
    with pytest.raises(ValueError):
        services.notify([db.session.get(User, make_user().id)], "no.such.kind")


def test_daily_digest_collects_unemailed_notifications_once(app_ctx, make_user):
    user = db.session.get(User, make_user(notification_pref=NotificationPref.daily).id)
    services.notify([user], "account.verified")
    services.notify([user], "account.role_granted", {"role": "moderator"})
    db.session.commit()
    assert services.build_digests() == 1
    db.session.commit()
    digest = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "digest")).one()
    assert digest.to_address == user.email
    assert "2" in digest.subject
    assert services.build_digests() == 0  # nothing new


def test_digest_skips_already_read_notifications(app_ctx, make_user):
    user = db.session.get(User, make_user(notification_pref=NotificationPref.daily).id)
    note = services.notify([user], "account.verified")[0]
    db.session.flush()
    services.mark_read(user, note.id)
    assert services.build_digests() == 0


def test_follow_is_idempotent_and_unfollow_removes(app_ctx, make_user, followable_things):
    user = db.session.get(User, make_user().id)
    services.follow(user, "thing", 3)
    services.follow(user, "thing", 3)
    db.session.flush()
    assert db.session.scalar(select(func.count(Follow.id))) == 1
    assert services.is_following(user, "thing", 3)
    services.unfollow(user, "thing", 3)
    assert not services.is_following(user, "thing", 3)


def test_following_something_that_does_not_exist_is_not_found(app_ctx, make_user, followable_things):
    user = db.session.get(User, make_user().id)
    with pytest.raises(services.NotFound):
        services.follow(user, "thing", 42)
    with pytest.raises(services.NotFound):
        services.follow(user, "unknown-type", 1)


def test_followers_are_notified_except_the_actor(app_ctx, make_user, followable_things):
    a, b, actor = (db.session.get(User, make_user().id) for _ in range(3))
    for u in (a, b, actor):
        services.follow(u, "thing", 1)
    db.session.flush()
    created = services.notify_followers("thing", 1, "test.thing_changed", {"n": 1}, url="/things/1",
                                        exclude=[actor])
    assert sorted(n.user_id for n in created) == sorted([a.id, b.id])


def test_follow_endpoint_requires_post_and_a_confirmed_citizen(app, client, make_user, login_as,
                                                              followable_things):
    user = login_as(make_user())
    assert client.get("/follow/thing/2").status_code == 405
    response = client.post("/follow/thing/2", data={"next": "/things/2"})
    assert response.status_code == 302 and response.headers["Location"] == "/things/2"
    with app.app_context():
        assert db.session.scalar(select(Follow).where(Follow.user_id == user.id)).target_id == 2
    assert client.post("/follow/thing/77").status_code == 404
    assert client.post("/unfollow/thing/2").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Follow.id))) == 0


def test_follow_redirect_ignores_foreign_next(client, make_user, login_as, followable_things):
    login_as(make_user())
    response = client.post("/follow/thing/2", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/account/"


def test_notification_centre_lists_and_marks_read(app, client, make_user, login_as):
    user = login_as(make_user())
    with app.app_context():
        u = db.session.get(User, user.id)
        services.notify([u], "account.verified")
        note = services.notify([u], "account.role_granted", {"role": "official"}, url="/account/")[0]
        db.session.commit()
        note_id = note.id
    page = client.get("/notifications?lang=en")
    assert page.status_code == 200
    assert "You were given the role: official." in page.text
    assert '<span class="badge"' in page.text
    response = client.post(f"/notifications/{note_id}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/account/"
    assert refetch(app, Notification, note_id).read_at is not None
    client.post("/notifications/read-all")
    with app.app_context():
        assert services.unread_count(db.session.get(User, user.id)) == 0
    assert '<span class="badge"' not in client.get("/notifications").text


def test_someone_elses_notification_cannot_be_marked(app, client, make_user, login_as):
    owner = make_user()
    with app.app_context():
        note = services.notify([db.session.get(User, owner.id)], "account.verified")[0]
        db.session.commit()
        note_id = note.id
    login_as(make_user())
    assert client.post(f"/notifications/{note_id}/read").status_code == 404
    assert refetch(app, Notification, note_id).read_at is None


def test_notification_redirect_never_leaves_the_site(app, client, make_user, login_as):
    user = login_as(make_user())
    with app.app_context():
        note = services.notify([db.session.get(User, user.id)], "account.verified", url="https://evil.example/x")[0]
        db.session.commit()
        note_id = note.id
    response = client.post(f"/notifications/{note_id}/read")
    assert response.headers["Location"] == "/notifications"


def test_send_digests_command(app, runner, make_user):
    with app.app_context():
        user = db.session.get(User, make_user(notification_pref=NotificationPref.daily).id)
        services.notify([user], "account.verified")
        db.session.commit()
    result = runner.invoke(args=["notifications", "send-digests"])
    assert result.exit_code == 0 and "Queued 1 digest" in result.output
