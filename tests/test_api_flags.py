"""flagContent in the JSON API: bearer tokens only, the flag rules, three flags hide, blocked users are refused."""
import pytest
from sqlalchemy import select

from app.api.flags import TARGET_TYPES
from app.api.tokens import issue_token
from app.extensions import db
from app.models import Role, User
from app.models.discussion import Comment, Debate
from app.models.report import Flag
from app.moderation import services
from app.moderation.registry import KINDS
from tests.conftest import login


def token_of(app, user):
    with app.app_context():
        _token, secret = issue_token(db.session.get(User, user.id), "test")
        db.session.commit()
    return secret


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def comment_id(app, make_user):
    author = make_user(display_name="Autrice")
    with app.app_context():
        debate = Debate(author_id=author.id, title="Piazza", body="Parliamone.")
        db.session.add(debate)
        db.session.flush()
        comment = Comment(target_type="debate", target_id=debate.id, author_id=author.id, body="Testo.")
        db.session.add(comment)
        db.session.commit()
        return comment.id


def flag(client, secret, **body):
    return client.post("/api/v1/flags", json=body, headers=bearer(secret))


def test_the_declared_target_types_are_the_moderatable_kinds(app):
    with app.app_context():
        assert set(TARGET_TYPES) == set(KINDS)


def test_a_flag_is_created_then_updated(app, client, make_user, comment_id):
    secret = token_of(app, make_user())
    first = flag(client, secret, target_type="comment", target_id=comment_id, reason="spam")
    assert first.status_code == 201
    assert first.get_json()["reason"] == "spam" and first.get_json()["target_id"] == comment_id
    again = flag(client, secret, target_type="comment", target_id=comment_id, reason="other", text="Pubblicità")
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    with app.app_context():
        rows = db.session.scalars(select(Flag).where(Flag.target_id == comment_id)).all()
        assert [(r.reason, r.text) for r in rows] == [("other", "Pubblicità")]


def test_three_flags_through_the_api_hide_the_comment(app, client, make_user, comment_id):
    for _ in range(3):
        assert flag(client, token_of(app, make_user()), target_type="comment", target_id=comment_id,
                    reason="offensive").status_code == 201
    with app.app_context():
        assert db.session.get(Comment, comment_id).hidden_at is not None
        assert services.case_for("comment", comment_id).flag_count == 3


@pytest.mark.parametrize("body, field", [
    ({"target_type": "banana", "target_id": 1, "reason": "spam"}, "target_type"),
    ({"target_type": "comment", "target_id": "1", "reason": "spam"}, "target_id"),
    ({"target_type": "comment", "target_id": True, "reason": "spam"}, "target_id"),
    ({"target_type": "comment", "target_id": 0, "reason": "spam"}, "target_id"),
    ({"target_type": "comment", "reason": "spam"}, "target_id"),
    ({"target_type": "comment", "target_id": "ID", "reason": "bad"}, "reason"),
    ({"target_type": "comment", "target_id": "ID", "reason": "other"}, "text"),
    ({"target_type": "comment", "target_id": "ID", "reason": "spam", "text": 5}, "text"),
])
def test_invalid_flags_name_the_field(app, client, make_user, comment_id, body, field):
    body = {k: (comment_id if v == "ID" else v) for k, v in body.items()}
    response = flag(client, token_of(app, make_user()), **body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_unknown_items_and_own_content(app, client, make_user, comment_id):
    secret = token_of(app, make_user())
    assert flag(client, secret, target_type="comment", target_id=999999, reason="spam").status_code == 404
    with app.app_context():
        author_id = db.session.get(Comment, comment_id).author_id
        author = db.session.get(User, author_id)
        db.session.expunge(author)
    own = flag(client, token_of(app, author), target_type="comment", target_id=comment_id, reason="spam")
    assert own.status_code == 409
    assert client.post("/api/v1/flags", data="not json", headers=bearer(secret)).status_code == 400


def test_a_session_cookie_is_not_enough(app, client, make_user, comment_id):
    login(client, make_user())
    response = client.post("/api/v1/flags", json={"target_type": "comment", "target_id": comment_id,
                                                  "reason": "spam"})
    assert response.status_code == 401


def test_a_blocked_user_cannot_flag_or_post(app, client, make_user, comment_id):
    user = make_user()
    secret = token_of(app, user)
    moderator = make_user(roles=(Role.citizen, Role.moderator))
    with app.app_context():
        services.block_user(db.session.get(User, user.id), db.session.get(User, moderator.id), rule="spam",
                            reason="Account usato per spam.")
        db.session.commit()
    response = flag(client, secret, target_type="comment", target_id=comment_id, reason="spam")
    assert response.status_code == 401
    report = client.post("/api/v1/reports", json={"title": "Buca", "description": "Una buca profonda.",
                                                  "category": "roads", "lat": 45.07, "lon": 7.68},
                         headers=bearer(secret))
    assert report.status_code == 401
    with app.app_context():
        assert db.session.scalars(select(Flag).where(Flag.user_id == user.id)).all() == []


def test_the_openapi_document_describes_flag_content(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/flags"]["post"]
    assert operation["operationId"] == "flagContent"
    assert operation["security"] == [{"bearerAuth": []}]
    assert set(document["components"]["schemas"]["FlagRequest"]["properties"]["target_type"]["enum"]) == set(
        TARGET_TYPES)
