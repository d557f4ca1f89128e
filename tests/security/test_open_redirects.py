"""Open redirects: every place that sends the browser to an address it was given stays on the site.

tests/test_http_basics.py checks ``safe_next`` itself and the contrast toggle with one address;
tests/test_auth_http.py the login's ``next`` with a few. Here every redirecting endpoint gets the
whole corpus — other hosts, protocol-relative and backslash tricks, script URLs, encoded slashes,
CR/LF header injection — and the Location it answers must be a path on this site, with no header
injected. Also: the language switch links of any page, and a notification's stored address.
"""
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Category, Notification, User
from app.seed.demo import seed_places
from tests.conftest import login
from tests.http_helpers import sign_in

EVIL = [
    "//evil.example",
    "//evil.example/%2F..",
    "https://evil.example",
    "http://evil.example/login",
    "HTTPS://EVIL.EXAMPLE",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    " //evil.example",
    "///evil.example",
    "http:/evil.example",
    "https:evil.example",
    "//evil.example@localhost",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/ok\r\nSet-Cookie: pwned=1",
    "/ok\nLocation: https://evil.example",
    "/ok%0d%0aSet-Cookie:%20pwned=1",
    "\u3002evil.example",
    "//evil.example\u3002",
]


def assert_stays_on_site(response):
    """The response redirects (if at all) to a path of this site and carries no injected header."""
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value, (name, value)
        assert name.lower() != "set-cookie" or "pwned" not in value, (name, value)
    location = response.headers.get("Location")
    if location is None:
        return
    # Browsers read "\" as "/" and drop tabs and newlines inside URLs: judge what they would follow.
    seen = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
    assert seen.startswith("/") and not seen.startswith("//"), location
    target = urlsplit(urljoin("http://localhost/somewhere/page", seen))
    assert target.scheme == "http" and target.netloc == "localhost", location


@pytest.fixture
def world(app, make_user):
    citizen = make_user(email="rosa@example.org")
    with app.app_context():
        seed_places()
        db.session.commit()
        from tests.test_proposals import build_process, new_proposal

        process = build_process()
        proposal = new_proposal(process, db.session.get(User, citizen.id))
        from app.reports import services as reports

        category_id = db.session.scalar(select(Category.id).order_by(Category.id))
        report = reports.create_report(db.session.get(User, citizen.id), title="Buca", description="Profonda.",
                                       category_id=category_id, lat=45.045, lon=7.678)
        db.session.commit()
        return {"citizen": citizen, "proposal": proposal.id, "report": report.id}


def test_login_does_not_send_anyone_away(app, client, world):
    for target in EVIL:
        browser = app.test_client()
        response = sign_in(browser, world["citizen"].email, query_string={"next": target})
        assert response.status_code == 302, target
        assert_stays_on_site(response)
        # and once signed in, the login page's own redirect
        again = browser.get("/login", query_string={"next": target})
        assert again.status_code == 302, target
        assert_stays_on_site(again)


#: Forms that go back to a ``next`` address they carry: (path template, extra form fields, signed in).
FORMS = {
    "contrast toggle": ("/preferences/contrast", {}, False),
    "follow": ("/follow/report/{report}", {}, True),
    "unfollow": ("/unfollow/report/{report}", {}, True),
    "flag content": ("/flags/report/{report}", {"fl-reason": "spam"}, True),
    "flag without a reason": ("/flags/report/{report}", {}, True),
    "support": ("/proposals/{proposal}/support", {}, True),
    "withdraw support": ("/proposals/{proposal}/withdraw-support", {}, True),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_forms_going_back_to_next_stay_on_the_site(app, client, world, form):
    path, fields, signed_in = FORMS[form]
    if signed_in:
        login(client, world["citizen"])
    url = path.format(**world)
    for target in EVIL:
        response = client.post(url, data={**fields, "next": target})
        assert response.status_code in (302, 303, 400), (target, response.status_code)
        assert_stays_on_site(response)


def test_a_notification_with_a_foreign_address_opens_the_notifications_instead(app, client, world):
    with app.app_context():
        ids = []
        for url in EVIL:
            note = Notification(user_id=world["citizen"].id, kind="comment.reply", url=url)
            db.session.add(note)
            db.session.flush()
            ids.append(note.id)
        db.session.commit()
    login(client, world["citizen"])
    for note_id in ids:
        response = client.post(f"/notifications/{note_id}/read")
        assert response.status_code == 302
        assert_stays_on_site(response)


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "///evil.example/x", "/%2F%2Fevil.example",
                                  "/%5C%5Cevil.example", "/reports?next=//evil.example"])
def test_the_language_switch_and_contrast_form_of_any_page_point_at_this_site(client, world, path):
    """Every page (even a 404 for a strange address) links to itself in the other language and posts
    the contrast toggle with its own address: both must stay on the site."""
    import re

    raw = path.split("?")[0]
    response = client.get("/", environ_overrides={"PATH_INFO": raw, "QUERY_STRING": path.partition("?")[2]})
    page = response.get_data(as_text=True)
    links = re.findall(r'<a href="([^"]*lang=(?:it|en)[^"]*)"', page)
    assert links, f"no language link on {path}"
    for link in links:
        assert_stays_on_site(type("R", (), {"headers": {"Location": link.replace("&amp;", "&")}})())
    next_field = re.search(r'name="next" value="([^"]*)"', page)
    assert next_field is not None
    back = client.post("/preferences/contrast", data={"next": next_field.group(1).replace("&amp;", "&")})
    assert_stays_on_site(back)


def test_logout_ignores_any_next_address(client, world):
    login(client, world["citizen"])
    response = client.post("/logout?next=https://evil.example", data={"next": "//evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_sign_in_link_of_a_protected_page_keeps_the_address_local(client, world):
    """A visitor sent to sign in carries the page's address in ``next``: even for a strange path."""
    response = client.get("/account/", environ_overrides={"PATH_INFO": "//account/"})
    assert response.status_code in (302, 308)
    assert_stays_on_site(response)
    carried = parse_qs(urlsplit(response.headers["Location"]).query).get("next", ["/account/"])[0]
    assert carried.startswith("/") and not carried.startswith(("//", "/\\"))
