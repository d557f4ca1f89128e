"""Claim codes (a managed account's receipt) and one-time assist codes (shown by a citizen).

A claim code is derived from a random per-account nonce with the server's secret, so the receipt can
be printed again (HTML and PDF show the same code) while the database keeps only its SHA-256 to find
the account. Issuing a new nonce voids the old code. An assist code is six random digits, stored as
a SHA-256 with an expiry of a few minutes and consumed on use.
"""
import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.user import User

#: No 0/O, 1/I/L, 8/B: a code read aloud or copied from paper is hard to get wrong.
CLAIM_ALPHABET = "ACDEFGHJKMNPQRSTUVWXYZ2345679"
CLAIM_LENGTH = 12


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_claim_code(code):
    """Upper case, separators and spaces dropped: 'k7qf-2m9x pl4t' -> 'K7QF2M9XPL4T'."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_claim_code(code):
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _derive(user_id, nonce):
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    raw = hmac.new(key, f"claim:{user_id}:{nonce}".encode("ascii"), hashlib.sha256).digest()
    number = int.from_bytes(raw, "big")
    chars = []
    for _ in range(CLAIM_LENGTH):
        number, index = divmod(number, len(CLAIM_ALPHABET))
        chars.append(CLAIM_ALPHABET[index])
    return "".join(chars)


def issue_claim_code(user, now=None):
    """Give the managed account a new claim code (voiding any earlier one); returns it formatted."""
    now = now or utcnow()
    user.claim_nonce = base64.b32encode(secrets.token_bytes(15)).decode("ascii").rstrip("=")[:32]
    code = _derive(user.id, user.claim_nonce)
    user.claim_code_hash = _digest(code)
    user.claim_expires_at = now + timedelta(days=current_app.config["CLAIM_CODE_DAYS"])
    return format_claim_code(code)


def current_claim_code(user, now=None):
    """The account's valid claim code (formatted), or None (claimed, expired or never issued)."""
    now = now or utcnow()
    if not user.is_managed or not user.claim_nonce or user.claim_expires_at is None or user.claim_expires_at <= now:
        return None
    return format_claim_code(_derive(user.id, user.claim_nonce))


def account_for_claim_code(code, now=None):
    """The unclaimed managed account whose valid claim code this is, or None."""
    now = now or utcnow()
    code = normalise_claim_code(code)
    if len(code) != CLAIM_LENGTH:
        return None
    user = db.session.scalar(select(User).where(User.claim_code_hash == _digest(code)))
    if user is None or not user.is_managed or user.deleted_at is not None:
        return None
    if user.claim_expires_at is None or user.claim_expires_at <= now:
        return None
    # The stored hash found it; the derivation confirms the nonce still matches (a voided code fails).
    if not hmac.compare_digest(_derive(user.id, user.claim_nonce or ""), code):
        return None
    return user


def clear_claim_code(user):
    user.claim_nonce = None
    user.claim_code_hash = None
    user.claim_expires_at = None


def issue_assist_code(user, now=None):
    """A fresh six-digit code for ``user`` to show a facilitator (valid ASSIST_CODE_MINUTES)."""
    now = now or utcnow()
    for _ in range(20):
        code = f"{secrets.randbelow(10**6):06d}"
        taken = db.session.scalar(select(User.id).where(User.assist_code_hash == _digest("assist:" + code),
                                                        User.assist_code_expires_at > now, User.id != user.id))
        if taken is None:
            break
    user.assist_code_hash = _digest("assist:" + code)
    user.assist_code_expires_at = now + timedelta(minutes=current_app.config["ASSIST_CODE_MINUTES"])
    return code


def account_for_assist_code(code, now=None):
    """The account that showed this still-valid code, or None."""
    now = now or utcnow()
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    return db.session.scalar(select(User).where(User.assist_code_hash == _digest("assist:" + code),
                                                User.assist_code_expires_at > now, User.deleted_at.is_(None)))


def consume_assist_code(user):
    user.assist_code_hash = None
    user.assist_code_expires_at = None
