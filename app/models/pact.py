"""Collaboration pacts (patti di collaborazione): Turin's commons regulation, as a state machine.

draft → submitted → needs_integration ↔ submitted → admissible | inadmissible →
public_consultation → co_design → approved (text frozen) → signing → active →
completed | renewed | revoked; suspended ↔ active; withdrawn by the proponents until approval.

Each move is a PactStatusChange row (who, when, why): the pact page shows how long every step
took, and the configured time limits (PACT_TIME_LIMITS) say what is overdue.
"""
import enum
import hashlib

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
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
from app.models.commons import Commons, Organisation
from app.models.place import District, NeighbourhoodHouse
from app.models.user import Department, User


class PactStatus(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    needs_integration = "needs_integration"
    admissible = "admissible"
    inadmissible = "inadmissible"
    public_consultation = "public_consultation"
    co_design = "co_design"
    approved = "approved"
    signing = "signing"
    active = "active"
    suspended = "suspended"
    completed = "completed"
    renewed = "renewed"
    revoked = "revoked"
    withdrawn = "withdrawn"


S = PactStatus

#: The procedure (DESIGN.md §3). Anything not listed is an illegal move.
PACT_TRANSITIONS = {
    S.draft: frozenset({S.submitted, S.withdrawn}),
    S.submitted: frozenset({S.needs_integration, S.admissible, S.inadmissible, S.withdrawn}),
    S.needs_integration: frozenset({S.submitted, S.withdrawn}),
    S.admissible: frozenset({S.public_consultation, S.withdrawn}),
    S.public_consultation: frozenset({S.co_design, S.withdrawn}),
    S.co_design: frozenset({S.approved, S.withdrawn}),
    S.approved: frozenset({S.signing}),
    S.signing: frozenset({S.active}),
    S.active: frozenset({S.suspended, S.completed, S.renewed, S.revoked}),
    S.suspended: frozenset({S.active, S.revoked}),
    S.inadmissible: frozenset(),
    S.completed: frozenset(),
    S.renewed: frozenset(),
    S.revoked: frozenset(),
    S.withdrawn: frozenset(),
}

#: Days each step may take before the pact shows as overdue (a setting: PACT_TIME_LIMITS in config
#: overrides any of them). The office's main pain in Co-City was slowness: these make it visible.
DEFAULT_TIME_LIMITS = {
    S.submitted: 30,  # the office decides admissibility
    S.needs_integration: 30,  # the proponents send what is missing
    S.admissible: 15,  # the consultation opens
    S.co_design: 60,  # approval after the consultation
    S.approved: 15,  # the text goes to signature
    S.signing: 30,  # every party signs
}

#: Statuses anyone may see: from admissibility on, the whole pact is public (drafts, submissions
#: under examination and inadmissible ones belong to their proponents and the office).
PUBLIC_STATUSES = frozenset(set(S) - {S.draft, S.submitted, S.needs_integration, S.inadmissible})

#: While these hold, the text may still change (versions); from approval on it is frozen.
TEXT_OPEN_STATUSES = frozenset({S.draft, S.submitted, S.needs_integration, S.admissible,
                                S.public_consultation, S.co_design})


class PactKind(str, enum.Enum):
    ordinary = "ordinary"  # a standard template: cleaning, green care, small upkeep, cultural activities
    complex = "complex"  # approved by an act of the City (resolution or decree)


class ProponentKind(str, enum.Enum):
    individual = "individual"
    organisation = "organisation"


pact_status_enum = Enum(PactStatus, name="pact_status", native_enum=False, length=20)


def text_sha256(text):
    """The SHA-256 (hex) of a pact text exactly as signed: UTF-8, newlines as LF."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


class Pact(db.Model):
    __tablename__ = "pacts"
    __table_args__ = (Index("ix_pacts_status_district", "status", "district_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The protocol number given at submission, e.g. "PC-2026-0007".
    protocol_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    kind: Mapped[PactKind | None] = mapped_column(Enum(PactKind, name="pact_kind", native_enum=False, length=20))
    status: Mapped[PactStatus] = mapped_column(pact_status_enum, default=S.draft, index=True)
    #: Who wrote the proposal, and the organisation they act for (as its representative), if any.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The proposal, as the regulation asks for it (Markdown, sanitised when rendered).
    objectives: Mapped[str] = mapped_column(Text, default="")
    activities: Mapped[str] = mapped_column(Text, default="")
    beneficiaries: Mapped[str] = mapped_column(Text, default="")
    duration_months: Mapped[int | None] = mapped_column(Integer)
    own_resources: Mapped[str] = mapped_column(Text, default="")
    declarations_accepted_at = mapped_column(UTCDateTime)
    # The office.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consultation_starts_at = mapped_column(UTCDateTime)
    consultation_ends_at = mapped_column(UTCDateTime)
    #: Complex pacts: the approval act (type, number, date), e.g. "Determinazione dirigenziale".
    approval_act_type: Mapped[str | None] = mapped_column(String(100))
    approval_act_number: Mapped[str | None] = mapped_column(String(50))
    approval_act_date = mapped_column(Date)
    #: The approved version's number (the frozen text everyone signs) and its SHA-256.
    approved_version_number: Mapped[int | None] = mapped_column(Integer)
    approved_text_sha256: Mapped[str | None] = mapped_column(String(64))
    starts_on = mapped_column(Date)
    ends_on = mapped_column(Date)
    #: A competing proposal for the same commons merged into another one; a renewal's predecessor.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("pacts.id"))
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("pacts.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    submitted_at = mapped_column(UTCDateTime)
    status_changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hidden_at = mapped_column(UTCDateTime)

    commons: Mapped[Commons] = relationship()
    district: Mapped[District | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    organisation: Mapped[Organisation | None] = relationship()
    department: Mapped[Department | None] = relationship()
    official: Mapped[User | None] = relationship(foreign_keys=[official_id])
    parties: Mapped[list["PactParty"]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="PactParty.id")
    versions: Mapped[list["PactVersion"]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="PactVersion.number")
    history: Mapped[list["PactStatusChange"]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="PactStatusChange.id")
    support_items: Mapped[list["PactSupportItem"]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="PactSupportItem.id")

    __audit_type__ = "pact"

    @property
    def is_public(self):
        # A proposal withdrawn before the office admitted it (no department yet) stays private.
        if self.status == S.withdrawn and self.department_id is None:
            return False
        return self.hidden_at is None and self.status in PUBLIC_STATUSES

    @property
    def text_is_frozen(self):
        return self.status not in TEXT_OPEN_STATUSES

    @property
    def current_version(self):
        return self.versions[-1] if self.versions else None

    @property
    def approved_version(self):
        return next((v for v in self.versions if v.number == self.approved_version_number), None)


class PactStatusChange(db.Model):
    """One move of the procedure: the pact's public timeline and the durations of its steps."""

    __tablename__ = "pact_status_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[PactStatus | None] = mapped_column(
        Enum(PactStatus, name="pact_status", native_enum=False, length=20))
    to_status: Mapped[PactStatus] = mapped_column(Enum(PactStatus, name="pact_status", native_enum=False, length=20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The motivation (required for inadmissible, revoked, suspended; shown publicly when public).
    reason: Mapped[str | None] = mapped_column(Text)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    pact: Mapped[Pact] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class PartyKind(str, enum.Enum):
    city = "city"
    proponent = "proponent"  # an individual citizen, or an organisation


class PactParty(db.Model):
    """A party to the pact: the City (through the responsible official) or a proponent."""

    __tablename__ = "pact_parties"
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PartyKind] = mapped_column(Enum(PartyKind, name="party_kind", native_enum=False, length=20))
    #: An organisation party (signed by one of its representatives) ...
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    #: ... or the person who is the party (an individual proponent; the official for the City).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    pact: Mapped[Pact] = relationship(back_populates="parties")
    organisation: Mapped[Organisation | None] = relationship()
    user: Mapped[User | None] = relationship()


class SupportKind(str, enum.Enum):
    space = "space"
    tools = "tools"  # tools and consumables
    protective_equipment = "protective_equipment"
    training = "training"
    staff_hours = "staff_hours"
    fee_exemption = "fee_exemption"
    # Never cash: the regulation excludes money transfers to the proponents.


class PactSupportItem(db.Model):
    """What the City gives for the pact (never cash), with quantities."""

    __tablename__ = "pact_support_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SupportKind] = mapped_column(Enum(SupportKind, name="support_kind", native_enum=False, length=30))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(30))

    pact: Mapped[Pact] = relationship(back_populates="support_items")


class PactVersion(db.Model):
    """One version of the pact text during co-design (Markdown); the approved one is frozen."""

    __tablename__ = "pact_versions"
    __table_args__ = (UniqueConstraint("pact_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    #: What changed and why, in the author's words.
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    pact: Mapped[Pact] = relationship(back_populates="versions")
    author: Mapped[User | None] = relationship()

    __audit_type__ = "pact_version"

    @property
    def sha256(self):
        return text_sha256(self.text)


class PactMeeting(db.Model):
    """A co-design meeting: when, where (often a Casa del Quartiere), who, and the minutes."""

    __tablename__ = "pact_meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    held_at = mapped_column(UTCDateTime, nullable=False)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood_houses.id"))
    place: Mapped[str | None] = mapped_column(String(200))
    participants: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    pact: Mapped[Pact] = relationship(backref=db.backref("meetings", order_by="PactMeeting.held_at",
                                                         cascade="all, delete-orphan"))
    house: Mapped[NeighbourhoodHouse | None] = relationship()

    __audit_type__ = "pact_meeting"


class RequestStatus(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"


class PactJoinRequest(db.Model):
    """During the consultation, a citizen (or an organisation) asks to join the proposal as a proponent."""

    __tablename__ = "pact_join_requests"
    __table_args__ = (UniqueConstraint("pact_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RequestStatus] = mapped_column(
        Enum(RequestStatus, name="request_status", native_enum=False, length=20), default=RequestStatus.pending)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_at = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    pact: Mapped[Pact] = relationship(backref=db.backref("join_requests", cascade="all, delete-orphan"))
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()


class PactSignature(db.Model):
    """A party's signature on the frozen approved text: who, for whom, when, and the text's SHA-256."""

    __tablename__ = "pact_signatures"
    __table_args__ = (UniqueConstraint("pact_id", "party_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("pact_parties.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("pact_versions.id"))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: In which capacity, in words: "legal representative of Associazione Orti Alti", "for the City".
    capacity: Mapped[str] = mapped_column(String(300))
    text_sha256: Mapped[str] = mapped_column(String(64))
    signed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    pact: Mapped[Pact] = relationship(backref=db.backref("signatures", order_by="PactSignature.id",
                                                         cascade="all, delete-orphan"))
    party: Mapped[PactParty] = relationship()
    version: Mapped[PactVersion] = relationship()
    signer: Mapped[User | None] = relationship()

    __audit_type__ = "pact_signature"


class PactVolunteer(db.Model):
    """A citizen who joined an active pact ("adesione"), accepting its rules."""

    __tablename__ = "pact_volunteers"
    __table_args__ = (UniqueConstraint("pact_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    accepted_rules_at = mapped_column(UTCDateTime, nullable=False)
    joined_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    left_at = mapped_column(UTCDateTime)
    #: Excluded by the representatives (the pact's exclusion clause), with the reason.
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    removal_reason: Mapped[str | None] = mapped_column(Text)

    pact: Mapped[Pact] = relationship(backref=db.backref("volunteers", cascade="all, delete-orphan"))
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ReportReview(str, enum.Enum):
    submitted = "submitted"
    accepted = "accepted"
    needs_changes = "needs_changes"


class PactReport(db.Model):
    """A periodic (at least yearly) or final report of an active pact, reviewed by the official."""

    __tablename__ = "pact_reports"
    __table_args__ = (CheckConstraint("period_end >= period_start", name="report_period_in_order"),
                      CheckConstraint("volunteer_hours >= 0", name="volunteer_hours_not_negative"))
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    period_start = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=False)
    is_final: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    activities: Mapped[str] = mapped_column(Text, default="")
    events: Mapped[str] = mapped_column(Text, default="")
    beneficiaries_reached: Mapped[int | None] = mapped_column(Integer)
    volunteer_hours: Mapped[float] = mapped_column(Float, default=0)
    resources_proponents: Mapped[str] = mapped_column(Text, default="")
    resources_city: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    review: Mapped[ReportReview] = mapped_column(
        Enum(ReportReview, name="report_review", native_enum=False, length=20), default=ReportReview.submitted)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at = mapped_column(UTCDateTime)
    #: Set by moderation; a hidden report shows as a notice on the pact's page.
    hidden_at = mapped_column(UTCDateTime)

    pact: Mapped[Pact] = relationship(backref=db.backref("reports", order_by="PactReport.period_start",
                                                         cascade="all, delete-orphan"))
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])

    __audit_type__ = "pact_report"


class PactDispute(db.Model):
    """A dispute brought to the conciliation committee, with its proposal and outcome."""

    __tablename__ = "pact_disputes"
    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text)
    committee_proposal: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    opened_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    closed_at = mapped_column(UTCDateTime)

    pact: Mapped[Pact] = relationship(backref=db.backref("disputes", cascade="all, delete-orphan"))

    __audit_type__ = "pact_dispute"
