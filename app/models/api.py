"""Credentials of programs: Open311 API keys and JSON API bearer tokens.

Only a SHA-256 of each secret is stored. The secrets are 256-bit random values, so a
plain hash is enough (no salt, no slow KDF: there is nothing to brute-force), and a
lookup by hash needs no constant-time comparison: the attacker-controlled input is
hashed before it reaches the database, so timing reveals nothing about a stored secret.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.user import User

#: How long a bearer token lives unless revoked earlier.
TOKEN_LIFETIME = timedelta(days=90)
#: Characters of the secret kept in clear, so people can tell their credentials apart.
PREFIX_LENGTH = 8


def secret_hash(secret):
    """The SHA-256 hex digest under which a key or token is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret(marker):
    """A fresh 256-bit secret behind a recognisable marker ("pzk_", "pzt_"), so leaks are easy to spot."""
    return marker + secrets.token_urlsafe(32)


def _token_expiry():
    """The default expiry of a new token, computed per row (never at import)."""
    return utcnow() + TOKEN_LIFETIME


class ApiKey(db.Model):
    """An Open311 API key, issued to an organisation by the administrators (`flask api-keys`)."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who holds the key (an app, a partner): how administrators name it on the command line.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the key, for display ("pzk_AbCd").
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    #: The account reports posted with this key are attributed to (the submitters' own
    #: details are not stored).
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime)
    revoked_at = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship()

    __audit_type__ = "api_key"

    @property
    def is_active(self):
        """True until the key is revoked."""
        return self.revoked_at is None


class ApiToken(db.Model):
    """A bearer token of the JSON API, created by its user (createToken or the profile page)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: What the user called it ("my phone", "neighbourhood bot").
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, for display ("pzt_AbCd").
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Updated at most once a minute, so that using a token is not a write per request.
    last_used_at = mapped_column(UTCDateTime)
    expires_at = mapped_column(UTCDateTime, default=_token_expiry, nullable=False)
    revoked_at = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __audit_type__ = "api_token"

    def is_usable(self, now=None):
        """True if neither revoked nor expired at ``now``."""
        now = now or utcnow()
        return self.revoked_at is None and self.expires_at > now
