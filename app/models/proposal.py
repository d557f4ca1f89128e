"""Participatory processes, proposals and supports (DESIGN.md §3, the heart of DecidiTorino)."""
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.place import Category, District
from app.models.user import User


class PhaseKind(str, enum.Enum):
    collection = "collection"  # proposals are written and published
    support = "support"  # published proposals collect supports
    review = "review"  # the city studies what crossed the threshold
    execution = "execution"  # accepted proposals are carried out


class Process(db.Model):
    """A participatory round (DecidiTorino ran two a year) with dated phases and its own rules."""

    __tablename__ = "processes"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: NULL means the whole city; otherwise proposals must be in this district.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    #: Supports that oblige the City to review a proposal.
    support_threshold: Mapped[int] = mapped_column(Integer, default=250)
    #: How many proposals one citizen may support in this process (0 = unlimited).
    supports_per_citizen: Mapped[int] = mapped_column(Integer, default=0)
    #: Whether supports keep counting once the threshold is crossed.
    supports_past_threshold: Mapped[bool] = mapped_column(Boolean, default=True)
    minimum_age: Mapped[int] = mapped_column(Integer, default=16)
    #: Only verified citizens may support (the default, as in DecidiTorino).
    verified_only: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Months after the process ends before individual support records are anonymised.
    support_retention_months: Mapped[int] = mapped_column(Integer, default=6)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    district: Mapped[District | None] = relationship()
    phases: Mapped[list["ProcessPhase"]] = relationship(
        back_populates="process", order_by="ProcessPhase.starts_at", cascade="all, delete-orphan")

    __audit_type__ = "process"

    def phase_at(self, moment):
        """The phase running at ``moment`` (timestamps decide; there is no scheduler), or None."""
        for phase in self.phases:
            if phase.starts_at <= moment < phase.ends_at:
                return phase.kind
        return None

    def window(self, kind):
        """(starts_at, ends_at) of a phase kind, or None."""
        for phase in self.phases:
            if phase.kind == PhaseKind(kind):
                return phase.starts_at, phase.ends_at
        return None

    def ended_at(self):
        return max((p.ends_at for p in self.phases), default=None)


class ProcessPhase(db.Model):
    __tablename__ = "process_phases"
    __table_args__ = (UniqueConstraint("process_id", "kind"),
                      CheckConstraint("ends_at > starts_at", name="phase_ends_after_start"))
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    kind: Mapped[PhaseKind] = mapped_column(Enum(PhaseKind, name="phase_kind", native_enum=False, length=20))
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=False)

    process: Mapped[Process] = relationship(back_populates="phases")


class ProposalStatus(str, enum.Enum):
    draft = "draft"
    published = "published"
    threshold_reached = "threshold_reached"
    under_review = "under_review"
    accepted = "accepted"
    rejected = "rejected"
    in_execution = "in_execution"
    completed = "completed"
    expired = "expired"
    withdrawn = "withdrawn"


P = ProposalStatus

#: The lifecycle (DESIGN.md §3). Anything not listed is an illegal move.
PROPOSAL_TRANSITIONS = {
    P.draft: frozenset({P.published}),
    P.published: frozenset({P.threshold_reached, P.expired, P.withdrawn}),
    P.threshold_reached: frozenset({P.under_review}),
    P.under_review: frozenset({P.accepted, P.rejected}),
    P.accepted: frozenset({P.in_execution}),
    P.in_execution: frozenset({P.completed}),
    P.rejected: frozenset(),
    P.completed: frozenset(),
    P.expired: frozenset(),
    P.withdrawn: frozenset(),
}

proposal_status_enum = Enum(ProposalStatus, name="proposal_status", native_enum=False, length=20)


class Proposal(db.Model):
    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_process_status", "process_id", "status"),
                      CheckConstraint("support_count >= 0", name="support_count_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(140))
    #: Markdown source, sanitised when rendered.
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    status: Mapped[ProposalStatus] = mapped_column(proposal_status_enum, default=P.draft, index=True)
    #: Kept equal to the number of Support rows by the support service, in the same transaction.
    support_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    published_at = mapped_column(UTCDateTime)
    #: When the first support arrived: from then on the text is frozen (addenda only).
    frozen_at = mapped_column(UTCDateTime)
    threshold_reached_at = mapped_column(UTCDateTime)
    status_changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hidden_at = mapped_column(UTCDateTime)

    process: Mapped[Process] = relationship()
    author: Mapped[User | None] = relationship()
    category: Mapped[Category | None] = relationship()
    district: Mapped[District | None] = relationship()
    addenda: Mapped[list["ProposalAddendum"]] = relationship(
        back_populates="proposal", order_by="ProposalAddendum.id", cascade="all, delete-orphan")

    __audit_type__ = "proposal"

    @property
    def is_public(self):
        return self.hidden_at is None and self.status != P.draft

    @property
    def is_frozen(self):
        return self.frozen_at is not None


class ProposalAddendum(db.Model):
    """A dated note the author adds once the text is frozen."""

    __tablename__ = "proposal_addenda"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    proposal: Mapped[Proposal] = relationship(back_populates="addenda")


class Support(db.Model):
    """One citizen's support for one proposal. Private: only counts are public (GDPR Art. 9)."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),
                      Index("ix_supports_user_process", "user_id", "process_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    #: Copied from the proposal so per-process limits are one indexed count.
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    #: NULL once anonymised after the retention period (the row, and so the count, stays).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
