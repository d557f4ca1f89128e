"""Photos and documents of a pact proposal, and photos of a pact's reports.

A proposal carries up to PHOTOS_PER_ITEM photos of the commons (owner type "pact") and up to
DOCUMENTS_PER_ITEM PDFs (a project plan, a letter of consent from a third-party owner), added and
removed by its proponents while the proposal can still change (draft or needs_integration). A
report carries up to PHOTOS_PER_ITEM photos (owner type "pact_report"), uploaded with it.

Files are served by app.media only to the people who may see what they belong to: a pact's to
whoever ``services.can_view`` it; a report's to everyone once accepted on a public pact, before
that to the proponents and the office. Services never commit.
"""
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from app.audit.services import record
from app.extensions import db
from app.media.documents import attach_documents, documents_of
from app.media.services import UnsafeUpload, attach_photos, photos_of, register_owner_visibility
from app.media.storage import get_storage
from app.models.base import DomainError, PermissionDenied
from app.models.pact import Pact, PactReport, PactStatus, ReportReview
from app.models.user import Role
from app.pacts import bp, services

S = PactStatus

#: While the proposal can change, so can its photos and documents.
EDITABLE_STATUSES = frozenset({S.draft, S.needs_integration})

PACT = "pact"
REPORT = "pact_report"


# --- who sees the files ------------------------------------------------------------------------------

def _viewer():
    """The signed-in user of the request, or None (visitors, and outside a request)."""
    try:
        return current_user._get_current_object() if current_user.is_authenticated else None
    except AttributeError:  # no request: current_user is None
        return None


def report_visible(report, user):
    """An accepted report of a public pact to everyone; any other report to its proponents and the office;
    a report hidden by moderation to the office and moderators only."""
    pact = report.pact
    if not services.can_view(pact, user):
        return False
    if getattr(report, "hidden_at", None) is not None:
        return user is not None and (user.has_role(Role.moderator) or services.is_office(pact, user))
    if report.review == ReportReview.accepted and pact.is_public:
        return True
    return services.is_proponent(pact, user) or (pact.submitted_at is not None and services.is_office(pact, user))


def _pact_files_visible(pact_id):
    pact = db.session.get(Pact, pact_id)
    return pact is not None and services.can_view(pact, _viewer())


def _report_files_visible(report_id):
    report = db.session.get(PactReport, report_id)
    return report is not None and report_visible(report, _viewer())


register_owner_visibility(PACT, _pact_files_visible)
register_owner_visibility(REPORT, _report_files_visible)


# --- for the templates --------------------------------------------------------------------------------

@bp.app_template_global()
def pact_attachments(pact):
    """The photos and documents of a pact's proposal, in display order (pages that show the pact)."""
    return {"photos": photos_of(PACT, pact.id), "documents": documents_of(PACT, pact.id)}


@bp.app_template_global()
def pact_report_photos(report):
    """The photos of one report the viewer may see (none of a report hidden by moderation, but to staff)."""
    return photos_of(REPORT, report.id) if report_visible(report, _viewer()) else []


@bp.app_template_filter("file_size")
def file_size(n_bytes):
    """A file's size for people, in the page's language: "820 KB", "1,4 MB" (never split across lines)."""
    if n_bytes >= 1024 * 1024:
        return f"{format_decimal(n_bytes / (1024 * 1024), format='#,##0.#')}\u00a0MB"
    return f"{format_decimal(max(1, round(n_bytes / 1024)), format='#,##0')}\u00a0KB"


# --- changing them -------------------------------------------------------------------------------------

def _attach(attach, files, owner_type, owner_id, user, field):
    """Store the files, or raise the refusal naming the form field it is about."""
    try:
        return attach(files, owner_type, owner_id, user)
    except UnsafeUpload as exc:
        exc.details["field"] = field
        raise


def _delete_files(photos, documents):
    storage = get_storage()
    for photo in photos:
        storage.delete(photo.storage_key)
        storage.delete(photo.thumb_key)
    for document in documents:
        storage.delete(document.storage_key)


def change_attachments(pact, user, *, photos=(), documents=(), remove_photo_ids=(), remove_document_ids=()):
    """Add and remove the proposal's photos and documents (proponents; draft or needs_integration only).

    Every new file is checked before anything is kept; removed files leave storage only once the
    new ones passed, so a refusal (rolled back by the caller) finds everything as it was.
    """
    pact = services.lock_pact(pact.id)
    if pact.status not in EDITABLE_STATUSES:
        raise DomainError(_("Photos and documents can be changed only while the proposal is a draft or when the "
                            "office asks for more information."))
    if not services.is_proponent(pact, user):
        raise PermissionDenied(_("Only the proponents of this pact can do this."))
    remove_photos, remove_documents = {int(i) for i in remove_photo_ids}, {int(i) for i in remove_document_ids}
    gone_photos = [p for p in photos_of(PACT, pact.id, include_hidden=True) if p.id in remove_photos]
    gone_documents = [d for d in documents_of(PACT, pact.id, include_hidden=True) if d.id in remove_documents]
    for row in gone_photos + gone_documents:
        db.session.delete(row)
    db.session.flush()
    added_photos = _attach(attach_photos, photos, PACT, pact.id, user, "photos")
    try:
        added_documents = _attach(attach_documents, documents, PACT, pact.id, user, "documents")
    except BaseException:
        _delete_files(added_photos, ())  # their rows go with the caller's rollback
        raise
    if gone_photos or gone_documents or added_photos or added_documents:
        record("pact.attachments_changed", actor=user, target=pact, details={
            "photos_added": [p.id for p in added_photos], "photos_removed": [p.id for p in gone_photos],
            "documents_added": [d.id for d in added_documents],
            "documents_removed": [d.id for d in gone_documents]})
    _delete_files(gone_photos, gone_documents)
    return pact


def propose(user, fields, *, photos=(), documents=()):
    """A new draft (``services.create_draft`` with ``fields``) with its photos and documents."""
    pact = services.create_draft(user, **fields)
    change_attachments(pact, user, photos=photos, documents=documents)
    return pact


def update(pact, user, fields, *, photos=(), documents=(), remove_photo_ids=(), remove_document_ids=()):
    """Change a proposal's fields (``services.update_draft``), photos and documents."""
    pact = services.update_draft(pact, user, **fields)
    return change_attachments(pact, user, photos=photos, documents=documents, remove_photo_ids=remove_photo_ids,
                              remove_document_ids=remove_document_ids)


def file_report(pact, user, *, photos=(), **fields):
    """A report (``services.file_report`` with ``fields``) with its photos."""
    report = services.file_report(pact, user, **fields)
    added = _attach(attach_photos, photos, REPORT, report.id, user, "photos")
    if added:
        record("pact_report.photos_added", actor=user, target=report,
               details={"pact_id": report.pact_id, "photos": [p.id for p in added]})
    return report
