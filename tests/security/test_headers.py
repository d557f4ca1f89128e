"""Security headers on every kind of response, and cookie flags in the production configuration.

tests/test_http_basics.py checks the headers of the home page and the session cookie in testing;
here: an HTML page, the JSON API, a static file, error pages (HTML and JSON: 400, 404, 405, 500),
downloads (CSV, the personal data export, a photo, a PDF), and production over HTTPS (HSTS, Secure
cookies, CSRF on).
"""
import io
import re

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from app import create_app
from app.auth.access import public
from app.extensions import db
from config import ProductionConfig
from tests.conftest import login, make_config
from tests.http_helpers import sign_in


def csp_directives(response):
    """The Content-Security-Policy as {directive: [sources]}."""
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request.path}"
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_strict_headers(response):
    """The headers every response carries, whatever its type."""
    h = response.headers
    where = f"{response.request.path} ({response.status_code} {response.mimetype})"
    csp = csp_directives(response)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts, f"{where}: no script-src or default-src"
    for source in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:", "blob:"):
        assert source not in scripts, f"{where}: scripts may come from {source}"
    objects = csp.get("object-src", csp.get("default-src"))
    assert objects == ["'none'"], f"{where}: object-src {objects}"
    assert csp.get("frame-ancestors") == ["'none'"] or h.get("X-Frame-Options") == "DENY", f"{where}: framable"
    assert h.get("X-Frame-Options") == "DENY", where
    if "sandbox" not in csp:
        assert csp.get("base-uri") == ["'self'"] and csp.get("form-action") == ["'self'"], where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), where
    permissions = h.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "payment=()"):
        assert feature in permissions, f"{where}: Permissions-Policy lacks {feature}"
    assert "Access-Control-Allow-Credentials" not in h, where
    assert "Strict-Transport-Security" not in h, f"{where}: HSTS outside production"
    assert "X-Powered-By" not in h and "Server" not in h, where


def jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def stored(app, tmp_path, monkeypatch):
    """A photo in storage (with its row), as its key."""
    from app.media.services import attach_photos

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    with app.test_request_context():
        (photo,) = attach_photos([FileStorage(io.BytesIO(jpeg()), "a.jpg")], "exhibit", 1, None)
        db.session.commit()
        keys = {"photo": photo.storage_key}
        db.session.remove()
    return keys


PAGES = {
    "html page": "/reports",
    "json api": "/api/v1/reports",
    "json api error": "/api/v1/reports/999999",
    "static file": "/static/css/piazza.css",
    "html 404": "/no-such-page",
    "csv download": "/pacts.csv",
    "open data": "/open-data/reports.csv",
    "feed": "/feeds/proposals.atom",
    "open311 xml": "/open311/v2/services.xml",
    "calendar": "/districts/1/events.ics",
    "nul character": "/search?q=a%00b",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_strict_headers_on_every_kind_of_response(client, name):
    response = client.get(PAGES[name])
    assert response.status_code < 500
    assert_strict_headers(response)


def test_strict_headers_on_a_405_and_a_csrf_refusal(app, database_url, tmp_path):
    assert_strict_headers(app.test_client().post("/api/v1/openapi.json"))
    assert_strict_headers(app.test_client().delete("/reports"))
    strict = create_app(make_config(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    response = strict.test_client().post("/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
    assert_strict_headers(response)


def test_strict_headers_on_a_500_page(app, tmp_path):
    other = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path))

    @other.route("/boom")
    @public
    def boom():
        raise RuntimeError("boom")

    other.config["PROPAGATE_EXCEPTIONS"] = False
    response = other.test_client().get("/boom")
    assert response.status_code == 500
    assert_strict_headers(response)


def test_photos_cannot_run_anything(client, stored):
    photo = client.get(f"/media/{stored['photo']}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert_strict_headers(photo)
    assert "sandbox" in csp_directives(photo) and csp_directives(photo)["default-src"] == ["'none'"]
    # documents: tests/test_pact_attachments_http.py (a pact's PDFs, served as sandboxed attachments)


def test_downloads_are_attachments_of_their_own_type(client):
    for path, mimetype in (("/pacts.csv", "text/csv"), ("/open-data/reports.csv", "text/csv")):
        response = client.get(path)
        assert response.mimetype == mimetype
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_the_personal_data_export_is_a_private_uncached_attachment(client, make_user):
    login(client, make_user())
    response = client.get("/account/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert_strict_headers(response)


def test_the_api_lets_other_sites_read_public_data_but_never_with_credentials(client):
    public_read = client.get("/api/v1/reports")
    assert public_read.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in public_read.headers  # so browsers send no cookies
    preflight = client.options("/api/v1/reports", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization"})
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" not in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in client.get("/reports").headers
    assert "Access-Control-Allow-Origin" not in client.post("/api/v1/tokens", json={}).headers


def test_a_signed_in_page_is_kept_out_of_shared_caches_and_varies_by_cookie(client, make_user):
    login(client, make_user())
    for path in ("/reports", "/account/", "/notifications", "/account/data.json"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "Cookie" in response.headers["Vary"], path


# --- production -------------------------------------------------------------------------------------

@pytest.fixture
def production(database_url, tmp_path):
    """The production configuration on the test database (cheap password hashing, else as shipped)."""
    attrs = {"SECRET_KEY": "p" * 40, "IDENTITY_HMAC_KEY": "q" * 40, "SQLALCHEMY_DATABASE_URI": database_url,
             "INSTANCE_DIR": str(tmp_path), "MAIL_FILE_DIR": str(tmp_path / "mail"), "MAIL_SERVER": "",
             "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}
    return create_app(type("Production", (ProductionConfig,), attrs))


def _cookie_attributes(response, name):
    header = next((h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")), None)
    assert header is not None, f"no {name} cookie set"
    return {part.strip().split("=", 1)[0].lower(): part.strip() for part in header.split(";")[1:]}


def test_production_sends_hsts_and_strict_headers_over_https(production):
    response = production.test_client().get("/", base_url="https://piazza.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    hsts_age = int(re.search(r"max-age=(\d+)", response.headers["Strict-Transport-Security"]).group(1))
    assert hsts_age >= 31536000
    csp = csp_directives(response)
    assert "'unsafe-inline'" not in csp["script-src"] and csp["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_cookies_are_secure_httponly_and_samesite(production, make_user):
    user = make_user(email="rosa@example.org")
    client = production.test_client()
    page = client.get("/login", base_url="https://piazza.example")
    session_cookie = _cookie_attributes(page, "piazza_session")
    assert {"secure", "httponly"} <= set(session_cookie) and session_cookie["samesite"] == "SameSite=Lax"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    refused = sign_in(client, user.email, remember=True, base_url="https://piazza.example",
                      headers={"Referer": "https://piazza.example/login"})
    assert refused.status_code == 400  # production checks CSRF tokens
    response = client.post("/login", base_url="https://piazza.example", headers={"Referer": "https://piazza.example/login"},
                           data={"email": user.email, "password": "correct horse battery staple 42", "remember": "y",
                                 "csrf_token": token})
    assert response.status_code == 302
    for name in ("piazza_session", "piazza_remember"):
        attributes = _cookie_attributes(response, name)
        assert {"secure", "httponly"} <= set(attributes), name
        assert attributes["samesite"] == "SameSite=Lax", name
    assert production.config["SESSION_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_SECURE"]
