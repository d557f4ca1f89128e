"""Accounts, roles and departments."""
import enum

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, Date, Enum, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Role(str, enum.Enum):
    """Roles combine: an official can be a citizen too. Verification is a flag, not a role."""

    citizen = "citizen"
    facilitator = "facilitator"
    official = "official"
    moderator = "moderator"
    admin = "admin"


STAFF_ROLES = frozenset({Role.facilitator, Role.official, Role.moderator, Role.admin})


class NotificationPref(str, enum.Enum):
    immediate = "immediate"
    daily = "daily"
    none = "none"


user_departments = Table(
    "user_departments",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)


class Department(db.Model):
    """A city office (ufficio / settore); officials belong to one or more."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_it: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))

    def name(self, locale="it"):
        return self.name_en if locale == "en" else self.name_it


class UserRole(db.Model):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(Enum(Role, name="role", native_enum=False, length=20), primary_key=True)
    granted_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased; NULL for deleted accounts (and, later, managed accounts without email).
    email: Mapped[str | None] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_confirmed_at = mapped_column(UTCDateTime)
    #: Set once residency/identity was verified (by an admin for now, later in person).
    verified_at = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: HMAC-SHA256 (hex, key IDENTITY_HMAC_KEY) of the normalised codice fiscale seen in person; never
    #: the number itself. Unique, so one person holds one verified account (NULLs: any number of them).
    identity_hmac: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    #: The kind of document the facilitator looked at (app.verification.DocumentType values).
    identity_document_type: Mapped[str | None] = mapped_column(String(40))
    #: The Casa del Quartiere where the identity was verified in person. No ON DELETE: a house that
    #: verified people keeps its row (and SQLite cannot reflect an option on an added column).
    verified_house_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood_houses.id"))
    #: When an administrator last revoked the verification (cleared by a new one).
    verification_revoked_at = mapped_column(UTCDateTime)
    #: Bumped to end every session and remember-me cookie of this user at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    locale: Mapped[str | None] = mapped_column(String(5))
    notification_pref: Mapped[NotificationPref] = mapped_column(
        Enum(NotificationPref, name="notification_pref", native_enum=False, length=20),
        default=NotificationPref.immediate,
        nullable=False,
    )
    terms_accepted_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_login_at = mapped_column(UTCDateTime)
    #: Set when the account was deleted: personal data is gone, contributions stay anonymous.
    deleted_at = mapped_column(UTCDateTime)
    bio: Mapped[str | None] = mapped_column(Text)
    #: Only to check the minimum age of participatory processes; never shown. Self-declared until
    #: the identity is verified, then fixed (a Casa del Quartiere can correct it).
    birth_date = mapped_column(Date)
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: When and why a moderator blocked the account (told to the user when login is refused).
    blocked_at = mapped_column(UTCDateTime)
    block_reason: Mapped[str | None] = mapped_column(Text)
    #: Managed accounts: created by a facilitator in an assisted session for someone without email.
    #: Set once, never cleared (the account stays "confirmed in person" after it is claimed).
    managed_at = mapped_column(UTCDateTime)
    #: Optional, for managed accounts: how the house can reach the person. Never shown publicly.
    phone: Mapped[str | None] = mapped_column(String(30))
    #: When the privacy notice was accepted (managed accounts: on the printed consent form).
    privacy_accepted_at = mapped_column(UTCDateTime)
    #: The claim code of a managed account is derived (HMAC) from this nonce; a new nonce voids it.
    claim_nonce: Mapped[str | None] = mapped_column(String(32))
    #: SHA-256 of the current claim code, to find the account from the code alone.
    claim_code_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    claim_expires_at = mapped_column(UTCDateTime)
    #: When the person took the managed account over online (email and password).
    claimed_at = mapped_column(UTCDateTime)
    #: A one-time code the citizen shows a facilitator to be picked in a session (SHA-256, expiry).
    assist_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    assist_code_expires_at = mapped_column(UTCDateTime)

    def age_on(self, day):
        """Whole years of age on ``day`` (a date), or None when the date of birth is unknown."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    departments: Mapped[list[Department]] = relationship(secondary=user_departments, lazy="selectin")

    # --- Flask-Login -----------------------------------------------------------------
    def get_id(self):
        # The session version travels in the id, so bumping it invalidates sessions
        # and remember-me cookies alike.
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self):
        return self.deleted_at is None and not self.is_blocked

    # --- roles -------------------------------------------------------------------------
    @property
    def roles(self):
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, *roles):
        mine = self.roles
        return any(Role(r) in mine for r in roles)

    @property
    def is_confirmed(self):
        """A confirmed email, or a managed account not yet claimed (the person was seen at a house).

        Once claimed, the account takes part again when its new address is confirmed by the link."""
        return self.email_confirmed_at is not None or self.is_managed

    @property
    def is_managed(self):
        """A managed account not yet taken over online."""
        return self.managed_at is not None and self.claimed_at is None

    @property
    def is_citizen(self):
        return self.is_confirmed and Role.citizen in self.roles

    @property
    def is_verified(self):
        return self.verified_at is not None

    @property
    def is_staff(self):
        return bool(self.roles & STAFF_ROLES)

    def __repr__(self):
        return f"<User {self.id}>"
