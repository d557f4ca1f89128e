"""Moderation pages for everyone: the generic flag form, the statement of reasons and its appeal, the rules,
the transparency report, public profiles (and a blocked account's notice)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.models.discussion import Comment, Debate
from app.models.moderation import AppealStatus, ModerationAppeal
from app.models.report import Flag
from app.moderation import services
from tests.conftest import login
from tests.http_helpers import english, text_of


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def world(app, make_user):
    people = {name: make_user(display_name=name.title()) for name in ("author", "anna", "bea")}
    people["mod"] = make_user(roles=(Role.citizen, Role.moderator), display_name="Mod One")
    with app.app_context():
        debate = Debate(author_id=people["anna"].id, title="Una piazza per tutti", body="Parliamone.")
        db.session.add(debate)
        db.session.flush()
        comment = Comment(target_type="debate", target_id=debate.id, author_id=people["author"].id,
                          body="Un commento sopra le righe.")
        db.session.add(comment)
        db.session.commit()
        people["debate_id"], people["comment_id"] = debate.id, comment.id
    return people


def hide_comment(app, world):
    """A moderator hid the author's comment; returns the decision id."""
    with app.app_context():
        services.flag(db.session.get(User, world["anna"].id), "comment", world["comment_id"], "offensive")
        case = services.case_for("comment", world["comment_id"])
        decision = services.decide(case, db.session.get(User, world["mod"].id), "hide", rule="respect",
                                   reason="Insulti a un altro partecipante.")
        db.session.commit()
        return decision.id


def test_flag_a_profile_through_the_generic_form(app, client, world):
    login(client, world["anna"])
    response = client.post(f"/flags/user/{world['author'].id}",
                           data={"fl-reason": "offensive", "fl-text": "Nome offensivo", "next": "/people/1"})
    assert response.status_code == 302 and response.headers["Location"] == "/people/1"
    with app.app_context():
        flag = db.session.scalar(select(Flag).where(Flag.target_type == "user"))
        assert (flag.target_id, flag.user_id, flag.reason) == (world["author"].id, world["anna"].id, "offensive")


def test_the_generic_flag_form_refuses_unknown_kinds_and_unsafe_next(app, client, world):
    login(client, world["anna"])
    assert client.post(f"/flags/banana/{world['comment_id']}", data={"fl-reason": "spam"}).status_code == 404
    assert client.post("/flags/comment/999999", data={"fl-reason": "spam"}).status_code == 404
    response = client.post(f"/flags/comment/{world['comment_id']}",
                           data={"fl-reason": "spam", "next": "https://evil.example.com/"})
    assert response.status_code == 302 and not response.headers["Location"].startswith("https://evil")
    missing = client.post(f"/flags/comment/{world['comment_id']}", data={"next": "/"})
    assert missing.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Flag)) == 1


def test_own_content_cannot_be_flagged_through_the_form(app, client, world):
    login(client, world["author"])
    response = client.post(f"/flags/comment/{world['comment_id']}", data={"fl-reason": "spam", "next": "/"},
                           follow_redirects=True)
    assert "You cannot flag your own contribution" in text_of(response)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Flag)) == 0


def test_the_author_reads_the_statement_and_appeals_once(app, client, world):
    decision_id = hide_comment(app, world)
    login(client, world["author"])
    page = client.get(f"/moderation/decisions/{decision_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Insulti a un altro partecipante." in text and "Respect people" in text
    assert 'data-action="hide"' in page.get_data(as_text=True)
    assert "Send the appeal" in text
    short = client.post(f"/moderation/decisions/{decision_id}", data={"text": "no"})
    assert short.status_code == 400
    sent = client.post(f"/moderation/decisions/{decision_id}",
                       data={"text": "Era una citazione di un film, non un insulto."})
    assert sent.status_code == 302
    with app.app_context():
        appeal = db.session.scalar(select(ModerationAppeal))
        assert appeal.status == AppealStatus.pending and appeal.author_id == world["author"].id
    again = client.post(f"/moderation/decisions/{decision_id}", data={"text": "Ci riprovo con un altro testo."})
    assert again.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ModerationAppeal)) == 1
    assert "You appealed on" in text_of(client.get(f"/moderation/decisions/{decision_id}"))


def test_nobody_else_reads_a_statement(app, client, world):
    decision_id = hide_comment(app, world)
    login(client, world["bea"])
    assert client.get(f"/moderation/decisions/{decision_id}").status_code == 404
    assert client.post(f"/moderation/decisions/{decision_id}",
                       data={"text": "Provo ad appellare per un altro."}).status_code in (403, 404)
    login(client, world["mod"])
    page = client.get(f"/moderation/decisions/{decision_id}")
    assert page.status_code == 200 and "Send the appeal" not in text_of(page)


def test_rules_and_transparency_are_public(app, client, world):
    hide_comment(app, world)
    rules = client.get("/rules")
    assert rules.status_code == 200 and 'id="rule-privacy"' in rules.get_data(as_text=True)
    figures = client.get("/transparency")
    assert figures.status_code == 200
    html = figures.get_data(as_text=True)
    assert "<table" in html and "Decisions overturned" in text_of(figures)


def test_a_public_profile_and_a_blocked_one(app, client, world, make_user):
    with app.app_context():
        user = db.session.get(User, world["anna"].id)
        user.bio = "Abito in **Vanchiglia**."
        db.session.commit()
    page = client.get(f"/people/{world['anna'].id}")
    assert page.status_code == 200
    assert "<strong>Vanchiglia</strong>" in page.get_data(as_text=True)
    assert "Una piazza per tutti" in text_of(page)
    with app.app_context():
        services.block_user(db.session.get(User, world["anna"].id), db.session.get(User, world["mod"].id),
                            rule="spam", reason="Pubblicità ripetuta.")
        db.session.commit()
    blocked = client.get(f"/people/{world['anna'].id}")
    assert blocked.status_code == 200
    text = text_of(blocked)
    assert "This account was blocked by the moderators" in text and "Una piazza per tutti" not in text
    assert client.get("/people/999999").status_code == 404


def test_a_blocked_user_signed_in_elsewhere_is_signed_out_and_cannot_post(app, client, world):
    login(client, world["author"])
    assert client.get("/notifications").status_code == 200
    # Before the block the same request posts a comment (the refusal below is the block's doing).
    client.post(f"/comments/debate/{world['debate_id']}", data={"body": "Prima del blocco."})
    with app.app_context():
        assert "Prima del blocco." in db.session.scalars(select(Comment.body)).all()
        services.block_user(db.session.get(User, world["author"].id), db.session.get(User, world["mod"].id),
                            rule="spam", reason="Pubblicità ripetuta.")
        db.session.commit()
    page = client.get("/notifications")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    response = client.post(f"/comments/debate/{world['debate_id']}", data={"body": "Ancora pubblicità!"})
    assert response.status_code in (302, 401, 403, 404)
    with app.app_context():
        bodies = db.session.scalars(select(Comment.body)).all()
        assert "Ancora pubblicità!" not in bodies


def test_an_organisation_profile_is_flagged_hidden_with_a_notice_and_survives_its_creators_block(app, client,
                                                                                                world, make_user):
    from app.commons import services as commons_services

    with app.app_context():
        org = commons_services.create_organisation(db.session.get(User, world["author"].id),
                                                   name="Amici del Parco Dora", kind="informal_group",
                                                   description="Volantini pubblicitari di un casinò.")
        db.session.commit()
        org_id = org.id
    login(client, world["anna"])
    page = client.get(f"/organisations/{org_id}")
    assert page.status_code == 200 and f'action="/flags/organisation/{org_id}"' in page.get_data(as_text=True)
    for user in (world["anna"], world["bea"], make_user()):
        login(client, user)
        assert client.post(f"/flags/organisation/{org_id}", data={"fl-reason": "spam", "next": "/"}).status_code == 302
    visitor = app.test_client()
    hidden = visitor.get(f"/organisations/{org_id}")
    assert hidden.status_code == 200
    html = hidden.get_data(as_text=True)
    assert "data-moderation-notice" in html and "casinò" not in html and "Amici del Parco Dora" not in html
    with app.app_context():
        case = services.case_for("organisation", org_id)
        services.decide(case, db.session.get(User, world["mod"].id), "restore")
        services.block_user(db.session.get(User, world["author"].id), db.session.get(User, world["mod"].id),
                            rule="spam", reason="Pubblicità.")
        db.session.commit()
    # Other people may represent it: blocking its creator does not hide the organisation.
    assert "Amici del Parco Dora" in visitor.get(f"/organisations/{org_id}").get_data(as_text=True)
