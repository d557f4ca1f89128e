"""Reports (segnalazioni): a problem in the street, routed to a department, handled in the open."""
import enum

from sqlalchemy import Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.place import Category, District
from app.models.user import Department, User


class ReportStatus(str, enum.Enum):
    new = "new"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"
    duplicate = "duplicate"
    not_responsible = "not_responsible"
    rejected = "rejected"


S = ReportStatus

#: The lifecycle (DESIGN.md §3). Anything not listed here is an illegal move.
TRANSITIONS = {
    S.new: frozenset({S.acknowledged, S.duplicate, S.not_responsible, S.rejected}),
    S.acknowledged: frozenset({S.in_progress, S.duplicate, S.not_responsible, S.rejected}),
    S.in_progress: frozenset({S.resolved, S.duplicate, S.not_responsible, S.rejected}),
    S.resolved: frozenset({S.closed, S.acknowledged}),
    S.closed: frozenset(),
    S.duplicate: frozenset(),
    S.not_responsible: frozenset(),
    S.rejected: frozenset(),
}

#: FixMyStreet's grouping: what the public filters by.
OPEN_STATUSES = frozenset({S.new, S.acknowledged, S.in_progress})
FIXED_STATUSES = frozenset({S.resolved})
CLOSED_STATUSES = frozenset({S.closed, S.duplicate, S.not_responsible, S.rejected})
STATUS_GROUPS = {"open": OPEN_STATUSES, "fixed": FIXED_STATUSES, "closed": CLOSED_STATUSES}

#: Moves the reporter may make (reopen, or confirm the fix); all others are staff moves.
REPORTER_MOVES = frozenset({(S.resolved, S.acknowledged), (S.resolved, S.closed)})

status_enum = Enum(ReportStatus, name="report_status", native_enum=False, length=20)


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_category", "status", "category_id"),
        # Every map and "nearby" query asks for visible reports in a lat/lon range: a partial index
        # holding just those columns answers it without touching the table (bench/README.md).
        Index("ix_reports_public_lat_lon", "lat", "lon", "id",
              sqlite_where=text("hidden_at IS NULL"), postgresql_where=text("hidden_at IS NULL")),
        # The list's counts per status and district.
        Index("ix_reports_counts", "status", "district_id", "hidden_at"),
        Index("ix_reports_department_status", "department_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    #: Where it was routed: by category, overridden per district by a routing rule.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: Computed from the point on save.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    #: What the reporter typed to describe the place (street, landmark); optional.
    address: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ReportStatus] = mapped_column(status_enum, default=S.new, index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The official currently handling it.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    #: web | api | open311
    source: Mapped[str] = mapped_column(String(20), default="web")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    status_changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    resolved_at = mapped_column(UTCDateTime)
    #: When the reporter was asked "is it fixed?" (four weeks after resolved).
    fixed_check_sent_at = mapped_column(UTCDateTime)
    #: Set by moderation (a later feature); hidden reports are out of lists, maps and the API.
    hidden_at = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    district: Mapped[District | None] = relationship(lazy="joined")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    duplicate_of: Mapped["Report | None"] = relationship(remote_side=[id])
    updates: Mapped[list["ReportUpdate"]] = relationship(
        back_populates="report", order_by="ReportUpdate.id", cascade="all, delete-orphan")

    __audit_type__ = "report"

    @hybrid_property
    def is_public(self):
        return self.hidden_at is None

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls):
        return cls.hidden_at.is_(None)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def can_move_to(self, status):
        return ReportStatus(status) in TRANSITIONS[self.status]


class ReportUpdate(db.Model):
    """A public entry in a report's timeline: a status change and/or a note."""

    __tablename__ = "report_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: created | status | note | assigned | merged | reporter_fixed | reporter_not_fixed
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[ReportStatus | None] = mapped_column(status_enum)
    to_status: Mapped[ReportStatus | None] = mapped_column(status_enum)
    note: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    report: Mapped[Report] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()


class RoutingRule(db.Model):
    """Overrides the category's department in one district (e.g. parks of circoscrizione 2)."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("category_id", "district_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))


class Flag(db.Model):
    """Someone signed in says an item breaks the rules. One flag per user per item (moderation reads them)."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("target_type", "target_id", "user_id"),
                      Index("ix_flags_target", "target_type", "target_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: spam | offensive | personal_data | off_topic | illegal | other
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
