"""The receipt of an assisted session: each item with its title, time and QR code; the claim code of a
managed account not yet taken over; the same receipt as a PDF; who may see it."""
import io
import re

import pytest
from flask_babel import format_date
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import NeighbourhoodHouse, Report, Role, Support, User, user_houses
from app.models.base import utcnow
from tests.test_api_proposals import make_process, propose
from tests.test_assisted_http import city, facilitator, managed, open_session, report_form, the_session  # noqa: F401
from tests.test_verification import ROSSI

IN_PERSON = {"m-document_type": "identity_card", "m-codice_fiscale": ROSSI, "m-birth_date": "1970-05-01"}


def items_of(html):
    """The <li> of the receipt's list, as text."""
    listing = re.search(r'<ol class="receipt-items" id="receipt-items">(.*?)</ol>', html, re.S)
    assert listing, "the receipt lists no items"
    return re.findall(r'<li class="receipt-item[^"]*">(.*?)</li>', listing.group(1), re.S)


def pdf_text(body):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
def helped(app, client, facilitator, make_user, login_as, city):  # noqa: F811
    """A managed account (verified in person) that placed a report, supported a proposal and commented."""
    author = make_user(verified=True)
    _, process_id = make_process(app)
    proposal_id = propose(app, process_id, author, title="Più alberi in corso Dante")
    login_as(facilitator)
    open_session(client, city)
    assert managed(client, name="Giovanna Senza Email", **IN_PERSON).status_code == 302
    assert client.post("/reports/new", data=report_form(city, title="Buca in via Nizza")).status_code == 302
    assert client.post(f"/proposals/{proposal_id}/support").status_code == 302
    assert client.post(f"/comments/proposal/{proposal_id}", data={"body": "Sono d'accordo, servono."}).status_code \
        == 302
    assisted = the_session(app)
    assert client.post("/assist/session/end").status_code == 302
    with app.app_context():
        report_id = db.session.scalar(select(Report.id))
    return {"session_id": assisted.id, "citizen_id": assisted.citizen_id, "proposal_id": proposal_id,
            "report_id": report_id}


def test_the_receipt_lists_each_item_with_its_title_time_and_a_qr_code_of_its_address(app, client, helped):
    from app.assisted.receipt import QrCodes

    response = client.get(f"/assist/sessions/{helped['session_id']}/receipt?lang=en")
    assert response.status_code == 200
    items = items_of(response.text)
    assert len(items) == 4  # the account, the report, the support, the comment
    assert "Account created" in items[0] and "Giovanna Senza Email" in items[0] and "<svg" not in items[0]
    report_url = f"http://localhost/reports/{helped['report_id']}"
    proposal_url = f"http://localhost/proposals/{helped['proposal_id']}"
    expected = [("Report placed", "Buca in via Nizza", report_url),
                ("Proposal supported", "Più alberi in corso Dante", proposal_url),
                ("Comment written", "Sono d&#39;accordo, servono.", proposal_url + "#comment-")]
    with app.test_request_context():
        qr = QrCodes()
        for item, (label, title, url) in zip(items[1:], expected):
            assert label in item and title in item and url in item
            assert item.count("<svg") == 1
            assert re.search(r'<time datetime="[^"]+">[^<]*\d{1,2}[:.]\d{2}[^<]*</time>', item)
            full_url = re.search(r'href="([^"]+)"', item).group(1)
            assert full_url.startswith(url)
            # The QR code is the one of exactly this address.
            assert str(qr.svg(full_url)) in item
    assert "photo" not in response.text.lower().split('id="receipt-items"')[1].split("</ol>")[0]
    # No outside image or script: the QR codes are inline markup.
    assert "<img" not in response.text
    assert 'href="/static/css/receipt-print.css"' in response.text
    assert f'href="/assist/sessions/{helped["session_id"]}/receipt.pdf' in response.text


def test_an_unclaimed_managed_account_gets_its_claim_code_a_prefilled_claim_address_and_the_expiry(
        app, client, helped):
    from app.assisted import codes
    from app.assisted.receipt import QrCodes

    with app.app_context():
        citizen = db.session.get(User, helped["citizen_id"])
        code = codes.current_claim_code(citizen)
        expires = citizen.claim_expires_at
    page = client.get(f"/assist/sessions/{helped['session_id']}/receipt?lang=en").text
    block = re.search(r'<section class="receipt-claim" id="receipt-claim".*?</section>', page, re.S).group(0)
    assert f'<p class="claim-code" id="claim-code">{code}</p>' in block
    claim_url = f"http://localhost/claim?code={code}"
    assert f'href="{claim_url}"' in block
    with app.test_request_context("/?lang=en"):
        assert f"The code works once, until {format_date(expires, 'long')}." in block
        assert str(QrCodes().svg(claim_url)) in block
    # The claim form opens with the code filled in.
    form = app.test_client().get(f"/claim?code={code}")
    assert f'value="{code}"' in form.text


def test_no_claim_block_once_the_account_is_claimed(app, client, helped):
    from app.assisted import codes

    with app.app_context():
        code = codes.current_claim_code(db.session.get(User, helped["citizen_id"]))
    visitor = app.test_client()
    claimed = visitor.post("/claim", data={"code": code, "email": "giovanna@example.org",
                                           "password": "tre parole lunghe ciliegia"})
    assert claimed.status_code == 302
    page = client.get(f"/assist/sessions/{helped['session_id']}/receipt?lang=en").text
    assert 'id="receipt-claim"' not in page and code not in page
    assert len(items_of(page)) == 4
    assert code not in pdf_text(client.get(f"/assist/sessions/{helped['session_id']}/receipt.pdf").data)


def test_an_ordinary_account_has_no_claim_block(app, client, facilitator, make_user, login_as, city):  # noqa: F811
    from app.assisted import codes

    citizen = make_user(display_name="Carla Codice")
    with app.app_context():
        code = codes.issue_assist_code(db.session.get(User, citizen.id))
        db.session.commit()
    login_as(facilitator)
    open_session(client, city)
    assert client.post("/assist/session/code", data={"c-code": code}).status_code == 302
    assert client.post("/reports/new", data=report_form(city, title="Lampione spento")).status_code == 302
    assisted = the_session(app)
    client.post("/assist/session/end")
    page = client.get(f"/assist/sessions/{assisted.id}/receipt?lang=en").text
    assert 'id="receipt-claim"' not in page and "claim code" not in page.lower()
    [item] = items_of(page)
    assert "Lampione spento" in item and item.count("<svg") == 1
    assert "Carla Codice" in page


def test_the_pdf_has_the_items_and_the_claim_code_and_stays_private(app, client, helped):
    from app.assisted import codes

    with app.app_context():
        code = codes.current_claim_code(db.session.get(User, helped["citizen_id"]))
    response = client.get(f"/assist/sessions/{helped['session_id']}/receipt.pdf?language=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert f'filename="piazza-receipt-{helped["session_id"]}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert code in text
    for words in ("What was done", "Buca in via Nizza", "Più alberi in corso Dante", "Proposal supported",
                  "Giovanna Senza Email", f"claim?code={code}"):
        assert words in text.replace("\n", " "), words
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages[0].images) >= 4  # three items' QR codes and the claim's


def test_the_pdf_is_in_the_persons_own_language_with_its_accents(app, client, helped):
    with app.app_context():
        citizen = db.session.get(User, helped["citizen_id"])
        assert citizen.locale == "it"
    # The facilitator reads the page in English; the person's PDF is in Italian.
    page = client.get(f"/assist/sessions/{helped['session_id']}/receipt?lang=en").text
    assert "/receipt.pdf?language=it" in page and "(Italiano)" in page
    assert "Show this receipt in the person's language" in page
    text = pdf_text(client.get(f"/assist/sessions/{helped['session_id']}/receipt.pdf").data)
    assert "Che cosa è stato fatto" in text and "Città di Torino" in text
    assert "What was done" not in text
    # The page itself can be shown in the person's language, for printing.
    italian = client.get(f"/assist/sessions/{helped['session_id']}/receipt?language=it").text
    assert "Che cosa è stato fatto" in italian


def test_a_hidden_report_is_listed_as_no_longer_public_without_its_title(app, client, helped):
    with app.app_context():
        db.session.get(Report, helped["report_id"]).hidden_at = utcnow()
        db.session.commit()
    page = client.get(f"/assist/sessions/{helped['session_id']}/receipt?lang=en").text
    items = items_of(page)
    assert "Report placed" in items[1] and "No longer public" in items[1]
    assert "Buca in via Nizza" not in page and f"/reports/{helped['report_id']}" not in page
    assert "<svg" not in items[1]
    text = pdf_text(client.get(f"/assist/sessions/{helped['session_id']}/receipt.pdf?language=en").data)
    assert "No longer public" in text and "Buca in via Nizza" not in text


def test_a_withdrawn_support_and_a_hidden_proposal_leave_no_title_behind(app, client, helped):
    from app.models import Proposal

    with app.app_context():
        db.session.delete(db.session.scalar(select(Support).where(Support.user_id == helped["citizen_id"])))
        db.session.get(Proposal, helped["proposal_id"]).hidden_at = utcnow()
        db.session.commit()
    page = client.get(f"/assist/sessions/{helped['session_id']}/receipt?lang=en").text
    items = items_of(page)
    assert "Proposal supported" in items[2] and "No longer there" in items[2]
    # The comment is on a proposal hidden since: neither its text nor the proposal's title is shown.
    assert "Comment written" in items[3] and "No longer public" in items[3]
    assert "Più alberi" not in page and "Sono d" not in page


def test_a_report_held_for_approval_is_listed_with_its_title_and_a_note(app, client, helped):
    from app.models.moderation import CaseStatus, Hold, ModerationCase

    with app.app_context():
        db.session.get(Report, helped["report_id"]).hidden_at = utcnow()
        db.session.add(ModerationCase(target_type="report", target_id=helped["report_id"],
                                      status=CaseStatus.pending, hold=Hold.new_account, opened_at=utcnow()))
        db.session.commit()
    items = items_of(client.get(f"/assist/sessions/{helped['session_id']}/receipt?lang=en").text)
    assert "Buca in via Nizza" in items[1] and "Waiting for a moderator" in items[1]


def test_another_houses_facilitator_gets_404_and_a_citizen_403(app, client, helped, make_user, login_as):
    with app.app_context():
        other_house = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id.desc())).first()
        other_house_id = other_house.id
    stranger = make_user(roles=[Role.facilitator])
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=stranger.id, house_id=other_house_id))
        db.session.commit()
    paths = (f"/assist/sessions/{helped['session_id']}/receipt", f"/assist/sessions/{helped['session_id']}/receipt.pdf")
    login_as(stranger)
    for path in paths:
        assert client.get(path).status_code == 404, path
    assert client.get("/assist/sessions/999999/receipt.pdf").status_code == 404
    login_as(make_user())
    for path in paths:
        assert client.get(path).status_code == 403, path


def test_a_facilitator_of_the_same_house_sees_the_receipt_and_its_pdf(app, client, helped, make_user, login_as,
                                                                      city):  # noqa: F811
    colleague = make_user(roles=[Role.facilitator])
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=colleague.id, house_id=city["house_id"]))
        db.session.commit()
    login_as(colleague)
    assert client.get(f"/assist/sessions/{helped['session_id']}/receipt").status_code == 200
    assert client.get(f"/assist/sessions/{helped['session_id']}/receipt.pdf").status_code == 200


def test_every_kind_of_record_a_receipt_can_describe_has_a_rule_for_what_it_may_show(app):
    from app.assisted import receipt, records

    # A new kind described without a rule would print its title even once hidden by moderation.
    assert set(records.DESCRIBERS) == set(receipt.CHAINS)
