"""Signed, expiring tokens sent by email.

Tokens carry a fingerprint of the state they act on (the current password
hash, or the current email), so a reset token stops working the moment the
password changes — which also makes it single-use — and a token minted for one
account never matches another.
"""
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.models.base import DomainError


class InvalidToken(DomainError):
    """The link is malformed, expired, already used or for somebody else."""


def _serializer(purpose):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"piazza.{purpose}")


def fingerprint(value):
    """A short keyed digest of ``value`` (never the value itself)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (value or "").encode(), hashlib.sha256).hexdigest()[:32]


def make_token(purpose, payload):
    return _serializer(purpose).dumps(payload)


def read_token(purpose, token, max_age):
    """The payload of a valid token; InvalidToken otherwise (expired tokens included)."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidToken("expired") from None
    except BadSignature:
        raise InvalidToken("invalid") from None
