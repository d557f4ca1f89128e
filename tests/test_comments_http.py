"""Comments over HTTP: posting, replying, editing, deleting and flagging through the thread's forms, on
debates, proposals and reports; who may do what; what the page shows; the rate limit."""
from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from app import create_app
from app.extensions import db, limiter
from app.models import User
from app.models.base import utcnow
from app.models.discussion import Comment, Debate
from app.models.report import Flag
from tests.conftest import login, make_config, refetch
from tests.http_helpers import english, location_path, text_of
from tests.test_proposals import build_process, new_proposal


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def people(make_user):
    return {"anna": make_user(display_name="Anna Rossi"), "bea": make_user(display_name="Bea Verdi"),
            "carlo": make_user(display_name="Carlo Neri"), "unconfirmed": make_user(confirmed=False)}


def _debate(app, author, hidden=False):
    with app.app_context():
        debate = Debate(author_id=author.id, title="Più panchine?", body="Parliamone.",
                        hidden_at=utcnow() if hidden else None)
        db.session.add(debate)
        db.session.commit()
        return debate.id


def _comment(app, author, debate_id, body="Primo commento", parent_id=None, minutes_ago=0):
    with app.app_context():
        comment = Comment(target_type="debate", target_id=debate_id, author_id=author.id, body=body,
                          parent_id=parent_id, created_at=utcnow() - timedelta(minutes=minutes_ago))
        db.session.add(comment)
        db.session.commit()
        return comment.id


def _comments(app):
    with app.app_context():
        return db.session.scalars(select(Comment).order_by(Comment.id)).all()


def test_a_visitor_is_sent_to_sign_in(app, client, people):
    debate_id = _debate(app, people["anna"])
    response = client.post(f"/comments/debate/{debate_id}", data={"body": "Ciao"})
    assert response.status_code == 302 and location_path(response) == "/login"
    page = client.get(f"/debates/{debate_id}")
    assert "Sign in to comment" in page.text and f"next=/debates/{debate_id}" in text_of(page)
    assert 'name="body"' not in page.text
    assert _comments(app) == []


def test_an_unconfirmed_account_is_refused(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    login_as(people["unconfirmed"])
    assert client.post(f"/comments/debate/{debate_id}", data={"body": "Ciao"}).status_code == 403
    assert _comments(app) == []


def test_a_citizen_posts_and_is_sent_back_to_the_comment(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    login_as(people["bea"])
    response = client.post(f"/comments/debate/{debate_id}", data={"body": "Sono **d'accordo**"})
    (comment,) = _comments(app)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/debates/{debate_id}#comment-{comment.id}")
    assert (comment.author_id, comment.body, comment.parent_id) == (people["bea"].id, "Sono **d'accordo**", None)
    assert refetch(app, Debate, debate_id).comment_count == 1
    page = client.get(f"/debates/{debate_id}")
    assert f'id="comment-{comment.id}"' in page.text and "<strong>d'accordo</strong>" in text_of(page)
    assert "1 comment" in page.text and "Bea Verdi" in page.text


def test_an_invalid_comment_is_shown_again_with_its_text(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    login_as(people["bea"])
    long_text = "Troppo lungo " + "x" * 5000
    response = client.post(f"/comments/debate/{debate_id}", data={"body": long_text})
    assert response.status_code == 200
    assert long_text in text_of(response) and 'aria-invalid="true"' in response.text
    assert f'href="/debates/{debate_id}#comments"' in response.text
    empty = client.post(f"/comments/debate/{debate_id}", data={"body": "   "})
    assert empty.status_code == 200 and "error-summary" in empty.text
    assert _comments(app) == []


def test_a_reply_is_attached_and_a_reply_to_a_reply_goes_to_the_top(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    top = _comment(app, people["anna"], debate_id)
    login_as(people["bea"])
    client.post(f"/comments/debate/{debate_id}", data={"body": "Risposta", "parent_id": top})
    reply = _comments(app)[-1]
    assert reply.parent_id == top
    # Answering a reply pre-fills the name of the person answered (for another participant).
    login_as(people["carlo"])
    page = client.get(f"/debates/{debate_id}").text
    assert f'id="reply-{reply.id}-body"' in page and "@Bea Verdi </textarea>" in page
    client.post(f"/comments/debate/{debate_id}", data={"body": "@Bea Verdi no", "parent_id": reply.id})
    assert _comments(app)[-1].parent_id == top
    page = client.get(f"/debates/{debate_id}")
    assert '<mark class="mention">@Bea Verdi</mark>' in page.text


def test_the_author_edits_within_the_window_and_others_cannot(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    comment_id = _comment(app, people["bea"], debate_id, "Prima")
    login_as(people["carlo"])
    assert 'action="/comments/%d/edit"' % comment_id not in client.get(f"/debates/{debate_id}").text
    assert client.post(f"/comments/{comment_id}/edit", data={"body": "Vandalismo"}).status_code == 403
    login_as(people["bea"])
    assert f'action="/comments/{comment_id}/edit"' in client.get(f"/debates/{debate_id}").text
    response = client.post(f"/comments/{comment_id}/edit", data={"body": "Seconda"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#comment-{comment_id}")
    stored = refetch(app, Comment, comment_id)
    assert stored.body == "Seconda" and stored.edited_at is not None
    assert "(edited)" in client.get(f"/debates/{debate_id}").text


def test_editing_after_the_window_is_refused_and_the_text_kept(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    comment_id = _comment(app, people["bea"], debate_id, "Prima", minutes_ago=20)
    login_as(people["bea"])
    assert f'action="/comments/{comment_id}/edit"' not in client.get(f"/debates/{debate_id}").text
    response = client.post(f"/comments/{comment_id}/edit", data={"body": "Troppo tardi"})
    assert response.status_code == 200
    assert "can be edited for 15 minutes" in text_of(response) and "Troppo tardi" in response.text
    assert refetch(app, Comment, comment_id).body == "Prima"


def test_deleting_leaves_a_placeholder_when_there_are_replies(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    top = _comment(app, people["bea"], debate_id, "Testo sparito")
    _comment(app, people["carlo"], debate_id, "Risposta rimasta", parent_id=top)
    login_as(people["carlo"])
    assert client.post(f"/comments/{top}/delete").status_code == 403
    login_as(people["bea"])
    response = client.post(f"/comments/{top}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#comment-{top}")
    stored = refetch(app, Comment, top)
    assert stored.deleted_at is not None and stored.body == ""
    page = client.get(f"/debates/{debate_id}")
    assert "Comment deleted by its author." in page.text and "Testo sparito" not in page.text
    assert "Risposta rimasta" in page.text and "1 comment" in page.text
    assert refetch(app, Debate, debate_id).comment_count == 1


def test_a_deleted_comment_without_replies_disappears(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    comment_id = _comment(app, people["bea"], debate_id, "Ci ho ripensato")
    login_as(people["bea"])
    client.post(f"/comments/{comment_id}/delete")
    page = client.get(f"/debates/{debate_id}").text
    assert f'id="comment-{comment_id}"' not in page and "No comments yet." in page


def test_hidden_comments_say_so(app, client, people):
    debate_id = _debate(app, people["anna"])
    comment_id = _comment(app, people["bea"], debate_id, "Insulto")
    with app.app_context():
        db.session.get(Comment, comment_id).hidden_at = utcnow()
        db.session.commit()
    page = client.get(f"/debates/{debate_id}").text
    assert "data-moderation-notice" in page and "Hidden by moderation on" in page and "Insulto" not in page


def test_flagging_a_comment(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    comment_id = _comment(app, people["bea"], debate_id)
    login_as(people["carlo"])
    response = client.post(f"/comments/{comment_id}/flag", data={})
    assert response.status_code == 302
    response = client.post(f"/comments/{comment_id}/flag", data={"reason": "offensive", "text": "Offende"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#comment-{comment_id}")
    with app.app_context():
        flags = db.session.scalars(select(Flag)).all()
        assert [(f.target_type, f.target_id, f.user_id, f.reason, f.text) for f in flags] == [
            ("comment", comment_id, people["carlo"].id, "offensive", "Offende")]
    login_as(people["bea"])
    client.post(f"/comments/{comment_id}/flag", data={"reason": "spam"})  # one's own: refused
    with app.app_context():
        assert db.session.scalar(select(func.count(Flag.id))) == 1


def test_html_and_scripts_in_a_comment_are_neutralised(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    login_as(people["bea"])
    body = '<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) *ok*'
    client.post(f"/comments/debate/{debate_id}", data={"body": body})
    page = client.get(f"/debates/{debate_id}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert 'href="javascript:' not in page and "&lt;script&gt;" in page and "<em>ok</em>" in page


def test_hidden_draft_and_unknown_items_answer_404(app, client, people, login_as):
    hidden = _debate(app, people["anna"], hidden=True)
    with app.app_context():
        draft = new_proposal(build_process(), db.session.get(User, people["anna"].id), publish=False).id
    login_as(people["bea"])
    for path in (f"/comments/debate/{hidden}", f"/comments/proposal/{draft}", "/comments/nothing/1",
                 "/comments/debate/424242", "/comments/1/edit", "/comments/1/delete", "/comments/1/flag"):
        assert client.post(path, data={"body": "Ciao", "reason": "spam"}).status_code == 404, path
    assert _comments(app) == []


def test_the_thread_global_works_on_proposals_and_is_empty_for_drafts(app, people):
    with app.app_context():
        author = db.session.get(User, people["anna"].id)
        process = build_process()
        published, draft = new_proposal(process, author), new_proposal(process, author, publish=False)
        db.session.add(Comment(target_type="proposal", target_id=published.id, author_id=author.id,
                               body="Grazie a tutti"))
        db.session.commit()
        with app.test_request_context("/proposals/1?lang=en"):
            html = render_template_string("{{ comment_thread('proposal', %d) }}" % published.id)
            assert "Grazie a tutti" in html and 'id="comments"' in html
            assert render_template_string("{{ comment_thread('proposal', %d) }}" % draft.id) == ""


def test_a_reporter_is_told_of_comments_on_the_report(app, client, people, login_as):
    from app.models import Category, Notification
    from app.models.report import Report

    with app.app_context():
        category = Category(slug="strade", name_it="Strade", name_en="Roads")
        db.session.add(category)
        db.session.flush()
        report = Report(title="Buca", description="Grande", lat=45.07, lon=7.68, reporter_id=people["anna"].id,
                        status="new", category_id=category.id)
        db.session.add(report)
        db.session.commit()
        report_id = report.id
    login_as(people["bea"])
    response = client.post(f"/comments/report/{report_id}", data={"body": "Anche io l'ho vista"})
    assert response.headers["Location"].endswith(f"/reports/{report_id}#comment-{_comments(app)[0].id}")
    with app.app_context():
        assert db.session.scalar(select(Notification.kind).where(Notification.user_id == people["anna"].id)) \
            == "comment.new"


@pytest.fixture
def limited_app(app, database_url, tmp_path):
    limited = create_app(make_config(database_url, tmp_path, RATELIMIT_ENABLED=True, COMMENT_LIMIT="3 per minute"))
    limiter.reset()
    yield limited
    limiter.reset()


def test_posting_is_rate_limited_per_account_counting_only_comments_posted(app, limited_app, people):
    debate_id = _debate(app, people["anna"])
    client = english(limited_app.test_client())
    login(client, people["bea"])
    assert client.post(f"/comments/debate/{debate_id}", data={"body": ""}).status_code == 200  # not counted
    for n in range(3):
        assert client.post(f"/comments/debate/{debate_id}", data={"body": f"Commento {n}"}).status_code == 302
    refused = client.post(f"/comments/debate/{debate_id}", data={"body": "Ancora"})
    assert refused.status_code == 429
    other = english(limited_app.test_client())
    login(other, people["carlo"])
    assert other.post(f"/comments/debate/{debate_id}", data={"body": "Io posso"}).status_code == 302
    assert len(_comments(app)) == 4


def test_replies_under_a_hidden_comment_can_no_longer_be_answered(app, client, people, login_as):
    debate_id = _debate(app, people["anna"])
    top = _comment(app, people["bea"], debate_id, "Insulto")
    reply = _comment(app, people["anna"], debate_id, "Risposta educata", parent_id=top)
    with app.app_context():
        db.session.get(Comment, top).hidden_at = utcnow()
        db.session.commit()
    login_as(people["carlo"])
    page = client.get(f"/debates/{debate_id}").text
    assert "Risposta educata" in page and f'id="reply-{reply}-body"' not in page
    response = client.post(f"/comments/debate/{debate_id}", data={"body": "Anch'io", "parent_id": reply})
    assert response.status_code == 200 and "no longer available" in response.text
    assert len(_comments(app)) == 2
