"""Urban commons (beni comuni) and the civic subjects who care for them (Turin's regulation n. 391).

A commons is a map item — a green area, a square, a school courtyard, a building, or an
immaterial commons — with who owns it and which department answers for it. The City can open a
dated call for its care; citizens may propose a new commons together with a pact proposal.
Civic subjects are individuals (users) or organisations: informal groups, associations, schools,
cooperatives and third-sector bodies, companies. A user acts for an organisation only as one of
its representatives.
"""
import enum

from sqlalchemy import Boolean, Enum, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.place import District
from app.models.user import Department, User


class CommonsKind(str, enum.Enum):
    green_area = "green_area"
    square = "square"
    street = "street"
    school_courtyard = "school_courtyard"
    building = "building"
    immaterial = "immaterial"  # a tradition, a collective memory, a digital commons
    other = "other"


class CommonsOwner(str, enum.Enum):
    city = "city"
    third_party = "third_party"  # only with the owner's consent


class Commons(db.Model):
    __tablename__ = "commons"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[CommonsKind] = mapped_column(Enum(CommonsKind, name="commons_kind", native_enum=False, length=20))
    #: A representative point (every commons but an immaterial one has one) ...
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    #: ... and optionally its outline: a GeoJSON Polygon or MultiPolygon geometry, lon/lat (RFC 7946).
    geometry: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    owner: Mapped[CommonsOwner] = mapped_column(
        Enum(CommonsOwner, name="commons_owner", native_enum=False, length=20), default=CommonsOwner.city)
    #: The third-party owner, and how they consented (a document reference, a date).
    owner_name: Mapped[str | None] = mapped_column(String(200))
    owner_consent: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: Under heritage protection (Soprintendenza): changes need its consent.
    heritage_constraint: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Who proposed it (NULL for the City's own registry), and when the City registered it.
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    registered_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hidden_at = mapped_column(UTCDateTime)

    district: Mapped[District | None] = relationship()
    department: Mapped[Department | None] = relationship()
    proposed_by: Mapped[User | None] = relationship()

    __audit_type__ = "commons"

    @property
    def is_registered(self):
        return self.registered_at is not None


class CommonsCall(db.Model):
    """The City offers a commons for care: a dated public call with requirements and criteria."""

    __tablename__ = "commons_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[str] = mapped_column(Text, default="")
    opens_at = mapped_column(UTCDateTime, nullable=False)
    closes_at = mapped_column(UTCDateTime, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    commons: Mapped[Commons] = relationship(backref=db.backref("calls", order_by="CommonsCall.opens_at"))

    __audit_type__ = "commons_call"

    def is_open(self, moment):
        return self.opens_at <= moment < self.closes_at


class OrganisationKind(str, enum.Enum):
    informal_group = "informal_group"
    association = "association"
    school = "school"
    cooperative = "cooperative"  # cooperatives and third-sector bodies (ETS)
    company = "company"


class Organisation(db.Model):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, name="organisation_kind", native_enum=False, length=20))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Codice fiscale / partita IVA for formal bodies (informal groups have none).
    tax_code: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hidden_at = mapped_column(UTCDateTime)

    district: Mapped[District | None] = relationship()
    memberships: Mapped[list["OrganisationMember"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationMember.id")

    __audit_type__ = "organisation"

    def representatives(self):
        return [m.user for m in self.memberships if m.is_representative]

    def is_representative(self, user):
        return user is not None and any(m.user_id == user.id and m.is_representative for m in self.memberships)


class OrganisationMember(db.Model):
    __tablename__ = "organisation_members"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Representatives act (propose, sign) for the organisation; members belong to it.
    is_representative: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    joined_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()
