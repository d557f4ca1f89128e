"""IDOR: the ids of other people's things, tried through every endpoint that takes them.

The access matrix (tests/test_access_matrix.py) checks who may call an endpoint at all; here people
who may call it try it on someone else's row: a proposal or pact draft, a data export, an API token,
a review's private notes, another house's assisted-session receipt, a notification, the moderation
file behind a decision, another department's pact office page, a comment, an offer of help, an
organisation, an event. Each attempt must be refused (403/404, or a refusal that changes nothing),
leak nothing of the row, and — where the answer is a 404 — look exactly like the 404 of an id that
does not exist (no oracle). Rows are checked unchanged afterwards.
"""
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import ApiToken, Comment, Debate, Document, Notification, Photo, Role, User
from app.models.base import utcnow
from app.models.pact import Pact, PactStatus
from app.models.proposal import Proposal, ProposalReview
from tests.conftest import TEST_PASSWORD, login, refetch
from tests.http_helpers import english

SECRET = "Segreto-IDOR-7f3a"  # in every private text: it must never reach a page for someone else
DAY = timedelta(days=1)


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


def jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return out.getvalue()


def as_user(client, user):
    with client.session_transaction() as sess:
        sess.clear()
    if user is not None:
        login(client, user)


def swap(path, row_id):
    """``path`` with the id segment ``row_id`` replaced by one that does not exist (None if it has none)."""
    swapped = re.sub(rf"/{row_id}(?=[/.?]|$)", "/999999", path)
    return swapped if swapped != path else None


def _normalised(response):
    """The page without what differs between any two pages (CSRF tokens, the requested path)."""
    text = response.get_data(as_text=True)
    text = re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", text)
    return re.sub(r"/\d+", "/N", text)


def assert_refused(client, method, path, *, secrets=(SECRET,), data=None, missing=None, allowed=(403, 404)):
    """``method path`` is refused and shows none of ``secrets``; with ``missing`` (the same path for an id
    that does not exist), a 404 must be indistinguishable from that one's."""
    response = client.open(path, method=method, data=data or {}, headers={"Accept-Language": "en"})
    assert response.status_code in allowed, f"{method} {path}: {response.status_code}"
    body = response.get_data(as_text=True)
    for secret in secrets:
        assert secret not in body, f"{method} {path} leaks {secret!r}"
    if missing is not None and response.status_code == 404:
        other = client.open(missing, method=method, data=data or {})
        assert other.status_code == 404
        assert _normalised(response) == _normalised(other), f"{path} answers unlike a missing id"
    return response


# --- proposal drafts -----------------------------------------------------------------------------

@pytest.fixture
def proposal_draft(app, make_user):
    from app.media.services import attach_photos
    from tests.test_proposals import build_process, new_proposal

    author, stranger = make_user(email="author@example.org"), make_user(email="stranger@example.org", verified=True)
    official = make_user(roles=[Role.official, Role.citizen])
    with app.test_request_context():
        process = build_process(phases={"collection": (-DAY, DAY), "support": (-DAY, 10 * DAY)})
        proposal = new_proposal(process, db.session.get(User, author.id), publish=False, title=f"Bozza {SECRET}")
        proposal.body = f"Testo privato {SECRET}"
        (photo,) = attach_photos([FileStorage(io.BytesIO(jpeg()), "a.jpg")], "proposal", proposal.id,
                                 db.session.get(User, author.id))
        db.session.commit()
        ids = {"id": proposal.id, "photo": photo.storage_key, "thumb": photo.thumb_key}
    return {"author": author, "stranger": stranger, "official": official, **ids}


def _proposal_state(app, proposal_id):
    with app.app_context():
        p = db.session.get(Proposal, proposal_id)
        return (p.title, p.body, p.status, len(p.coauthors), len(p.addenda),
                p.support_count, db.session.scalar(select(func.count(Photo.id)).where(Photo.owner_type == "proposal")),
                db.session.scalar(select(func.count(Comment.id))))


def test_someone_elses_proposal_draft(app, client, proposal_draft):
    for who in ("visitor", "stranger", "official"):
        _try_proposal_draft(app, client, proposal_draft, who)


def _try_proposal_draft(app, client, d, who):
    before = _proposal_state(app, d["id"])
    as_user(client, None if who == "visitor" else d[who])
    login_redirect = (302,) if who == "visitor" else ()
    pid = d["id"]
    for path in (f"/proposals/{pid}", f"/api/v1/proposals/{pid}", f"/api/v1/comments/proposal/{pid}",
                 f"/media/{d['photo']}", f"/media/{d['thumb']}"):
        assert_refused(client, "GET", path, allowed=(404,),
                       missing=swap(path, pid))
    assert_refused(client, "GET", f"/proposals/{pid}/edit", allowed=(403, 404) + login_redirect)
    posts = {
        f"/proposals/{pid}/edit": {"title": "Preso", "body": "Preso", "category_id": "0"},
        f"/proposals/{pid}/publish": {}, f"/proposals/{pid}/delete": {}, f"/proposals/{pid}/withdraw": {},
        f"/proposals/{pid}/coauthors": {"email": "stranger@example.org"},
        f"/proposals/{pid}/addenda": {"ad-body": "Aggiunta"}, f"/proposals/{pid}/support": {},
        f"/proposals/{pid}/withdraw-support": {}, f"/proposals/{pid}/flag": {"reason": "spam"},
        f"/proposals/{pid}/invitation": {"answer": "accept"}, f"/comments/proposal/{pid}": {"body": "Ciao"},
        f"/follow/proposal/{pid}": {}, f"/flags/proposal/{pid}": {"fl-reason": "spam"},
    }
    for path, data in posts.items():
        assert_refused(client, "POST", path, data=data, allowed=(403, 404) + login_redirect, missing=swap(path, pid))
    for term in ("Bozza", "privato"):  # words of the draft (the page repeats the query itself)
        page = client.get("/search", query_string={"q": term})
        assert SECRET not in page.get_data(as_text=True)
    assert SECRET not in client.get("/proposals").get_data(as_text=True)
    assert SECRET not in client.get("/api/v1/proposals").get_data(as_text=True)
    if who != "visitor":
        assert SECRET not in client.get("/proposals/mine").get_data(as_text=True)
    assert _proposal_state(app, d["id"]) == before


def test_someone_elses_proposal_draft_through_the_api(app, client, proposal_draft):
    response = client.post("/api/v1/tokens", json={"email": "stranger@example.org", "password": TEST_PASSWORD})
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    before = _proposal_state(app, proposal_draft["id"])
    pid = proposal_draft["id"]
    for method, path, body in (("POST", f"/api/v1/proposals/{pid}/support", None),
                               ("DELETE", f"/api/v1/proposals/{pid}/support", None),
                               ("POST", f"/api/v1/comments/proposal/{pid}", {"body": "Ciao"}),
                               ("POST", "/api/v1/flags", {"target_type": "proposal", "target_id": pid,
                                                          "reason": "spam"})):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code in (404, 422), (path, answer.status_code)
        assert SECRET not in answer.get_data(as_text=True)
        missing = client.open(swap(path, pid) or path, method=method,
                              json={**body, "target_id": 999999} if body and "target_id" in body else body,
                              headers=headers)
        assert answer.get_json() == missing.get_json(), path
    assert _proposal_state(app, pid) == before


# --- pact drafts and other departments' pacts ------------------------------------------------------

@pytest.fixture
def pacts(app):
    from app.pacts import attachments
    from tests.pact_builders import draft, pact_world, reload_user, step_to

    with app.app_context():
        world = pact_world()
        pact = draft(world, title=f"Patto {SECRET}")
        pact.objectives = f"Obiettivi {SECRET}"
        attachments.change_attachments(pact, world.user("author"), photos=[jpeg()], documents=[_pdf()])
        db.session.commit()
        draft_id = pact.id
        submitted = draft(world, title=f"Proposta inviata {SECRET}")
        step_to(world, submitted, PactStatus.submitted)
        db.session.commit()
        files = {"photo": db.session.scalar(select(Photo.storage_key).where(Photo.owner_id == draft_id)),
                 "document": db.session.scalar(select(Document.storage_key).where(Document.owner_id == draft_id))}
        users = {role: reload_user(user.id) for role, user in world.users.items()}
        for user in users.values():
            db.session.expunge(user)
        return {"draft": draft_id, "submitted": submitted.id, **files, **users}


def _pdf():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Piano")
    return bytes(pdf.output())


def _pact_state(app, pact_id):
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        return (pact.title, pact.objectives, pact.status, pact.kind, len(pact.parties), len(pact.versions),
                db.session.scalar(select(func.count(Document.id))), pact.consultation_starts_at)


def test_someone_elses_pact_draft(app, client, pacts):
    for who in ("visitor", "stranger", "verified", "other_official", "facilitator"):
        _try_pact_draft(app, client, pacts, who)


def _try_pact_draft(app, client, pacts, who):
    pid = pacts["draft"]
    before = _pact_state(app, pid)
    as_user(client, None if who == "visitor" else pacts[who])
    login_redirect = (302,) if who == "visitor" else ()
    for path in (f"/pacts/{pid}", f"/pacts/{pid}.pdf", f"/pacts/{pid}/receipt", f"/pacts/{pid}/versions/1",
                 f"/api/v1/pacts/{pid}", f"/media/{pacts['photo']}", f"/media/documents/{pacts['document']}"):
        assert_refused(client, "GET", path, allowed=(403, 404) + login_redirect,
                       missing=swap(path, pid))
    assert_refused(client, "GET", f"/pacts/{pid}/edit", allowed=(403, 404) + login_redirect)
    for path, data in {f"/pacts/{pid}/edit": {"title": "Preso"}, f"/pacts/{pid}/submit": {},
                       f"/pacts/{pid}/withdraw": {}, f"/pacts/{pid}/versions": {"text": "Nuovo testo"},
                       f"/pacts/{pid}/join-requests": {"message": "Posso?"}, f"/pacts/{pid}/volunteers": {},
                       f"/pacts/{pid}/sign": {}, f"/comments/pact/{pid}": {"body": "Ciao"}}.items():
        assert_refused(client, "POST", path, data=data, allowed=(403, 404) + login_redirect, missing=swap(path, pid))
    assert SECRET not in client.get("/pacts").get_data(as_text=True)
    assert SECRET not in client.get("/pacts.csv").get_data(as_text=True)
    assert SECRET not in client.get("/api/v1/pacts").get_data(as_text=True)
    assert _pact_state(app, pid) == before


#: The office's actions on a pact, with data that would be enough for the right official.
OFFICE_ACTIONS = {
    "admissible": {"kind": "ordinary"}, "inadmissible": {"reason": "No"}, "integration": {"reason": "Manca"},
    "consultation": {"days": "30"}, "co-design": {}, "approve": {}, "signing": {}, "sign": {},
    "suspend": {"reason": "x"}, "resume": {}, "revoke": {"reason": "x"}, "complete": {}, "renew": {},
    "merge": {"into": "1"}, "versions": {"text": "Testo"}, "meetings": {"place": "Sala", "participants": "Tutti"},
    "support": {},
}


def test_another_departments_official_cannot_open_or_act_on_a_pact(app, client, pacts):
    pid = pacts["submitted"]
    before = _pact_state(app, pid)
    as_user(client, pacts["other_official"])
    assert_refused(client, "GET", f"/office/pacts/{pid}", missing="/office/pacts/999999")
    assert SECRET not in client.get("/office/pacts").get_data(as_text=True)
    for action, data in OFFICE_ACTIONS.items():
        assert_refused(client, "POST", f"/office/pacts/{pid}/{action}", data=data)
    assert _pact_state(app, pid) == before
    as_user(client, pacts["official"])  # the responsible office does see it
    assert SECRET in client.get(f"/office/pacts/{pid}").get_data(as_text=True)


# --- one's own data: exports, tokens, notifications ----------------------------------------------------

def test_the_data_export_is_always_the_requesters_own(app, client, make_user):
    victim = make_user(email="victim@example.org", display_name=f"Vittima {SECRET}")
    me = make_user(email="me@example.org")
    login(client, me)
    for query in ({"user_id": victim.id}, {"id": victim.id}, {"user": victim.email}, {"email": victim.email}):
        response = client.get("/account/data.json", query_string=query)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert SECRET not in body and victim.email not in body and me.email in body
    assert client.get(f"/account/data.json/{victim.id}").status_code == 404


def test_someone_elses_api_token_cannot_be_revoked_or_seen(app, client, make_user):
    from app.api.tokens import issue_token, usable_token

    victim, me = make_user(email="victim@example.org"), make_user(email="me@example.org")
    with app.app_context():
        token, secret = issue_token(db.session.get(User, victim.id), f"Telefono {SECRET}")
        db.session.commit()
        token_id = token.id
    login(client, me)
    refused = client.post(f"/account/tokens/{token_id}/revoke")
    missing = client.post("/account/tokens/999999/revoke")
    assert refused.status_code == missing.status_code
    assert refused.status_code in (403, 404) or refused.headers.get("Location") == missing.headers.get("Location")
    assert SECRET not in client.get("/account/").get_data(as_text=True)
    assert SECRET not in client.get("/account/data.json").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None
        assert usable_token(secret) is not None


def test_someone_elses_notification_cannot_be_opened_or_marked_read(app, client, make_user):
    victim, me = make_user(email="victim@example.org"), make_user(email="me@example.org")
    with app.app_context():
        note = Notification(user_id=victim.id, kind="comment.reply", url=f"/proposals?q={SECRET}",
                            params={"title": SECRET})
        db.session.add(note)
        db.session.commit()
        note_id = note.id
    login(client, me)
    assert_refused(client, "POST", f"/notifications/{note_id}/read", missing="/notifications/999999/read")
    client.post("/notifications/read-all")
    assert SECRET not in client.get("/notifications").get_data(as_text=True)
    assert refetch(app, Notification, note_id).read_at is None


# --- the review office's private notes -------------------------------------------------------------

@pytest.fixture
def review(app, make_user):
    from app.reviews import services
    from tests.test_reviews import build_world, complete_input, make_people

    ids = make_people(make_user)
    with app.app_context():
        built = build_world(ids)
        services.save_draft(built["proposal"], db.session.get(User, ids["official_a"]), complete_input(
            technical_notes=f"Nota tecnica {SECRET}", legal_notes=f"Nota legale {SECRET}",
            economic_notes=f"Nota economica {SECRET}", public_answer="Risposta pubblica.",
            motivation="Motivazione pubblica."))
        db.session.commit()
    return {"proposal": built["proposal"], **{name: refetch(app, User, i) for name, i in ids.items()}}


def test_private_review_notes_stay_in_the_responsible_office(app, client, review):
    pid = review["proposal"]
    as_user(client, review["official_b"])  # another department
    for path in (f"/office/proposals/{pid}/review", f"/office/proposals/{pid}/project"):
        assert_refused(client, "GET", path, allowed=(302, 403, 404))
    assert_refused(client, "POST", f"/office/proposals/{pid}/review",
                   data={"technical": "not_feasible", "technical_notes": "Cambiata", "save": "1"})
    for who in (None, review["author"], review["s1"], review["official_b"]):
        as_user(client, who)
        for path in (f"/proposals/{pid}", f"/api/v1/proposals/{pid}", "/proposals", "/search?q=Nota+tecnica",
                     "/feeds/proposals.atom", "/open-data/proposals.csv"):
            assert SECRET not in client.get(path).get_data(as_text=True), (who, path)
    with app.app_context():
        notes = db.session.scalar(select(ProposalReview.technical_notes))
        assert notes == f"Nota tecnica {SECRET}"
    as_user(client, review["official_a"])
    assert SECRET in client.get(f"/office/proposals/{pid}/review").get_data(as_text=True)


# --- assisted sessions: another house's receipts ----------------------------------------------------------

@pytest.fixture
def receipts(app, make_user):
    from app.models import NeighbourhoodHouse
    from tests import assisted_builders as build

    here, there = make_user(roles=[Role.facilitator]), make_user(roles=[Role.facilitator])
    places = build.places(app)
    with app.app_context():
        (house_a, _, _), (house_b, _, _) = places.houses[:2]
        for user, house in ((here, house_a), (there, house_b)):
            row = db.session.get(User, user.id)
            row.houses.append(db.session.get(NeighbourhoodHouse, house))
        citizen = build.person(f"Persona {SECRET}", utcnow() - timedelta(hours=2))
        citizen.phone = "+39 011 555 1234"
        assisted = build.session(house_a, here.id, utcnow() - timedelta(hours=1), citizen=citizen)
        build.account_created(assisted)
        db.session.commit()
        return {"session": assisted.id, "here": here, "there": there}


@pytest.mark.parametrize("path", ["/assist/sessions/{id}/receipt", "/assist/sessions/{id}/receipt.pdf",
                                  "/assist/sessions/{id}/consent"])
def test_a_facilitator_of_another_house_cannot_read_a_receipt(app, client, receipts, path):
    as_user(client, receipts["there"])
    assert_refused(client, "GET", path.format(id=receipts["session"]), secrets=(SECRET, "555 1234"),
                   allowed=(404,), missing=path.format(id=999999))
    as_user(client, receipts["here"])
    assert client.get(path.format(id=receipts["session"])).status_code == 200


# --- moderation: the file behind a decision ---------------------------------------------------------------

def test_the_author_reads_the_decision_but_not_who_flagged_or_what_they_wrote(app, client, make_user):
    from app.moderation import services

    author = make_user(display_name="Autore")
    flagger = make_user(display_name=f"Segnalatrice {SECRET}")
    stranger = make_user()
    moderator = make_user(roles=[Role.moderator, Role.citizen])
    with app.app_context():
        debate = Debate(author_id=author.id, title="Una piazza per tutti", body="Parliamone.")
        db.session.add(debate)
        db.session.flush()
        services.flag(db.session.get(User, flagger.id), "debate", debate.id, "other", f"Testo della segnalazione {SECRET}")
        case = services.case_for("debate", debate.id)
        decision = services.decide(case, db.session.get(User, moderator.id), "hide", rule="respect",
                                   reason="Motivazione del moderatore.")
        db.session.commit()
        decision_id, case_id = decision.id, case.id
    as_user(client, author)
    page = client.get(f"/moderation/decisions/{decision_id}")
    assert page.status_code == 200 and "Motivazione del moderatore." in page.get_data(as_text=True)
    assert SECRET not in page.get_data(as_text=True)
    assert_refused(client, "GET", f"/moderation/cases/{case_id}")
    as_user(client, stranger)
    assert_refused(client, "GET", f"/moderation/decisions/{decision_id}", secrets=(SECRET, "Motivazione del moderatore"),
                   missing="/moderation/decisions/999999")


# --- other people's comments, debates, offers, organisations, events ------------------------------------------

def test_someone_elses_comment_and_debate_cannot_be_changed(app, client, make_user):
    author, other = make_user(), make_user()
    with app.app_context():
        debate = Debate(author_id=author.id, title=f"Dibattito {SECRET}", body="Parliamone.")
        db.session.add(debate)
        db.session.flush()
        comment = Comment(target_type="debate", target_id=debate.id, author_id=author.id, body="Il mio commento.")
        db.session.add(comment)
        db.session.commit()
        debate_id, comment_id = debate.id, comment.id
    as_user(client, other)
    assert_refused(client, "POST", f"/comments/{comment_id}/edit", data={"body": "Cambiato"})
    assert_refused(client, "POST", f"/comments/{comment_id}/delete")
    assert_refused(client, "GET", f"/debates/{debate_id}/edit")
    assert_refused(client, "POST", f"/debates/{debate_id}/edit", data={"title": "Cambiato", "body": "Cambiato"})
    assert_refused(client, "GET", f"/debates/{debate_id}/proposal")
    with app.app_context():
        assert db.session.get(Comment, comment_id).body == "Il mio commento."
        assert db.session.get(Comment, comment_id).deleted_at is None
        assert db.session.get(Debate, debate_id).title == f"Dibattito {SECRET}"


def test_someone_elses_offer_of_help_cannot_be_edited_or_deleted(app, client, make_user):
    from app.models import HelpOffer

    author, other = make_user(), make_user()
    with app.app_context():
        offer = HelpOffer(user_id=author.id, skills=f"Giardinaggio {SECRET}", availability="Sabato")
        db.session.add(offer)
        db.session.commit()
        offer_id = offer.id
    as_user(client, other)
    assert_refused(client, "GET", f"/opportunities/offers/{offer_id}/edit", missing="/opportunities/offers/999999/edit")
    assert_refused(client, "POST", f"/opportunities/offers/{offer_id}/edit", data={"skills": "Preso"})
    assert_refused(client, "POST", f"/opportunities/offers/{offer_id}/delete")
    with app.app_context():
        assert db.session.get(HelpOffer, offer_id).skills == f"Giardinaggio {SECRET}"


def test_someone_elses_organisation_cannot_be_managed(app, client, make_user, pacts):
    from app.models import Organisation

    with app.app_context():
        db_org = db.session.scalar(select(Organisation))
        org_id, name = db_org.id, db_org.name
    with app.app_context():
        notes_before = db.session.scalar(select(func.count(Notification.id)))
    as_user(client, pacts["stranger"])
    assert_refused(client, "GET", f"/organisations/{org_id}/manage")
    assert_refused(client, "GET", f"/organisations/{org_id}/edit")
    author_id = pacts["author"].id
    for path, data in {f"/organisations/{org_id}/edit": {"name": "Presa", "kind": "association"},
                       f"/organisations/{org_id}/members": {"in-email": pacts["verified"].email,
                                                            "in-role": "representative"},
                       f"/organisations/{org_id}/members/{author_id}/remove": {},
                       f"/organisations/{org_id}/members/{author_id}/role": {"role": "member"}}.items():
        # these actions answer a refusal by going back with a message: what counts is that nothing changed
        assert_refused(client, "POST", path, data=data, allowed=(302, 403, 404))
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        assert org.name == name
        assert {(m.user_id, m.is_representative) for m in org.memberships} >= {(author_id, True)}
        assert db.session.scalar(select(func.count(Notification.id))) == notes_before


def test_an_invalid_action_form_is_a_message_not_a_500(app, client, pacts, proposal_draft):
    """Found by the IDOR tests: a form error whose message was lazily translated failed with a 500."""
    from app.models import Organisation

    with app.app_context():
        org_id = db.session.scalar(select(Organisation.id))
    as_user(client, pacts["author"])  # a representative
    response = client.post(f"/organisations/{org_id}/members", data={"in-email": "", "in-role": "member"})
    assert response.status_code == 302
    as_user(client, proposal_draft["author"])
    response = client.post(f"/proposals/{proposal_draft['id']}/addenda", data={"ad-body": ""})
    assert response.status_code == 302


def test_a_facilitator_cannot_change_another_houses_event(app, client, make_user):
    from app.models import Event, EventKind, NeighbourhoodHouse
    from tests import assisted_builders as build

    here, there = make_user(roles=[Role.facilitator]), make_user(roles=[Role.facilitator])
    places = build.places(app)
    with app.app_context():
        (house_a, _, _), (house_b, _, _) = places.houses[:2]
        for user, house in ((here, house_a), (there, house_b)):
            row = db.session.get(User, user.id)
            row.houses.append(db.session.get(NeighbourhoodHouse, house))
        now = utcnow()
        event = Event(house_id=house_a, kind=EventKind.other, title="Laboratorio", description="Per tutti.", starts_at=now + DAY,
                      ends_at=now + DAY + timedelta(hours=2))
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    as_user(client, there)
    assert_refused(client, "GET", f"/events/{event_id}/edit")
    assert_refused(client, "POST", f"/events/{event_id}/edit", data={"title": "Preso"})
    assert_refused(client, "POST", f"/events/{event_id}/cancel", data={"reason": "x"})
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.title == "Laboratorio" and event.cancelled_at is None
