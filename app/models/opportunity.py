"""Collaboration opportunities (WeGovNow's "offers and requests"): calls for help posted by active
pacts and organisations, and what citizens can offer; matched by district and skill."""
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.commons import Organisation
from app.models.pact import Pact
from app.models.place import District
from app.models.user import User


class HelpCall(db.Model):
    """A call for help: what, where on the map, when, which skills, how many people."""

    __tablename__ = "help_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The pact it belongs to (answering joins the pact as a volunteer) or the organisation posting it.
    pact_id: Mapped[int | None] = mapped_column(ForeignKey("pacts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    starts_at = mapped_column(UTCDateTime)
    ends_at = mapped_column(UTCDateTime)
    #: Comma-separated skill tags, lower case ("gardening, carpentry").
    skills: Mapped[str] = mapped_column(String(300), default="")
    people_needed: Mapped[int] = mapped_column(Integer, default=1)
    closed_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hidden_at = mapped_column(UTCDateTime)

    pact: Mapped[Pact | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    author: Mapped[User | None] = relationship()
    district: Mapped[District | None] = relationship()

    __audit_type__ = "help_call"


class HelpAnswer(db.Model):
    """A citizen answered a call ("I'll come")."""

    __tablename__ = "help_answers"
    __table_args__ = (UniqueConstraint("call_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("help_calls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    call: Mapped[HelpCall] = relationship(backref=db.backref("answers", cascade="all, delete-orphan"))
    user: Mapped[User] = relationship()


class HelpOffer(db.Model):
    """What a citizen can offer: skills, time, where."""

    __tablename__ = "help_offers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    skills: Mapped[str] = mapped_column(String(300), default="")
    availability: Mapped[str] = mapped_column(Text, default="")
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user: Mapped[User] = relationship()
    district: Mapped[District | None] = relationship()
