"""Assisted sessions at a Casa del Quartiere, and the provenance of what was done in them.

A facilitator opens a session at one of their houses; it ends by timestamp (a hard end and an idle
end, checked on every request: no background job). Inside it the facilitator acts for one citizen.
Every record created while acting gets one :class:`AssistedAction` row (unique per record) naming
the session, the facilitator and the house: the receipt, the provenance line on public pages, the
statistics and the administrators' report all read that table.
"""
import enum
from datetime import timedelta

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.place import NeighbourhoodHouse
from app.models.user import User


class SessionKind(str, enum.Enum):
    #: Acting for one citizen at the desk.
    assist = "assist"
    #: Entering the paper supports collected at an event for one proposal.
    paper = "paper"


class EndReason(str, enum.Enum):
    closed = "closed"  # the facilitator ended it
    hard_limit = "hard_limit"  # the hard end passed
    idle = "idle"  # nobody used it for the idle time
    signed_out = "signed_out"  # the facilitator signed out


class IdentifiedBy(str, enum.Enum):
    document = "document"  # the facilitator looked at a document again (codice fiscale)
    code = "code"  # the citizen showed a one-time code from their account
    managed = "managed"  # a managed account created in this session
    claim_code = "claim_code"  # a returning managed account, by the code on an earlier receipt


class AssistedSession(db.Model):
    __tablename__ = "assisted_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SessionKind] = mapped_column(Enum(SessionKind, name="assisted_session_kind", native_enum=False,
                                                   length=10), default=SessionKind.assist, nullable=False)
    house_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood_houses.id"), index=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The citizen being helped (None until picked; stays None for paper sessions).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    identified_by: Mapped[IdentifiedBy | None] = mapped_column(
        Enum(IdentifiedBy, name="assisted_identified_by", native_enum=False, length=12))
    #: Paper sessions: the proposal whose paper supports are entered, and the event they came from.
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    opened_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hard_end_at = mapped_column(UTCDateTime, nullable=False)
    idle_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    ended_at = mapped_column(UTCDateTime)
    end_reason: Mapped[EndReason | None] = mapped_column(
        Enum(EndReason, name="assisted_end_reason", native_enum=False, length=12))

    house: Mapped[NeighbourhoodHouse] = relationship()
    facilitator: Mapped[User] = relationship(foreign_keys=[facilitator_id])
    citizen: Mapped[User | None] = relationship(foreign_keys=[citizen_id])

    @property
    def idle_end_at(self):
        return self.last_seen_at + timedelta(minutes=self.idle_minutes)

    @property
    def ends_at(self):
        """When the session ends if nothing happens: the sooner of the hard and the idle end."""
        return min(self.hard_end_at, self.idle_end_at)

    def expiry(self, now):
        """(moment, reason) at which the session ended by time, or None while it is still open."""
        if self.hard_end_at <= now and self.hard_end_at <= self.idle_end_at:
            return self.hard_end_at, EndReason.hard_limit
        if self.idle_end_at <= now:
            return self.idle_end_at, EndReason.idle
        return None

    @property
    def is_open(self):
        return self.ended_at is None


class AssistedAction(db.Model):
    """One record created in an assisted session: what, for whom, by which facilitator, where."""

    __tablename__ = "assisted_actions"
    __table_args__ = (
        UniqueConstraint("record_type", "record_id", name="uq_assisted_actions_record"),
        Index("ix_assisted_actions_house_created", "house_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("assisted_sessions.id"), index=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood_houses.id"))
    #: For whom (None once that account is deleted).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: "report.created", "support.cast", "support.paper"... (app.assisted.provenance.ACTIONS)
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    session: Mapped[AssistedSession] = relationship()
    house: Mapped[NeighbourhoodHouse] = relationship()
