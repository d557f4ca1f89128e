"""The city's geography and structure: districts, neighbourhood houses, categories."""
from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.user import Department


class District(db.Model):
    """A circoscrizione, with an approximate outline."""

    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The official number (1-8 in Turin since 2016).
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: GeoJSON Polygon or MultiPolygon geometry, lon/lat (RFC 7946).
    geometry: Mapped[str] = mapped_column(Text)


class NeighbourhoodHouse(db.Model):
    """A Casa del Quartiere, where facilitators run assisted sessions."""

    __tablename__ = "neighbourhood_houses"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    neighbourhood: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")
    website: Mapped[str] = mapped_column(String(300), default="", server_default="")
    district: Mapped[District | None] = relationship()
    #: Opening hours, one row per weekday it opens (a day without a row is closed).
    hours: Mapped[list["HouseHours"]] = relationship(
        back_populates="house", cascade="all, delete-orphan", order_by="HouseHours.weekday")
    #: Users with the facilitator role who work at this house (never shown on public pages).
    facilitators = relationship("User", secondary="user_houses", order_by="User.display_name",
                                backref=db.backref("houses", order_by="NeighbourhoodHouse.name"))

    __audit_type__ = "house"


#: Which facilitators work at which houses (a facilitator may serve several).
user_houses = Table(
    "user_houses", db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("house_id", Integer, ForeignKey("neighbourhood_houses.id", ondelete="CASCADE"), primary_key=True),
)


class HouseHours(db.Model):
    """When a house opens on one weekday, as free text ("9:00–13:00, 15:00–19:00")."""

    __tablename__ = "house_hours"
    __table_args__ = (UniqueConstraint("house_id", "weekday"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood_houses.id", ondelete="CASCADE"))
    #: 0 = Monday … 6 = Sunday.
    weekday: Mapped[int] = mapped_column(Integer)
    hours: Mapped[str] = mapped_column(String(200))

    house: Mapped[NeighbourhoodHouse] = relationship(back_populates="hours")


class Category(db.Model):
    """What a report or proposal is about; decides the department it is routed to."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_it: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department: Mapped[Department | None] = relationship()

    def name(self, locale="it"):
        return self.name_en if locale == "en" else self.name_it
