"""Sign-ins that ended: the server-side half of signing out.

Sessions live in signed cookies, so a copy of the cookie taken before signing out would otherwise
still work afterwards. Every sign-in gets a random login id (app/auth/sessions.py) carried in the
session and in the remember-me cookie; signing out records it here and the user loader refuses it.
Rows older than a login's longest life (the remember-me duration) are purged as new ones arrive.
"""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class EndedLogin(db.Model):
    __tablename__ = "ended_logins"

    #: The random id of one sign-in (the third part of the session's "<user>:<version>:<login>").
    login_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ended_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
