"""Comments (on proposals, reports, debates and later pacts) and debates (DecidiTorino's first section)."""
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.place import Category, District
from app.models.user import User


class Comment(db.Model):
    """A comment on any commentable item, threaded two levels deep (a reply never gets replies).

    ``target_type``/``target_id`` name the item (``proposal``, ``report``, ``debate``, …) the way
    flags and follows do. The body is Markdown, sanitised when rendered.
    """

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_target", "target_type", "target_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    #: The top-level comment this one answers (NULL for a top-level comment).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    edited_at = mapped_column(UTCDateTime)
    #: Hidden by moderation (or by three flags, pending review).
    hidden_at = mapped_column(UTCDateTime)
    #: Deleted by its author: the text goes, the place in the thread stays.
    deleted_at = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship()
    parent: Mapped["Comment | None"] = relationship(remote_side=[id], backref="replies")

    __audit_type__ = "comment"


class Debate(db.Model):
    """A discussion anyone signed in opens on a topic of public interest; its author may turn it into a proposal."""

    __tablename__ = "debates"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(140))
    #: Markdown source, sanitised when rendered.
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    edited_at = mapped_column(UTCDateTime)
    hidden_at = mapped_column(UTCDateTime)
    #: The proposal the author turned this debate into, if any.
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    #: Kept equal to the number of visible comments by the comment service.
    comment_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    author: Mapped[User | None] = relationship()
    category: Mapped[Category | None] = relationship()
    district: Mapped[District | None] = relationship()
    proposal = relationship("Proposal")

    __audit_type__ = "debate"
