"""Documents attached to items (a pact's project plan, a letter of consent): PDFs rewritten by us."""
from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Document(db.Model):
    """One uploaded PDF of an item; the rewritten file lives in storage under a random key."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_owner", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the document belongs to, e.g. "pact" (no FK on purpose, like photos).
    owner_type: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(Integer)
    #: Display order among the item's documents, from 0.
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Random, unguessable storage key of the rewritten PDF; also its URL segment.
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: The name the file had on the uploader's computer, cleaned for display (never used as a path).
    filename: Mapped[str] = mapped_column(String(160))
    #: Size in bytes of the PDF as stored (rewritten), not of the file the user sent.
    size_bytes: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    #: Always application/pdf: the type we wrote, never the one the browser declared.
    content_type: Mapped[str] = mapped_column(String(40), default="application/pdf")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Set by moderation; a hidden document is neither listed nor served.
    hidden_at = mapped_column(UTCDateTime)
