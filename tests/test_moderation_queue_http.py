"""The moderators' pages over HTTP: one queue for every kind of content (ordered, filtered, paged, with its
dashboard and bulk decisions), a case page with its decision forms, appeals decided by another moderator,
the word list, and the header's badge.

Pages are asked for in English (tests.http_helpers.english); assertions prefer the database, status codes,
element ids and data attributes.
"""
import re
import secrets

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Role, User
from app.models.discussion import Comment, Debate
from app.models.moderation import (
    Action,
    AppealStatus,
    CaseStatus,
    ModerationAppeal,
    ModerationCase,
    ModerationDecision,
    ModerationWord,
)
from app.models.photo import Photo
from app.moderation import queue_routes, services
from tests.conftest import login, refetch
from tests.http_helpers import english, new_client, text_of
from tests.test_moderation import comment_by, debate_by, flag_by


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def world(app, make_user):
    """Citizens, two moderators, an official; a debate with three comments of the author flagged 1, 2 and 3 times."""
    people = {name: make_user(display_name=name.title()) for name in ("author", "anna", "bea", "carlo", "dario")}
    people["mod"] = make_user(roles=(Role.citizen, Role.moderator), display_name="Mod One")
    people["mod2"] = make_user(roles=(Role.citizen, Role.moderator), display_name="Mod Two")
    people["official"] = make_user(roles=(Role.citizen, Role.official))
    people["admin"] = make_user(roles=(Role.admin,))
    with app.app_context():
        users = {key: db.session.get(User, u.id) for key, u in people.items()}
        debate = debate_by(users["anna"])
        once = comment_by(users["author"], debate, "Un commento segnalato una volta.")
        twice = comment_by(users["author"], debate, "Un commento segnalato due volte.")
        thrice = comment_by(users["author"], debate, "Un commento segnalato tre volte.")
        flag_by([users["anna"]], "comment", once.id)
        flag_by([users["anna"], users["bea"]], "comment", twice.id, "spam")
        flag_by([users["anna"], users["bea"], users["carlo"]], "comment", thrice.id)
        people["debate_id"] = debate.id
        people["comments"] = {"once": once.id, "twice": twice.id, "thrice": thrice.id}
        people["cases"] = {key: services.case_for("comment", cid).id for key, cid in people["comments"].items()}
    return people


def row_ids(response):
    """The case ids of the queue's rows, in page order."""
    return [int(n) for n in re.findall(r'<tr id="case-(\d+)"', response.get_data(as_text=True))]


def decide_url(case_id):
    return f"/moderation/cases/{case_id}/decide"


# --- the queue ------------------------------------------------------------------------------

def test_the_queue_shows_the_most_flagged_first_with_the_dashboard(client, world):
    login(client, world["mod"])
    response = client.get("/moderation")
    assert response.status_code == 200
    cases = world["cases"]
    assert row_ids(response) == [cases["thrice"], cases["twice"], cases["once"]]
    page = response.get_data(as_text=True)
    assert f'id="case-{cases["thrice"]}" data-case-id="{cases["thrice"]}" data-kind="comment" data-flags="3"' in page
    assert 'data-hold="flags"' in page  # three flags hid it
    assert '<dd data-value="3">3</dd>' in page  # waiting in all
    assert 'data-kind="comment" data-count="3"' in page  # waiting, by kind
    assert f'data-case-id="{cases["once"]}"' in page.split('id="dash-oldest"')[1].split("</div>")[0]
    assert "Offensive or abusive ×3" in text_of(response)
    assert 'id="nav-moderation" data-pending="3"' in page  # the header's badge


def test_the_queue_filters_by_status_kind_and_flag_reason(app, client, world):
    login(client, world["mod"])
    cases = world["cases"]
    assert row_ids(client.get("/moderation?reason=spam")) == [cases["twice"]]
    assert row_ids(client.get("/moderation?status=held")) == [cases["thrice"]]
    assert row_ids(client.get("/moderation?kind=debate")) == []
    assert 'id="queue-empty"' in client.get("/moderation?status=decided").text
    assert row_ids(client.get("/moderation?kind=nonsense&status=nonsense")) == row_ids(client.get("/moderation"))
    with app.app_context():
        case = db.session.get(ModerationCase, cases["once"])
        services.decide(case, db.session.get(User, world["mod"].id), "restore")
        db.session.commit()
    assert row_ids(client.get("/moderation?status=decided")) == [cases["once"]]
    assert cases["once"] not in row_ids(client.get("/moderation"))


def test_the_queue_marks_pending_appeals(app, client, world):
    with app.app_context():
        case = db.session.get(ModerationCase, world["cases"]["twice"])
        decision = services.decide(case, db.session.get(User, world["mod"].id), "hide", rule="spam",
                                   reason="Pubblicità.")
        services.appeal(decision, db.session.get(User, world["author"].id), "Non era pubblicità, era un consiglio.")
        db.session.commit()
    login(client, world["mod2"])
    response = client.get("/moderation?status=appeals")
    assert row_ids(response) == [world["cases"]["twice"]]
    assert 'data-appeal="pending"' in response.text
    assert 'id="dash-appeals"><dt>Appeals to decide</dt><dd data-value="1">' in response.text


def test_the_queue_pages_and_keeps_its_filters(app, client, world, monkeypatch):
    with app.app_context():
        flag_by([db.session.get(User, world["dario"].id)], "comment", world["comments"]["twice"])
    monkeypatch.setattr(queue_routes, "PAGE_SIZE", 2)
    login(client, world["mod"])
    first = client.get("/moderation?reason=offensive&kind=comment")
    assert len(row_ids(first)) == 2
    link = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    assert "reason=offensive" in link and "kind=comment" in link and "page=2" in link
    assert row_ids(client.get(link)) == [world["cases"]["once"]]
    assert row_ids(client.get("/moderation?page=99")) == row_ids(client.get("/moderation?page=2"))


@pytest.mark.parametrize("role", ["citizen", "official", "admin"])
def test_only_moderators_open_the_queue_and_cases(client, world, user_for, role):
    login(client, user_for(role))
    assert client.get("/moderation").status_code == 403
    assert client.get(f"/moderation/cases/{world['cases']['once']}").status_code == 403
    assert client.post(decide_url(world["cases"]["once"]), data={"action": "restore"}).status_code == 403
    assert "nav-moderation" not in client.get("/").text


def test_a_visitor_is_sent_to_sign_in(client, world):
    response = client.get("/moderation")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- a case -----------------------------------------------------------------------------------

def test_the_case_page_shows_the_content_flags_and_the_authors_history(app, client, world):
    login(client, world["mod"])
    response = client.get(f"/moderation/cases/{world['cases']['thrice']}")
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="text-body"' in response.text and "Un commento segnalato tre volte." in page
    with app.app_context():
        flags = services.flags_of("comment", world["comments"]["thrice"])
        assert len(flags) == 3
    for f in flags:
        assert f'id="flag-{f.id}" data-reason="offensive"' in response.text
    assert "Anna" in page and "Carlo" in page  # moderators see who flagged
    # The author wrote three comments, each with a case.
    assert f'data-user-id="{world["author"].id}" data-contributions="3" data-cases="3"' in response.text
    assert 'id="other-cases"' in response.text
    assert 'id="no-decision"' in response.text
    for form in ("form-restore", "form-hide", "form-redact", "form-block"):
        assert f'id="{form}"' in response.text
    assert client.get("/moderation/cases/999999").status_code == 404


def test_hide_without_a_reason_is_refused_next_to_the_field_keeping_what_was_typed(app, client, world):
    login(client, world["mod"])
    case_id = world["cases"]["thrice"]
    response = client.post(decide_url(case_id), data={"action": "hide", "hide-rule": "respect", "hide-reason": " "})
    assert response.status_code == 400
    assert 'id="hide-reason-error"' in response.text
    assert '<option selected value="respect">' in response.text
    response = client.post(decide_url(case_id), data={"action": "hide", "hide-rule": "",
                                                      "hide-reason": "Insulti ripetuti a chi partecipa."})
    assert response.status_code == 400
    assert 'id="hide-rule-error"' in response.text
    assert "Insulti ripetuti a chi partecipa." in text_of(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0
        assert db.session.get(ModerationCase, case_id).status == CaseStatus.pending


def test_hide_with_a_rule_and_a_reason_hides_records_and_audits(app, client, world):
    login(client, world["mod"])
    case_id, comment_id = world["cases"]["twice"], world["comments"]["twice"]
    response = client.post(decide_url(case_id), data={
        "action": "hide", "hide-rule": "spam", "hide-reason": "Pubblicità di un negozio.",
        "next": "/moderation?kind=comment"})
    assert response.status_code == 302 and response.headers["Location"] == "/moderation?kind=comment"
    with app.app_context():
        assert db.session.get(Comment, comment_id).hidden_at is not None
        decision = db.session.scalar(select(ModerationDecision).where(ModerationDecision.case_id == case_id))
        assert (decision.action, decision.rule, decision.reason, decision.moderator_id, decision.bulk) == (
            Action.hide, "spam", "Pubblicità di un negozio.", world["mod"].id, False)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.hide"))
        assert (event.target_type, event.target_id, event.actor_id) == ("comment", comment_id, world["mod"].id)
    # An unsafe next is ignored.
    other = client.post(decide_url(world["cases"]["once"]), data={"action": "restore",
                                                                  "next": "https://evil.example.com/"})
    assert other.status_code == 302 and other.headers["Location"] == "/moderation"


def test_redaction_changes_the_text_and_the_original_leaves_the_pages(app, client, world):
    with app.app_context():
        author = db.session.get(User, world["author"].id)
        debate = debate_by(author, title="Ritrovo in piazza",
                           body="Ci vediamo alle 18.\nPer info chiamate Mario al 333 1234567.")
        flag_by([db.session.get(User, world["anna"].id)], "debate", debate.id, "personal_data")
        debate_id, case_id = debate.id, services.case_for("debate", debate.id).id
    login(client, world["mod"])
    page = client.get(f"/moderation/cases/{case_id}")
    assert "333 1234567" in text_of(page)
    # Browsers send a textarea's lines with CRLF: an untouched field is not a change.
    response = client.post(decide_url(case_id), data={
        "action": "redact", "redact-text_title": "Ritrovo in piazza",
        "redact-text_body": "Ci vediamo alle 18.\r\nPer info chiamate Mario [numero rimosso].",
        "redact-rule": "privacy", "redact-reason": "Numero di telefono di un privato."})
    assert response.status_code == 302
    with app.app_context():
        debate = db.session.get(Debate, debate_id)
        assert debate.body == "Ci vediamo alle 18.\nPer info chiamate Mario [numero rimosso]."
        assert debate.title == "Ritrovo in piazza" and debate.hidden_at is None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.redact"))
        assert event.details["original"] == {"body": "Ci vediamo alle 18.\nPer info chiamate Mario al 333 1234567."}
    assert "1234567" not in client.get(f"/moderation/cases/{case_id}").text
    assert "1234567" not in client.get(f"/debates/{debate_id}").text


def test_a_redaction_that_changes_nothing_is_refused(app, client, world):
    login(client, world["mod"])
    case_id = world["cases"]["once"]
    response = client.post(decide_url(case_id), data={
        "action": "redact", "redact-text_body": "Un commento segnalato una volta.",
        "redact-rule": "privacy", "redact-reason": "Dati personali."})
    assert response.status_code == 400
    assert 'id="redact-reason-error"' in response.text
    assert 'id="redact" open' in response.text  # the folded form is open on its error
    with app.app_context():
        assert db.session.get(ModerationCase, case_id).status == CaseStatus.pending


def test_blocking_the_author_needs_a_confirmation_then_blocks(app, client, world):
    login(client, world["mod"])
    case_id = world["cases"]["thrice"]
    data = {"action": "block", "block-rule": "respect", "block-reason": "Insulti in ogni discussione."}
    response = client.post(decide_url(case_id), data=data)
    assert response.status_code == 400 and 'id="block-confirm-error"' in response.text
    assert not refetch(app, User, world["author"].id).is_blocked
    response = client.post(decide_url(case_id), data={**data, "block-confirm": "y"})
    assert response.status_code == 302
    author = refetch(app, User, world["author"].id)
    assert author.is_blocked and author.block_reason == "Insulti in ogni discussione."
    with app.app_context():
        assert db.session.get(Comment, world["comments"]["once"]).hidden_at is not None  # everything it wrote


def test_a_moderator_cannot_decide_on_their_own_content(app, client, world):
    with app.app_context():
        mine = comment_by(db.session.get(User, world["mod"].id), db.session.get(Debate, world["debate_id"]),
                          "Il commento di un moderatore.")
        flag_by([db.session.get(User, world["anna"].id)], "comment", mine.id)
        case_id = services.case_for("comment", mine.id).id
    login(client, world["mod"])
    page = client.get(f"/moderation/cases/{case_id}")
    assert 'id="own-content"' in page.text and 'id="form-hide"' not in page.text
    response = client.post(decide_url(case_id), data={"action": "restore", "restore-reason": ""})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(ModerationCase, case_id).status == CaseStatus.pending


def test_a_profile_case_offers_redaction_and_block_but_no_hiding(app, client, world):
    with app.app_context():
        flag_by([db.session.get(User, world["anna"].id)], "user", world["author"].id)
        case_id = services.case_for("user", world["author"].id).id
    login(client, world["mod"])
    page = client.get(f"/moderation/cases/{case_id}")
    assert page.status_code == 200
    assert 'id="form-hide"' not in page.text and 'id="form-redact"' in page.text
    assert 'name="redact-text_display_name"' in page.text
    response = client.post(decide_url(case_id), data={
        "action": "redact", "redact-text_display_name": "Utente", "redact-text_bio": "",
        "redact-rule": "respect", "redact-reason": "Nome offensivo."})
    assert response.status_code == 302
    assert refetch(app, User, world["author"].id).display_name == "Utente"


# --- bulk decisions -----------------------------------------------------------------------------

def test_bulk_restore_of_two_cases_reports_the_refused_one(app, client, world):
    with app.app_context():
        mine = comment_by(db.session.get(User, world["mod"].id), db.session.get(Debate, world["debate_id"]),
                          "Il commento di un moderatore.")
        flag_by([db.session.get(User, world["anna"].id)], "comment", mine.id)
        own_case = services.case_for("comment", mine.id).id
    login(client, world["mod"])
    cases = world["cases"]
    response = client.post("/moderation/bulk", data={
        "case_id": [str(cases["thrice"]), str(cases["twice"]), str(own_case)], "action": "restore",
        "status": "pending", "kind": "comment", "flag_reason": "", "page": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/moderation?kind=comment"
    with app.app_context():
        for key in ("thrice", "twice"):
            assert db.session.get(ModerationCase, cases[key]).status == CaseStatus.decided
            assert db.session.get(Comment, world["comments"][key]).hidden_at is None
        decisions = db.session.scalars(select(ModerationDecision)).all()
        assert sorted(d.case_id for d in decisions) == sorted([cases["thrice"], cases["twice"]])
        assert all(d.bulk and d.action == Action.restore for d in decisions)
        assert db.session.get(ModerationCase, own_case).status == CaseStatus.pending
    page = text_of(client.get("/moderation?kind=comment"))
    assert "2 items decided." in page
    assert "Not decided: “Il commento di un moderatore.”: You cannot decide on your own content" in page


def test_bulk_hide_needs_a_rule_and_a_reason_and_keeps_the_selection(app, client, world):
    login(client, world["mod"])
    cases = world["cases"]
    response = client.post("/moderation/bulk", data={
        "case_id": [str(cases["once"]), str(cases["twice"])], "action": "hide", "rule": "",
        "reason": "Testo generico per tutti.", "status": "pending", "page": "1"})
    assert response.status_code == 400
    assert 'id="rule-error"' in response.text
    assert f'value="{cases["once"]}" id="sel-{cases["once"]}" checked' in response.text
    assert f'value="{cases["thrice"]}" id="sel-{cases["thrice"]}" >' in response.text
    assert "Testo generico per tutti." in text_of(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0
    nothing = client.post("/moderation/bulk", data={"action": "restore", "status": "held"})
    assert nothing.status_code == 302 and nothing.headers["Location"] == "/moderation?status=held"


def test_bulk_hide_with_a_rule_and_a_reason(app, client, world):
    login(client, world["mod"])
    cases = world["cases"]
    response = client.post("/moderation/bulk", data={
        "case_id": [str(cases["once"]), str(cases["twice"])], "action": "hide", "rule": "spam",
        "reason": "Messaggi pubblicitari.", "status": "pending", "page": "1"})
    assert response.status_code == 302
    with app.app_context():
        for key in ("once", "twice"):
            assert db.session.get(Comment, world["comments"][key]).hidden_at is not None
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "moderation.hide")) == 2


# --- appeals ---------------------------------------------------------------------------------

@pytest.fixture
def appealed(app, world):
    """mod hid the twice-flagged comment; its author appealed."""
    with app.app_context():
        case = db.session.get(ModerationCase, world["cases"]["twice"])
        decision = services.decide(case, db.session.get(User, world["mod"].id), "hide", rule="spam",
                                   reason="Pubblicità.")
        appeal = services.appeal(decision, db.session.get(User, world["author"].id),
                                 "Non era pubblicità, era un consiglio a un vicino.")
        db.session.commit()
        return appeal.id


def test_the_moderator_who_decided_cannot_decide_the_appeal_another_can(app, client, world, appealed):
    case_id = world["cases"]["twice"]
    login(client, world["mod"])
    page = client.get(f"/moderation/cases/{case_id}")
    assert 'id="appeal-own-decision"' in page.text and 'id="form-appeal"' not in page.text
    assert f'id="appeal-{appealed}" data-appeal-status="pending"' in page.text
    refused = client.post(f"/moderation/appeals/{appealed}/decide",
                          data={"outcome": "overturned", "answer": "Ripensandoci, va bene."})
    assert refused.status_code == 400
    assert refetch(app, ModerationAppeal, appealed).status == AppealStatus.pending

    other = new_client(app)
    login(other, world["mod2"])
    page = other.get(f"/moderation/cases/{case_id}")
    assert 'id="form-appeal"' in page.text and 'id="form-hide"' not in page.text
    missing = other.post(f"/moderation/appeals/{appealed}/decide", data={"outcome": "overturned", "answer": ""})
    assert missing.status_code == 400 and 'id="answer-error"' in missing.text
    response = other.post(f"/moderation/appeals/{appealed}/decide",
                          data={"outcome": "overturned", "answer": "Era un consiglio: il commento torna visibile."})
    assert response.status_code == 302
    appeal = refetch(app, ModerationAppeal, appealed)
    assert (appeal.status, appeal.decided_by_id) == (AppealStatus.overturned, world["mod2"].id)
    with app.app_context():
        assert db.session.get(Comment, world["comments"]["twice"]).hidden_at is None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.appeal_overturned"))


def test_no_new_decision_while_an_appeal_waits(app, client, world, appealed):
    login(client, world["mod2"])
    response = client.post(decide_url(world["cases"]["twice"]), data={"action": "restore"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 1


# --- photos under review ----------------------------------------------------------------------

def test_moderators_see_a_removed_photo_nobody_else_does(app, client, world, tmp_path, monkeypatch):
    from app.media.storage import get_storage

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    with app.app_context():
        full, thumb = secrets.token_urlsafe(16) + ".jpg", secrets.token_urlsafe(16) + ".jpg"
        get_storage().save(full, b"\xff\xd8full")
        get_storage().save(thumb, b"\xff\xd8thumb")
        photo = Photo(owner_type="debate", owner_id=world["debate_id"], storage_key=full, thumb_key=thumb, width=10,
                      height=10, thumb_width=5, thumb_height=5, size_bytes=6, uploaded_by_id=world["anna"].id)
        db.session.add(photo)
        db.session.commit()
        photo_id = photo.id
        flag_by([db.session.get(User, world["bea"].id)], "debate", world["debate_id"], "personal_data")
        case_id = services.case_for("debate", world["debate_id"]).id
    login(client, world["mod"])
    assert f'id="photo-{photo_id}"' in client.get(f"/moderation/cases/{case_id}").text
    response = client.post(decide_url(case_id), data={
        "action": "redact", "redact-text_title": "Una piazza per tutti", "redact-text_body": "Parliamone insieme.",
        "redact-remove_photos": str(photo_id), "redact-rule": "privacy", "redact-reason": "Un volto riconoscibile."})
    assert response.status_code == 302
    assert refetch(app, Photo, photo_id).hidden_at is not None
    assert client.get(f"/media/{full}").status_code == 404
    shown = client.get(f"/moderation/photos/{photo_id}?size=thumb")
    assert shown.status_code == 200 and shown.data == b"\xff\xd8thumb"
    assert shown.headers["Cache-Control"] == "private, no-store"
    login(client, world["anna"])
    assert client.get(f"/moderation/photos/{photo_id}").status_code == 403


# --- the word list -------------------------------------------------------------------------------

def test_moderators_and_admins_keep_the_word_list(app, client, world):
    login(client, world["mod"])
    assert client.get("/moderation/words").status_code == 200
    response = client.post("/moderation/words", data={"word": "  Truffa  "})
    assert response.status_code == 302
    with app.app_context():
        word = db.session.scalar(select(ModerationWord))
        assert word.word == "truffa"
        word_id = word.id
    again = client.post("/moderation/words", data={"word": "truffa"})
    assert again.status_code == 400 and 'id="word-error"' in again.text and 'value="truffa"' in again.text
    admin = new_client(app)
    login(admin, world["admin"])
    assert f'id="word-{word_id}" data-word="truffa"' in admin.get("/moderation/words").text
    assert admin.post(f"/moderation/words/{word_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ModerationWord)) == 0
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.word_removed"))
    assert admin.post(f"/moderation/words/{word_id}/delete").status_code == 404
    login(client, world["anna"])
    assert client.post("/moderation/words", data={"word": "altro"}).status_code == 403
