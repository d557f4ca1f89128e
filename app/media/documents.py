"""PDF uploads: checked in memory, rewritten page by page by pypdf, then stored under a random key.

Nothing a user sent is stored or served as is. We open the file with pypdf (refusing anything
that is not a PDF by its content, is encrypted, broken or too long), copy ONLY the pages into a
fresh PdfWriter and leave behind everything that can act or hide: document JavaScript and the
name tree, /OpenAction, outlines, page and annotation actions (/AA, /A), every annotation (links,
widgets, file attachments, sounds...), the AcroForm and its XFA, embedded files, and the
metadata (document information and XMP streams). A last look at the bytes written refuses the
file if any of those names survived anyway.
"""
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from app.extensions import db
from app.media.services import OWNER_VISIBLE, UnsafeUpload, _human_size, _is_blank, _read_capped
from app.media.storage import get_storage
from app.models.document import Document

CONTENT_TYPE = "application/pdf"

#: Keys never copied from a page into the new file, at any depth (pypdf's clone skips them
#: everywhere below the page): annotations, actions, JavaScript, embedded files, metadata,
#: private application data and article beads.
EXCLUDED_KEYS = ("/Annots", "/AA", "/A", "/JS", "/JavaScript", "/OpenAction", "/URI", "/EmbeddedFiles", "/EF",
                 "/RichMediaContent", "/Metadata", "/PieceInfo", "/B", "/Thumb")

#: Names that must not appear as a key or a value anywhere in the structure we write: if one does,
#: we refuse rather than store (defence in depth: EXCLUDED_KEYS should already have left them out).
FORBIDDEN_NAMES = frozenset({"/JavaScript", "/JS", "/OpenAction", "/AA", "/Annots", "/Launch", "/URI",
                             "/EmbeddedFile", "/EmbeddedFiles", "/AcroForm", "/XFA", "/RichMedia", "/SubmitForm",
                             "/ImportData", "/GoToE", "/GoToR", "/Metadata"})
#: The same names in the bytes written, long ones only, so that compressed data cannot match by chance.
FORBIDDEN_BYTES = re.compile(rb"/(?:JavaScript|OpenAction|EmbeddedFiles?|AcroForm|XFA|Launch|RichMedia|SubmitForm"
                             rb"|ImportData|GoToE)\b")

#: The PDF header may follow a little junk (the specification tolerates it within the first KB).
HEADER = b"%PDF-"

#: Characters that may not reach a displayed file name: controls and the bidirectional overrides
#: that make "gpj.exe" look like "exe.jpg".
_UNSAFE_CHARS = re.compile("[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
MAX_FILENAME = 120
#: The name of a file whose own name had nothing left once cleaned (in the City's language, like
#: the rest of the record: it is stored, not shown in the viewer's language).
DEFAULT_STEM = "documento"

# pypdf reports what it repairs in malformed files as warnings on its logger: not our errors.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _not_a_pdf(name):
    """The message for anything that is not a PDF we can read."""
    return _("“%(name)s” is not a PDF document we can accept.", name=name)


@dataclass(frozen=True)
class PreparedDocument:
    """A checked PDF, rewritten and ready to store."""

    data: bytes
    page_count: int
    filename: str
    content_type: str = CONTENT_TYPE


def clean_filename(name):
    """The uploader's file name fit for display: no path, no controls or bidi tricks, ends in .pdf."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE_CHARS.sub("", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem = re.sub(r"\.pdf$", "", name, flags=re.IGNORECASE).strip(" .")
    stem = stem[:MAX_FILENAME - 4].rstrip(" .")
    return f"{stem or DEFAULT_STEM}.pdf"


def ascii_filename(name):
    """An ASCII-only version of a clean file name, for the plain ``filename=`` of Content-Disposition."""
    stem = re.sub(r"\.pdf$", "", name, flags=re.IGNORECASE)
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("._-")
    return f"{folded or DEFAULT_STEM}.pdf"


def content_disposition(name):
    """``attachment`` with a safe ASCII filename and the exact UTF-8 one (RFC 6266 / RFC 5987)."""
    return f"attachment; filename=\"{ascii_filename(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def _rewrite(data, max_pages, name):
    """Copy only the pages of ``data`` into a fresh PDF; UnsafeUpload if it cannot be read or is refused."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise UnsafeUpload(_("“%(name)s” is protected by a password or encrypted: save it without protection "
                             "and add it again.", name=name), reason="encrypted")
    count = len(reader.pages)
    if count == 0:
        raise UnsafeUpload(_not_a_pdf(name), reason="type")
    if count > max_pages:
        raise UnsafeUpload(ngettext("“%(name)s” has more than %(num)d page.", "“%(name)s” has more than %(num)d pages.",
                                    max_pages, name=name), reason="too_many_pages")
    writer = PdfWriter()
    for page in reader.pages:
        # Streams are copied as they are (never decoded here: no decompression bombs, no slow parsing).
        writer.add_page(page, excluded_keys=EXCLUDED_KEYS)
    # Whatever the clone brought along and nothing refers to any more is not written.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    writer.metadata = None  # no /Info, not even pypdf's /Producer
    if _has_forbidden_names(writer):
        raise UnsafeUpload(_could_not_clean(name), reason="active_content")
    out = BytesIO()
    writer.write(out)
    return out.getvalue(), count


def _has_forbidden_names(writer):
    """True if any object reachable from the new document's catalog has a FORBIDDEN_NAMES key or name value."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    stack, seen = [writer.root_object], set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            if any(key in FORBIDDEN_NAMES for key in obj):
                return True
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
        elif isinstance(obj, NameObject) and obj in FORBIDDEN_NAMES:
            return True
    return False


def _could_not_clean(name):
    return _("“%(name)s” could not be cleaned of its active content: print it to a new PDF and add that instead.",
             name=name)


def prepare_pdf(source, filename=None):
    """Check a PDF entirely in memory and return it rewritten; raise UnsafeUpload otherwise."""
    cfg = current_app.config
    max_bytes = cfg["DOCUMENT_MAX_BYTES"]
    name = clean_filename(filename if filename is not None else getattr(source, "filename", None))
    data = _read_capped(source, max_bytes)
    if not data:
        raise UnsafeUpload(_("“%(name)s” is empty.", name=name), reason="empty")
    if len(data) > max_bytes:
        raise UnsafeUpload(_("“%(name)s” is too large (more than %(size)s).", name=name,
                             size=_human_size(max_bytes)), reason="too_large")
    if HEADER not in data[:1024]:
        raise UnsafeUpload(_not_a_pdf(name), reason="type")
    try:
        clean, pages = _rewrite(data, cfg["DOCUMENT_MAX_PAGES"], name)
    except UnsafeUpload:
        raise
    except Exception:
        # Malformed input makes pypdf raise many types (PdfReadError, ValueError, KeyError,
        # RecursionError...): all mean "not a PDF we can read".
        raise UnsafeUpload(_not_a_pdf(name), reason="type") from None
    if not clean.startswith(HEADER) or FORBIDDEN_BYTES.search(clean):
        raise UnsafeUpload(_could_not_clean(name), reason="active_content")
    if len(clean) > 2 * max_bytes:
        raise UnsafeUpload(_("“%(name)s” is too large (more than %(size)s).", name=name,
                             size=_human_size(max_bytes)), reason="too_large")
    return PreparedDocument(data=clean, page_count=pages, filename=name)


def _new_key():
    """A random, unguessable storage key for one PDF."""
    return secrets.token_urlsafe(16) + ".pdf"


def attach_documents(files, owner_type, owner_id, uploader):
    """Validate every file, then store them as Document rows of the owner (the caller commits).

    All files are checked before anything is written, so one bad file stores none; if writing
    fails halfway, the files already written are deleted again.
    """
    files = [f for f in files if f is not None and not _is_blank(f)]
    if not files:
        return []
    limit = current_app.config["DOCUMENTS_PER_ITEM"]
    taken = set(db.session.scalars(
        select(Document.position).where(Document.owner_type == owner_type, Document.owner_id == owner_id)))
    if len(taken) + len(files) > limit:
        raise UnsafeUpload(ngettext("You can add at most %(num)d document.", "You can add at most %(num)d documents.",
                                    limit), reason="too_many_documents")
    prepared = [prepare_pdf(f) for f in files]
    free_positions = [p for p in range(limit) if p not in taken]
    storage = get_storage()
    written, documents = [], []
    try:
        for position, item in zip(free_positions, prepared):
            document = Document(owner_type=owner_type, owner_id=owner_id, position=position, storage_key=_new_key(),
                                filename=item.filename, size_bytes=len(item.data), page_count=item.page_count,
                                content_type=item.content_type,
                                uploaded_by_id=uploader.id if uploader is not None else None)
            storage.save(document.storage_key, item.data)
            written.append(document.storage_key)
            db.session.add(document)
            documents.append(document)
        db.session.flush()  # here, so a database refusal still finds `written` and cleans up
    except BaseException:
        for key in written:
            storage.delete(key)
        raise
    return documents


def documents_of(owner_type, owner_id, include_hidden=False):
    """The documents of one item in display order; hidden ones only when asked (moderators)."""
    query = select(Document).where(Document.owner_type == owner_type, Document.owner_id == owner_id)
    if not include_hidden:
        query = query.where(Document.hidden_at.is_(None))
    return list(db.session.scalars(query.order_by(Document.position, Document.id)))


def delete_document(document):
    """Remove a document's row and its file (the caller commits)."""
    db.session.delete(document)
    db.session.flush()
    get_storage().delete(document.storage_key)


def document_for_key(key):
    """The visible document under ``key`` of an item the viewer may see, or None.

    Unlike photos, a document is served only for owner types that declared their visibility
    (app.media.services.register_owner_visibility): deny by default.
    """
    document = db.session.scalar(select(Document).where(Document.storage_key == key, Document.hidden_at.is_(None)))
    if document is None:
        return None
    is_visible = OWNER_VISIBLE.get(document.owner_type)
    if is_visible is None or not is_visible(document.owner_id):
        return None
    return document
