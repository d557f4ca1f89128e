"""Documents and photos of pacts, as services: PDFs rewritten with only their pages (refused when not a
PDF by content, encrypted, broken, too long or too big), the limits per item, a proposal's photos and
documents changed only by its proponents while it can change, a report's photos, and who may see them.

Where a test reads a service's message, it asks for it in English (force_locale), so that it does not
depend on the Italian catalogue.
"""
import io
from datetime import timedelta

import pytest
from flask import current_app
from flask_babel import force_locale
from flask_login import login_user, logout_user
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.media.documents import (
    ascii_filename,
    attach_documents,
    clean_filename,
    content_disposition,
    document_for_key,
    documents_of,
    prepare_pdf,
)
from app.media.services import UnsafeUpload, photo_for_key, photos_of
from app.models import AuditEvent, Document, Photo
from app.models.base import DomainError, PermissionDenied, utcnow
from app.models.pact import PactReport, PactStatus, ReportReview
from app.pacts import attachments, services
from tests.pact_builders import advance, draft, pact_world, step_to
from tests.pdf_builders import ACTIVE_NAMES, encrypted_pdf, hostile_pdf, pdf_upload, plain_pdf, text_of_pdf

S = PactStatus


@pytest.fixture
def upload_dir(app, tmp_path, monkeypatch):
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(path))
    return path


def stored(upload_dir):
    return sorted(p.name for p in upload_dir.iterdir()) if upload_dir.exists() else []


def jpeg(color="green"):
    out = io.BytesIO()
    Image.new("RGB", (80, 60), color).save(out, "JPEG")
    return out.getvalue()


def count(model, **where):
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


# --- the PDF rewrite --------------------------------------------------------------------------------

def test_a_hostile_pdf_keeps_its_pages_and_text_and_loses_everything_active(app_ctx):
    original = hostile_pdf(pages=2)
    assert all(name in original for name in ACTIVE_NAMES)  # the test PDF really carries them
    prepared = prepare_pdf(pdf_upload(original, "Piano del progetto.pdf"))
    assert prepared.page_count == 2 and prepared.filename == "Piano del progetto.pdf"
    assert prepared.data.startswith(b"%PDF-")
    for name in ACTIVE_NAMES:
        assert name not in prepared.data, name
    assert b"Mario Rossi" not in prepared.data and b"/Producer" not in prepared.data
    assert b"programma.exe" not in prepared.data and b"MZ" not in prepared.data
    assert "Piano del progetto - pagina 2" in text_of_pdf(prepared.data)
    reader = PdfReader(io.BytesIO(prepared.data))
    assert reader.metadata is None and "/Names" not in reader.trailer["/Root"]


def test_what_the_copy_would_let_through_is_refused_not_stored(app_ctx, monkeypatch):
    from app.media import documents

    monkeypatch.setattr(documents, "EXCLUDED_KEYS", ())  # as if the copy kept annotations and actions
    with pytest.raises(UnsafeUpload) as refused:
        prepare_pdf(hostile_pdf(), "piano.pdf")
    assert refused.value.reason == "active_content"


def test_a_plain_pdf_is_rewritten_not_stored_as_sent(app_ctx):
    original = plain_pdf(pages=3)
    prepared = prepare_pdf(original, "lettera.pdf")
    assert prepared.data != original and prepared.page_count == 3
    assert b"fpdf" not in prepared.data.lower()  # the producer in /Info is gone


def test_a_pdf_is_recognised_by_its_content_not_its_name(app_ctx):
    assert prepare_pdf(pdf_upload(plain_pdf(), "piano.txt", "text/plain")).filename == "piano.txt.pdf"


REFUSED = {
    "png named .pdf": (lambda: jpeg(), "type"),
    "html named .pdf": (lambda: b"<!doctype html><html><script>alert(1)</script></html>", "type"),
    "plain text": (lambda: b"just words, not a document", "type"),
    "pdf header and garbage": (lambda: b"%PDF-1.7\n" + b"\x00garbage" * 50, "type"),
    "truncated pdf": (lambda: plain_pdf()[:200], "type"),
    "encrypted pdf": (encrypted_pdf, "encrypted"),
    "empty file": (lambda: b"", "empty"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_is_not_a_readable_pdf_is_refused_and_nothing_stored(app_ctx, upload_dir, name):
    build, reason = REFUSED[name]
    user = pact_world().user("author")
    with pytest.raises(UnsafeUpload) as refused:
        attach_documents([pdf_upload(plain_pdf(), "buono.pdf"), pdf_upload(build(), "cattivo.pdf")],
                         "pact", 1, user)
    assert refused.value.reason == reason
    assert "“cattivo.pdf”" in refused.value.message
    assert stored(upload_dir) == [] and count(Document) == 0


def test_too_many_pages_or_bytes_are_refused(app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_PAGES", 2)
    with pytest.raises(UnsafeUpload) as refused, force_locale("en"):
        prepare_pdf(plain_pdf(pages=3), "lungo.pdf")
    assert refused.value.reason == "too_many_pages" and refused.value.message == "“lungo.pdf” has more than 2 pages."
    assert prepare_pdf(plain_pdf(pages=2), "giusto.pdf").page_count == 2
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_BYTES", 1000)
    with pytest.raises(UnsafeUpload) as refused:
        prepare_pdf(plain_pdf(pages=2) + b" " * 1000, "grosso.pdf")
    assert refused.value.reason == "too_large"


def test_a_document_limit_per_item(app_ctx, upload_dir, app):
    user = pact_world().user("author")
    docs = attach_documents([pdf_upload(plain_pdf(), f"{n}.pdf") for n in range(3)], "pact", 7, user)
    assert [d.position for d in docs] == [0, 1, 2]
    assert [(d.filename, d.page_count, d.content_type) for d in documents_of("pact", 7)] == [
        ("0.pdf", 1, "application/pdf"), ("1.pdf", 1, "application/pdf"), ("2.pdf", 1, "application/pdf")]
    assert all(d.size_bytes == len((upload_dir / d.storage_key).read_bytes()) for d in docs)
    with pytest.raises(UnsafeUpload) as refused:
        attach_documents([pdf_upload(plain_pdf(), "quarto.pdf")], "pact", 7, user)
    assert refused.value.reason == "too_many_documents"
    assert len(stored(upload_dir)) == 3


@pytest.mark.parametrize("sent, shown", [
    ("piano.pdf", "piano.pdf"),
    ("C:\\Users\\anna\\Desktop\\Consenso del proprietario.PDF", "Consenso del proprietario.pdf"),
    ("../../etc/passwd", "passwd.pdf"),
    ("fattura\u202egpj.exe", "fatturagpj.exe.pdf"),
    ("a\x00b\r\nc.pdf", "abc.pdf"),
    ("...", "documento.pdf"),
    ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
])
def test_file_names_are_cleaned_for_display(app_ctx, sent, shown):
    assert clean_filename(sent) == shown


def test_the_download_names_an_ascii_file_and_the_exact_one():
    assert ascii_filename("Lettera di consenso – proprietà.pdf") == "Lettera_di_consenso_proprieta.pdf"
    assert ascii_filename("説明.pdf") == "documento.pdf"
    header = content_disposition('Piano "2027"; sì.pdf')
    assert header.startswith('attachment; filename="Piano_2027_si.pdf"; ')
    assert header.endswith("filename*=UTF-8''Piano%20%222027%22%3B%20s%C3%AC.pdf")


# --- a proposal's photos and documents --------------------------------------------------------------

def test_proponents_add_and_remove_photos_and_documents_while_the_proposal_can_change(app_ctx, upload_dir):
    world = pact_world()
    pact = draft(world)
    author, co_proponent = world.user("author"), world.user("co_proponent")
    attachments.change_attachments(pact, author, photos=[jpeg(), jpeg("blue")],
                                   documents=[pdf_upload(hostile_pdf(), "piano.pdf")])
    db.session.commit()
    photos, docs = photos_of("pact", pact.id), documents_of("pact", pact.id)
    assert len(photos) == 2 and [d.filename for d in docs] == ["piano.pdf"]
    for name in ACTIVE_NAMES:
        assert name not in (upload_dir / docs[0].storage_key).read_bytes()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pact.attachments_changed"))
    assert event.actor_id == author.id and event.details["documents_added"] == [docs[0].id]

    attachments.change_attachments(pact, co_proponent, remove_photo_ids=[photos[0].id],
                                   remove_document_ids=[docs[0].id], photos=[jpeg("red")])
    db.session.commit()
    assert len(photos_of("pact", pact.id)) == 2 and documents_of("pact", pact.id) == []
    assert not (upload_dir / photos[0].storage_key).exists() and not (upload_dir / docs[0].storage_key).exists()


def test_at_most_three_photos_and_a_refusal_keeps_what_was_there(app_ctx, upload_dir):
    world = pact_world()
    pact = draft(world)
    author = world.user("author")
    attachments.change_attachments(pact, author, photos=[jpeg(), jpeg(), jpeg()])
    db.session.commit()
    first = photos_of("pact", pact.id)[0]
    with pytest.raises(UnsafeUpload) as refused:
        attachments.change_attachments(pact, author, photos=[jpeg()])
    assert refused.value.details["field"] == "photos" and refused.value.reason == "too_many_photos"
    db.session.rollback()
    # Removing one and adding a bad file: the refusal leaves the photo and its files in place.
    with pytest.raises(UnsafeUpload) as refused:
        attachments.change_attachments(pact, author, remove_photo_ids=[first.id],
                                       documents=[pdf_upload(b"not a pdf", "x.pdf")])
    assert refused.value.details["field"] == "documents"
    db.session.rollback()
    assert count(Photo, owner_type="pact", owner_id=pact.id) == 3
    assert (upload_dir / first.storage_key).exists() and (upload_dir / first.thumb_key).exists()


def test_only_proponents_and_only_while_draft_or_needs_integration(app_ctx, upload_dir):
    world = pact_world()
    pact = draft(world)
    for role in ("stranger", "official", "admin"):
        with pytest.raises(PermissionDenied):
            attachments.change_attachments(pact, world.user(role), photos=[jpeg()])
        db.session.rollback()
    pact = step_to(world, pact, S.submitted)
    with pytest.raises(DomainError) as refused, force_locale("en"):
        attachments.change_attachments(pact, world.user("author"), photos=[jpeg()])
    assert "only while the proposal is a draft" in refused.value.message
    db.session.rollback()
    pact = step_to(world, pact, S.needs_integration)
    attachments.change_attachments(pact, world.user("author"), documents=[plain_pdf()])
    db.session.commit()
    assert count(Document, owner_type="pact", owner_id=pact.id) == 1 and stored(upload_dir)


def test_propose_stores_the_draft_with_its_files(app_ctx, upload_dir):
    world = pact_world()
    fields = {"title": "Orto", "commons_id": world.commons_id, "objectives": "Coltivare.", "activities": "Zappare."}
    pact = attachments.propose(world.user("stranger"), fields, photos=[jpeg()], documents=[plain_pdf()])
    db.session.commit()
    assert pact.status == S.draft and len(pact_files(pact)["photos"]) == 1 and len(pact_files(pact)["documents"]) == 1


def pact_files(pact):
    return attachments.pact_attachments(pact)


# --- who sees the files ------------------------------------------------------------------------------

def _files_of(pact, user):
    """(photo visible, document visible) to ``user``, as the media routes decide."""
    photo = photos_of("pact", pact.id)[0]
    document = documents_of("pact", pact.id)[0]
    with current_app.test_request_context():
        if user is not None:
            login_user(user)
        result = (photo_for_key(photo.thumb_key) is not None, document_for_key(document.storage_key) is not None)
        logout_user()
    return result


def test_a_pacts_files_are_seen_as_the_pact_is(app_ctx, upload_dir):
    world = pact_world()
    pact = draft(world)
    attachments.change_attachments(pact, world.user("author"), photos=[jpeg()], documents=[plain_pdf()])
    db.session.commit()
    assert _files_of(pact, None) == (False, False)
    assert _files_of(pact, world.user("co_proponent")) == (True, True)
    assert _files_of(pact, world.user("official")) == (False, False)  # a draft is the proponents' own
    pact = step_to(world, pact, S.submitted)
    assert _files_of(pact, world.user("official")) == (True, True)
    assert _files_of(pact, world.user("other_official")) == (False, False)
    assert _files_of(pact, world.user("stranger")) == (False, False)
    pact = step_to(world, pact, S.admissible)
    assert _files_of(pact, None) == (True, True)


def test_a_document_of_an_owner_without_declared_visibility_is_never_served(app_ctx, upload_dir):
    user = pact_world().user("author")
    document = attach_documents([plain_pdf()], "nobody-declared-this", 1, user)[0]
    assert document_for_key(document.storage_key) is None


# --- a report's photos --------------------------------------------------------------------------------

def _report(world, pact_id, photos):
    pact = db.session.get(services.Pact, pact_id)
    start = pact.starts_on
    return attachments.file_report(pact, world.user("author"), photos=photos, period_start=start,
                                   period_end=start, activities="Pulizia delle aiuole.", volunteer_hours=4)


def test_a_report_carries_up_to_three_photos_seen_as_the_report_is(app_ctx, upload_dir):
    world = pact_world()
    pact_id = advance(world, S.active, now=utcnow() - timedelta(days=30))
    with pytest.raises(UnsafeUpload) as refused:
        _report(world, pact_id, [jpeg()] * 4)
    assert refused.value.details["field"] == "photos"
    db.session.rollback()
    assert count(PactReport) == 0
    report = _report(world, pact_id, [jpeg(), jpeg("blue")])
    db.session.commit()
    assert [p.position for p in photos_of("pact_report", report.id)] == [0, 1]
    assert attachments.report_visible(report, world.user("official"))
    assert attachments.report_visible(report, world.user("co_proponent"))
    assert not attachments.report_visible(report, None)
    assert not attachments.report_visible(report, world.user("stranger"))
    services.review_report(report, world.user("official"), accepted=True)
    db.session.commit()
    assert report.review == ReportReview.accepted and attachments.report_visible(report, None)
    report.hidden_at = utcnow()  # hidden by moderation: the public page shows a notice instead
    assert not attachments.report_visible(report, None)
    assert not attachments.report_visible(report, world.user("author"))
    assert attachments.report_visible(report, world.user("official"))
    assert attachments.report_visible(report, world.user("moderator"))
