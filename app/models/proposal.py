"""Participatory processes, proposals and supports (DESIGN.md §3, the heart of DecidiTorino)."""
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.place import Category, District
from app.models.user import Department, User

#: The categories a process accepts proposals in (none listed = every category).
process_categories = Table(
    "process_categories", db.Model.metadata,
    Column("process_id", ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
)


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
    categories: Mapped[list[Category]] = relationship(secondary=process_categories, order_by=Category.name_it)
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
    #: The department that must review it (from its category when the threshold is crossed).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    #: Execution progress of an accepted proposal, 0-100 (the latest project update sets it).
    progress: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    process: Mapped[Process] = relationship()
    department: Mapped[Department | None] = relationship()
    author: Mapped[User | None] = relationship()
    category: Mapped[Category | None] = relationship()
    district: Mapped[District | None] = relationship()
    addenda: Mapped[list["ProposalAddendum"]] = relationship(
        back_populates="proposal", order_by="ProposalAddendum.id", cascade="all, delete-orphan")
    coauthors: Mapped[list["ProposalCoauthor"]] = relationship(
        back_populates="proposal", order_by="ProposalCoauthor.id", cascade="all, delete-orphan")

    __audit_type__ = "proposal"

    @property
    def is_public(self):
        return self.hidden_at is None and self.status != P.draft

    @property
    def is_frozen(self):
        return self.frozen_at is not None


class ProposalCoauthor(db.Model):
    """A citizen the author invited to co-sign the proposal; named publicly only once they accept."""

    __tablename__ = "proposal_coauthors"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invited_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    accepted_at = mapped_column(UTCDateTime)

    proposal: Mapped["Proposal"] = relationship(back_populates="coauthors")
    user: Mapped[User] = relationship()


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


class Feasibility(str, enum.Enum):
    feasible = "feasible"
    with_changes = "with_changes"  # feasible once changed as the review explains
    not_feasible = "not_feasible"


class ReviewOutcome(str, enum.Enum):
    accepted = "accepted"
    rejected = "rejected"


feasibility_enum = Enum(Feasibility, name="feasibility", native_enum=False, length=20)


class ProposalReview(db.Model):
    """The City's feasibility review of a proposal past its threshold: drafted privately, then published."""

    __tablename__ = "proposal_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    technical: Mapped[Feasibility | None] = mapped_column(feasibility_enum)
    technical_notes: Mapped[str] = mapped_column(Text, default="")
    legal: Mapped[Feasibility | None] = mapped_column(feasibility_enum)
    legal_notes: Mapped[str] = mapped_column(Text, default="")
    economic: Mapped[Feasibility | None] = mapped_column(feasibility_enum)
    economic_notes: Mapped[str] = mapped_column(Text, default="")
    #: Estimated cost in euro cents (integers: no rounding surprises).
    estimated_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    execution_starts_on = mapped_column(Date)
    execution_ends_on = mapped_column(Date)
    #: The answer citizens read (Markdown), and the outcome with its motivation.
    public_answer: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[ReviewOutcome | None] = mapped_column(
        Enum(ReviewOutcome, name="review_outcome", native_enum=False, length=20))
    motivation: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: NULL while it is a private draft.
    published_at = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    proposal: Mapped[Proposal] = relationship(backref=db.backref("review", uselist=False))
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    department: Mapped[Department | None] = relationship()

    __audit_type__ = "proposal_review"


class ProjectMilestone(db.Model):
    """A planned step of an accepted proposal's execution."""

    __tablename__ = "project_milestones"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on = mapped_column(Date)
    done_on = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    proposal: Mapped[Proposal] = relationship(
        backref=db.backref("milestones", order_by="(ProjectMilestone.position, ProjectMilestone.id)",
                           cascade="all, delete-orphan"))

    __audit_type__ = "project_milestone"


class ProjectUpdate(db.Model):
    """A public progress update on an accepted proposal (photos attach with owner type ``project_update``)."""

    __tablename__ = "project_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    #: Progress after this update, 0-100.
    progress: Mapped[int] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hidden_at = mapped_column(UTCDateTime)

    proposal: Mapped[Proposal] = relationship(
        backref=db.backref("project_updates", order_by="ProjectUpdate.id", cascade="all, delete-orphan"))
    author: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 100", name="progress_is_a_percentage"),)
    __audit_type__ = "project_update"
