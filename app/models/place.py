"""The city's geography and structure: districts, neighbourhood houses, categories."""
from sqlalchemy import Float, ForeignKey, String, Text
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
    district: Mapped[District | None] = relationship()


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
