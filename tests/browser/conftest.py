"""Browser tests: a live Piazza server on the shared test database, driven by Chromium through Playwright.

* ``live_server`` (session): a second app built from the same test configuration
  and database as the ``app`` fixture, but with CSRF protection on (the forms are
  real) and ``BASE_URL`` pointing at itself, so the links in queued emails work.
  It is served by Werkzeug in a daemon thread on a free loopback port.
* ``browser`` (session): Debian's Chromium (``/usr/bin/chromium``), headless;
  nothing is ever downloaded.
* ``page`` (function): a page in a fresh browser context (Italian locale, the
  live server as base URL). Console errors, uncaught page errors, failed
  requests and unexpected HTTP statuses >= 400 are collected in
  ``page.problems``; a test that provokes an error page on purpose declares it
  with ``page.expected_statuses.add((path, status))``. When a test fails, a
  full-page screenshot goes to ``tests/artifacts/<test name>.png``.
* ``new_page(locale=..., viewport=...)`` (function): more pages, each in its own
  context, with the same recording.

Tests here never hold an application context while the browser acts: they open
short ones on the ``app`` fixture to read or write the database, between steps.
The autouse ``clean_db`` fixture (tests/conftest.py) empties the database after
each test, once the test's browser contexts are closed.
"""
import contextlib
import re
import socket
import threading
import warnings
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.conftest import ROOT, make_config

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: Playwright's own timeouts (ms): a local server answers in far less.
ACTION_TIMEOUT_MS = 5000
NAVIGATION_TIMEOUT_MS = 8000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real browser (Chromium) against a live Piazza server")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (``item.rep_setup``, ``rep_call``...) for the fixtures."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The running server: ``url`` (no trailing slash), ``app`` (its Flask app)."""

    def __init__(self, app, url):
        self.app = app
        self.url = url

    def __call__(self, path="/"):
        return self.url + path


@contextlib.contextmanager
def serve(database_url, instance_dir, **overrides):
    """Serve Piazza over real HTTP on a free port, CSRF on, on the suite's database; yields a LiveServer."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    live_app = create_app(make_config(database_url, instance_dir, WTF_CSRF_ENABLED=True, BASE_URL=url,
                                      **overrides))
    assert live_app.config["WTF_CSRF_ENABLED"] is True
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"piazza-live-{port}", daemon=True)
    thread.start()
    try:
        yield LiveServer(live_app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with live_app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(app, database_url, tmp_path_factory):
    """Piazza served over real HTTP, with CSRF on, on the database the ``app`` fixture migrated."""
    with serve(database_url, tmp_path_factory.mktemp("live-instance")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


def _artifact_name(node_name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name).strip("_")


def _record_problems(page):
    """Collect what a careful tester would notice in the developer tools."""
    page.problems = []
    #: (path, status) pairs the test provokes on purpose, e.g. ("/password/reset/<token>", 400).
    page.expected_statuses = set()

    def expected(url, status):
        parts = urlsplit(url)
        return (parts.path, status) in page.expected_statuses

    def on_response(response):
        if response.status >= 400 and not expected(response.url, response.status):
            page.problems.append(f"HTTP {response.status} {response.request.method} {response.url}")

    def on_request_failed(request):
        # ERR_ABORTED: the browser itself cancelled the request because the page navigated away
        # (e.g. the favicon of a page a test leaves at once). Not a failure of the site.
        if request.failure == "net::ERR_ABORTED":
            return
        page.problems.append(f"request failed ({request.failure}) {request.method} {request.url}")

    def on_console(message):
        if message.type != "error":
            return
        # Chromium repeats every HTTP error as a console error; expected ones are not problems.
        status = re.match(r"Failed to load resource: the server responded with a status of (\d+)", message.text)
        if status and expected(message.location.get("url", ""), int(status.group(1))):
            return
        page.problems.append(f"console error: {message.text} at {message.location.get('url', '')}")

    def on_page_error(error):
        page.problems.append(f"uncaught page error: {error}")

    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)


@pytest.fixture
def new_page(browser, live_server, request):
    """Factory: ``new_page(locale="en-US", viewport={"width": 390, "height": 844})`` -> a recorded page."""
    contexts = []

    def make(locale="it-IT", viewport=None, **context_options):
        options = {"locale": locale, "base_url": live_server.url, **context_options}
        if viewport is not None:
            options["viewport"] = viewport
        context = browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page = context.new_page()
        _record_problems(page)
        contexts.append((context, page))
        return page

    yield make

    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    name = _artifact_name(request.node.name)
    for number, (context, page) in enumerate(contexts):
        try:
            if failed and not page.is_closed():
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                suffix = "" if number == 0 else f"-{number + 1}"
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"), full_page=True)
                except (PlaywrightError, OSError) as exc:  # never hide the test's own failure behind this one
                    warnings.warn(f"no failure screenshot for {name}: {exc}", stacklevel=1)
        finally:
            context.close()


@pytest.fixture
def page(new_page):
    """A page in a fresh Italian-locale context, base URL = the live server."""
    return new_page()
