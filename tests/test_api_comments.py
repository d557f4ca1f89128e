"""JSON API v1: listComments / createComment, and joinPact / leavePact for volunteers."""
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.discussion import Comment
from app.models.pact import PactStatus, PactVolunteer
from app.seed.demo import seed_places
from tests.pact_builders import advance, pact_world
from tests.test_api_proposals import bearer, make_process, propose, token_for
from tests.test_proposals import DAY


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()


@pytest.fixture
def author(make_user):
    return make_user(verified=True, display_name="Rosa Bianchi")


def _proposal(app, author):
    _slug, process_id = make_process(app, phases={"collection": (-10 * DAY, 10 * DAY)})
    return propose(app, process_id, author)


def test_a_citizen_comments_through_the_api_and_the_thread_shows_it(app, client, city, author, make_user):
    reader = make_user(display_name="Marco Neri")
    proposal_id = _proposal(app, author)
    secret = token_for(app, reader)
    created = client.post(f"/api/v1/comments/proposal/{proposal_id}", json={"body": "Sono d'accordo."},
                          headers=bearer(secret))
    assert created.status_code == 201, created.data
    body = created.get_json()
    assert body["state"] == "visible" and body["held"] is False and body["author_name"] == "Marco Neri"
    reply = client.post(f"/api/v1/comments/proposal/{proposal_id}",
                        json={"body": "Anch'io.", "parent_id": body["id"]}, headers=bearer(secret))
    assert reply.status_code == 201 and reply.get_json()["parent_id"] == body["id"]
    thread = client.get(f"/api/v1/comments/proposal/{proposal_id}").get_json()
    assert [c["body"] for c in thread["items"]] == ["Sono d'accordo.", "Anch'io."]
    assert b"@example.org" not in client.get(f"/api/v1/comments/proposal/{proposal_id}").data
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 2


def test_deleted_and_hidden_comments_keep_their_place_without_text_or_author(app, client, city, author):
    proposal_id = _proposal(app, author)
    with app.app_context():
        rows = [Comment(target_type="proposal", target_id=proposal_id, author_id=author.id, body=text)
                for text in ("visibile", "cancellato", "nascosto")]
        db.session.add_all(rows)
        db.session.flush()
        rows[1].deleted_at = utcnow()
        rows[2].hidden_at = utcnow()
        db.session.commit()
    response = client.get(f"/api/v1/comments/proposal/{proposal_id}")
    items = response.get_json()["items"]
    assert [c["state"] for c in items] == ["visible", "deleted", "hidden"]
    assert [c["body"] for c in items] == ["visibile", None, None]
    assert items[1]["author_name"] is None and items[2]["author_name"] is None
    assert b"cancellato" not in response.data and b"nascosto" not in response.data


def test_comments_page_with_a_cursor(app, client, city, author):
    proposal_id = _proposal(app, author)
    with app.app_context():
        db.session.add_all([Comment(target_type="proposal", target_id=proposal_id, author_id=author.id,
                                    body=f"commento {n}") for n in range(3)])
        db.session.commit()
    first = client.get(f"/api/v1/comments/proposal/{proposal_id}?limit=2").get_json()
    assert [c["body"] for c in first["items"]] == ["commento 0", "commento 1"] and first["next_cursor"]
    second = client.get(f"/api/v1/comments/proposal/{proposal_id}?limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["body"] for c in second["items"]] == ["commento 2"] and second["next_cursor"] is None
    assert client.get(f"/api/v1/comments/proposal/{proposal_id}?cursor=@@").status_code == 400


def test_comments_refuse_what_the_page_would_refuse(app, client, city, author, make_user):
    unconfirmed = make_user(confirmed=False)
    reader = make_user()
    hidden_id = propose(app, make_process(app)[1], author, title="Nascosta", hidden=True)
    proposal_id = _proposal(app, author)
    secret = token_for(app, reader)
    url = f"/api/v1/comments/proposal/{proposal_id}"
    assert client.post(url, json={"body": "x"}).status_code == 401
    assert client.post(url, json={"body": "x"}, headers=bearer(token_for(app, unconfirmed))).status_code == 403
    assert client.post(url, data="not json", headers=bearer(secret)).status_code == 400
    empty = client.post(url, json={"body": "   "}, headers=bearer(secret))
    assert empty.status_code == 422 and empty.get_json()["error"]["field"] == "body"
    assert client.post(url, json={"body": 5}, headers=bearer(secret)).status_code == 422
    stranger = client.post(url, json={"body": "x", "parent_id": 999}, headers=bearer(secret))
    assert stranger.status_code == 422 and stranger.get_json()["error"]["field"] == "parent_id"
    assert client.post(f"/api/v1/comments/proposal/{hidden_id}", json={"body": "x"},
                       headers=bearer(secret)).status_code == 404
    assert client.get(f"/api/v1/comments/proposal/{hidden_id}").status_code == 404
    assert client.get(f"/api/v1/comments/photo/{proposal_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_a_citizen_joins_and_leaves_an_active_pact(app, client):
    with app.app_context():
        world = pact_world()
        active = advance(world, PactStatus.active, title="Attivo")
        consultation = advance(world, PactStatus.public_consultation, title="In consultazione")
        private = advance(world, PactStatus.submitted, title="Presentato")
        db.session.commit()
        citizen = SimpleNamespace(id=world.users["stranger"].id)
    secret = token_for(app, citizen)
    url = f"/api/v1/pacts/{active}/volunteers"
    assert client.post(url, json={"accept_rules": True}).status_code == 401
    refused = client.post(url, json={"accept_rules": False}, headers=bearer(secret))
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "accept_rules"
    joined = client.post(url, json={"accept_rules": True}, headers=bearer(secret))
    assert joined.status_code == 201 and joined.get_json()["volunteer"] is True
    again = client.post(url, json={"accept_rules": True}, headers=bearer(secret))
    assert again.status_code == 200 and again.get_json() == joined.get_json()
    left = client.delete(url, headers=bearer(secret))
    assert left.status_code == 200
    assert left.get_json() == {"volunteer": False, "volunteers": joined.get_json()["volunteers"] - 1}
    assert client.delete(url, headers=bearer(secret)).status_code == 200
    not_now = client.post(f"/api/v1/pacts/{consultation}/volunteers", json={"accept_rules": True},
                          headers=bearer(secret))
    assert not_now.status_code == 409 and not_now.get_json()["error"]["code"] == "not_allowed_now"
    assert client.post(f"/api/v1/pacts/{private}/volunteers", json={"accept_rules": True},
                       headers=bearer(secret)).status_code == 404
    assert client.delete(f"/api/v1/pacts/{private}/volunteers", headers=bearer(secret)).status_code == 404
    with app.app_context():
        mine = db.session.scalars(select(PactVolunteer).where(PactVolunteer.pact_id == active,
                                                              PactVolunteer.user_id == citizen.id)).all()
        assert len(mine) == 1 and mine[0].left_at is not None
