"""The collaboration pact journey in a real browser, from issue 5's "Done means".

The representative of an association (a verified citizen) opens a green area of the City's
registry, proposes a pact for it at /pacts/new and submits it (protocol number, receipt). An
official of the parks department finds it in the office's queue, declares it admissible and opens
the public consultation. A neighbour comments on the pact page and asks to join; the
representative declines the request (the association signs alone, the neighbour stays a
commenter). A month passes (the pact's clock is moved back in the database: there is no
scheduler to wait for); the official starts co-design (version 1, the standard template); the
official writes version 2 on the office page, the representative version 3 on the pact page, and
the diff page shows what changed. The official records a meeting at a Casa del Quartiere,
approves version 3, opens the signing and signs for the City; the representative signs for the
association, reading the SHA-256 of the text, and the pact becomes active. A volunteer joins.
Three months pass; the representative files a report, the official accepts it, and a visitor
reads the active pact: its signatures matching the approved text, one volunteer, the report; and
when the published text is tampered with in the database, the page says the signatures no longer match.

The database is checked after every step: status, history rows, audit events, signatures'
SHA-256, volunteers, the report's review. The journey runs on a desktop in English and on a phone
(390 × 844, touch) in Italian; screenshots land in tests/artifacts/pact-*.png. Visible texts are
checked on the English run only: the checks rely on ids, names, form actions and the data the
test wrote.
"""
import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import geo
from app.commons import services as commons_services
from app.extensions import db
from app.models import AuditEvent, Notification, Role, User
from app.models.base import utcnow
from app.models.commons import CommonsKind, OrganisationKind
from app.models.discussion import Comment
from app.models.pact import (
    Pact,
    PactJoinRequest,
    PactKind,
    PactMeeting,
    PactReport,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactVersion,
    PactVolunteer,
    PartyKind,
    ReportReview,
    RequestStatus,
)
from app.models.place import NeighbourhoodHouse
from app.models.user import Department
from app.pacts.services import rome_date
from app.seed.demo import seed_places
from tests.browser import test_report_journey as report_journey
from tests.browser.conftest import serve
from tests.browser.test_report_journey import (
    DEVICES,
    LEAFLET_JS,
    no_sideways_scroll,
    offline_page,
    sign_in,
    site_problems,
)

pytestmark = pytest.mark.browser

S = PactStatus
DAY = timedelta(days=1)

#: The Giardino Nicola Grosa, San Salvario: a green area of the City's registry (parks department).
GARDEN = "Giardino Nicola Grosa"
GARDEN_POINT = (45.0540, 7.6795)
ASSOCIATION = "Associazione Amici del Giardino Grosa"
ASSOCIATION_TAX_CODE = "97654321013"  # a codice fiscale of a body: 11 digits, the last one the check digit
TITLE = "Cura del Giardino Grosa: aiuole, panchine e sabati aperti"
OBJECTIVES = "Rendere il giardino **curato e accogliente** per le famiglie del quartiere."
ACTIVITIES = "- Marzo–aprile: pulizia e nuove aiuole\n- Poi ogni sabato mattina: sfalcio, annaffiatura, piccola manutenzione"
BENEFICIARIES = "Le famiglie di San Salvario e i bambini della scuola di via Giacosa."
OWN_RESOURCES = "- Persone: dodici volontari dell'associazione\n- Attrezzi: tagliaerba e rastrelli propri"
SUPPORT_ITEM = "Sacchi e guanti da lavoro"
COMMENT = "Bellissima idea: d'estate il giardino ha bisogno di acqua tutti i giorni, non solo il sabato."
JOIN_MESSAGE = "Abito di fronte al giardino e vorrei partecipare alla proposta."
#: Version 2 (the official): a section on opening hours. Version 3 (the representative) changes a line, adds one.
OFFICIAL_SECTION = "## Apertura del giardino\n\n- Il giardino resta aperto a tutti il sabato dalle 9 alle 12."
OFFICIAL_LINE = "- Il giardino resta aperto a tutti il sabato dalle 9 alle 12."
PROPONENT_LINE = "- Il giardino resta aperto a tutti il sabato dalle 9 alle 13."
PROPONENT_NEW_LINE = "- Da aprile a settembre anche la domenica mattina, dalle 9 alle 12."
OFFICIAL_NOTE = "Orari di apertura concordati con la Circoscrizione."
PROPONENT_NOTE = "Un'ora in più il sabato e la domenica d'estate."
MINUTES = "Concordati gli orari di apertura e la consegna dei sacchi a marzo."
PARTICIPANTS = "Ufficio Verde; Amici del Giardino Grosa (due rappresentanti)"
REPORT_ACTIVITIES = "Sei sabati di pulizia, **quattro aiuole** nuove, annaffiatura estiva."
REPORT_RESULTS = "Il giardino è tornato frequentato dalle famiglie."
REVIEW_NOTE = "Grazie: relazione completa."


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    assert LEAFLET_JS.exists(), "Leaflet is not vendored: run `make vendor` (needs npm)"
    instance = tmp_path_factory.mktemp("live-pact-instance")
    with serve(database_url, instance, LEAFLET_LOCAL=True, UPLOAD_DIR=str(instance / "uploads")) as server:
        yield server


@pytest.fixture
def cast(app, make_user):
    """The places; an official of the parks department; the garden in the registry; the association and its
    representative (verified); a neighbour and a volunteer (confirmed citizens); another official elsewhere."""
    people = {
        "representative": make_user(verified=True, display_name="Elena Rossi"),
        "neighbour": make_user(display_name="Paolo Neri"),
        "volunteer": make_user(display_name="Giorgio Bianchi"),
        "official": make_user(roles=[Role.official], display_name="Ufficio Verde"),
        "other_official": make_user(roles=[Role.official], display_name="Ufficio Strade"),
    }
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        parks = db.session.scalar(select(Department).where(Department.slug == "verde"))
        roads = db.session.scalar(select(Department).where(Department.slug == "suolo-pubblico"))
        official = db.session.get(User, people["official"].id)
        official.departments = [parks]
        db.session.get(User, people["other_official"].id).departments = [roads]
        db.session.commit()
        district_id = geo.district_for(*GARDEN_POINT)
        garden = commons_services.create_commons(
            db.session.get(User, people["official"].id), name=GARDEN, kind=CommonsKind.green_area,
            lat=GARDEN_POINT[0], lon=GARDEN_POINT[1], address="Via Saluzzo / via Morgari",
            description="Il giardino pubblico tra via Saluzzo e via Morgari.", district_id=district_id,
            department_id=parks.id)
        association = commons_services.create_organisation(
            db.session.get(User, people["representative"].id), name=ASSOCIATION, kind=OrganisationKind.association,
            description="Volontari del quartiere per il verde di San Salvario.", tax_code=ASSOCIATION_TAX_CODE,
            district_id=district_id)
        db.session.commit()
        house = db.session.scalar(select(NeighbourhoodHouse).where(NeighbourhoodHouse.slug == "san-salvario"))
        ids = {"department": parks.id, "garden": garden.id, "association": association.id, "house": house.id,
               "district": district_id}
        db.session.remove()
    assert ids["district"] is not None, "the garden is outside every district"
    return {**people, **ids}


# --- helpers ---------------------------------------------------------------------------------------

def shot(page, name, device):
    report_journey.shot(page, name, device, journey="pact")


def submit_in(page, selector):
    """Click the submit button of the form matched by ``selector`` (inside #main)."""
    page.locator(f"#main {selector} button[type=submit]").click()


def expect_flash_success(page):
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".flash-error")).to_have_count(0)


def pact_state(app, pact_id):
    """What the database says of the pact: status, history, parties, versions, signatures, people, reports."""
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        state = {
            "status": pact.status, "kind": pact.kind, "protocol": pact.protocol_number,
            "department": pact.department_id, "official": pact.official_id, "district": pact.district_id,
            "organisation": pact.organisation_id, "commons": pact.commons_id, "created_by": pact.created_by_id,
            "history": [(c.from_status, c.to_status, c.actor_id) for c in db.session.scalars(
                select(PactStatusChange).where(PactStatusChange.pact_id == pact_id).order_by(PactStatusChange.id))],
            "parties": sorted((p.kind, p.organisation_id, p.user_id) for p in pact.parties),
            "versions": [(v.number, v.author_id, v.text) for v in db.session.scalars(
                select(PactVersion).where(PactVersion.pact_id == pact_id).order_by(PactVersion.number))],
            "approved_number": pact.approved_version_number, "approved_sha": pact.approved_text_sha256,
            "signatures": [(s.party.kind, s.signer_id, s.text_sha256, s.version.number, s.capacity)
                           for s in db.session.scalars(select(PactSignature).where(PactSignature.pact_id == pact_id)
                                                       .order_by(PactSignature.id))],
            "volunteers": [(v.user_id, v.left_at, v.accepted_rules_at is not None) for v in db.session.scalars(
                select(PactVolunteer).where(PactVolunteer.pact_id == pact_id))],
            "reports": [(r.id, r.review, r.reviewed_by_id, r.submitted_by_id, r.period_start, r.period_end,
                         r.volunteer_hours, r.beneficiaries_reached, r.activities) for r in db.session.scalars(
                select(PactReport).where(PactReport.pact_id == pact_id).order_by(PactReport.id))],
            "join_requests": [(j.user_id, j.status, j.decided_by_id, j.message) for j in db.session.scalars(
                select(PactJoinRequest).where(PactJoinRequest.pact_id == pact_id))],
            "meetings": [(m.house_id, m.participants, m.minutes, m.created_by_id) for m in db.session.scalars(
                select(PactMeeting).where(PactMeeting.pact_id == pact_id))],
            "starts_on": pact.starts_on, "ends_on": pact.ends_on,
            "consultation": (pact.consultation_starts_at, pact.consultation_ends_at),
        }
        db.session.remove()
    return state


def statuses(state):
    return [to for _from, to, _actor in state["history"]]


def audit_actions(app, pact_id):
    """(action, actor id) of every audit event about the pact or one of its reports, in chain order."""
    with app.app_context():
        report_ids = list(db.session.scalars(select(PactReport.id).where(PactReport.pact_id == pact_id)))
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.target_type, AuditEvent.target_id)
            .order_by(AuditEvent.seq)).all()
        db.session.remove()
    return [(action, actor) for action, actor, target_type, target_id in rows
            if (target_type == "pact" and target_id == pact_id)
            or (target_type == "pact_report" and target_id in report_ids)]


def notified(app, user_id, kind):
    with app.app_context():
        count = len(db.session.scalars(select(Notification.id).where(Notification.user_id == user_id,
                                                                     Notification.kind == kind)).all())
        db.session.remove()
    return count


def time_passes(app, pact_id, days):
    """``days`` go by: every moment of the pact's life so far moves that far into the past."""
    delta = timedelta(days=days)
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        for column in ("created_at", "submitted_at", "status_changed_at", "declarations_accepted_at",
                       "consultation_starts_at", "consultation_ends_at", "starts_on", "ends_on"):
            if getattr(pact, column) is not None:
                setattr(pact, column, getattr(pact, column) - delta)
        children = ((PactStatusChange, ("at",)), (PactVersion, ("created_at",)), (PactMeeting, ("held_at",)),
                    (PactJoinRequest, ("created_at", "decided_at")), (PactSignature, ("signed_at",)),
                    (PactVolunteer, ("joined_at", "accepted_rules_at")))
        for model, columns in children:
            for row in db.session.scalars(select(model).where(model.pact_id == pact_id)):
                for column in columns:
                    if getattr(row, column) is not None:
                        setattr(row, column, getattr(row, column) - delta)
        for comment in db.session.scalars(select(Comment).where(Comment.target_type == "pact",
                                                                Comment.target_id == pact_id)):
            comment.created_at -= delta
        db.session.commit()
        db.session.remove()


# --- the journey -----------------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_pact_journey_from_the_proposal_to_the_reviewed_report(device, new_page, app, live_server, cast):
    english = DEVICES[device]["locale"].startswith("en")
    phone = device == "phone"
    ids = {name: cast[name].id for name in ("representative", "neighbour", "volunteer", "official",
                                            "other_official")}

    def check_phone(page, what):
        if phone:
            no_sideways_scroll(page, device, what)

    # ---- 1. The representative finds the garden and proposes a pact for the association ----------------
    rep = offline_page(new_page, device)
    sign_in(rep, cast["representative"].email, live_server)
    rep.goto(f"/commons/{cast['garden']}")
    propose = rep.locator(f'#main a[href="/pacts/new?commons={cast["garden"]}"]')
    if english:
        expect(propose).to_have_text("Propose a pact for this commons")
    propose.click()
    expect(rep).to_have_url(live_server(f"/pacts/new?commons={cast['garden']}"))
    # The garden is chosen already, the registered-commons option is on, the map of a new commons hidden.
    expect(rep.locator("#commons_id")).to_have_value(str(cast["garden"]))
    expect(rep.locator('input[name="commons_choice"][value="existing"]')).to_be_checked()
    expect(rep.locator("#commons-new")).to_be_hidden()
    # The form offers the association she represents, and herself.
    organisation_options = rep.locator("#organisation_id option")
    expect(organisation_options).to_have_count(2)
    rep.fill("#title", TITLE)
    rep.select_option("#organisation_id", str(cast["association"]))
    rep.check(f'input[name="kind_requested"][value="{PactKind.ordinary.value}"]')
    rep.fill("#objectives", OBJECTIVES)
    rep.fill("#activities", ACTIVITIES)
    rep.fill("#beneficiaries", BENEFICIARIES)
    rep.fill("#duration_months", "24")
    expect(rep.locator("#own_resources")).not_to_have_value("")  # the template to complete
    rep.fill("#own_resources", OWN_RESOURCES)
    rep.select_option("#support-0-kind", "tools")
    rep.fill("#support-0-item", SUPPORT_ITEM)
    rep.fill("#support-0-quantity", "50")
    rep.fill("#support-0-unit", "pezzi")
    for name in ("declare_truth", "declare_rules", "declare_privacy"):
        rep.check(f"#{name}")
    check_phone(rep, "the pact proposal form")
    shot(rep, "form", device)
    submit_in(rep, "form.pact-form")

    expect(rep).to_have_url(re.compile(re.escape(live_server("/pacts/")) + r"\d+$"))
    pact_id = int(urlsplit(rep.url).path.rsplit("/", 1)[1])
    path = f"/pacts/{pact_id}"
    expect_flash_success(rep)
    expect(rep.locator("#pact-title")).to_have_text(TITLE)
    expect(rep.locator(".item-meta .status")).to_have_class(re.compile(r"\bstatus-pact-draft\b"))
    expect(rep.locator("#main .prose strong", has_text="curato e accogliente")).to_have_count(1)  # Markdown
    state = pact_state(app, pact_id)
    assert state["status"] == S.draft and statuses(state) == [S.draft]
    assert state["commons"] == cast["garden"] and state["organisation"] == cast["association"]
    assert state["created_by"] == ids["representative"] and state["protocol"] is None
    assert state["parties"] == [(PartyKind.proponent, cast["association"], None)]
    assert state["district"] == cast["district"]
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        assert [(i.kind.value, i.description, i.quantity, i.unit) for i in pact.support_items] == [
            ("tools", SUPPORT_ITEM, 50, "pezzi")]
        assert pact.own_resources == OWN_RESOURCES and pact.duration_months == 24
        assert pact.declarations_accepted_at is not None
        db.session.remove()

    # Nobody else sees a draft, nor a proposal under examination.
    visitor = offline_page(new_page, device)
    visitor.expected_statuses.add((path, 404))
    assert visitor.goto(path).status == 404

    submit_in(rep, f'form[action="{path}/submit"]')
    expect(rep).to_have_url(live_server(f"{path}/receipt"))
    state = pact_state(app, pact_id)
    protocol = state["protocol"]
    year = rome_date(utcnow()).year
    assert protocol == f"PC-{year}-0001", protocol
    expect(rep.locator(".flash-success")).to_contain_text(protocol)
    expect(rep.locator("#main .protocol-number")).to_have_text(protocol)
    expect(rep.locator("#main .receipt")).to_contain_text(ASSOCIATION)
    expect(rep.locator("#main .receipt")).to_contain_text(GARDEN)
    if english:
        expect(rep.locator("#receipt-title")).to_have_text("Receipt of submission")
        expect(rep.locator(".flash-success")).to_contain_text(
            f"Your proposal was submitted to the City with protocol number {protocol}.")
    check_phone(rep, "the receipt")
    shot(rep, "receipt", device)
    assert state["status"] == S.submitted and statuses(state) == [S.draft, S.submitted]
    assert state["department"] == cast["department"], "not sent to the department of the commons"
    assert notified(app, ids["representative"], "pact.received") == 1
    assert notified(app, ids["official"], "pact.to_examine") == 1
    assert notified(app, ids["other_official"], "pact.to_examine") == 0
    assert visitor.goto(path).status == 404

    # ---- 2. The official finds it in the queue, declares it admissible, opens the consultation ---------
    official = offline_page(new_page, device)
    sign_in(official, cast["official"].email, live_server)
    official.goto("/office/pacts")
    row = official.locator("#main table.office-queue tbody tr", has_text=protocol)
    expect(row).to_have_count(1)
    expect(row.locator(".status")).to_have_class(re.compile(r"\bstatus-pact-submitted\b"))
    check_phone(official, "the office's queue")
    shot(official, "queue", device)
    row.locator(f'a[href="/office/pacts/{pact_id}"]').click()
    office_path = f"/office/pacts/{pact_id}"
    expect(official).to_have_url(live_server(office_path))

    # Another department's official does not even learn that it exists.
    stranger_office = offline_page(new_page, device)
    sign_in(stranger_office, cast["other_official"].email, live_server)
    stranger_office.goto("/office/pacts")
    expect(stranger_office.locator("#main", has_text=protocol)).to_have_count(0)
    stranger_office.expected_statuses.add((office_path, 404))
    assert stranger_office.goto(office_path).status == 404

    admissible = official.locator('#admissible form[action$="/admissible"]')
    admissible.locator(f'input[name="admissible-kind"][value="{PactKind.ordinary.value}"]').check()
    expect(admissible.locator("#admissible-department_id")).to_have_value(str(cast["department"]))
    expect(admissible.locator("#admissible-responsible_id")).to_have_value("0")  # "me"
    check_phone(official, "the office page of a submitted proposal")
    shot(official, "admissibility", device)
    admissible.locator("button[type=submit]").click()
    expect(official).to_have_url(live_server(office_path))
    expect_flash_success(official)
    expect(official.locator("#main .item-meta .status")).to_have_class(re.compile(r"\bstatus-pact-admissible\b"))
    state = pact_state(app, pact_id)
    assert state["status"] == S.admissible and state["kind"] == PactKind.ordinary
    assert state["official"] == ids["official"] and state["department"] == cast["department"]
    assert state["parties"] == sorted([(PartyKind.proponent, cast["association"], None),
                                       (PartyKind.city, None, ids["official"])])
    assert state["history"][-1] == (S.submitted, S.admissible, ids["official"])

    consultation = official.locator('#consultation form[action$="/consultation"]')
    expect(consultation.locator("#consultation-days")).to_have_value("30")
    expect(consultation.locator("#consultation-starts_on")).to_have_value(rome_date(utcnow()).isoformat())
    consultation.locator("button[type=submit]").click()
    expect_flash_success(official)
    expect(official.locator("#main .item-meta .status")).to_have_class(
        re.compile(r"\bstatus-pact-public_consultation\b"))
    expect(official.locator("#co-design")).to_have_count(0)  # not before the window closes
    state = pact_state(app, pact_id)
    assert state["status"] == S.public_consultation
    starts_at, ends_at = state["consultation"]
    assert ends_at - starts_at == 30 * DAY and starts_at <= utcnow() < ends_at
    assert statuses(state) == [S.draft, S.submitted, S.admissible, S.public_consultation]

    # ---- 3. The consultation: the pact is public; a neighbour comments and asks to join -----------------
    visitor.goto(path)
    expect(visitor.locator("#pact-title")).to_have_text(TITLE)
    expect(visitor.locator("#consultation")).to_be_visible()
    expect(visitor.locator("#consultation form")).to_have_count(0)  # signing in comes first

    neighbour = offline_page(new_page, device)
    sign_in(neighbour, cast["neighbour"].email, live_server)
    neighbour.goto(path)
    expect(neighbour.locator(".item-meta .status")).to_have_class(re.compile(r"\bstatus-pact-public_consultation\b"))
    neighbour.fill("#comment-new-body", COMMENT)
    submit_in(neighbour, "form.comment-new")
    expect(neighbour).to_have_url(re.compile(re.escape(live_server(path))))
    expect(neighbour.locator("#comments .comment-body", has_text="non solo il sabato")).to_have_count(1)
    with app.app_context():
        comments = db.session.execute(select(Comment.author_id, Comment.body).where(
            Comment.target_type == "pact", Comment.target_id == pact_id)).all()
        db.session.remove()
    assert comments == [(ids["neighbour"], COMMENT)]

    neighbour.goto(path)
    join_box = neighbour.locator("#consultation details.join-box")
    join_box.locator("summary").click()
    expect(join_box.locator("#jr-message")).to_be_visible()
    if english:
        expect(join_box.locator("summary")).to_have_text("Ask to join this proposal")
    join_box.locator("#jr-message").fill(JOIN_MESSAGE)
    check_phone(neighbour, "the pact in consultation (neighbour)")
    shot(neighbour, "consultation", device)
    join_box.locator("button[type=submit]").click()
    expect(neighbour).to_have_url(live_server(path) + "#consultation")
    expect_flash_success(neighbour)
    expect(neighbour.locator("#consultation .callout")).to_be_visible()  # "you asked to join"
    expect(neighbour.locator("#consultation details.join-box")).to_have_count(0)
    state = pact_state(app, pact_id)
    assert state["join_requests"] == [(ids["neighbour"], RequestStatus.pending, None, JOIN_MESSAGE)]
    assert notified(app, ids["representative"], "pact.join_requested") == 1

    # The representative reads the request; the association signs alone: she declines it.
    rep.goto(path)
    pending = rep.locator("#consultation .item-list li.item", has_text=cast["neighbour"].display_name)
    expect(pending).to_have_count(1)
    expect(pending.locator(".note")).to_have_text(JOIN_MESSAGE)
    check_phone(rep, "the pact in consultation (representative)")
    shot(rep, "join-request", device)
    pending.locator('form:has(input[name="dc-answer"][value="decline"]) button[type=submit]').click()
    expect(rep).to_have_url(live_server(path) + "#consultation")
    expect_flash_success(rep)
    expect(rep.locator("#consultation .item-list li.item")).to_have_count(0)
    state = pact_state(app, pact_id)
    assert state["join_requests"] == [(ids["neighbour"], RequestStatus.declined, ids["representative"],
                                       JOIN_MESSAGE)]
    assert len(state["parties"]) == 2, "a declined request added a party"
    assert notified(app, ids["neighbour"], "pact.join_declined") == 1

    # ---- 4. A month later the window has closed: co-design, two versions, the diff -------------------------
    time_passes(app, pact_id, 31)
    official.goto(office_path)
    co_design = official.locator('#co-design form[action$="/co-design"]')
    expect(co_design).to_have_count(1)
    co_design.locator("button[type=submit]").click()
    expect(official).to_have_url(live_server(office_path) + "#versions")
    expect_flash_success(official)
    state = pact_state(app, pact_id)
    assert state["status"] == S.co_design and statuses(state)[-1] == S.co_design
    assert [(n, author) for n, author, _t in state["versions"]] == [(1, ids["official"])]
    version1 = state["versions"][0][2]
    assert TITLE in version1 and protocol in version1 and ASSOCIATION in version1 and SUPPORT_ITEM in version1

    # The official's version 2: the opening hours.
    versions = official.locator("#versions")
    versions.locator("details > summary").click()
    expect(versions.locator("#version-text")).to_have_value(version1)
    versions.locator("#version-text").fill(version1.rstrip("\n") + "\n\n" + OFFICIAL_SECTION)
    versions.locator("#version-note").fill(OFFICIAL_NOTE)
    check_phone(official, "the office's version form")
    versions.locator('form[action$="/versions"] button[type=submit]').click()
    expect(official).to_have_url(live_server(office_path) + "#versions")
    expect_flash_success(official)
    state = pact_state(app, pact_id)
    assert [(n, author) for n, author, _t in state["versions"]] == [(1, ids["official"]), (2, ids["official"])]
    version2 = state["versions"][1][2]
    assert OFFICIAL_LINE in version2.splitlines()

    # The representative's version 3, on the pact page: one line changed, one added.
    rep.goto(path)
    new_version = rep.locator("#new-version")
    expect(new_version.locator("#vr-text")).to_have_value(version2)
    version3_text = version2.replace(OFFICIAL_LINE, PROPONENT_LINE + "\n" + PROPONENT_NEW_LINE)
    new_version.locator("#vr-text").fill(version3_text)
    new_version.locator("#vr-note").fill(PROPONENT_NOTE)
    check_phone(rep, "the proponent's version form")
    shot(rep, "co-design", device)
    new_version.locator("button[type=submit]").click()
    expect(rep).to_have_url(live_server(path) + "#versions-title")
    expect_flash_success(rep)
    state = pact_state(app, pact_id)
    assert [(n, author) for n, author, _t in state["versions"]] == [
        (1, ids["official"]), (2, ids["official"]), (3, ids["representative"])]
    version3 = state["versions"][2][2]
    assert version3 == version3_text.rstrip("\n") + "\n"

    # What changed from version 2 to 3: the line about Saturdays replaced, the Sundays added.
    rep.locator(f'#main a[href="{path}/versions/3/diff?against=2"]').click()
    expect(rep).to_have_url(live_server(f"{path}/versions/3/diff?against=2"))
    removed = rep.locator("#main ol.diff li.diff-removed")
    added = rep.locator("#main ol.diff li.diff-added")
    expect(removed).to_have_count(1)
    expect(removed).to_contain_text(OFFICIAL_LINE)
    expect(added).to_have_count(2)
    expect(added.nth(0)).to_contain_text(PROPONENT_LINE)
    expect(added.nth(1)).to_contain_text(PROPONENT_NEW_LINE)
    expect(rep.locator("#main")).to_contain_text(PROPONENT_NOTE)
    if english:
        expect(rep.locator("#main h1")).to_have_text("What changed from version 2 to version 3")
        expect(rep.locator("#main")).to_contain_text("2 lines added, 1 line removed.")
    check_phone(rep, "the diff between versions")
    shot(rep, "diff", device)

    # ---- 5. A meeting at the Casa del Quartiere; approval; signing; the City signs ----------------------------
    official.goto(office_path)
    meetings = official.locator("#meetings")
    meetings.locator("details > summary").click()
    held_local = f"{rome_date(utcnow() - 2 * DAY).isoformat()}T18:00"  # two evenings ago, Turin time
    meetings.locator("#meeting-held_at").fill(held_local)
    meetings.locator("#meeting-house_id").select_option(str(cast["house"]))
    meetings.locator("#meeting-participants").fill(PARTICIPANTS)
    meetings.locator("#meeting-minutes").fill(MINUTES)
    meetings.locator('form[action$="/meetings"] button[type=submit]').click()
    expect(official).to_have_url(live_server(office_path) + "#meetings")
    expect_flash_success(official)
    expect(official.locator("#meetings .timeline-item")).to_have_count(1)
    expect(official.locator("#meetings .timeline-item")).to_contain_text("Casa del Quartiere di San Salvario")
    state = pact_state(app, pact_id)
    assert state["meetings"] == [(cast["house"], PARTICIPANTS, MINUTES, ids["official"])]

    approve = official.locator('#approve form[action$="/approve"]')
    approve.locator("#approve-version_number").select_option("3")
    check_phone(official, "the office page in co-design")
    shot(official, "approve", device)
    approve.locator("button[type=submit]").click()
    expect(official).to_have_url(live_server(office_path))
    expect_flash_success(official)
    state = pact_state(app, pact_id)
    approved_sha = hashlib.sha256(version3.encode("utf-8")).hexdigest()
    assert state["status"] == S.approved and state["approved_number"] == 3
    assert state["approved_sha"] == approved_sha
    # The text is frozen: no version form any more, for the office or the proponents.
    expect(official.locator("#version-text")).to_have_count(0)
    rep.goto(path)
    expect(rep.locator("#new-version")).to_have_count(0)

    official.goto(office_path)
    official.locator('#signing form[action$="/signing"] button[type=submit]').click()
    expect_flash_success(official)
    assert pact_state(app, pact_id)["status"] == S.signing
    sign_box = official.locator("#sign")
    expect(sign_box.locator("code.hash")).to_have_text(approved_sha)
    sign_box.locator("#sign-confirm").check()
    sign_box.locator('form[action$="/sign"] button[type=submit]').click()
    expect(official).to_have_url(live_server(office_path) + "#signatures")
    expect_flash_success(official)
    expect(official.locator("#signatures li")).to_have_count(1)
    state = pact_state(app, pact_id)
    assert state["status"] == S.signing, "active before the association signed"
    assert [(kind, signer, sha, number) for kind, signer, sha, number, _c in state["signatures"]] == [
        (PartyKind.city, ids["official"], approved_sha, 3)]

    # ---- 6. The representative signs for the association: the pact is active ---------------------------
    rep.goto(path)
    signing = rep.locator("#signing")
    expect(signing.locator("code.hash")).to_have_text(approved_sha)
    sign_forms = signing.locator('form.sign-box[action$="/sign"]')
    expect(sign_forms).to_have_count(1)
    expect(sign_forms).to_contain_text(ASSOCIATION)
    expect(signing.locator(".tag-ok")).to_have_count(1)  # the City has signed
    sign_forms.locator('input[name="sg-confirm"]').check()
    check_phone(rep, "the signing box")
    shot(rep, "signing", device)
    sign_forms.locator("button[type=submit]").click()
    expect(rep).to_have_url(live_server(path) + "#signing")
    expect_flash_success(rep)
    expect(rep.locator(".item-meta .status")).to_have_class(re.compile(r"\bstatus-pact-active\b"))
    state = pact_state(app, pact_id)
    assert state["status"] == S.active
    assert statuses(state) == [S.draft, S.submitted, S.admissible, S.public_consultation, S.co_design,
                               S.approved, S.signing, S.active]
    assert state["history"][-1] == (S.signing, S.active, ids["representative"])
    signatures = state["signatures"]
    assert [(kind, signer, number) for kind, signer, _sha, number, _c in signatures] == [
        (PartyKind.city, ids["official"], 3), (PartyKind.proponent, ids["representative"], 3)]
    assert all(sha == approved_sha for _k, _s, sha, _n, _c in signatures)
    assert ASSOCIATION in signatures[1][4]
    today = rome_date(utcnow())
    assert state["starts_on"] == today and state["ends_on"] is not None and state["ends_on"] > today

    # ---- 7. A volunteer joins ---------------------------------------------------------------------------
    volunteer = offline_page(new_page, device)
    sign_in(volunteer, cast["volunteer"].email, live_server)
    volunteer.goto(path)
    join = volunteer.locator(f'#volunteers form[action="{path}/volunteers"]')
    join.locator("#vo-accept_rules").check()
    if english:
        expect(join.locator("button[type=submit]")).to_have_text("Join as a volunteer")
    join.locator("button[type=submit]").click()
    expect(volunteer).to_have_url(live_server(path) + "#volunteers")
    expect_flash_success(volunteer)
    expect(volunteer.locator(f'#volunteers form[action="{path}/volunteers/leave"]')).to_have_count(1)
    check_phone(volunteer, "the active pact (volunteer)")
    shot(volunteer, "volunteer", device)
    state = pact_state(app, pact_id)
    assert state["volunteers"] == [(ids["volunteer"], None, True)]

    # ---- 8. Three months later the representative reports; the official accepts the report -------------
    time_passes(app, pact_id, 92)
    started = pact_state(app, pact_id)["starts_on"]
    rep.goto(path)
    rep.locator(f'#reporting a[href="{path}/reports/new"]').click()
    expect(rep).to_have_url(live_server(f"{path}/reports/new"))
    # The period starts with the pact and ends yesterday.
    expect(rep.locator("#period_start")).to_have_value(started.isoformat())
    expect(rep.locator("#period_end")).to_have_value((rome_date(utcnow()) - DAY).isoformat())
    rep.fill("#activities", REPORT_ACTIVITIES)
    rep.fill("#events", "Festa di primavera del giardino.")
    rep.fill("#beneficiaries_reached", "150")
    rep.fill("#volunteer_hours", "96")
    rep.fill("#resources_proponents", "Attrezzi dell'associazione.")
    rep.fill("#resources_city", "50 sacchi e 20 paia di guanti.")
    rep.fill("#results", REPORT_RESULTS)
    check_phone(rep, "the report form")
    shot(rep, "report-form", device)
    submit_in(rep, "form.pact-form")
    expect(rep).to_have_url(live_server(path))
    expect_flash_success(rep)
    expect(rep.locator("#reporting .plain-list li")).to_have_count(1)
    state = pact_state(app, pact_id)
    assert len(state["reports"]) == 1
    report_id, review, reviewer, author, start, end, hours, reached, activities = state["reports"][0]
    assert (review, reviewer, author) == (ReportReview.submitted, None, ids["representative"])
    assert (start, end, hours, reached, activities) == (started, rome_date(utcnow()) - DAY, 96, 150,
                                                         REPORT_ACTIVITIES)
    assert notified(app, ids["official"], "pact.report_filed") == 1
    # Not public before the review.
    visitor.goto(path)
    expect(visitor.locator("#reports-title")).to_have_count(0)

    official.goto(office_path)
    reports = official.locator("#reports")
    expect(reports.locator("article")).to_have_count(1)
    expect(reports).to_contain_text("quattro aiuole")
    reports.locator(f'input[name="report{report_id}-decision"][value="accept"]').check()
    reports.locator(f"#report{report_id}-note").fill(REVIEW_NOTE)
    check_phone(official, "the office's report review")
    shot(official, "report-review", device)
    reports.locator(f'form[action$="/reports/{report_id}/review"] button[type=submit]').click()
    expect(official).to_have_url(live_server(office_path) + "#reports")
    expect_flash_success(official)
    expect(official.locator("#reports")).to_have_count(0)
    state = pact_state(app, pact_id)
    assert state["reports"][0][1:3] == (ReportReview.accepted, ids["official"])
    assert notified(app, ids["representative"], "pact.report_accepted") == 1

    # ---- 9. A visitor reads the active pact: signatures, volunteers, the report ---------------------------
    visitor.goto(path)
    main = visitor.locator("#main")
    expect(visitor.locator(".item-meta .status")).to_have_class(re.compile(r"\bstatus-pact-active\b"))
    expect(visitor.locator("#main .item-meta")).to_contain_text(protocol)
    verify = visitor.locator('section[aria-labelledby="verify-title"]')
    expect(verify.locator("code.hash")).to_have_text(approved_sha)
    expect(verify.locator("li")).to_have_count(2)
    expect(verify.locator("li .tag-ok")).to_have_count(2)
    expect(verify.locator("li .tag-warn")).to_have_count(0)
    expect(verify).to_contain_text(ASSOCIATION)
    expect(visitor.locator("details.pact-text .prose")).to_contain_text(PROPONENT_NEW_LINE.lstrip("- "))
    parties = visitor.locator('section[aria-labelledby="parties-title"]')
    expect(parties).to_contain_text(ASSOCIATION)
    reports_section = visitor.locator('section[aria-labelledby="reports-title"]')
    expect(reports_section.locator(".timeline-item")).to_have_count(1)
    expect(reports_section.locator("strong", has_text="quattro aiuole")).to_have_count(1)
    expect(reports_section).to_contain_text(REPORT_RESULTS)
    expect(visitor.locator('section[aria-labelledby="meetings-title"]')).to_contain_text(
        "Casa del Quartiere di San Salvario")
    expect(visitor.locator("#comments .comment-body", has_text="non solo il sabato")).to_have_count(1)
    expect(visitor.locator("#volunteers form")).to_have_count(0)  # signing in comes first
    if english:
        expect(parties).to_contain_text("1 volunteer has joined.")
        expect(verify.locator("li .tag-ok").first).to_have_text("matches the approved text")
        expect(reports_section).to_contain_text("96 volunteer hours")
    else:  # "Ha aderito 1 volontario.", whatever the exact words
        expect(parties.locator("p", has_text=re.compile(r"\b1\b.*volontari|volontari.*\b1\b"))).to_have_count(1)
    expect(main.locator(".staff-panel")).to_have_count(0)
    check_phone(visitor, "the active pact (visitor)")
    shot(visitor, "active", device)
    pdf = visitor.request.get(f"{path}.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    # In the public registry, among the active pacts.
    visitor.goto("/pacts?status=active")
    expect(visitor.locator(f'#main a[href="{path}"]')).to_have_count(1)

    # ---- The trail: one history row per move, the audit events of every step -------------------------------
    state = pact_state(app, pact_id)
    actors = {to: actor for _from, to, actor in state["history"]}
    assert actors == {S.draft: ids["representative"], S.submitted: ids["representative"],
                      S.admissible: ids["official"], S.public_consultation: ids["official"],
                      S.co_design: ids["official"], S.approved: ids["official"], S.signing: ids["official"],
                      S.active: ids["representative"]}
    trail = audit_actions(app, pact_id)
    expected = [
        ("pact.created", ids["representative"]), ("pact.submitted", ids["representative"]),
        ("pact.admissible", ids["official"]), ("pact.public_consultation", ids["official"]),
        ("pact.join_requested", ids["neighbour"]), ("pact.join_declined", ids["representative"]),
        ("pact.co_design", ids["official"]), ("pact.version_added", ids["official"]),
        ("pact.version_added", ids["representative"]), ("pact.meeting_recorded", ids["official"]),
        ("pact.approved", ids["official"]), ("pact.signing", ids["official"]),
        ("pact.signed", ids["official"]), ("pact.signed", ids["representative"]),
        ("pact.active", ids["representative"]), ("pact.volunteer_joined", ids["volunteer"]),
        ("pact_report.filed", ids["representative"]), ("pact_report.reviewed", ids["official"]),
    ]
    assert trail == expected, trail

    # Anyone can check the signatures: if the published text were altered by one character, they would not match.
    with app.app_context():
        approved = db.session.scalar(select(PactVersion).where(PactVersion.pact_id == pact_id,
                                                               PactVersion.number == 3))
        approved.text = approved.text.replace("dalle 9 alle 13", "dalle 9 alle 14")
        db.session.commit()
        db.session.remove()
    visitor.goto(path)
    expect(verify.locator("li .tag-warn")).to_have_count(2)
    expect(verify.locator("li .tag-ok")).to_have_count(0)
    if english:
        expect(verify.locator("li .tag-warn").first).to_have_text("does NOT match the text")

    for page in (rep, visitor, neighbour, official, stranger_office, volunteer):
        assert site_problems(page) == [], site_problems(page)
