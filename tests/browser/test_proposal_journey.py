"""The proposal journey in a real browser, from issue 4's "Done means".

A citizen writes a proposal with a point on the map (and is shown the similar proposal that
already exists while typing the title), saves the draft and publishes it. The support phase
opens; neighbours support it and the last one, in the browser, crosses the threshold. An official
of the department of its category finds it in the review queue, drafts the feasibility review,
then publishes it as accepted; a first progress update starts the execution. A supporter finds the
notifications and reads the City's answer and the progress on the proposal's page.

The process's phases are moved in the database between steps: that is "time passing" (phases
switch by timestamps, there is no scheduler to wait for). The journey runs on a desktop (English)
and on a phone (Italian); screenshots land in tests/artifacts/proposal-*.png.
"""
import re
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models import AuditEvent, Notification, Role, User
from app.models.base import utcnow
from app.models.place import Category
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal, ProposalReview, ProposalStatus
from app.models.user import Department
from app.proposals import services
from app.seed.demo import seed_places
from tests.browser import test_report_journey as report_journey
from tests.browser.conftest import serve
from tests.browser.test_report_journey import (
    DEVICES,
    LEAFLET_JS,
    gps_photo,
    no_sideways_scroll,
    offline_page,
    sign_in,
    site_problems,
)

pytestmark = pytest.mark.browser

P = ProposalStatus
DAY = timedelta(days=1)
THRESHOLD = 3
EXISTING_TITLE = "Più alberi in via Nizza"
TITLE = "Alberi e panchine in via Nizza davanti al mercato"
BODY = "Piantare **otto tigli** e mettere quattro panchine.\n\n- ombra d'estate\n- un posto per sedersi"
ANSWER = "Gli uffici del Verde hanno verificato il marciapiede: c'è spazio per sei alberi."
MOTIVATION = "Fattibile con sei alberi invece di otto; finanziata dal bilancio 2027."
UPDATE = "Piantati i primi tre tigli; le panchine arrivano a marzo."


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    assert LEAFLET_JS.exists(), "Leaflet is not vendored: run `make vendor` (needs npm)"
    instance = tmp_path_factory.mktemp("live-proposal-instance")
    with serve(database_url, instance, LEAFLET_LOCAL=True, UPLOAD_DIR=str(instance / "uploads")) as server:
        yield server


@pytest.fixture
def cast(app, make_user):
    """The author, three verified neighbours, an official of the parks department, and a process
    collecting proposals now (support phase later) with one existing proposal about trees."""
    people = {
        "author": make_user(verified=True, display_name="Giulia R."),
        "s1": make_user(verified=True, display_name="Marco A."),
        "s2": make_user(verified=True, display_name="Sara B."),
        "s3": make_user(verified=True, display_name="Luca C."),
        "official": make_user(roles=[Role.official], display_name="Ufficio Verde"),
    }
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        parks = db.session.scalar(select(Department).where(Department.slug == "verde"))
        category = db.session.scalar(select(Category).where(Category.slug == "verde-alberi"))
        db.session.get(User, people["official"].id).departments = [parks]
        now = utcnow()
        process = Process(slug="bilancio-2027", title="Bilancio partecipativo 2027", support_threshold=THRESHOLD)
        process.phases = [ProcessPhase(kind=PhaseKind.collection, starts_at=now - 5 * DAY, ends_at=now + DAY),
                          ProcessPhase(kind=PhaseKind.support, starts_at=now + DAY, ends_at=now + 30 * DAY),
                          ProcessPhase(kind=PhaseKind.review, starts_at=now + 30 * DAY, ends_at=now + 60 * DAY)]
        db.session.add(process)
        db.session.commit()
        existing = services.create_proposal(db.session.get(User, people["s1"].id), process, title=EXISTING_TITLE,
                                            body="Dieci tigli lungo il marciapiede.", category_id=category.id)
        services.publish(existing, db.session.get(User, people["s1"].id))
        db.session.commit()
        ids = {"process": process.id, "category": category.id, "department": parks.id, "existing": existing.id}
        db.session.remove()
    return {**people, **ids}


def shot(page, name, device):
    report_journey.shot(page, name, device, journey="proposal")


def open_support_phase(app, process_id):
    """Two days later: collection has closed, supports are open."""
    with app.app_context():
        now = utcnow()
        for phase in db.session.scalars(select(ProcessPhase).where(ProcessPhase.process_id == process_id)):
            if phase.kind == PhaseKind.collection:
                phase.starts_at, phase.ends_at = now - 10 * DAY, now - DAY
            elif phase.kind == PhaseKind.support:
                phase.starts_at, phase.ends_at = now - DAY, now + 30 * DAY
        db.session.commit()
        db.session.remove()


def proposal_row(app, proposal_id):
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        row = {"status": proposal.status, "count": proposal.support_count, "department": proposal.department_id,
               "lat": proposal.lat, "lon": proposal.lon, "district": proposal.district_id,
               "progress": proposal.progress, "body": proposal.body}
        db.session.remove()
    return row


def notifications_by_kind(app, proposal_id):
    """kind -> Counter(user_id -> how many) for notifications pointing at the proposal."""
    with app.app_context():
        rows = db.session.execute(select(Notification.kind, Notification.user_id)
                                  .where(Notification.url == f"/proposals/{proposal_id}")).all()
        db.session.remove()
    kinds = {}
    for kind, user_id in rows:
        kinds.setdefault(kind, Counter())[user_id] += 1
    return kinds


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_proposal_journey_from_the_map_to_the_first_progress_update(device, new_page, app, live_server, cast,
                                                                      tmp_path):
    english = DEVICES[device]["locale"].startswith("en")
    phone = device == "phone"
    photo = gps_photo(tmp_path / "IMG_via_nizza.jpg")

    # ---- 1. The author writes the proposal, with a point on the map --------------------------
    author = offline_page(new_page, device)
    sign_in(author, cast["author"].email, live_server)
    author.goto("/proposals/new")
    expect(author.locator("#proposal-picker")).to_have_class(re.compile(r"\bleaflet-container\b"))
    expect(author.locator("#process_id")).to_have_value(str(cast["process"]))

    # Typing the title shows the proposal about trees in via Nizza that already exists.
    with author.expect_response(lambda r: "/proposals/similar" in r.url) as answer:
        author.locator("#title").press_sequentially("Alberi in via Nizza", delay=10)
    assert answer.value.status == 200
    similar = author.locator("#similar-proposals")
    expect(similar).to_be_visible()
    expect(similar.locator("a", has_text=EXISTING_TITLE)).to_have_attribute("href", f"/proposals/{cast['existing']}")

    author.fill("#title", TITLE)
    author.fill("#body", BODY)
    author.select_option("#category_id", str(cast["category"]))
    picker = author.locator("#proposal-picker")
    picker.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = picker.bounding_box()
    centre = {"x": box["width"] / 2, "y": box["height"] / 2}
    if phone:
        picker.tap(position=centre)
    else:
        picker.click(position=centre)
    expect(author.locator("#proposal-picker .leaflet-marker-pane .leaflet-marker-icon")).to_have_count(1)
    lat, lon = float(author.input_value("#lat")), float(author.input_value("#lon"))
    start_lat, start_lon = (float(v) for v in picker.get_attribute("data-center").split(","))
    assert geo.distance_m(lat, lon, start_lat, start_lon) < 30, "the point is not where the tap was"
    author.set_input_files("#photos", str(photo))
    if phone:
        no_sideways_scroll(author, device, "the proposal form")
    shot(author, "form", device)
    author.locator("#main form.proposal-form button[type=submit]").click()

    expect(author).to_have_url(re.compile(re.escape(live_server("/proposals/")) + r"\d+$"))
    proposal_id = int(urlsplit(author.url).path.rsplit("/", 1)[1])
    path = f"/proposals/{proposal_id}"
    expect(author.locator(".flash-success")).to_be_visible()
    expect(author.locator("#draft-title")).to_be_visible()
    row = proposal_row(app, proposal_id)
    assert row["status"] == P.draft and row["body"] == BODY
    assert (round(row["lat"], 6), round(row["lon"], 6)) == (lat, lon)
    assert row["district"] == geo.district_for(lat, lon)
    # The Markdown is rendered (and sanitised), the photo shown.
    expect(author.locator(".proposal-body strong")).to_have_text("otto tigli")
    expect(author.locator(".proposal-body li")).to_have_count(2)
    expect(author.locator("#main .photo-list img")).to_have_count(1)

    # Nobody else sees a draft.
    visitor = offline_page(new_page, device)
    visitor.expected_statuses.add((path, 404))
    assert visitor.goto(path).status == 404

    author.locator(f'form[action="{path}/publish"] button[type=submit]').click()
    expect(author.locator(".flash-success")).to_be_visible()
    expect(author.locator("#draft-title")).to_have_count(0)
    assert proposal_row(app, proposal_id)["status"] == P.published
    if phone:
        no_sideways_scroll(author, device, "the published proposal")
    shot(author, "published", device)

    # ---- 2. Supports open; neighbours support it; the third crosses the threshold ------------
    open_support_phase(app, cast["process"])
    with app.app_context():
        for name in ("s1", "s2"):
            services.support(db.session.get(User, cast[name].id), proposal_id)
            db.session.commit()
        db.session.remove()
    assert proposal_row(app, proposal_id)["count"] == 2

    supporter = offline_page(new_page, device)
    sign_in(supporter, cast["s3"].email, live_server)
    supporter.goto(path)
    expect(supporter.locator(".support-panel progress")).to_have_attribute("value", "2")
    supporter.locator(f'form[action="{path}/support"] button[type=submit]').click()
    expect(supporter.locator(".flash-success")).to_be_visible()
    expect(supporter.locator(".support-panel progress")).to_have_attribute("value", str(THRESHOLD))
    expect(supporter.locator(".support-panel")).to_contain_text(f"{THRESHOLD}")
    expect(supporter.locator(".item-meta .status")).to_have_class(re.compile(r"\bstatus-threshold_reached\b"))
    expect(supporter.locator(f'form[action="{path}/withdraw-support"]')).to_have_count(1)
    shot(supporter, "threshold", device)
    row = proposal_row(app, proposal_id)
    assert row["status"] == P.threshold_reached and row["count"] == THRESHOLD
    assert row["department"] == cast["department"], "not queued for the department of its category"
    people = {name: cast[name].id for name in ("author", "s1", "s2", "s3", "official")}
    notes = notifications_by_kind(app, proposal_id)
    assert notes["proposal.threshold_reached"] == Counter(
        {people[n]: 1 for n in ("author", "s1", "s2", "s3")})
    assert notes["proposal.review_queued"] == Counter({people["official"]: 1})

    # ---- 3. The official reviews it: a private draft first, then the public answer ----------
    official = offline_page(new_page, device)
    sign_in(official, cast["official"].email, live_server)
    official.goto("/office/proposals")
    official.locator(f'#main a[href="/office/proposals/{proposal_id}/review"]').first.click()
    expect(official).to_have_url(live_server(f"/office/proposals/{proposal_id}/review"))
    for name in ("technical", "legal", "economic"):
        official.check(f'input[name="{name}"][value="feasible"]')
    official.fill("#estimated_cost", "48.500,00")
    official.fill("#execution_starts_on", "2027-02-01")
    official.fill("#execution_ends_on", "2027-06-30")
    official.fill("#public_answer", ANSWER)
    official.locator("#main form.review-form #save").click()
    expect(official.locator(".flash-success")).to_be_visible()
    assert proposal_row(app, proposal_id)["status"] == P.under_review
    # The draft is private: the public page says nothing of it yet.
    visitor.goto(path)
    expect(visitor.locator("#main")).not_to_contain_text(ANSWER)

    official.check('input[name="outcome"][value="accepted"]')
    official.fill("#motivation", MOTIVATION)
    if phone:
        no_sideways_scroll(official, device, "the review form")
    shot(official, "review", device)
    official.locator("#main form.review-form #publish").click()
    expect(official.locator(".flash-success")).to_be_visible()
    assert proposal_row(app, proposal_id)["status"] == P.accepted
    with app.app_context():
        review = db.session.scalar(select(ProposalReview).where(ProposalReview.proposal_id == proposal_id))
        assert review.published_at is not None and review.estimated_cost_cents == 4_850_000
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == people["official"])))
        db.session.remove()
    assert {"proposal_review.saved", "proposal_review.published", "proposal.under_review",
            "proposal.accepted"} <= actions

    # ---- 4. Execution: the first progress update -------------------------------------------
    official.goto(f"/office/proposals/{proposal_id}/project")
    official.fill("#up-body", UPDATE)
    official.fill("#up-progress", "40")
    official.locator(f'form[action="/office/proposals/{proposal_id}/project/updates"] button[type=submit]').click()
    expect(official.locator(".flash-success")).to_be_visible()
    row = proposal_row(app, proposal_id)
    assert row["status"] == P.in_execution and row["progress"] == 40

    # ---- 5. A supporter is told, and reads the answer and the progress -----------------------
    notes = notifications_by_kind(app, proposal_id)
    for kind in ("proposal.review_accepted", "proposal.project_update"):
        assert notes[kind] == Counter({people[n]: 1 for n in ("author", "s1", "s2", "s3")}), kind
    supporter.goto("/notifications")
    # Threshold reached, review published (accepted), progress update: newest first, unread.
    told = supporter.locator("#main li.notification.unread", has_text=TITLE)
    expect(told).to_have_count(3)
    if phone:
        no_sideways_scroll(supporter, device, "the notifications")
    shot(supporter, "notifications", device)
    told.first.locator("button[type=submit]").click()
    expect(supporter).to_have_url(live_server(path))
    main = supporter.locator("#main")
    expect(main).to_contain_text(ANSWER)
    expect(main).to_contain_text(MOTIVATION)
    expect(main).to_contain_text(UPDATE)
    expect(supporter.locator(".item-meta .status")).to_have_class(re.compile(r"\bstatus-in_execution\b"))
    progress = supporter.locator('#main progress[max="100"], #main [role=progressbar]').first
    expect(progress).to_be_visible()
    if english:
        expect(main).to_contain_text("€48,500.00")
    else:
        expect(main).to_contain_text("48.500,00")
    if phone:
        no_sideways_scroll(supporter, device, "the proposal in execution")
    shot(supporter, "in-execution", device)

    for page in (author, visitor, supporter, official):
        assert site_problems(page) == [], site_problems(page)
