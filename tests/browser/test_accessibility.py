"""Accessibility in a real browser: axe-core on every main page, keyboard-only journeys, reflow.

* **axe** (tests/browser/a11y.py; axe-core from npm, read from node_modules, never served by the
  app) on the main pages of every kind of user — visitor, citizen, official, moderator,
  facilitator, a kiosk with nobody and with a citizen signed in — lists, the first detail page of
  each list, forms, staff queues, in Italian and in English: no "serious" or "critical" violation
  of axe's standard rules (color-contrast included) in the normal theme. In Italian, each page is
  then switched to the high-contrast theme and checked with axe's colour rules.
* **Reflow**, on the same pages (in Italian), each narrowed after its axe run to 320 CSS px (WCAG
  1.4.10) and to 640 CSS px in a context with ``device_scale_factor=2``: that is what zooming a
  1280 px window to 200 % does to an open page (the layout and its media queries see 640 CSS px,
  drawn with two device pixels each). CSS ``zoom`` on the root would not do: media queries and
  viewport units would still see 1280 px. No sideways scrolling; navigation and buttons on
  screen (a wide data table may scroll inside its own box: tables are exempt from reflow).
* **Keyboard only**: placing a report without the map (district, address, category, text) and
  supporting a proposal, with Tab, Shift+Tab, Enter, Space and the arrow keys; every control that
  takes the focus must show it (:focus-visible with an outline or a box shadow).

The module seeds the demo city once (app/seed/demo.py) and every test reads it: it overrides the
autouse ``clean_db`` of tests/conftest.py with one that does nothing, and empties the database
itself when the module is done. The tests that write (the journeys) only add reports and supports,
which the others do not count. Map tiles are blocked, as offline.
"""
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db, limiter
from app.models import Role
from app.models.base import utcnow
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal, ProposalStatus, Support
from app.models.report import Report
from app.seed.demo import DEMO_PASSWORD, seed_demo
from tests.browser import a11y
from tests.browser.conftest import ACTION_TIMEOUT_MS, NAVIGATION_TIMEOUT_MS, serve
from tests.conftest import ROOT, TEST_PASSWORD, _truncate_all

pytestmark = pytest.mark.browser

LEAFLET_JS = ROOT / "app" / "static" / "vendor" / "node_modules" / "leaflet" / "dist" / "leaflet.js"
TILES = "**/tile.openstreetmap.org/**"
LANGS = {"it": "it-IT", "en": "en-US"}
DESKTOP = {"width": 1280, "height": 900}
SUBMIT = "#main form button[type=submit]"
CONTRAST_BUTTON = 'header form[action="/preferences/contrast"] button[type=submit]'

#: /api/v1/docs ends with Swagger UI (swagger-ui-dist 5, third-party code that builds its own DOM),
#: which has violations of its own that Piazza cannot fix without patching it: nested-interactive
#: (each operation's summary is a button inside a button), select-name (its unlabelled servers
#: list) and color-contrast in its stylesheet. axe checks the rest of the page — the header, the
#: introduction, the table of every operation that works without JavaScript, the footer — and
#: leaves the widget out.
API_DOCS_EXCLUDE = ("#swagger-ui",)


class Page:
    """One page to check: ``path``; ``follow``: then also the first link in #main matching this regex
    (a detail page, found as a user would); ``ready``: a selector to wait for (content drawn by scripts);
    ``exclude``: selectors axe leaves out."""

    def __init__(self, path, follow=None, ready=None, exclude=()):
        self.path, self.follow, self.ready, self.exclude = path, follow, ready, exclude


#: The main pages of each kind of user. A detail page is reached from its list (``follow``).
PAGES = {
    "visitor": [
        Page("/"),
        Page("/map?z=12", ready="#city-map-list li button"),
        Page("/reports", follow=r"^/reports/\d+$"),
        Page("/proposals", follow=r"^/proposals/\d+$"),
        Page("/processes"),
        Page("/debates", follow=r"^/debates/\d+$"),
        Page("/pacts", follow=r"^/pacts/\d+$"),
        Page("/commons"),
        Page("/houses", follow=r"^/houses/(?!statistics)[\w-]+$"),
        Page("/events", follow=r"^/events/\d+$"),
        Page("/search?q=via"),
        Page("/statistics"),
        Page("/open-data"),
        Page("/api/v1/docs", ready="#swagger-ui .info", exclude=API_DOCS_EXCLUDE),
        Page("/transparency"),
        Page("/login"),
        Page("/register"),
    ],
    "citizen": [
        Page("/reports/new", ready="#report-picker.leaflet-container"),
        Page("/proposals/new"),
        Page("/debates/new"),
        Page("/account/"),
        Page("/account/password"),
        Page("/notifications"),
        Page("/proposals/mine"),
        Page("/proposals/{supportable}"),  # with its support button
    ],
    "official": [
        Page("/staff/reports", follow=r"^/reports/\d+$"),  # the report with the staff's actions
        Page("/office/proposals", follow=r"^/office/proposals/\d+/review$"),
        Page("/office/pacts", follow=r"^/office/pacts/\d+$"),
        Page("/office/commons"),
    ],
    "moderator": [
        Page("/moderation", follow=r"^/moderation/cases/\d+$"),
        Page("/moderation/words"),
    ],
    "facilitator": [
        Page("/assist"),
        Page("/facilitator/verify"),
        Page("/kiosk"),
    ],
    # A shared computer in kiosk mode, nobody signed in, then a citizen signed in on it.
    "kiosk": [
        Page("/"),
        Page("/login"),
    ],
    "kiosk-citizen": [
        Page("/reports/new", ready="#report-picker.leaflet-container"),
        Page("/account/"),
    ],
}

ACCOUNTS = {
    "citizen": "citizen001@example.org",
    "official": "official@example.org",
    "moderator": "moderator@example.org",
    "facilitator": "facilitator@example.org",
}


# --- the seeded city, the server, the signed-in browsers ---------------------------------------------

@pytest.fixture
def clean_db():
    """Overrides tests/conftest.py's: this module's tests share the database ``city`` seeds once."""
    yield


def open_proposal_in_support(app):
    """A published proposal whose process is in its support phase now."""
    with app.app_context():
        now = utcnow()
        proposal_id = db.session.scalar(
            select(Proposal.id).join(Process).join(ProcessPhase, ProcessPhase.process_id == Process.id)
            .where(Proposal.status == ProposalStatus.published, Proposal.hidden_at.is_(None),
                   ProcessPhase.kind == PhaseKind.support, ProcessPhase.starts_at <= now, ProcessPhase.ends_at > now)
            .order_by(Proposal.id))
        db.session.remove()
    assert proposal_id is not None, "the demo has no proposal in a support phase"
    return proposal_id


@pytest.fixture(scope="module")
def city(app):
    """The demo city (seed_demo), once for the module; emptied afterwards as clean_db would.

    Yields the ids the page list needs: ``supportable``, a proposal collecting supports now.
    """
    with app.app_context():
        db.session.remove()
        seed_demo()
        db.session.commit()
        db.session.remove()
    yield {"supportable": open_proposal_in_support(app)}
    with app.app_context():
        db.session.remove()
        _truncate_all()
        db.session.remove()
    if limiter.enabled and limiter._storage is not None:
        limiter.reset()
    limiter.enabled = app.config["RATELIMIT_ENABLED"]


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory, city):
    """The conftest's live server (same database, CSRF on), with Leaflet from app/static/vendor."""
    assert LEAFLET_JS.exists(), "Leaflet is not vendored: run `make vendor` (needs npm)"
    # A kiosk's idle sign-out is minutes: long enough for this module's signed-in kiosk on a busy machine.
    with serve(database_url, tmp_path_factory.mktemp("live-a11y-instance"), LEAFLET_LOCAL=True,
               KIOSK_IDLE_MINUTES=60) as server:
        yield server


def _context(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    context.route(TILES, lambda route: route.abort())
    return context


def sign_in(page, email, password=DEMO_PASSWORD):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click(SUBMIT)
    expect(page.locator('header form[action="/logout"]')).to_have_count(1)


@pytest.fixture(scope="module")
def states(browser, live_server):
    """{user kind: Playwright storage state}: each kind signed in once, through the sign-in form."""
    result = {}
    for kind in ("visitor", *ACCOUNTS, "kiosk"):
        context = _context(browser, live_server)
        page = context.new_page()
        if kind == "visitor":
            page.goto("/")
        elif kind in ACCOUNTS:
            sign_in(page, ACCOUNTS[kind])
        else:
            # A facilitator turns this browser into a kiosk at their house and signs out; then a citizen
            # signs in on it.
            sign_in(page, ACCOUNTS["facilitator"])
            page.goto("/kiosk")
            page.click("#kiosk-start")
            expect(page.locator("body.kiosk")).to_have_count(1)
            page.click("header nav.main-nav button[type=submit]")  # Sign out
            expect(page.locator('header form[action="/logout"]')).to_have_count(0)
            expect(page.locator("body.kiosk")).to_have_count(1)
            result["kiosk"] = context.storage_state()
            kind = "kiosk-citizen"
            sign_in(page, "citizen002@example.org")
            expect(page.locator("body.kiosk")).to_have_count(1)
        result[kind] = context.storage_state()
        context.close()
    assert set(result) == set(PAGES)
    return result


def localised(path, lang):
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


def site_problems(page):
    """The page's recorded problems, except the tile requests this module blocks on purpose."""
    return [p for p in page.problems if "tile.openstreetmap.org" not in p]


_PAGE_STATE = """pattern => ({
  lang: document.documentElement.lang,
  contrast: document.documentElement.dataset.contrast || "normal",
  kiosk: document.body.classList.contains("kiosk"),
  detail: pattern ? ([...document.querySelectorAll("#main a[href]")].map(a => a.getAttribute("href"))
                       .find(h => h.startsWith("/") && new RegExp(pattern).test(h.split(/[?#]/)[0])) || null) : null,
})"""


def visit(page, path, lang, *, ready=None, follow=None):
    """Open ``path`` in ``lang``; returns what the page says about itself (one round trip)."""
    response = page.goto(localised(path, lang))
    assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
    assert urlsplit(page.url).path == urlsplit(path).path, f"{path}: sent on to {page.url}"
    if ready:
        expect(page.locator(ready).first).to_be_attached()
    state = page.evaluate(_PAGE_STATE, follow)
    assert state["lang"] == lang, f"{path}: the page is in {state['lang']!r}, not {lang!r}"
    if follow:
        assert state["detail"], f"{path}: no link in #main to a page matching {follow}"
        state["detail"] = urlsplit(state["detail"]).path
    return state


def walk(page, kind, lang, city):
    """Visit every page of ``kind`` (lists, then the first detail page of each); yields (path, state, entry)."""
    for entry in PAGES[kind]:
        path = entry.path.format(**city)
        state = visit(page, path, lang, ready=entry.ready, follow=entry.follow)
        yield path, state, entry
        if entry.follow:
            detail = state["detail"]
            yield detail, visit(page, detail, lang), entry


# --- axe on every main page, in both themes, and reflow -------------------------------------------

#: 320 CSS px (WCAG 1.4.10), and a 1280 px window at 200 % zoom (640 CSS px at 2 device px each).
REFLOW_VIEWPORTS = [{"width": 320, "height": 640}, {"width": 640, "height": 450}]
NAV = ("header nav.main-nav a, header nav.main-nav button, header nav.staff-bar a, header .lang-switch a, "
       + CONTRAST_BUTTON)
BUTTONS = "#main .button, #main button, #main input[type=submit]"


def reflow_problems(page, label):
    """At each reflow width: sideways scrolling, or navigation and buttons out of reach."""
    found = []
    for viewport in REFLOW_VIEWPORTS:
        page.set_viewport_size(viewport)
        state = a11y.reflow_state(page, NAV, BUTTONS)
        where = f"{label} at {viewport['width']} px"
        if state["scrollWidth"] > viewport["width"]:
            found.append(f"{where}: the page is {state['scrollWidth']} px wide (widest: {state['widest']})")
        if state["nav"] == 0:
            found.append(f"{where}: no navigation link is displayed")
        found += [f"{where}: {what} is off screen" for what in state["outside"]]
    page.set_viewport_size(DESKTOP)
    return found


def switch_to_high_contrast(page):
    """The high-contrast theme on the open page, as the server renders it for a session that chose it.

    The server's only difference between the themes is ``data-contrast="high"`` on <html> (base.html;
    piazza.css does the rest, no script reads colours, and the toggle button's aria-pressed is not a
    colour). tests/browser/test_language_and_contrast.py tests the toggle itself.
    """
    page.evaluate("document.documentElement.dataset.contrast = 'high'")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("kind", list(PAGES))
def test_main_pages_have_no_serious_axe_violations(kind, lang, new_page, states, city):
    """Every main page of ``kind`` in ``lang``: no serious or critical axe violation.

    Both languages: axe's standard rules (WCAG 2.x A and AA and best practices, color-contrast
    included), in the normal theme. Then, in Italian, on the same open page:

    * reflow: narrowed to 320 CSS px and to 640 CSS px — with ``device_scale_factor=2`` in this
      context, what zooming a 1280 px window to 200 % does to an open page — no sideways scrolling,
      navigation and buttons on screen;
    * the high-contrast theme, which changes colours only (the words do not matter to it): axe's
      colour rules.

    One visit per page for all the checks keeps the module fast.
    """
    italian = lang == "it"
    page = new_page(locale=LANGS[lang], viewport=DESKTOP, storage_state=states[kind],
                    device_scale_factor=2 if italian else 1)
    page.route(TILES, lambda route: route.abort())
    a11y.use_axe(page)
    axe_found, reflow_found, checked = [], [], []
    for path, state, entry in walk(page, kind, lang, city):
        assert state["contrast"] == "normal", f"{path}: the session is in the {state['contrast']} theme"
        assert state["kiosk"] == kind.startswith("kiosk"), f"{path}: kiosk mode is {state['kiosk']}"
        checked.append(path)
        label = f"{kind} {path} [{lang}]"
        axe_found += a11y.describe(label, a11y.blocking(a11y.axe_violations(page, exclude=entry.exclude)))
        if italian:
            reflow_found += reflow_problems(page, label)
            switch_to_high_contrast(page)
            axe_found += a11y.describe(label + " high contrast", a11y.blocking(
                a11y.axe_violations(page, exclude=entry.exclude, rules=a11y.COLOUR_RULES)))
    assert not axe_found + reflow_found, "\n".join(["axe:", *axe_found, "reflow:", *reflow_found])
    assert len(checked) == len(PAGES[kind]) + sum(1 for e in PAGES[kind] if e.follow)
    assert site_problems(page) == []


def test_axe_is_not_served_by_the_app(client):
    """axe-core lives in node_modules for the tests only: the app's static route must not hand it out."""
    assert a11y.AXE_JS.exists()
    response = client.get("/static/vendor/node_modules/axe-core/axe.min.js")
    assert response.status_code == 404


# --- keyboard only -----------------------------------------------------------------------------------

SAN_SALVARIO = "San Salvario – Cavoretto – Borgo Po – Nizza Millefonti – Lingotto – Filadelfia"
PAVEMENTS = {"it": "Marciapiedi e barriere architettoniche", "en": "Pavements and accessibility barriers"}


def choose_with_arrows(page, select_id, wanted_text):
    """On a focused, closed <select>: Home, then ArrowDown until the option ``wanted_text`` is chosen."""
    page.keyboard.press("Home")
    for _ in range(60):
        label = page.evaluate("id => { const s = document.getElementById(id); return s.options[s.selectedIndex].text }",
                              select_id)
        if label == wanted_text:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{wanted_text!r} is not an option of #{select_id}")


def keyboard_sign_in(page, email, password):
    """Sign in from the home page with the keyboard alone."""
    page.goto("/")
    a11y.tab_to(page, 'header a[href="/login"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    a11y.tab_to(page, "#email")
    page.keyboard.type(email)
    a11y.tab_to(page, "#password")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator('header form[action="/logout"]')).to_have_count(1)


@pytest.mark.parametrize("lang", ["it"])
def test_placing_a_report_without_the_map_with_the_keyboard_only(lang, new_page, app, make_user, live_server):
    user = make_user(roles=[Role.citizen], email=f"tastiera-{lang}@example.org", display_name="Tina Tastiera")
    page = new_page(locale=LANGS[lang], viewport=DESKTOP)
    page.route(TILES, lambda route: route.abort())
    keyboard_sign_in(page, user.email, TEST_PASSWORD)

    # From the reports list to the form.
    page.goto(localised("/reports", lang))
    a11y.tab_to(page, '#main a[href="/reports/new"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#report-picker.leaflet-container")).to_have_count(1)  # the map is there: not used

    # District 8 and "Pavements", chosen with the arrow keys on the closed lists.
    a11y.tab_to(page, "#district_id")
    choose_with_arrows(page, "district_id", f"8 – {SAN_SALVARIO}")
    page.keyboard.press("Tab")
    assert a11y.assert_focus_visible(page, "address")["description"].startswith("input#address")
    page.keyboard.type("Via Madama Cristina 10, davanti alla farmacia")
    a11y.tab_to(page, "#category_id")
    choose_with_arrows(page, "category_id", PAVEMENTS[lang])
    a11y.tab_to(page, "#title")
    title = f"Tombino sollevato ({lang}) {time.monotonic_ns()}"
    page.keyboard.type(title)
    a11y.tab_to(page, "#description")
    page.keyboard.type("Il tombino sul marciapiede sporge di qualche centimetro: si inciampa.")
    # Back up once and forward again, as people do to check what they typed.
    page.keyboard.press("Shift+Tab")
    a11y.assert_focus_visible(page, "Shift+Tab back to the title")
    assert page.evaluate("document.activeElement.id") == "title"
    a11y.tab_to(page, "#main form.report-form button[type=submit]")
    # No pin: the map was passed over, the place is the district and the address.
    assert page.evaluate("[document.getElementById('lat').value, document.getElementById('lon').value]") == ["", ""]
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/reports/\d+(\?|$)"))
    expect(page.locator("#main h1")).to_have_text(title)
    report_id = int(re.search(r"/reports/(\d+)", page.url).group(1))
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report.title == title and report.reporter_id == user.id
        assert report.district.number == 8 and report.address.startswith("Via Madama Cristina 10")
        assert report.category.slug == "marciapiedi"
        db.session.remove()
    assert site_problems(page) == []


def supports(app, proposal_id, user_id=None):
    with app.app_context():
        query = select(func.count(Support.id)).where(Support.proposal_id == proposal_id)
        if user_id is not None:
            query = query.where(Support.user_id == user_id)
        count = db.session.scalar(query)
        cached = db.session.scalar(select(Proposal.support_count).where(Proposal.id == proposal_id))
        db.session.remove()
    return count, cached


@pytest.mark.parametrize("lang", ["en"])
def test_supporting_a_proposal_with_the_keyboard_only(lang, new_page, app, make_user, live_server, city):
    user = make_user(roles=[Role.citizen], verified=True, email=f"sostegno-{lang}@example.org",
                     display_name="Sandro Sostegno")
    proposal_id = city["supportable"]
    before, _ = supports(app, proposal_id)
    page = new_page(locale=LANGS[lang], viewport=DESKTOP)
    keyboard_sign_in(page, user.email, TEST_PASSWORD)

    page.goto(localised(f"/proposals/{proposal_id}", lang))
    support_button = f'#main form[action="/proposals/{proposal_id}/support"] button[type=submit]'
    a11y.tab_to(page, support_button)
    with page.expect_navigation():
        page.keyboard.press("Space")

    expect(page).to_have_url(re.compile(rf"/proposals/{proposal_id}(\?|#|$)"))
    expect(page.locator(f'#main form[action="/proposals/{proposal_id}/withdraw-support"]')).to_have_count(1)
    assert supports(app, proposal_id, user.id)[0] == 1
    assert supports(app, proposal_id) == (before + 1, before + 1)
    # The page after the support works from the keyboard too: withdrawing can be reached with Tab.
    a11y.tab_to(page, f'#main form[action="/proposals/{proposal_id}/withdraw-support"] button[type=submit]')
    assert site_problems(page) == []
