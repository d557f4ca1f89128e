"""Column types and helpers shared by every model."""
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow():
    """The current time, timezone-aware in UTC (called per row, never at import)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores UTC and always hands back aware datetimes, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class DomainError(Exception):
    """A rule of the domain refused an action; routes turn it into a form error or a 4xx."""

    status = 400

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class IllegalTransition(DomainError):
    status = 409


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    status = 403
