"""Events published by a neighbourhood house, an organisation or the city: assemblies, co-design
tables, assisted-session hours; with a place, a time, an optional capacity and registrations."""
import enum

from sqlalchemy import Boolean, Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.commons import Organisation
from app.models.place import District, NeighbourhoodHouse
from app.models.user import User


class EventKind(str, enum.Enum):
    assembly = "assembly"
    co_design = "co_design"
    assisted_hours = "assisted_hours"
    other = "other"


class Event(db.Model):
    """One dated event. The organiser is the house, else the organisation, else the city."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The organising house (also the place when no lat/lon is given).
    house_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood_houses.id", ondelete="SET NULL"),
                                                 index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[EventKind] = mapped_column(Enum(EventKind, name="event_kind", native_enum=False, length=20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Where, when it is not at the house: an address and a map point.
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    starts_at = mapped_column(UTCDateTime, nullable=False, index=True)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    #: Places available; None = no limit.
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    cancelled_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    house: Mapped[NeighbourhoodHouse | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    district: Mapped[District | None] = relationship()

    __audit_type__ = "event"

    @property
    def place_lat(self):
        return self.lat if self.lat is not None else (self.house.lat if self.house else None)

    @property
    def place_lon(self):
        return self.lon if self.lon is not None else (self.house.lon if self.house else None)

    @property
    def place_address(self):
        if self.address:
            return self.address
        return f"{self.house.name}, {self.house.address}" if self.house else ""


class EventRegistration(db.Model):
    """A person registered for an event, by themselves or by a facilitator for them."""

    __tablename__ = "event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The facilitator who registered the person (in an assisted session); None = themselves.
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: When the reminder was queued (once per registration).
    reminded_at = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(backref=db.backref("registrations", cascade="all, delete-orphan"))
    user: Mapped[User] = relationship(foreign_keys=[user_id])
