"""Debate pages over HTTP: the list, opening and editing a debate, follow and flag, and turning it into a
proposal from its page."""
from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.discussion import Comment, Debate
from app.models.messaging import Follow
from app.models.place import Category, District
from app.models.proposal import Proposal, ProposalStatus
from app.models.report import Flag
from tests.conftest import refetch
from tests.http_helpers import assert_field_error, english, location_path, text_of
from tests.test_proposals import build_process

DAY = timedelta(days=1)


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def people(make_user):
    return {"anna": make_user(display_name="Anna Rossi"), "bea": make_user(display_name="Bea Verdi")}


@pytest.fixture
def places(app, people):
    with app.app_context():
        districts = [District(number=n, name=f"Circoscrizione {n}", geometry="{}") for n in (1, 2)]
        category = Category(slug="verde", name_it="Verde", name_en="Greenery")
        db.session.add_all([*districts, category])
        db.session.commit()
        return {"districts": [d.id for d in districts], "category": category.id}


def _debate(app, author, title="Più alberi?", hidden=False, **columns):
    with app.app_context():
        debate = Debate(author_id=author.id, title=title, body="Parliamone **insieme**.",
                        hidden_at=utcnow() if hidden else None, **columns)
        db.session.add(debate)
        db.session.commit()
        return debate.id


def _debates(app):
    with app.app_context():
        return db.session.scalars(select(Debate).order_by(Debate.id)).all()


def test_the_list_filters_sorts_and_pages(app, client, people, places):
    for n in range(21):
        _debate(app, people["anna"], title=f"Dibattito {n:02d}")
    _debate(app, people["anna"], title="Nel verde", category_id=places["category"], comment_count=9)
    _debate(app, people["anna"], title="Nascosto", hidden=True)
    first = client.get("/debates")
    assert first.status_code == 200 and "22 debates." in first.text and "Nascosto" not in first.text
    assert "Nel verde" in first.text and "Dibattito 01" not in first.text and 'rel="next"' in first.text
    assert "Dibattito 01" in client.get("/debates?page=2").text
    assert "Dibattito 00" not in client.get(f"/debates?category={places['category']}").text
    assert client.get("/debates?sort=comments").text.index("Nel verde") < \
        client.get("/debates?sort=comments").text.index("Dibattito 20")
    assert client.get("/debates?category=abc&district=99999999999&sort=bogus&page=-3").status_code == 200


def test_a_visitor_is_invited_to_sign_in(client):
    assert location_path(client.get("/debates/new")) == "/login"
    assert "Sign in to open a debate" in client.get("/debates").text


def test_a_citizen_opens_a_debate(app, client, people, places, login_as):
    login_as(people["anna"])
    assert client.get("/debates/new").status_code == 200
    response = client.post("/debates/new", data={"title": "Una piazza pedonale?", "body": "Proviamo in *estate*.",
                                                 "category_id": places["category"], "district_id": 0})
    (debate,) = _debates(app)
    assert response.status_code == 302 and location_path(response) == f"/debates/{debate.id}"
    assert (debate.author_id, debate.category_id, debate.district_id) == (people["anna"].id, places["category"], None)
    page = client.get(f"/debates/{debate.id}")
    assert "Una piazza pedonale?" in page.text and "<em>estate</em>" in page.text and 'id="comments"' in page.text


def test_an_invalid_debate_is_shown_again_with_what_was_typed(app, client, people, places, login_as):
    login_as(people["anna"])
    response = client.post("/debates/new", data={"title": "", "body": "Testo che non si perde",
                                                 "category_id": places["category"], "district_id": 0})
    assert response.status_code == 200
    assert_field_error(response, "title", "This field is required.")
    assert "Testo che non si perde" in response.text
    assert _debates(app) == []


def test_missing_debates_answer_404_hidden_ones_a_notice(app, client, people):
    hidden = _debate(app, people["anna"], hidden=True)
    page = client.get(f"/debates/{hidden}")
    assert page.status_code == 200 and "data-moderation-notice" in page.text and "Più alberi?" not in page.text
    assert client.get("/debates/999").status_code == 404


def test_the_author_edits_others_cannot_and_not_after_an_answer(app, client, people, places, login_as):
    debate_id = _debate(app, people["anna"])
    login_as(people["bea"])
    assert client.get(f"/debates/{debate_id}/edit").status_code == 403
    assert client.post(f"/debates/{debate_id}/edit", data={"title": "Mio", "body": "Mio"}).status_code == 403
    login_as(people["anna"])
    form = client.get(f"/debates/{debate_id}/edit")
    assert form.status_code == 200 and "Parliamone **insieme**." in form.text
    response = client.post(f"/debates/{debate_id}/edit", data={"title": "Più alberi e panchine?", "body": "Sì.",
                                                                "category_id": 0,
                                                                "district_id": places["districts"][1]})
    assert response.status_code == 302
    stored = refetch(app, Debate, debate_id)
    assert (stored.title, stored.district_id) == ("Più alberi e panchine?", places["districts"][1])
    assert stored.edited_at is not None
    with app.app_context():
        db.session.add(Comment(target_type="debate", target_id=debate_id, author_id=people["bea"].id, body="No"))
        db.session.commit()
    assert f"/debates/{debate_id}/edit" not in client.get(f"/debates/{debate_id}").text
    response = client.post(f"/debates/{debate_id}/edit", data={"title": "Cambio", "body": "Cambio"})
    assert response.status_code == 302 and refetch(app, Debate, debate_id).title == "Più alberi e panchine?"


def test_following_and_flagging_a_debate(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    login_as(people["bea"])
    page = client.get(f"/debates/{debate_id}").text
    assert f"/follow/debate/{debate_id}" in page and f"/debates/{debate_id}/flag" in page
    client.post(f"/follow/debate/{debate_id}", data={"next": f"/debates/{debate_id}"})
    assert "Stop following" in client.get(f"/debates/{debate_id}").text
    response = client.post(f"/debates/{debate_id}/flag", data={"fl-reason": "spam"})
    assert location_path(response) == f"/debates/{debate_id}"
    with app.app_context():
        assert db.session.scalar(select(Follow.target_type).where(Follow.user_id == people["bea"].id)) == "debate"
        assert [(f.target_type, f.target_id, f.reason) for f in db.session.scalars(select(Flag))] == [
            ("debate", debate_id, "spam")]


def test_turning_a_debate_into_a_proposal(app, client, people, places, login_as):
    debate_id = _debate(app, people["anna"], district_id=places["districts"][0])
    login_as(people["anna"])
    page = client.get(f"/debates/{debate_id}/proposal")
    assert "No participatory process is collecting proposals" in text_of(page)
    with app.app_context():
        process = build_process(phases={"collection": (-DAY, 9 * DAY), "support": (9 * DAY, 30 * DAY)})
        process_id = process.id
    assert "Create the draft proposal" in client.get(f"/debates/{debate_id}/proposal").text
    response = client.post(f"/debates/{debate_id}/proposal", data={"process_id": process_id})
    with app.app_context():
        (proposal,) = db.session.scalars(select(Proposal)).all()
        assert (proposal.status, proposal.title, proposal.district_id) == (
            ProposalStatus.draft, "Più alberi?", places["districts"][0])
        proposal_id = proposal.id
    assert response.status_code == 302 and location_path(response) == f"/proposals/{proposal_id}/edit"
    assert refetch(app, Debate, debate_id).proposal_id == proposal_id
    again = client.post(f"/debates/{debate_id}/proposal", data={"process_id": process_id})
    assert location_path(again) == f"/debates/{debate_id}"
    with app.app_context():
        assert len(db.session.scalars(select(Proposal)).all()) == 1
    page = client.get(f"/debates/{debate_id}").text
    assert "draft proposal" in page and "This debate became a proposal" not in page
    with app.app_context():
        db.session.get(Proposal, proposal_id).status = ProposalStatus.published
        db.session.commit()
        with app.test_request_context("/?lang=en"):
            origin = render_template_string("{{ debate_origin(%d) }}" % proposal_id)
            assert f'href="/debates/{debate_id}"' in origin and "Più alberi?" in origin
            assert render_template_string("{{ debate_origin(424242) }}") == ""
    page = client.get(f"/debates/{debate_id}").text
    assert "This debate became a proposal" in page and f'href="/proposals/{proposal_id}"' in page


def test_only_the_author_may_convert(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    with app.app_context():
        process_id = build_process(phases={"collection": (-DAY, 9 * DAY)}).id
    login_as(people["bea"])
    assert "Turn into a proposal" not in client.get(f"/debates/{debate_id}").text
    assert client.post(f"/debates/{debate_id}/proposal", data={"process_id": process_id}).status_code == 403
    login_as(people["anna"])
    assert "Turn into a proposal" in client.get(f"/debates/{debate_id}").text
    assert client.post(f"/debates/{debate_id}/proposal", data={"process_id": 424242}).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(Proposal)).all() == [] and db.session.get(User, people["anna"].id)
