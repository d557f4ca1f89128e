"""The app starts, answers health checks and renders its main pages in both languages."""
from sqlalchemy.exc import OperationalError


def test_healthz_reports_ok_after_a_database_round_trip(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_is_503_with_a_reason_when_the_database_is_down(client, monkeypatch):
    from app.extensions import db

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "reason": "database unavailable"}


def test_home_page_is_italian_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="it"' in response.text


def test_home_page_in_english_with_lang_parameter(client):
    response = client.get("/?lang=en")
    assert 'lang="en"' in response.text
    assert "Turin, together" in response.text
    # the choice sticks for the rest of the visit
    assert 'lang="en"' in client.get("/terms").text


def test_english_accept_language_header_gives_english(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in response.text
