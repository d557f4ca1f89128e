"""What the public sees of content hidden by moderation, kind by kind: nothing in the lists, the map, the text
search, the JSON API, Open311 and the open data exports; on a direct link, the page's frame with a notice
saying when and why (never the hidden text). A contribution pre-moderation holds was never published: a 404
for others, its page for its author. And the flag forms where they were missing: pact texts and reports,
calls for help, photos and documents.

Every absence is checked against a presence first: each place shows the item's marker word before it is
hidden, so "not there" means something.
"""
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app import geo
from app.api.tokens import issue_token
from app.extensions import db
from app.media.services import attach_photos, photos_of
from app.models import Category, Document, User
from app.models.base import utcnow
from app.models.discussion import Comment, Debate
from app.models.pact import PactStatus
from app.models.report import Flag
from app.moderation import services as moderation
from app.opportunities import services as opportunities
from app.pacts import attachments
from app.pacts import services as pacts
from app.reports import services as reports
from app.seed.demo import seed_places
from tests.conftest import login
from tests.http_helpers import english, new_client, text_of
from tests.pact_builders import draft, make_person, pact_world, reload_user, road_to, step_to
from tests.pdf_builders import plain_pdf
from tests.test_proposals import build_process, new_proposal

S = PactStatus
DAY = timedelta(days=1)
#: Near the demo commons of pact_world (45.07, 7.68), inside the city.
POINT = (45.0702, 7.6803)
BBOX = "7.66,45.06,7.70,45.08"
REASON = "Insulti a un altro partecipante."
BLOCK_REASON = "Pubblicità ripetuta di un negozio."

#: One marker word per item: each is in its item's title or text, and nowhere else.
MARK = {"report": "Smeraldo", "proposal": "Ametista", "debate": "Corallo", "comment": "Ossidiana",
        "help_call": "Topazio", "pact": "Granato", "pact_report": "Berillo", "document": "piano-quarzo"}


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


def jpeg(color="green"):
    out = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def world(app):
    """One of each kind: a writer's report (with a photo), proposal, comment; a debate; an active pact of the
    pact cast with a photo, a document, an accepted report (with a photo) and a call for help. Ids only."""
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        cast = pact_world()
        writer = make_person(verified=True, name="Walter Scrittore")
        flagger = make_person(name="Franca Segnalatrice")
        category = db.session.scalar(select(Category).where(Category.slug == "illuminazione"))

        report = reports.create_report(writer, title=f"Buca {MARK['report']}", category_id=category.id,
                                       description=f"{MARK['report']}: una buca profonda davanti al civico 3.",
                                       lat=POINT[0], lon=POINT[1])
        db.session.flush()
        (report_photo,) = attach_photos([jpeg("red")], "report", report.id, writer)

        process = build_process(threshold=5)
        proposal = new_proposal(process, writer, title=f"Tigli {MARK['proposal']} in via Nizza")
        proposal.lat, proposal.lon = POINT

        debate = Debate(author_id=writer.id, title=f"Piazza {MARK['debate']} per tutti", body="Parliamone.")
        other_debate = Debate(author_id=cast.users["verified"].id, title="Una piazza verde", body="Che ne dite?")
        db.session.add_all([debate, other_debate])
        db.session.flush()
        comment = Comment(target_type="debate", target_id=other_debate.id, author_id=writer.id,
                          body=f"Un commento {MARK['comment']} sopra le righe.")
        db.session.add(comment)
        db.session.commit()

        pact = draft(cast, title=f"Orto {MARK['pact']}")
        attachments.change_attachments(pact, cast.user("author"), photos=[jpeg()], documents=[
            FileStorage(io.BytesIO(plain_pdf()), filename=f"{MARK['document']}.pdf", content_type="application/pdf")])
        db.session.commit()
        for step in road_to(S.active):
            pact = step_to(cast, pact, step, now=utcnow() - 30 * DAY)
        pact_report = attachments.file_report(
            pact, cast.user("author"), photos=[jpeg("blue")], period_start=pact.starts_on,
            period_end=pact.starts_on, activities=f"Resoconto {MARK['pact_report']}: pulizia delle aiuole.",
            volunteer_hours=4)
        db.session.commit()
        pacts.review_report(pact_report, cast.user("official"), accepted=True)
        starts = utcnow() + DAY
        call = opportunities.create_call(
            cast.user("author"), pact_id=pact.id, title=f"Pulizia {MARK['help_call']}", lat=POINT[0], lon=POINT[1],
            starts_at=starts, ends_at=starts + timedelta(hours=3), skills="gardening", people_needed=3)
        db.session.commit()

        (pact_photo,) = photos_of("pact", pact.id)
        (document,) = db.session.scalars(select(Document).where(Document.owner_id == pact.id)).all()
        ids = {
            "report": report.id, "report_photo": report_photo.id, "report_photo_key": report_photo.thumb_key,
            "proposal": proposal.id, "debate": debate.id, "other_debate": other_debate.id, "comment": comment.id,
            "pact": pact.id, "commons": pact.commons_id, "pact_report": pact_report.id, "pact_photo": pact_photo.id,
            "document": document.id, "document_key": document.storage_key, "help_call": call.id,
        }
        # Loaded afresh and detached, so that their columns stay readable after this context.
        people = {role: reload_user(user.id) for role, user in cast.users.items()}
        people.update(writer=reload_user(writer.id), flagger=reload_user(flagger.id))
        db.session.expunge_all()
        return {"people": people, **ids}


def hide(app, world, target_type, target_id):
    """A citizen flags the item and a moderator hides it, with a reason and the rule broken."""
    with app.app_context():
        moderation.flag(db.session.get(User, world["people"]["flagger"].id), target_type, target_id, "offensive")
        case = moderation.case_for(target_type, target_id)
        moderation.decide(case, db.session.get(User, world["people"]["moderator"].id), "hide", rule="respect",
                          reason=REASON)
        db.session.commit()


def features(layer):
    return f"/api/v1/map/features?bbox={BBOX}&zoom=17&layers={layer}"


def body(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return text_of(response)


def assert_shown_then_gone(app, client, world, target_type, places, *, hide_id=None):
    """The marker is in every place before the item is hidden, and in none of them after."""
    marker = MARK[target_type]
    for path in places:
        assert marker in body(client, path), f"{marker} missing from {path} before hiding"
    hide(app, world, target_type, hide_id or world[target_type])
    for path in places:
        assert marker not in body(client, path), f"{marker} still in {path} after hiding"


def assert_placeholder(client, path, marker):
    """The direct link answers 200: the notice with the date and the reason, not a word of the content."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    page = text_of(response)
    assert "data-moderation-notice" in page and "Hidden by moderation on" in page and REASON in page
    assert marker not in page
    assert '<meta name="robots" content="noindex">' in page
    return page


# --- each kind, hidden by a moderator --------------------------------------------------------------------

def test_a_hidden_report_is_gone_from_lists_map_api_and_open311_and_its_link_shows_the_notice(app, client, world):
    rid, writer = world["report"], world["people"]["writer"]
    assert client.get(f"/api/v1/reports/{rid}").status_code == 200
    assert client.get(f"/open311/v2/requests/{rid}.json").status_code == 200
    assert_shown_then_gone(app, client, world, "report", [
        "/reports", features("reports"), "/map?layers=reports&lat=45.0702&lon=7.6803&z=17", "/api/v1/reports",
        "/open311/v2/requests.json", "/open311/v2/requests.xml"])
    assert client.get(f"/api/v1/reports/{rid}").status_code == 404
    assert client.get(f"/open311/v2/requests/{rid}.json").status_code == 404
    page = assert_placeholder(client, f"/reports/{rid}", MARK["report"])
    # No photos, no map marker, no comments, no actions, not even the reporter's name.
    assert world["report_photo_key"] not in page and "data-lat" not in page
    assert 'id="comments"' not in page and "Follow this report" not in page and writer.display_name not in page
    login(client, world["people"]["stranger"])
    assert_placeholder(client, f"/reports/{rid}", MARK["report"])
    assert "/flags/report" not in client.get(f"/reports/{rid}").text


def test_a_hidden_proposal_is_gone_from_lists_search_map_and_api_and_its_link_shows_the_notice(app, client, world):
    pid, writer = world["proposal"], world["people"]["writer"]
    assert client.get(f"/api/v1/proposals/{pid}").status_code == 200
    assert_shown_then_gone(app, client, world, "proposal", [
        "/proposals", f"/proposals/similar?q=Tigli+{MARK['proposal']}", features("proposals"), "/api/v1/proposals",
        f"/people/{writer.id}"])
    assert client.get(f"/api/v1/proposals/{pid}").status_code == 404
    page = assert_placeholder(client, f"/proposals/{pid}", MARK["proposal"])
    assert "Support" not in page and "data-lat" not in page


def test_a_hidden_debate_is_gone_from_the_list_and_the_profile_and_its_link_shows_the_notice(app, client, world):
    assert_shown_then_gone(app, client, world, "debate", ["/debates", f"/people/{world['people']['writer'].id}"])
    page = assert_placeholder(client, f"/debates/{world['debate']}", MARK["debate"])
    assert 'id="comments"' not in page


def test_a_hidden_comment_shows_the_notice_with_date_and_reason_in_its_thread(app, client, world):
    path = f"/debates/{world['other_debate']}"
    assert MARK["comment"] in body(client, path)
    hide(app, world, "comment", world["comment"])
    page = body(client, path)
    assert MARK["comment"] not in page and world["people"]["writer"].display_name not in page
    thread = page[page.index('id="comment-'):]
    assert "data-moderation-notice" in thread and "Hidden by moderation on" in thread and REASON in thread
    assert "Comment hidden by moderation." not in thread  # the date and the reason say more
    assert "Una piazza verde" in page  # the debate itself stays


def test_a_hidden_call_for_help_is_gone_from_the_list_map_and_pact_and_its_link_shows_the_notice(app, client, world):
    assert_shown_then_gone(app, client, world, "help_call", [
        "/opportunities", features("help-calls"), f"/pacts/{world['pact']}"])
    page = assert_placeholder(client, f"/opportunities/{world['help_call']}", MARK["help_call"])
    assert "Can you come?" not in page and "data-lat" not in page


def test_a_hidden_pact_is_gone_from_registry_map_api_exports_and_commons_and_its_link_shows_the_notice(
        app, client, world):
    pact_id = world["pact"]
    assert client.get(f"/api/v1/pacts/{pact_id}").status_code == 200
    assert_shown_then_gone(app, client, world, "pact", [
        "/pacts", features("pacts"), "/api/v1/pacts", "/pacts.csv", "/pacts.geojson", f"/commons/{world['commons']}"])
    assert MARK["pact"] not in body(client, "/commons.geojson")
    assert client.get(f"/api/v1/pacts/{pact_id}").status_code == 404
    page = assert_placeholder(client, f"/pacts/{pact_id}", MARK["pact"])
    assert MARK["document"] not in page and MARK["pact_report"] not in page and MARK["help_call"] not in page
    assert "Curare il verde" not in page and "/media/" not in page
    # Its proponents keep the whole page, with the notice on top.
    login(client, world["people"]["author"])
    own = body(client, f"/pacts/{pact_id}")
    assert MARK["pact"] in own and "data-moderation-notice" in own and REASON in own


def test_a_hidden_pact_report_shows_the_notice_in_its_place_and_leaves_the_api(app, client, world):
    pact_id = world["pact"]
    assert len(client.get(f"/api/v1/pacts/{pact_id}").get_json()["reports"]) == 1
    assert MARK["pact_report"] in body(client, f"/pacts/{pact_id}")
    hide(app, world, "pact_report", world["pact_report"])
    page = body(client, f"/pacts/{pact_id}")
    assert MARK["pact_report"] not in page
    entry = page[page.index(f'id="report-{world["pact_report"]}"'):]
    assert "data-moderation-notice" in entry and REASON in entry
    assert 'data-report-photos' not in page
    assert MARK["pact"] in page  # the pact itself stays
    assert client.get(f"/api/v1/pacts/{pact_id}").get_json()["reports"] == []


def test_a_hidden_photo_leaves_the_gallery_and_is_not_served_the_rest_stays(app, client, world):
    page = body(client, f"/reports/{world['report']}")
    assert world["report_photo_key"] in page
    assert client.get(f"/media/{world['report_photo_key']}").status_code == 200
    hide(app, world, "photo", world["report_photo"])
    page = body(client, f"/reports/{world['report']}")
    assert world["report_photo_key"] not in page and MARK["report"] in page
    assert client.get(f"/media/{world['report_photo_key']}").status_code == 404


def test_a_hidden_document_is_neither_listed_nor_served_the_pact_stays(app, client, world):
    key = world["document_key"]
    assert client.get(f"/media/documents/{key}").status_code == 200
    assert_shown_then_gone(app, client, world, "document", [f"/pacts/{world['pact']}"])
    assert client.get(f"/media/documents/{key}").status_code == 404
    assert MARK["pact"] in body(client, f"/pacts/{world['pact']}")


# --- pending, held, blocked --------------------------------------------------------------------------------

def test_flags_hide_pending_review_and_the_link_says_so(app, client, world, make_user):
    flaggers = [make_user() for _ in range(app.config["MODERATION_HIDE_THRESHOLD"])]
    with app.app_context():
        for user in flaggers:
            moderation.flag(db.session.get(User, user.id), "debate", world["debate"], "spam")
        db.session.commit()
    response = client.get(f"/debates/{world['debate']}")
    page = text_of(response)
    assert response.status_code == 200 and "data-moderation-notice" in page
    assert "Hidden pending review on" in page and "flagged by several people, waiting for a moderator" in page
    assert MARK["debate"] not in page and MARK["debate"] not in body(client, "/debates")


def test_a_held_contribution_is_a_404_to_others_and_its_page_to_its_author(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MODERATION_HOLD_FIRST", 1)
    with app.app_context():
        newcomer = make_person(name="Nadia Nuova")
        category = db.session.scalar(select(Category).where(Category.slug == "illuminazione"))
        held = reports.create_report(newcomer, title="Lampione Zircone", description="Spento da giorni.",
                                     category_id=category.id, lat=POINT[0], lon=POINT[1])
        db.session.commit()
        held_id, newcomer = held.id, reload_user(newcomer.id)
        assert moderation.hidden_notice("report", held)["held"] is True
    assert client.get(f"/reports/{held_id}").status_code == 404
    login(client, world["people"]["stranger"])
    assert client.get(f"/reports/{held_id}").status_code == 404
    author = new_client(app)
    login(author, newcomer)
    own = author.get(f"/reports/{held_id}")
    assert own.status_code == 200 and "Lampione Zircone" in text_of(own)
    assert "once a moderator has looked at it" in text_of(own)


def test_a_blocked_authors_content_shows_the_notice_on_direct_links(app, client, world):
    with app.app_context():
        moderation.block_user(db.session.get(User, world["people"]["writer"].id),
                              db.session.get(User, world["people"]["moderator"].id), rule="spam", reason=BLOCK_REASON)
        db.session.commit()
    for kind, path in (("report", f"/reports/{world['report']}"), ("proposal", f"/proposals/{world['proposal']}"),
                       ("debate", f"/debates/{world['debate']}")):
        response = client.get(path)
        page = text_of(response)
        assert response.status_code == 200 and "data-moderation-notice" in page, path
        # The public reads that the author was blocked, under which rule; the justification was for them.
        assert "its author's account was blocked" in page and BLOCK_REASON not in page, path
        assert MARK[kind] not in page, path
    thread = body(client, f"/debates/{world['other_debate']}")
    assert "its author&#39;s account was blocked" in thread or "its author's account was blocked" in thread
    assert BLOCK_REASON not in thread and MARK["comment"] not in thread


def test_a_hidden_draft_stays_a_404(app, client, world):
    """A blocked author's drafts are hidden too; nobody else knew they existed, and nobody learns it now."""
    with app.app_context():
        draft_pact = draft_of_writer(world)
        moderation.block_user(db.session.get(User, world["people"]["writer"].id),
                              db.session.get(User, world["people"]["moderator"].id), rule="spam", reason=BLOCK_REASON)
        db.session.commit()
    assert client.get(f"/proposals/{draft_pact}").status_code == 404


def draft_of_writer(world):
    process = build_process(threshold=5)
    return new_proposal(process, db.session.get(User, world["people"]["writer"].id), publish=False,
                        title="Bozza Ametista").id


# --- who sees what behind the notice ---------------------------------------------------------------------

def test_a_moderator_sees_the_content_behind_the_notice_with_the_case(app, client, world):
    hide(app, world, "report", world["report"])
    assert "data-moderator-view" not in body(client, f"/reports/{world['report']}")
    login(client, world["people"]["moderator"])
    page = body(client, f"/reports/{world['report']}")
    assert "data-moderation-notice" in page and "data-moderator-view" in page and MARK["report"] in page
    with app.app_context():
        case_id = moderation.case_for("report", world["report"]).id
    assert f"/moderation/cases/{case_id}" in page


def test_the_author_of_hidden_content_finds_the_statement_of_reasons(app, client, world):
    hide(app, world, "debate", world["debate"])
    login(client, world["people"]["writer"])
    page = body(client, f"/debates/{world['debate']}")
    assert "data-moderation-notice" in page and MARK["debate"] not in page
    with app.app_context():
        decision_id = moderation.case_for("debate", world["debate"]).last_decision_id
    assert f"/moderation/decisions/{decision_id}" in page


def test_a_moderator_reaches_the_case_of_a_hidden_comment_from_the_thread(app, client, world):
    hide(app, world, "comment", world["comment"])
    assert "/moderation/cases/" not in body(client, f"/debates/{world['other_debate']}")
    login(client, world["people"]["moderator"])
    assert "/moderation/cases/" in body(client, f"/debates/{world['other_debate']}")


# --- flag forms where they were missing --------------------------------------------------------------------

def flag_actions(page):
    return {part.split('"', 1)[0] for part in page.split('action="/flags/')[1:]}


def test_the_pact_page_offers_flags_on_its_text_reports_photos_and_documents_to_other_citizens(app, client, world):
    path = f"/pacts/{world['pact']}"
    expected = {f"pact/{world['pact']}", f"pact_report/{world['pact_report']}", f"photo/{world['pact_photo']}",
                f"document/{world['document']}"}
    assert flag_actions(body(client, path)) == set()  # visitors: sign in first
    login(client, world["people"]["stranger"])
    page = body(client, path)
    assert expected <= flag_actions(page)
    with app.app_context():
        (report_photo,) = photos_of("pact_report", world["pact_report"])
        assert f"photo/{report_photo.id}" in flag_actions(page)
    # Unique ids even with several boxes on one page.
    ids = [chunk.split('"', 1)[0] for chunk in page.split(' id="')[1:]]
    assert len(ids) == len(set(ids))
    login(client, world["people"]["author"])
    assert flag_actions(body(client, path)) == set()  # the proponents edit or withdraw instead


def test_flagging_a_document_comes_back_to_the_pact_page(app, client, world):
    login(client, world["people"]["stranger"])
    back = f"/pacts/{world['pact']}#documents-title"
    response = client.post(f"/flags/document/{world['document']}",
                           data={"fl-reason": "personal_data", "fl-text": "Il mio numero di telefono", "next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    with app.app_context():
        flag = db.session.scalar(select(Flag).where(Flag.target_type == "document"))
        assert (flag.target_id, flag.user_id) == (world["document"], world["people"]["stranger"].id)


def test_documents_can_be_flagged_through_the_api(app, client, world):
    with app.app_context():
        _token, secret = issue_token(db.session.get(User, world["people"]["stranger"].id), "test")
        db.session.commit()
    response = client.post("/api/v1/flags", json={"target_type": "document", "target_id": world["document"],
                                                  "reason": "illegal"}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201, response.get_json()


def test_a_call_for_help_and_report_photos_offer_flags_but_not_to_their_authors(app, client, world):
    login(client, world["people"]["stranger"])
    assert f"help_call/{world['help_call']}" in flag_actions(body(client, f"/opportunities/{world['help_call']}"))
    assert f"photo/{world['report_photo']}" in flag_actions(body(client, f"/reports/{world['report']}"))
    login(client, world["people"]["author"])
    assert flag_actions(body(client, f"/opportunities/{world['help_call']}")) == set()
    login(client, world["people"]["writer"])
    assert f"photo/{world['report_photo']}" not in flag_actions(body(client, f"/reports/{world['report']}"))


def test_a_flagged_photo_comes_back_to_its_gallery(app, client, world):
    login(client, world["people"]["stranger"])
    back = f"/reports/{world['report']}#report-photos"
    response = client.post(f"/flags/photo/{world['report_photo']}", data={"fl-reason": "personal_data", "next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    with app.app_context():
        assert db.session.scalar(select(Flag.target_id).where(Flag.target_type == "photo")) == world["report_photo"]


def test_the_document_kind_is_registered_for_moderation(app, world):
    from app.moderation.registry import kind_for

    with app.app_context():
        kind = kind_for("document")
        document = db.session.get(Document, world["document"])
        assert kind.title(document) == f"{MARK['document']}.pdf"
        assert kind.author_id(document) == world["people"]["author"].id
        assert kind.url(document) == f"/pacts/{world['pact']}"
        assert kind.published(document)
