"""Kiosk mode over HTTP: a shared computer at a Casa del Quartiere, turned on by its facilitator.

Large text and a short menu on every page, no "keep me signed in", a short idle time measured by
the server, and a sign-out that forgets the person (the whole session, the remember-me cookie, the
browser's cache and storage) while the computer stays a kiosk.
"""
import re
import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from app.extensions import db
from app.kiosk.context import COOKIE_NAME
from app.models import AuditEvent, NeighbourhoodHouse, Role, user_houses
from app.models.assisted import EndReason
from tests.conftest import login
from tests.http_helpers import english, location_path, new_client, sign_in, text_of
from tests import test_assisted_http as assisted
from tests.test_assisted_http import managed, open_session, the_session

REMEMBER = "piazza_remember"

#: The houses and a facilitator attached to the first one, as in the assisted-session tests.
city = assisted.city
facilitator = assisted.facilitator


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def other_house_id(app, city):
    with app.app_context():
        return db.session.scalars(select(NeighbourhoodHouse.id).where(NeighbourhoodHouse.id != city["house_id"])
                                  .order_by(NeighbourhoodHouse.id)).first()


def start_kiosk(client, house_id):
    return client.post("/kiosk/start", data={"k-house": str(house_id)})


@pytest.fixture
def kiosk(client, facilitator, city):
    """``client`` is a kiosk of the facilitator's house; nobody is signed in on it any more."""
    login(client, facilitator)
    assert start_kiosk(client, city["house_id"]).status_code == 302
    with client.session_transaction() as sess:
        sess.clear()
    return client


def set_cookie_header(response, name):
    """The Set-Cookie header that sets ``name``, or None."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(found) <= 1, found
    return found[0] if found else None


def session_of(client):
    with client.session_transaction() as sess:
        return dict(sess)


def events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.seq)).all()


def is_kiosk_page(response):
    return '<body class="kiosk">' in response.text and "css/kiosk.css" in response.text


def nav_of(page):
    match = re.search(r'<nav aria-label="Main" class="main-nav">(.*?)</nav>', page, re.S)
    assert match, "no main navigation"
    return match.group(1)


# --- turning it on ----------------------------------------------------------------------------

def test_a_facilitator_makes_this_browser_a_kiosk_of_their_house_on_the_record(app, client, facilitator, city):
    login(client, facilitator)
    assert not is_kiosk_page(client.get("/"))

    response = start_kiosk(client, city["house_id"])

    assert response.status_code == 302 and location_path(response) == "/"
    header = set_cookie_header(response, COOKIE_NAME)
    assert header and "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header  # SESSION_COOKIE_SECURE is off in tests
    assert re.search(r"Max-Age=(\d+)", header).group(1) == str(app.config["KIOSK_COOKIE_DAYS"] * 86400)
    [event] = events(app, "kiosk.started")
    assert (event.actor_id, event.target_type, event.target_id) == (facilitator.id, "house", city["house_id"])
    assert event.details["house_id"] == city["house_id"]
    page = client.get("/")
    assert is_kiosk_page(page)
    assert f"Shared computer at {city['house_name']}: sign out when you are done." in text_of(page)


def test_the_kiosk_cookie_is_secure_when_the_session_cookie_is(app, client, facilitator, city, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    login(client, facilitator)
    assert "Secure" in set_cookie_header(start_kiosk(client, city["house_id"]), COOKIE_NAME)


def test_a_facilitator_of_another_house_and_a_citizen_cannot_start_a_kiosk_here(
        app, client, make_user, city, other_house_id):
    elsewhere = make_user(roles=[Role.facilitator])
    citizen = make_user()
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=elsewhere.id, house_id=other_house_id))
        db.session.commit()

    login(client, elsewhere)
    refused = start_kiosk(client, city["house_id"])
    assert refused.status_code == 400 and set_cookie_header(refused, COOKIE_NAME) is None
    assert "Not a valid choice" in text_of(refused) or "Only a facilitator" in text_of(refused)
    login(client, citizen)
    assert start_kiosk(client, city["house_id"]).status_code == 403
    assert events(app, "kiosk.started") == []
    assert not is_kiosk_page(client.get("/"))


def test_an_admin_may_start_a_kiosk_at_any_house_and_move_it(app, client, make_user, city, other_house_id):
    admin = make_user(roles=[Role.admin])
    login(client, admin)
    page = client.get("/kiosk")
    assert page.status_code == 200 and "Turn this computer into a kiosk" in text_of(page)
    assert start_kiosk(client, city["house_id"]).status_code == 302
    assert start_kiosk(client, other_house_id).status_code == 302
    first, second = events(app, "kiosk.started")
    assert first.details == {"house_id": city["house_id"], "previous_house_id": None}
    assert second.details == {"house_id": other_house_id, "previous_house_id": city["house_id"]}
    with app.app_context():
        other = db.session.get(NeighbourhoodHouse, other_house_id)
    assert f"Shared computer at {other.name}" in text_of(client.get("/"))


def test_a_kiosk_cookie_altered_signed_with_another_key_or_of_an_unknown_house_is_ignored(app, kiosk, city):
    genuine = kiosk.get_cookie(COOKIE_NAME).value
    payload, rest = genuine.split(".", 1)
    ours = URLSafeTimedSerializer(app.secret_key, salt="piazza.kiosk")
    assert ours.loads(genuine) == {"h": city["house_id"], "o": 0}  # signed with the app's key
    other_house = ours.dumps({"h": city["house_id"] + 1, "o": 0}).split(".", 1)[0]
    forged = URLSafeTimedSerializer("not our secret", salt="piazza.kiosk").dumps({"h": city["house_id"], "o": 0})
    unknown_house = ours.dumps({"h": 999_999, "o": 0})
    for value in (other_house + "." + rest, forged, genuine[:-3] + "xyz", "garbage", unknown_house):
        kiosk.set_cookie(COOKIE_NAME, value)
        response = kiosk.get("/")
        assert response.status_code == 200 and not is_kiosk_page(response), value
        assert set_cookie_header(response, COOKIE_NAME).startswith(f"{COOKIE_NAME}=;")  # and it is dropped
    kiosk.set_cookie(COOKIE_NAME, genuine)
    assert is_kiosk_page(kiosk.get("/"))
    assert payload


# --- the pages --------------------------------------------------------------------------------

def test_kiosk_pages_have_the_short_menu_and_no_footer(kiosk, city, client, make_user):
    page = text_of(kiosk.get("/"))
    nav = nav_of(page)
    for label in ("Home", "Map", "Report a problem", "Proposals", "Pacts", "Events here", "Sign in"):
        assert f">{label}<" in nav, label
    with kiosk.application.app_context():
        slug = db.session.get(NeighbourhoodHouse, city["house_id"]).slug
    assert f'href="/houses/{slug}#events-title"' in nav
    for gone in ("Debates", "Register", "Notifications", "My account"):
        assert gone not in nav, gone
    assert 'class="site-footer"' not in page and "/api/v1/openapi.json" not in page
    assert 'src="/static/js/kiosk.js"' in page and "<script>" not in page
    # Signed in: the name, the sign-out button and the hidden form kiosk.js posts after the idle time.
    login(kiosk, make_user(display_name="Rosa Bianchi"))
    page = text_of(kiosk.get("/"))
    assert "Signed in as Rosa Bianchi" in page and ">Sign out<" in nav_of(page)
    form = re.search(r'<form method="post" action="/logout" id="kiosk-idle-logout" hidden>(.*?)</form>', page, re.S)
    assert form and 'name="csrf_token"' in form.group(1) and 'name="idle" value="1"' in form.group(1)
    assert 'data-idle-seconds="300.0"' in page and 'data-signed-in="true"' in page
    # An ordinary browser keeps the whole menu and the footer.
    ordinary = text_of(client.application.test_client().get("/", headers={"Accept-Language": "en"}))
    assert ">Debates<" in nav_of(ordinary) and 'class="site-footer"' in ordinary


def test_on_a_kiosk_the_login_form_has_no_remember_box_and_a_posted_one_is_ignored(app, kiosk, make_user):
    make_user(email="rosa@example.org")
    form = text_of(kiosk.get("/login"))
    assert 'name="remember"' not in form and "Keep me signed in" not in form

    response = sign_in(kiosk, "rosa@example.org", remember=True)

    assert response.status_code == 302 and "_user_id" in session_of(kiosk)
    assert set_cookie_header(response, REMEMBER) is None and kiosk.get_cookie(REMEMBER) is None
    assert "_remember" not in session_of(kiosk)
    # The same form on an ordinary browser does set the cookie (so the check above means something).
    ordinary = new_client(app)
    assert 'name="remember"' in text_of(ordinary.get("/login"))
    assert set_cookie_header(sign_in(ordinary, "rosa@example.org", remember=True), REMEMBER)


def test_a_remember_me_cookie_from_before_is_neither_honoured_nor_kept_on_a_kiosk(app, kiosk, make_user):
    make_user(email="rosa@example.org")
    ordinary = new_client(app)
    sign_in(ordinary, "rosa@example.org", remember=True)
    remember = ordinary.get_cookie(REMEMBER).value
    fresh = new_client(app)
    fresh.set_cookie(REMEMBER, remember)
    assert fresh.get("/account/").status_code == 200  # on an ordinary browser it signs in

    kiosk.set_cookie(REMEMBER, remember)
    response = kiosk.get("/account/")

    assert response.status_code == 302 and location_path(response) == "/login"
    assert set_cookie_header(response, REMEMBER).startswith(f"{REMEMBER}=;")
    assert kiosk.get_cookie(REMEMBER) is None


# --- idle time --------------------------------------------------------------------------------

@pytest.mark.parametrize("idle_for, still_signed_in", [
    (-30, True),    # 4 min 30 s
    (+10, True),    # 5 min 10 s: seen_at may lag the last request by 30 s, which the limit allows for
    (+31, False),   # 5 min 31 s
])
def test_a_kiosk_session_ends_after_the_idle_minutes_without_requests(app, kiosk, make_user, idle_for,
                                                                      still_signed_in):
    citizen = make_user()
    login(kiosk, citizen)
    idle = app.config["KIOSK_IDLE_MINUTES"] * 60
    with kiosk.session_transaction() as sess:
        sess["seen_at"] = time.time() - idle - idle_for
        sess["lang"] = "en"

    response = kiosk.get("/account/")

    if still_signed_in:
        assert response.status_code == 200 and "Clear-Site-Data" not in response.headers
        assert session_of(kiosk)["seen_at"] > time.time() - 5
        return
    assert response.status_code == 302 and location_path(response) == "/login"
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert set(session_of(kiosk)) == {"_flashes"}  # the language went with the person
    assert "You were signed out after 5 minutes without activity" in text_of(kiosk.get("/login"))
    assert is_kiosk_page(kiosk.get("/"))


def test_an_ordinary_browser_keeps_the_long_idle_time(app, client, make_user):
    login(client, make_user())
    with client.session_transaction() as sess:
        sess["seen_at"] = time.time() - 10 * 60
    assert client.get("/account/").status_code == 200


def test_on_a_kiosk_an_open_assisted_session_ends_with_the_kiosk_idle_time(app, kiosk, facilitator, city):
    login(kiosk, facilitator)
    open_session(kiosk, city)
    managed(kiosk)
    acting = kiosk.get("/")
    assert is_kiosk_page(acting) and "You are acting for" in text_of(acting)
    assert ">Assisted session<" in nav_of(text_of(acting))
    with kiosk.session_transaction() as sess:
        sess["seen_at"] = time.time() - 6 * 60

    response = kiosk.get("/reports/new")

    assert response.status_code == 302 and location_path(response) == "/login"
    assert "_user_id" not in session_of(kiosk)
    assisted = the_session(app)
    assert assisted.ended_at is not None and assisted.end_reason == EndReason.idle


# --- signing out ------------------------------------------------------------------------------

def test_signing_out_on_a_kiosk_forgets_the_person_and_the_kiosk_stays(app, kiosk, make_user, city):
    login(kiosk, make_user())
    with kiosk.session_transaction() as sess:
        sess["lang"], sess["contrast"], sess["draft"] = "en", "high", "something of theirs"
    kiosk.set_cookie(REMEMBER, "a-leftover-cookie")
    before = kiosk.get_cookie(COOKIE_NAME).value

    response = kiosk.post("/logout")

    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert set(session_of(kiosk)) == {"_flashes"}
    assert set_cookie_header(response, REMEMBER).startswith(f"{REMEMBER}=;")
    kept = set_cookie_header(response, COOKIE_NAME)
    assert kept and not kept.startswith(f"{COOKIE_NAME}=;") and kiosk.get_cookie(COOKIE_NAME).value != before
    page = kiosk.get("/")
    assert is_kiosk_page(page) and "This computer is ready for the next person" in text_of(page)
    assert ">Sign in<" in nav_of(text_of(page))


def test_the_idle_sign_out_of_kiosk_js_says_why(kiosk, make_user):
    login(kiosk, make_user())
    response = kiosk.post("/logout", data={"idle": "1"})
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert "You were signed out after 5 minutes without activity" in text_of(kiosk.get("/"))


def test_an_ordinary_sign_out_keeps_preferences_and_sends_no_clear_site_data(client, make_user):
    login(client, make_user())
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    response = client.post("/logout")
    assert "Clear-Site-Data" not in response.headers and session_of(client)["lang"] == "en"


def test_a_session_cookie_from_before_the_sign_out_does_not_bring_the_person_back(kiosk, make_user):
    login(kiosk, make_user())
    assert kiosk.get("/account/").status_code == 200
    old_session = kiosk.get_cookie("piazza_session").value  # e.g. a map request still on its way back

    kiosk.post("/logout")
    kiosk.set_cookie("piazza_session", old_session)
    response = kiosk.get("/account/")

    assert response.status_code == 302 and location_path(response) == "/login"
    assert "_user_id" not in session_of(kiosk)
    # Whoever signs in next is not affected.
    login(kiosk, make_user())
    assert kiosk.get("/account/").status_code == 200


# --- turning it off ---------------------------------------------------------------------------

def test_stopping_needs_a_facilitator_of_the_house_signed_in_on_that_browser(app, kiosk, facilitator, make_user,
                                                                               city):
    assert kiosk.post("/kiosk/stop").status_code == 302 and is_kiosk_page(kiosk.get("/"))  # to sign in
    login(kiosk, make_user())
    assert kiosk.post("/kiosk/stop").status_code == 403
    assert is_kiosk_page(kiosk.get("/")) and events(app, "kiosk.stopped") == []

    login(kiosk, facilitator)
    page = kiosk.get("/kiosk")
    assert f"This computer is a kiosk of {city['house_name']}" in text_of(page)
    response = kiosk.post("/kiosk/stop")

    assert response.status_code == 302
    assert set_cookie_header(response, COOKIE_NAME).startswith(f"{COOKIE_NAME}=;")
    [event] = events(app, "kiosk.stopped")
    assert (event.actor_id, event.target_id, event.details) == (facilitator.id, city["house_id"],
                                                                 {"house_id": city["house_id"]})
    assert not is_kiosk_page(kiosk.get("/"))
