"""XSS through the real forms: the payload corpus typed into every kind of text field, then every page,
feed, export, calendar and email that shows it checked for markup a browser would run (see payloads.py).

test_xss_pages.py writes the payloads straight into every text column and reads every page; this
module proves the way in as well (forms, Markdown, mentions, search queries, filters) for: reports
and their staff notes, flags, proposals and comments, debates, the profile's name and bio,
organisations, events, pact proposals, an assisted session's managed account, and search.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models import (
    Category,
    Debate,
    Department,
    District,
    Event,
    NeighbourhoodHouse,
    Organisation,
    Pact,
    Proposal,
    Report,
    Role,
    User,
    user_houses,
)
from app.seed.demo import seed_places
from tests.conftest import login
from tests.http_helpers import outbox
from tests.security.payloads import FULL, MULTILINE, SHORT, response_problems

#: For fields of at most 80 characters (names, titles of 140, addresses).
NAME = SHORT + " <svg onload=zqx3>"
assert len(NAME) <= 80


def assert_safe(client, *paths, statuses=(200,)):
    """Each page answers (never a 500) and shows nothing users wrote as markup or a formula."""
    for path in paths:
        response = client.get(path)
        assert response.status_code in statuses, f"{path}: {response.status_code}"
        problems = response_problems(response)
        assert problems == [], f"{path}: {problems}"


def assert_mail_safe(app, expected=False):
    """Emails are plain text: no header injection from a title, no template evaluated from input."""
    mails = outbox(app)
    assert mails or not expected, "no email went out: nothing was checked"
    for mail in mails:
        assert "\r" not in mail["subject"] and "\n" not in mail["subject"], mail["subject"]
        for text in (mail["subject"], mail["body"]):
            assert "49zqx5" not in text and "zqx17" not in text and "testing-secret-key" not in text


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        category = db.session.scalar(select(Category).where(Category.slug == "illuminazione"))
        house = db.session.scalar(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id))
        return {"category": category.id, "department": category.department_id, "house": house.id,
                "house_slug": house.slug, "district": house.district_id,
                "district_number": db.session.get(District, house.district_id).number}
    geo.clear_cache()


def test_a_report_its_staff_note_and_a_flag(app, client, make_user, city):
    reporter, flagger = make_user(), make_user()
    official = make_user(roles=[Role.official])
    moderator = make_user(roles=[Role.moderator, Role.citizen])
    with app.app_context():
        db.session.get(User, official.id).departments = [db.session.get(Department, city["department"])]
        db.session.commit()
    login(client, reporter)
    response = client.post("/reports/new", data={
        "category_id": str(city["category"]), "title": NAME, "description": MULTILINE, "address": NAME,
        "lat": "45.0450", "lon": "7.6780", "district_id": "0", "confirmed_new": "1"})
    assert response.status_code == 302
    with app.app_context():
        report_id = db.session.scalar(select(Report.id))
    login(client, official)
    assert client.post(f"/reports/{report_id}/status",
                       data={"st-status": "acknowledged", "st-note": MULTILINE}).status_code == 302
    assert client.post(f"/reports/{report_id}/note", data={"no-note": MULTILINE}).status_code == 302
    assert_safe(client, f"/reports/{report_id}", "/staff/reports")
    login(client, flagger)
    assert client.post(f"/flags/report/{report_id}",
                       data={"fl-reason": "other", "fl-text": FULL[:900], "next": "/"}).status_code == 302
    assert_safe(client, f"/reports/{report_id}", "/reports", f"/reports?q={SHORT}", "/search?q=zqx1",
                "/api/v1/map/features?bbox=7.6,45.0,7.75,45.1&zoom=17", "/open-data/reports.csv",
                f"/api/v1/reports/{report_id}", f"/open311/v2/requests/{report_id}.xml", "/open311/v2/requests.xml",
                f"/reports/nearby.json?lat=45.045&lon=7.678&category={city['category']}")
    login(client, moderator)
    with app.app_context():
        from app.models import ModerationCase

        case_id = db.session.scalar(select(ModerationCase.id))
    assert_safe(client, "/moderation", f"/moderation/cases/{case_id}")
    assert_mail_safe(app, expected=True)  # the reporter was told of the status change


def _collecting_process(app):
    from tests.test_proposals import build_process

    day = timedelta(days=1)
    with app.app_context():
        return build_process(phases={"collection": (-day, 5 * day), "support": (-day, 10 * day)},
                             verified_only=False).id


def test_a_proposal_its_comments_and_its_authors_profile(app, client, make_user, city):
    author = make_user(display_name="Autrice")
    reader = make_user()
    process_id = _collecting_process(app)
    login(client, author)
    assert client.post("/account/", data={"display_name": NAME, "bio": FULL[:990], "locale": "it",
                                          "notification_pref": "immediate"}).status_code == 302
    response = client.post("/proposals/new", data={
        "process_id": process_id, "title": NAME, "body": MULTILINE, "category_id": city["category"],
        "district_id": 0, "lat": "", "lon": "", "coauthors": ""})
    assert response.status_code == 302, response.text[:300]
    with app.app_context():
        proposal_id = db.session.scalar(select(Proposal.id))
    assert_safe(client, f"/proposals/{proposal_id}", f"/proposals/{proposal_id}/edit", "/proposals/mine")
    assert client.post(f"/proposals/{proposal_id}/publish").status_code == 302
    login(client, reader)
    # a comment with the payloads, mentioning the author by their (hostile) name
    assert client.post(f"/comments/proposal/{proposal_id}", data={"body": f"@{NAME} {FULL}"}).status_code == 302
    assert client.post(f"/proposals/{proposal_id}/support").status_code in (302, 403)
    assert_safe(client, f"/proposals/{proposal_id}", "/proposals", "/proposals/similar?q=zqx1",
                f"/people/{author.id}", "/search?q=zqx1&kind=proposal", "/feeds/proposals.rss",
                "/feeds/proposals.atom", f"/api/v1/proposals/{proposal_id}",
                f"/api/v1/comments/proposal/{proposal_id}", "/open-data/proposals.csv", "/notifications")
    login(client, author)
    assert_safe(client, "/notifications", "/account/", f"/proposals/{proposal_id}")
    assert_mail_safe(app, expected=True)


def test_a_debate(app, client, make_user, city):
    login(client, make_user())
    response = client.post("/debates/new", data={"title": NAME, "body": MULTILINE, "category_id": city["category"],
                                                 "district_id": 0})
    assert response.status_code == 302
    with app.app_context():
        debate_id = db.session.scalar(select(Debate.id))
    assert_safe(client, f"/debates/{debate_id}", "/debates", f"/debates/{debate_id}/edit",
                f"/api/v1/debates/{debate_id}", "/search?q=zqx1")


def test_an_organisation(app, client, make_user, city):
    login(client, make_user(verified=True))
    response = client.post("/organisations/new", data={
        "name": NAME, "kind": "association", "description": MULTILINE, "tax_code": "00514490010", "email": "",
        "website": "javascript:alert('zqx20')", "district_id": "0"})
    assert response.status_code == 200 and "https://" in response.text  # a script URL is no website
    response = client.post("/organisations/new", data={
        "name": NAME, "kind": "association", "description": MULTILINE, "tax_code": "00514490010", "email": "",
        "website": "https://example.org/\"'><img/src=x/onerror=zqx1>", "district_id": "0"})
    assert response.status_code == 302, re.findall(r'class="error-message"[^>]*>(.*?)</', response.text, re.S)
    with app.app_context():
        organisation_id = db.session.scalar(select(Organisation.id))
    assert_safe(client, f"/organisations/{organisation_id}", f"/organisations/{organisation_id}/manage",
                "/organisations/mine")


def test_an_event_of_a_house(app, client, make_user, city):
    facilitator = make_user(roles=[Role.facilitator])
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=facilitator.id, house_id=city["house"]))
        db.session.commit()
    login(client, facilitator)
    response = client.post("/events/new", data={
        "target": f"house-{city['house']}", "kind": "co_design", "title": NAME, "description": MULTILINE,
        "address": NAME, "starts_at": "2030-07-01T18:00", "ends_at": "2030-07-01T20:00", "capacity": "20",
        "registration_open": "y"})
    assert response.status_code == 302
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    assert_safe(client, f"/events/{event_id}", "/events", f"/houses/{city['house_slug']}",
                f"/houses/{city['house_slug']}/events.ics", f"/districts/{city['district_number']}/events.ics",
                f"/events/{event_id}/edit", f"/api/v1/events/{event_id}", "/open-data/events.csv")


def test_a_pact_proposal_through_the_office(app, client):
    from tests.pact_builders import pact_world, reload_user

    with app.app_context():
        world = pact_world()
        users = {role: reload_user(user.id) for role, user in world.users.items()}
        for user in users.values():
            db.session.expunge(user)
    login(client, users["author"])
    response = client.post("/pacts/new", data={
        "title": NAME, "commons_choice": "existing", "commons_id": world.commons_id,
        "organisation_id": world.organisation_id, "kind_requested": "ordinary", "objectives": MULTILINE,
        "activities": MULTILINE, "beneficiaries": FULL, "duration_months": "24", "own_resources": FULL,
        "support-0-kind": "tools", "support-0-item": NAME, "support-0-quantity": "3",
        "support-0-unit": "pezzi", "support-1-kind": "", "support-2-kind": "", "support-3-kind": "",
        "declare_truth": "y", "declare_rules": "y", "declare_privacy": "y"})
    assert response.status_code == 302, re.findall(r'class="(?:error-message|error-summary)"[^>]*>(.*?)</div',
                                                    response.text, re.S)
    with app.app_context():
        pact_id = db.session.scalar(select(Pact.id))
    assert_safe(client, f"/pacts/{pact_id}", f"/pacts/{pact_id}/edit", "/pacts/mine")
    assert client.post(f"/pacts/{pact_id}/submit").status_code == 302
    assert_safe(client, f"/pacts/{pact_id}/receipt")
    login(client, users["official"])
    assert_safe(client, f"/office/pacts/{pact_id}", "/office/pacts")
    assert_mail_safe(app)


def test_a_managed_account_made_in_an_assisted_session(app, client, make_user, city):
    facilitator = make_user(roles=[Role.facilitator])
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=facilitator.id, house_id=city["house"]))
        db.session.commit()
    login(client, facilitator)
    assert client.post("/assist/sessions", data={"o-house": str(city["house"])}).status_code == 302
    response = client.post("/assist/session/managed", data={
        "m-display_name": NAME, "m-locale": "it", "m-terms": "y", "m-privacy": "y", "m-document_type": "",
        "m-codice_fiscale": ""})
    assert response.status_code in (200, 302)
    assert_safe(client, "/assist/session", "/assist")
    with app.app_context():
        from app.models import AssistedSession

        session_id = db.session.scalar(select(AssistedSession.id))
    assert_safe(client, f"/assist/sessions/{session_id}/receipt", f"/assist/sessions/{session_id}/consent",
                statuses=(200, 404))


@pytest.mark.parametrize("query", [FULL, SHORT, "\"'><img src=x onerror=zqx1>", "{{7*7}}zqx5", "zqx1</title>"])
def test_search_queries_and_list_filters_are_shown_as_text(app, client, make_user, city, query):
    from urllib.parse import quote

    q = quote(query)
    assert_safe(client, f"/search?q={q}", f"/search?q={q}&kind={q}&district={q}", f"/proposals/similar?q={q}",
                f"/reports?status={q}&district={q}&category={q}", f"/proposals?status={q}&sort={q}&q={q}",
                f"/events?kind={q}&district={q}", f"/debates?sort={q}", f"/pacts?status={q}&q={q}",
                f"/map?layers={q}", f"/opportunities?q={q}", f"/statistics?district={q}",
                f"/api/v1/search?q={q}", f"/feeds/proposals.rss?district={q}",
                statuses=(200, 400, 404))
    login(client, make_user(roles=[Role.admin]))
    assert_safe(client, f"/admin/users?q={q}", f"/admin/audit?action={q}", statuses=(200, 400))


def test_the_pages_really_echo_the_payloads_escaped(app, client, city):
    """The checks above are only worth something if the payloads reach the pages: they do, as text."""
    page = client.get("/search", query_string={"q": "\"'><img src=x onerror=zqx1>"}).get_data(as_text=True)
    assert "&lt;img src=x onerror=zqx1&gt;" in page
    assert re.search(r'value="&#34;&#39;&gt;&lt;img src=x onerror=zqx1&gt;"|value="&quot;&#39;&gt;', page)

