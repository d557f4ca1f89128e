"""Photos attached to reports (later proposals and pacts): re-encoded JPEGs and their thumbnails."""
from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Photo(db.Model):
    """One uploaded photo of an item; the files live in storage under two random keys."""

    __tablename__ = "photos"
    __table_args__ = (Index("ix_photos_owner", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the photo belongs to: "report" now, "proposal" and "pact" later (no FK on purpose).
    owner_type: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(Integer)
    #: Display order among the item's photos, from 0.
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Random, unguessable storage key of the full-size JPEG; also its public URL segment.
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: Random storage key of the thumbnail JPEG.
    thumb_key: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    thumb_width: Mapped[int] = mapped_column(Integer)
    thumb_height: Mapped[int] = mapped_column(Integer)
    #: Size in bytes of the full-size JPEG as stored (not of the file the user sent).
    size_bytes: Mapped[int] = mapped_column(Integer)
    #: The type we encoded (always image/jpeg), never the one the browser declared.
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Set by moderation; a hidden photo is neither listed nor served.
    hidden_at = mapped_column(UTCDateTime)

    @property
    def is_hidden(self):
        """True once moderation hid the photo."""
        return self.hidden_at is not None
