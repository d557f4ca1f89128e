"""The assisted-session journey in a real browser, from issue 7's "Done means".

A facilitator of a Casa del Quartiere signs in, opens "Assisted sessions" from the staff bar,
opens a session at her house and creates a managed account for a woman without email (name,
date of birth, codice fiscale seen on her identity card, both consents). The banner says for whom
she is acting and when the session ends. Through the ordinary pages she places a report on the
map and supports a proposal for her, ends the session and lands on the receipt: both items and
the claim code are there, the Print button prints, and on paper the site's header is gone.

Later, at home, the citizen opens /claim, types the code from the receipt, an email address and
a password, is signed in and reads "My contributions": the report and the support, each "with
help at" the house. The public report page says the same and never names the facilitator.

The database is checked after every step. It runs on a desktop in English and on a phone
(390 × 844, touch) in Italian; visible texts are checked on the English run only. Map tiles are
aborted (tests never reach the internet) and Leaflet comes from app/static/vendor. Screenshots of
the key steps land in tests/artifacts/assisted-*.png for a person to look at.
"""
import re
from urllib.parse import urlsplit

import pytest
from flask_babel import format_time
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import AssistedAction, AssistedSession, AuditEvent, Category, NeighbourhoodHouse, Report, Role, User
from app.models import Support, user_houses
from app.models.assisted import EndReason, IdentifiedBy
from app.seed.demo import seed_places
from tests.browser.conftest import ARTIFACTS, serve
from tests.browser.test_report_journey import LEAFLET_JS, TILES, no_sideways_scroll
from tests.conftest import TEST_PASSWORD
from tests.test_api_proposals import make_process, propose
from tests.test_verification import ROSSI

pytestmark = pytest.mark.browser

FACILITATOR = "Fabiola Facilitatrice"
CITIZEN = "Maria Rossi"
#: ROSSI's codice fiscale says 10 December 1985.
BIRTH_DATE = "1985-12-10"
PROPOSAL_TITLE = "Panchine all'ombra in piazza Bengasi"
REPORT_TITLE = "Marciapiede sconnesso davanti alla fermata"
REPORT_DESCRIPTION = "Le lastre si sono alzate: chi ha il deambulatore inciampa."
CLAIM_EMAIL = "maria.rossi@example.org"
CLAIM_PASSWORD = "gelsomini sul balcone di corso Vigevano"
#: The staff bar's desk link, the page's own submit buttons (the header holds other forms).
DESK_LINK = "header nav.staff-bar a[href='/assist']"
BANNER = "#assisted-banner"
#: Counts the calls of window.print() instead of opening the print dialog.
PRINT_STUB = "window.__printCalls = 0; window.print = function () { window.__printCalls += 1; };"

DEVICES = {
    "desktop": {"locale": "en-US", "viewport": {"width": 1280, "height": 900}},
    "phone": {"locale": "it-IT", "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    """The conftest's live server (same database, CSRF on), with the vendored Leaflet for the report map."""
    assert LEAFLET_JS.exists(), "Leaflet is not vendored: run `make vendor` (needs npm)"
    instance = tmp_path_factory.mktemp("live-assisted-instance")
    with serve(database_url, instance, LEAFLET_LOCAL=True, UPLOAD_DIR=str(instance / "uploads")) as server:
        yield server


@pytest.fixture
def cast(app, make_user):
    """Places and houses; a facilitator attached to one house; a proposal collecting supports (verified only)."""
    facilitator = make_user(roles=[Role.facilitator], display_name=FACILITATOR, email="fabiola@example.org")
    author = make_user(verified=True, display_name="Ugo Autore")
    with app.app_context():
        seed_places()
        db.session.commit()
        from app import geo

        geo.clear_cache()
        house = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id)).first()
        db.session.execute(user_houses.insert().values(user_id=facilitator.id, house_id=house.id))
        category = db.session.scalar(select(Category).where(Category.slug == "marciapiedi"))
        db.session.commit()
        ids = {"house": house.id, "house_name": house.name, "category": category.id}
        db.session.remove()
    _slug, process_id = make_process(app, verified_only=True)
    ids["proposal"] = propose(app, process_id, author, title=PROPOSAL_TITLE)
    return {"facilitator": facilitator, **ids}


# --- helpers ----------------------------------------------------------------------------------------

def offline_page(new_page, device, **extra):
    """A recorded page for ``device`` whose tile requests fail, as offline."""
    page = new_page(**DEVICES[device], **extra)
    page.route(TILES, lambda route: route.abort())
    return page


def site_problems(page):
    """The page's recorded problems, except the tile requests this test blocks on purpose."""
    return [p for p in page.problems if "tile.openstreetmap.org" not in p]


def shot(page, name, device):
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"assisted-{name}-{device}.png"), full_page=True)


def sign_in(page, email, live_server):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("#main form[method=post] button[type=submit]")
    expect(page).to_have_url(live_server("/"))
    expect(page.locator('header form[action="/logout"]')).to_have_count(1)


def the_session(app):
    """The latest assisted session, detached with what the test reads."""
    with app.app_context():
        row = db.session.scalar(select(AssistedSession).order_by(AssistedSession.id.desc()))
        out = {"id": row.id, "citizen_id": row.citizen_id, "house_id": row.house_id, "ended_at": row.ended_at,
               "end_reason": row.end_reason, "identified_by": row.identified_by, "ends_at": row.ends_at,
               "hard_end_at": row.hard_end_at, "facilitator_id": row.facilitator_id}
        db.session.remove()
        return out


def actions(app, session_id):
    with app.app_context():
        rows = [(a.action, a.record_type, a.record_id, a.facilitator_id, a.house_id, a.citizen_id)
                for a in db.session.scalars(select(AssistedAction).where(AssistedAction.session_id == session_id)
                                            .order_by(AssistedAction.id))]
        db.session.remove()
        return rows


def short_time(app, moment, locale):
    """``moment`` as the banner writes it ("short" time in the site's time zone) in ``locale``."""
    with app.test_request_context(f"/?lang={locale}"):
        return format_time(moment, "short")


# --- the journey ------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", list(DEVICES))
def test_a_facilitator_helps_a_citizen_without_email_who_later_claims_the_account(device, new_page, app,
                                                                                  live_server, cast):
    english = device == "desktop"
    phone = device == "phone"
    locale = "en" if english else "it"
    house_name = cast["house_name"]
    proposal_path = f"/proposals/{cast['proposal']}"

    # ---- 1. The facilitator opens a session at her house ---------------------------------------------
    desk = offline_page(new_page, device)
    desk.add_init_script(PRINT_STUB)
    sign_in(desk, cast["facilitator"].email, live_server)
    desk_link = desk.locator(DESK_LINK)
    if english:
        expect(desk_link).to_have_text("Assisted sessions")
    desk_link.click()
    expect(desk).to_have_url(live_server("/assist"))
    expect(desk.locator("#o-house")).to_have_value(str(cast["house"]))  # her only house, chosen already
    if phone:
        no_sideways_scroll(desk, device, "the desk")
    desk.locator("form[action='/assist/sessions'] button[type=submit]").click()
    expect(desk).to_have_url(live_server("/assist/session"))
    expect(desk.locator(BANNER)).to_be_visible()
    expect(desk.locator(BANNER)).to_contain_text(house_name)
    opened = the_session(app)
    assert opened["facilitator_id"] == cast["facilitator"].id and opened["house_id"] == cast["house"]
    assert opened["citizen_id"] is None and opened["ended_at"] is None
    shot(desk, "session-open", device)
    if phone:
        no_sideways_scroll(desk, device, "the session page")

    # ---- 2. She creates a managed account: name, date of birth, the document, both consents ------------
    form = desk.locator("#managed-form")
    if english:
        expect(desk.locator("#managed-title")).to_have_text("Create a managed account")
    form.locator("#m-display_name").fill(CITIZEN)
    form.locator("#m-birth_date").fill(BIRTH_DATE)
    form.locator("#m-locale").select_option(locale)
    form.locator("#m-document_type").select_option("identity_card")
    form.locator("#m-codice_fiscale").fill(ROSSI.lower())
    form.locator("#m-terms").check()
    form.locator("#m-privacy").check()
    form.locator("button[type=submit]").click()
    expect(desk).to_have_url(live_server("/assist/session"))
    expect(desk.locator(".flash-success")).to_be_visible()
    expect(desk.locator("#managed-note")).to_be_visible()
    assisted = the_session(app)  # read right after the page: its banner used this idle end
    with app.app_context():
        citizen = db.session.get(User, assisted["citizen_id"])
        assert citizen.display_name == CITIZEN and citizen.is_managed and citizen.is_verified
        assert citizen.email is None and citizen.password_hash is None
        assert citizen.birth_date.isoformat() == BIRTH_DATE and citizen.locale == locale
        assert citizen.terms_accepted_at is not None and citizen.privacy_accepted_at is not None
        assert citizen.verified_house_id == cast["house"]
        citizen_id = citizen.id
        db.session.remove()
    assert assisted["identified_by"] == IdentifiedBy.managed
    banner = desk.locator(BANNER)
    ends = short_time(app, assisted["ends_at"], locale)
    if english:
        expect(banner.locator("strong")).to_have_text(f"You are acting for {CITIZEN}")
        expect(banner.locator(".assisted-time")).to_have_text(f"ends at {ends}")
    else:
        expect(banner.locator("strong")).to_contain_text(CITIZEN)
        expect(banner.locator(".assisted-time")).to_contain_text(ends)
    # Acting for her: no staff bar, no account menu, no sign-out in the header.
    expect(desk.locator("header nav.staff-bar")).to_have_count(0)
    expect(desk.locator('header form[action="/logout"]')).to_have_count(0)
    shot(desk, "acting", device)
    if phone:
        no_sideways_scroll(desk, device, "the session page while acting")

    # ---- 3. A report through the ordinary form, the pin placed on the map ---------------------------------
    desk.locator("#assisted-shortcuts a[href='/reports/new']").click()
    expect(desk).to_have_url(live_server("/reports/new"))
    expect(desk.locator(BANNER)).to_contain_text(CITIZEN)
    picker = desk.locator("#report-picker")
    expect(picker).to_have_class(re.compile(r"\bleaflet-container\b"))
    desk.select_option("#category_id", str(cast["category"]))
    picker.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = picker.bounding_box()
    with desk.expect_response(lambda r: "/reports/nearby.json" in r.url) as answer:
        centre = {"x": box["width"] / 2, "y": box["height"] / 2}
        if phone:
            picker.tap(position=centre)
        else:
            picker.click(position=centre)
    assert answer.value.status == 200 and answer.value.json()["reports"] == []
    expect(desk.locator("#report-picker .leaflet-marker-pane .leaflet-marker-icon")).to_have_count(1)
    expect(desk.locator("#lat")).not_to_have_value("")
    desk.fill("#title", REPORT_TITLE)
    desk.fill("#description", REPORT_DESCRIPTION)
    if phone:
        no_sideways_scroll(desk, device, "the report form while acting")
    shot(desk, "report-form", device)
    desk.locator("#main form.report-form button[type=submit]").click()
    expect(desk).to_have_url(re.compile(re.escape(live_server("/reports/")) + r"\d+$"))
    report_id = int(urlsplit(desk.url).path.rsplit("/", 1)[1])
    expect(desk.locator("#report-title")).to_have_text(REPORT_TITLE)
    expect(desk.locator("#provenance")).to_contain_text(house_name)
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report.reporter_id == citizen_id  # hers, never the facilitator's
        db.session.remove()

    # ---- 4. A support for the proposal, on its page ---------------------------------------------------
    desk.goto(proposal_path)
    expect(desk.locator(BANNER)).to_contain_text(CITIZEN)
    support = desk.locator(f'form[action="{proposal_path}/support"] button[type=submit]')
    if english:
        expect(support).to_have_text("Support")
    support.click()
    expect(desk).to_have_url(live_server(proposal_path))
    expect(desk.locator(".flash-success")).to_be_visible()
    expect(desk.locator(f'form[action="{proposal_path}/withdraw-support"]')).to_have_count(1)
    expect(desk.locator(".support-panel progress")).to_have_attribute("value", "1")
    with app.app_context():
        support_id = db.session.scalar(select(Support.id).where(Support.user_id == citizen_id,
                                                                Support.proposal_id == cast["proposal"]))
        assert support_id is not None
        db.session.remove()
    done = actions(app, assisted["id"])
    me, house = cast["facilitator"].id, cast["house"]
    assert done == [("account.created", "users", citizen_id, me, house, citizen_id),
                    ("report.created", "reports", report_id, me, house, citizen_id),
                    ("support.cast", "supports", support_id, me, house, citizen_id)]
    shot(desk, "supported", device)
    if phone:
        no_sideways_scroll(desk, device, "the proposal page while acting")

    # ---- 5. She ends the session and lands on the receipt -----------------------------------------------
    desk.locator(f"{BANNER} a[href='/assist/session']").click()
    expect(desk).to_have_url(live_server("/assist/session"))
    expect(desk.locator("#assisted-actions li")).to_have_count(3)
    desk.locator("#end-session").click()
    receipt_path = f"/assist/sessions/{assisted['id']}/receipt"
    expect(desk).to_have_url(live_server(receipt_path))
    ended = the_session(app)
    assert ended["ended_at"] is not None and ended["end_reason"] == EndReason.closed
    expect(desk.locator(BANNER)).to_have_count(0)
    expect(desk.locator("header nav.staff-bar")).to_have_count(1)  # herself again
    receipt = desk.locator("#receipt")
    expect(receipt).to_contain_text(house_name)
    expect(receipt).to_contain_text(CITIZEN)
    items = receipt.locator("#receipt-items li")
    expect(items).to_have_count(3)
    expect(items.nth(1).locator(f"a[href$='/reports/{report_id}']")).to_have_text(REPORT_TITLE)
    expect(items.nth(2).locator(f"a[href$='{proposal_path}']")).to_have_text(PROPOSAL_TITLE)
    if english:
        expect(items.nth(0)).to_contain_text("Account created")
        expect(items.nth(1)).to_contain_text("Report placed")
        expect(items.nth(2)).to_contain_text("Proposal supported")
    claim_code = receipt.locator("#claim-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", claim_code), claim_code
    assert FACILITATOR not in receipt.inner_text()
    if phone:
        no_sideways_scroll(desk, device, "the receipt")
    shot(desk, "receipt", device)

    # The same receipt as a PDF file, fetched with the facilitator's cookies.
    pdf_link = receipt.locator("#receipt-pdf")
    expect(pdf_link).to_have_count(1)
    pdf = desk.request.get(pdf_link.get_attribute("href"))
    assert pdf.status == 200
    assert pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.body().startswith(b"%PDF-")

    # "Print": the button (shown by the script) calls window.print(); on paper the header and footer go.
    print_button = receipt.locator("button[data-print]")
    expect(print_button).to_be_visible()
    if english:
        expect(print_button).to_have_text("Print")
    print_button.click()
    assert desk.evaluate("window.__printCalls") == 1
    desk.emulate_media(media="print")
    expect(desk.locator("header.site-header")).to_be_hidden()
    expect(desk.locator("footer.site-footer")).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(pdf_link).to_be_hidden()
    expect(desk.locator("#claim-code")).to_be_visible()
    expect(items).to_have_count(3)
    shot(desk, "receipt-print", device)
    desk.emulate_media(media="screen")
    expect(desk.locator("header.site-header")).to_be_visible()

    # ---- 6. The facilitator signs out -------------------------------------------------------------
    desk.locator('header form[action="/logout"] button[type=submit]').click()
    expect(desk.locator('header a[href="/login"]')).to_have_count(1)
    with app.app_context():
        events = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("assisted.%"))))
        db.session.remove()
    assert {"assisted.session_opened", "assisted.account.created", "assisted.report.created",
            "assisted.support.cast", "assisted.session_ended"} <= events
    assert site_problems(desk) == []

    # ---- 7. At home, the citizen claims the account with the code from the receipt ---------------------
    home = offline_page(new_page, device)
    home.goto("/claim")
    if english:
        expect(home.locator("h1")).to_have_text("Take over your account")
    home.fill("#code", claim_code.lower().replace("-", " "))  # as typed from paper
    home.fill("#email", CLAIM_EMAIL)
    home.fill("#password", CLAIM_PASSWORD)
    if phone:
        no_sideways_scroll(home, device, "the claim form")
    shot(home, "claim", device)
    home.locator("#main form[method=post] button[type=submit]").click()
    expect(home).to_have_url(live_server("/account/contributions"))
    expect(home.locator(".flash-success")).to_be_visible()
    expect(home.locator('header form[action="/logout"]')).to_have_count(1)  # signed in as herself
    with app.app_context():
        claimed = db.session.get(User, citizen_id)
        assert claimed.email == CLAIM_EMAIL and claimed.claimed_at is not None and not claimed.is_managed
        assert claimed.password_hash and claimed.claim_code_hash is None
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "account.claimed",
                                                             AuditEvent.target_id == citizen_id))
        db.session.remove()

    # "My contributions": the report and the support, each with the house where she had help.
    if english:
        expect(home.locator("h1")).to_have_text("My contributions")
    listed = home.locator("#contributions > li")
    expect(listed).to_have_count(2)
    report_item = listed.filter(has=home.locator(f"a[href='/reports/{report_id}']"))
    support_item = listed.filter(has=home.locator(f"a[href='{proposal_path}']"))
    expect(report_item).to_contain_text(REPORT_TITLE)
    expect(support_item).to_contain_text(PROPOSAL_TITLE)
    for item in (report_item, support_item):
        expect(item.locator(".provenance")).to_contain_text(house_name)
        if english:
            expect(item.locator(".provenance")).to_have_text(f"with help at {house_name}")
    if english:
        expect(report_item).to_contain_text("Report placed")
        expect(support_item).to_contain_text("Proposal supported")
    assert FACILITATOR not in home.content()
    if phone:
        no_sideways_scroll(home, device, "my contributions")
    shot(home, "contributions", device)
    assert site_problems(home) == []

    # ---- 8. Anyone reading the report sees the house, never who helped ----------------------------------
    visitor = offline_page(new_page, device)
    visitor.goto(f"/reports/{report_id}")
    expect(visitor.locator("#report-title")).to_have_text(REPORT_TITLE)
    provenance = visitor.locator("#provenance")
    expect(provenance).to_contain_text(house_name)
    if english:
        expect(provenance).to_have_text(f"with help at {house_name}")
    expect(visitor.locator("main")).to_contain_text(CITIZEN)  # hers: "by Maria Rossi"
    assert FACILITATOR not in visitor.content()
    shot(visitor, "public-report", device)
    visitor.goto(proposal_path)
    expect(visitor.locator(".support-panel progress")).to_have_attribute("value", "1")
    assert FACILITATOR not in visitor.content() and CITIZEN not in visitor.content()  # supporters stay secret
    assert site_problems(visitor) == []
