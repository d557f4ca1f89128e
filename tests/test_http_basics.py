"""Security headers, error pages (HTML and JSON), safe redirects, production configuration."""
import pytest

from app import create_app
from app.extensions import db
from app.http import safe_next
from config import ProductionConfig


def test_security_headers_on_every_page(client):
    response = client.get("/")
    h = response.headers
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "same-origin"
    assert "camera=()" in h["Permissions-Policy"]
    assert "Strict-Transport-Security" not in h  # only when served over HTTPS in production


def test_pages_have_no_inline_scripts(client):
    for path in ("/", "/login", "/register", "/terms"):
        text = client.get(path).text
        assert "<script>" not in text and "onclick=" not in text and "javascript:" not in text


def test_session_cookie_flags(client):
    response = client.get("/")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signed_in_pages_are_not_cached(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/account/").headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("path, status", [("/no-such-page", 404), ("/healthz", 200)])
def test_html_error_page_is_translated(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    if status == 404:
        assert response.mimetype == "text/html"
        assert "Pagina non trovata" in response.text
        assert "Page not found" in client.get(path + "?lang=en").text


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "Page not found"}}
    response = client.post("/api/v1/openapi.json")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_give_a_500_page_without_details(app, tmp_path):
    from app.auth.access import public
    from tests.conftest import make_config

    other = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path))

    @other.route("/boom")
    @public
    def boom():
        raise RuntimeError("secret internals")

    other.config["PROPAGATE_EXCEPTIONS"] = False
    response = other.test_client().get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "error-page" in response.text


def test_openapi_document_is_valid_json_with_error_schema(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


@pytest.mark.parametrize("target, expected", [
    ("/account/", "/account/"),
    ("/notifications?page=2", "/notifications?page=2"),
    ("https://evil.example/", None),
    ("//evil.example/", None),
    ("/\\evil.example", None),
    ("\\\\evil.example", None),
    ("javascript:alert(1)", None),
    ("http:/evil.example", None),
    ("/ok\r\nSet-Cookie: x=1", None),
    ("", None),
    (None, None),
])
def test_safe_next_accepts_only_local_paths(target, expected):
    assert safe_next(target) == expected


def test_contrast_toggle_keeps_the_visitor_on_the_page(client):
    response = client.post("/preferences/contrast", data={"next": "/terms"})
    assert response.headers["Location"] == "/terms"
    assert 'data-contrast="high"' in client.get("/").text
    client.post("/preferences/contrast", data={"next": "https://evil.example"})
    assert 'data-contrast="high"' not in client.get("/").text


def test_production_refuses_to_start_without_a_real_secret(monkeypatch):
    cfg = type("P", (ProductionConfig,), {"SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y"})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(cfg)
    cfg = type("P", (ProductionConfig,), {"SECRET_KEY": "dev-only-not-secret-but-long-enough-xx",
                                          "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y"})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(cfg)


def test_production_refuses_to_start_without_a_real_identity_hmac_key():
    base = {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y"}
    for key in ("", "dev-only-identity-key-but-long-enough-xx", "x" * 40):  # missing, a dev value, = SECRET_KEY
        cfg = type("P", (ProductionConfig,), {**base, "IDENTITY_HMAC_KEY": key})
        with pytest.raises(RuntimeError, match="IDENTITY_HMAC_KEY"):
            create_app(cfg)


def test_production_refuses_to_start_without_a_database_url():
    cfg = type("P", (ProductionConfig,), {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": None})
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(cfg)


def test_production_defaults_are_strict():
    cfg = type("P", (ProductionConfig,), {"SECRET_KEY": "x" * 40, "IDENTITY_HMAC_KEY": "y" * 40,
                                          "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db"})
    app = create_app(cfg)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["HSTS"]
    assert app.config["ARGON2_TIME_COST"] >= 2 and app.config["ARGON2_MEMORY_COST"] >= 19 * 1024


def test_database_url_forms_are_normalised_to_psycopg3(monkeypatch):
    from config import _database_url

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h:5432/db")
    assert _database_url("") == "postgresql+psycopg://u:p@h:5432/db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert _database_url("") == "postgresql+psycopg://u@h/db"


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    """The embedded engine's settings (checked on a file of its own, whatever engine the suite runs on)."""
    from sqlalchemy import text

    from app.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config(f"sqlite:///{tmp_path / 'pragmas.sqlite'}", tmp_path))
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_only_the_built_files_of_vendored_packages_are_served(client):
    assert client.get("/static/vendor/node_modules/leaflet/dist/leaflet.js").status_code == 200
    for path in ("/static/vendor/package.json", "/static/vendor/node_modules/leaflet/package.json",
                 "/static/vendor/node_modules/leaflet.markercluster/example/marker-clustering.html",
                 "/static/vendor/node_modules/leaflet/dist/../package.json"):
        assert client.get(path).status_code == 404, path


def test_a_read_that_changes_nothing_does_not_resend_the_session_cookie(client, make_user):
    # A background request that ends late must not put back an older session (see config.py).
    from tests.http_helpers import sign_in

    user = make_user()
    assert sign_in(client, user.email).status_code == 302  # a real sign-in: a permanent session
    client.get("/")  # the first request after signing in stamps the session
    response = client.get("/proposals/similar?q=alberi")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/proposals", "/debates", "/reports"])
def test_list_filters_name_categories_in_the_visitors_language(app, client, path):
    from app.seed.demo import seed_places

    with app.app_context():
        seed_places()
        db.session.commit()
    english = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "Street lighting" in english and "Illuminazione pubblica" not in english
    italian = client.get(f"{path}?lang=it").get_data(as_text=True)
    assert "Illuminazione pubblica" in italian


def test_the_language_switch_keeps_the_query(client):
    page = client.get("/search?q=citt%C3%A0&kind=report&lang=it").text
    assert 'href="/search?q=citt%C3%A0&amp;kind=report&amp;lang=en"' in page
    english = client.get("/search?q=citt%C3%A0&kind=report&lang=en").text
    assert 'href="/search?q=citt%C3%A0&amp;kind=report&amp;lang=it"' in english
