"""Photos and documents of pacts over HTTP: uploaded with the proposal form and with a report, refused
files shown next to their field without losing what was typed, removed while the proposal can change,
shown on the public page and the office's, and served — as a sandboxed download for PDFs — only to
those who may see the pact or the report."""
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document, Photo
from app.models.base import utcnow
from app.models.pact import Pact, PactReport, PactStatus
from app.pacts import attachments, services
from tests.conftest import login
from tests.http_helpers import assert_field_error, english, location_path, text_of
from tests.pact_builders import draft, reload_user, pact_world, road_to, step_to
from tests.pdf_builders import ACTIVE_NAMES, hostile_pdf, plain_pdf

S = PactStatus
DAY = timedelta(days=1)


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(path))
    return path


@pytest.fixture
def world(app):
    with app.app_context():
        world = pact_world()
        world.users = {role: reload_user(user.id) for role, user in world.users.items()}
        for user in world.users.values():
            db.session.expunge(user)
        return world


def jpeg(color="green"):
    out = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(out, "JPEG")
    return out.getvalue()


def gif():
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(out, "GIF")
    return out.getvalue()


def _form(world, **overrides):
    data = {
        "title": "Orti condivisi di via Baltea", "commons_choice": "existing", "commons_id": world.commons_id,
        "organisation_id": world.organisation_id, "kind_requested": "ordinary",
        "objectives": "Un orto per il quartiere.", "activities": "Marzo: vangatura. Poi ogni sabato.",
        "beneficiaries": "", "duration_months": "24", "own_resources": "",
        "support-0-kind": "", "support-1-kind": "", "support-2-kind": "", "support-3-kind": "",
        "declare_truth": "y", "declare_rules": "y", "declare_privacy": "y",
    }
    data.update(overrides)
    return data


def _rows(app, model, owner_type, owner_id):
    with app.app_context():
        rows = db.session.scalars(select(model).where(model.owner_type == owner_type, model.owner_id == owner_id)
                                  .order_by(model.position)).all()
        db.session.expunge_all()
        return rows


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _pact_with_files(app, world, status, *, photos=1, documents=1):
    """A pact of ``world`` with photos and documents added as a draft, brought to ``status``."""
    with app.app_context():
        pact = draft(world)
        attachments.change_attachments(pact, world.user("author"), photos=[jpeg() for _ in range(photos)],
                                       documents=[plain_pdf() for _ in range(documents)])
        db.session.commit()
        for step in road_to(status):
            pact = step_to(world, pact, step)
        return pact.id


def _get(client, user, path):
    if user is None:
        with client.session_transaction() as sess:
            sess.clear()
    else:
        login(client, user)
    return client.get(path)


# --- uploading with the proposal -------------------------------------------------------------------------

def test_a_proposal_with_photos_and_a_pdf_through_the_form(app, client, world, upload_dir):
    login(client, world.author)
    form = _form(world, photos=[(io.BytesIO(jpeg()), "aiuola.jpg"), (io.BytesIO(jpeg("blue")), "panchina.png")],
                 documents=[(io.BytesIO(hostile_pdf()), "Piano del progetto.pdf")])
    response = client.post("/pacts/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    pact_id = int(location_path(response).rsplit("/", 1)[1])
    photos, documents = _rows(app, Photo, "pact", pact_id), _rows(app, Document, "pact", pact_id)
    assert len(photos) == 2
    assert [(d.filename, d.page_count) for d in documents] == [("Piano del progetto.pdf", 2)]
    stored = (upload_dir / documents[0].storage_key).read_bytes()
    assert stored.startswith(b"%PDF-") and not any(name in stored for name in ACTIVE_NAMES)

    page = client.get(f"/pacts/{pact_id}").get_data(as_text=True)
    assert 'data-photos="2"' in page and 'data-documents="1"' in page
    assert photos[0].thumb_key in page and documents[0].storage_key in page
    assert "Piano del progetto.pdf" in page and "2 pages" in page
    assert re.search(r'alt="Photo 1 of the commons[^"]*"', page)

    response = client.get(f"/media/documents/{documents[0].storage_key}")
    assert response.status_code == 200 and response.data == stored
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Piano_del_progetto.pdf\"; filename*=UTF-8''Piano%20del%20progetto.pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"].startswith("private")


def test_a_refused_file_is_shown_next_to_its_field_and_the_text_is_kept(app, client, world, upload_dir):
    login(client, world.author)
    form = _form(world, title="Il titolo che ho scritto", photos=[(io.BytesIO(jpeg()), "ok.jpg")],
                 documents=[(io.BytesIO(b"MZ\x90 not a pdf at all"), "consenso.pdf")])
    response = client.post("/pacts/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 200
    assert_field_error(response, "documents", "“consenso.pdf” is not a PDF document we can accept.")
    page = text_of(response)
    assert 'value="Il titolo che ho scritto"' in page and "Marzo: vangatura. Poi ogni sabato." in page
    assert "add them again" in page
    assert _count(app, Pact) == 0 and _count(app, Photo) == 0 and _count(app, Document) == 0
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []

    response = client.post("/pacts/new", data=_form(world, photos=[(io.BytesIO(gif()), "animata.gif")]),
                           content_type="multipart/form-data")
    assert_field_error(response, "photos", "This file is not a photo we can accept")
    assert _count(app, Pact) == 0


def test_editing_removes_and_adds_files_within_the_limits(app, client, world, upload_dir):
    pact_id = _pact_with_files(app, world, S.draft, photos=3, documents=1)
    photos, documents = _rows(app, Photo, "pact", pact_id), _rows(app, Document, "pact", pact_id)
    login(client, world.co_proponent)
    page = client.get(f"/pacts/{pact_id}/edit").get_data(as_text=True)
    assert f'name="remove_photo" value="{photos[0].id}"' in page
    assert f'name="remove_document" value="{documents[0].id}"' in page
    assert 'enctype="multipart/form-data"' in page

    # A fourth photo is too many; nothing changes, the photo to remove is still ticked.
    response = client.post(f"/pacts/{pact_id}/edit", data=_form(
        world, remove_document=str(documents[0].id), photos=[(io.BytesIO(jpeg()), "quarta.jpg")]),
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert_field_error(response, "photos", "at most 3 photos")
    assert re.search(rf'value="{documents[0].id}" id="remove-document-{documents[0].id}" checked', response.text)
    assert len(_rows(app, Photo, "pact", pact_id)) == 3 and len(_rows(app, Document, "pact", pact_id)) == 1

    response = client.post(f"/pacts/{pact_id}/edit", data=_form(
        world, remove_photo=str(photos[0].id), remove_document=str(documents[0].id),
        photos=[(io.BytesIO(jpeg("red")), "nuova.jpg")], documents=[(io.BytesIO(plain_pdf(2)), "lettera.pdf")]),
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert photos[0].id not in {p.id for p in _rows(app, Photo, "pact", pact_id)}
    assert len(_rows(app, Photo, "pact", pact_id)) == 3
    assert [d.filename for d in _rows(app, Document, "pact", pact_id)] == ["lettera.pdf"]
    assert not (upload_dir / photos[0].storage_key).exists()
    assert not (upload_dir / documents[0].storage_key).exists()


def test_once_submitted_the_files_no_longer_change(app, client, world):
    pact_id = _pact_with_files(app, world, S.submitted)
    login(client, world.author)
    response = client.post(f"/pacts/{pact_id}/edit", data=_form(world, documents=[(io.BytesIO(plain_pdf()), "x.pdf")]),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert len(_rows(app, Document, "pact", pact_id)) == 1


# --- who gets the files ----------------------------------------------------------------------------------

def _urls(app, pact_id):
    photo = _rows(app, Photo, "pact", pact_id)[0]
    document = _rows(app, Document, "pact", pact_id)[0]
    return f"/media/{photo.thumb_key}", f"/media/{photo.storage_key}", f"/media/documents/{document.storage_key}"


def test_a_drafts_files_are_its_proponents_only(app, client, world):
    pact_id = _pact_with_files(app, world, S.draft)
    urls = _urls(app, pact_id)
    for role in (None, "stranger", "official", "moderator", "admin"):
        user = world.users[role] if role else None
        assert [_get(client, user, url).status_code for url in urls] == [404, 404, 404], role
    for role in ("author", "co_proponent", "representative"):
        assert [_get(client, world.users[role], url).status_code for url in urls] == [200, 200, 200], role


def test_a_submitted_proposals_files_go_to_the_office_and_public_ones_to_everyone(app, client, world):
    pact_id = _pact_with_files(app, world, S.submitted)
    urls = _urls(app, pact_id)
    assert [_get(client, world.official, url).status_code for url in urls] == [200, 200, 200]
    assert [_get(client, world.other_official, url).status_code for url in urls] == [404, 404, 404]
    assert [_get(client, None, url).status_code for url in urls] == [404, 404, 404]
    page = _get(client, world.official, f"/office/pacts/{pact_id}").get_data(as_text=True)
    assert 'data-photos="1"' in page and 'data-documents="1"' in page

    with app.app_context():
        step_to(world, db.session.get(Pact, pact_id), S.admissible)
    response = _get(client, None, urls[2])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=3600"
    assert [_get(client, None, url).status_code for url in urls[:2]] == [200, 200]
    page = _get(client, None, f"/pacts/{pact_id}").get_data(as_text=True)
    assert 'data-photos="1"' in page and 'data-documents="1"' in page


def test_a_hidden_pact_or_an_unknown_key_answers_404(app, client, world):
    pact_id = _pact_with_files(app, world, S.admissible)
    urls = _urls(app, pact_id)
    with app.app_context():
        db.session.get(Pact, pact_id).hidden_at = utcnow()
        db.session.commit()
    assert [_get(client, None, url).status_code for url in urls] == [404, 404, 404]
    for key in ("nothing.pdf", "..%2Fsecret.pdf", ".tmp-x"):
        assert _get(client, None, f"/media/documents/{key}").status_code == 404


# --- photos of a report ---------------------------------------------------------------------------------

def _active(app, world):
    with app.app_context():
        pact = draft(world)
        for step in road_to(S.active):
            pact = step_to(world, pact, step, now=utcnow() - 40 * DAY)
        return pact.id, pact.starts_on


def _report_form(start, **extra):
    return {"period_start": start.isoformat(), "period_end": (start + 20 * DAY).isoformat(),
            "activities": "Sei giornate di cura delle aiuole.", "volunteer_hours": "40", **extra}


def test_a_report_with_photos_reviewed_by_the_office_then_public(app, client, world):
    pact_id, start = _active(app, world)
    login(client, world.author)
    page = client.get(f"/pacts/{pact_id}/reports/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
    response = client.post(f"/pacts/{pact_id}/reports/new", data=_report_form(
        start, photos=[(io.BytesIO(jpeg()), "giornata.jpg"), (io.BytesIO(jpeg("blue")), "festa.jpg")]),
        content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        report_id = db.session.scalar(select(PactReport.id))
    photos = _rows(app, Photo, "pact_report", report_id)
    assert len(photos) == 2
    thumb = f"/media/{photos[0].thumb_key}"
    assert _get(client, None, thumb).status_code == 404  # not accepted yet
    assert _get(client, world.stranger, thumb).status_code == 404
    assert _get(client, world.other_official, thumb).status_code == 404
    assert _get(client, world.co_proponent, thumb).status_code == 200

    page = _get(client, world.official, f"/office/pacts/{pact_id}").get_data(as_text=True)
    assert 'data-report-photos="2"' in page and photos[1].thumb_key in page
    assert _get(client, world.official, thumb).status_code == 200
    response = client.post(f"/office/pacts/{pact_id}/reports/{report_id}/review",
                           data={f"report{report_id}-decision": "accept"})
    assert response.status_code == 302

    assert _get(client, None, thumb).status_code == 200
    page = _get(client, None, f"/pacts/{pact_id}").get_data(as_text=True)
    assert 'data-report-photos="2"' in page and photos[0].storage_key in page
    assert re.search(r'alt="Photo 2 of the report for [^"]+"', page)


def test_a_refused_report_photo_keeps_the_report_as_typed(app, client, world):
    pact_id, start = _active(app, world)
    login(client, world.author)
    response = client.post(f"/pacts/{pact_id}/reports/new", data=_report_form(
        start, problems="La pioggia di aprile", photos=[(io.BytesIO(b"<svg onload=alert(1)>"), "foto.jpg")]),
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert_field_error(response, "photos", "This file is not a photo we can accept")
    page = text_of(response)
    assert "Sei giornate di cura delle aiuole." in page and "La pioggia di aprile" in page
    assert _count(app, PactReport) == 0 and _count(app, Photo) == 0
    with app.app_context():
        assert services.is_proponent(db.session.get(Pact, pact_id), world.user("author"))
