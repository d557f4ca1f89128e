"""Verify a citizen in person, refuse a second account for the same person, revoke.

Piazza never stores the codice fiscale: only an HMAC-SHA256 of its normalised form, keyed with
IDENTITY_HMAC_KEY, in the unique column users.identity_hmac. Without the key the hash cannot be
tested against guesses (the space of real codici fiscali is small); with it, equal codes give
equal hashes, which is all uniqueness needs. The audit log records the document type and the
house, never the number or its hash.
"""
import enum
import hashlib
import hmac

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.extensions import db
from app.locking import lock_row
from app.models.base import DomainError, PermissionDenied, utcnow
from app.models.place import NeighbourhoodHouse, user_houses
from app.models.user import Role, User
from app.notifications.services import notify, register_kind
from app.verification.codice_fiscale import InvalidCodiceFiscale, validate


class DocumentType(str, enum.Enum):
    """Documents a facilitator may look at."""

    identity_card = "identity_card"
    passport = "passport"
    driving_licence = "driving_licence"
    residence_permit = "residence_permit"
    health_card = "health_card"


DOCUMENT_LABELS = {
    DocumentType.identity_card: _l("Identity card (carta d'identità)"),
    DocumentType.passport: _l("Passport (passaporto)"),
    DocumentType.driving_licence: _l("Driving licence (patente)"),
    DocumentType.residence_permit: _l("Residence permit (permesso di soggiorno)"),
    DocumentType.health_card: _l("Health card (tessera sanitaria)"),
}


def document_label(value):
    """The translated name of a document type (or the raw value if unknown)."""
    try:
        return DOCUMENT_LABELS[DocumentType(value)]
    except ValueError:
        return value


register_kind("account.verified_in_person", _l(
    "Your identity was verified at %(house)s: you can now support proposals and sign pacts."))
register_kind("account.verification_revoked", _l(
    "The verification of your account was revoked: %(reason)s. You can verify it again at any "
    "Casa del Quartiere."))

#: One message for "this person already has a verified account", whichever account it is.
DUPLICATE_MESSAGE = _l(
    "This codice fiscale already belongs to another verified account. One person can hold only one "
    "verified account: an administrator can help if the other account is no longer used.")


class DuplicateIdentity(DomainError):
    status = 409


def identity_hmac(code, key=None):
    """HMAC-SHA256 (hex) of an already normalised codice fiscale with the server's key."""
    key = key if key is not None else current_app.config.get("IDENTITY_HMAC_KEY")
    if not key:
        raise RuntimeError("IDENTITY_HMAC_KEY is not configured")
    return hmac.new(key.encode("utf-8"), code.encode("ascii"), hashlib.sha256).hexdigest()


def may_verify(user):
    """Facilitators and administrators verify people in person."""
    return user is not None and user.has_role(Role.facilitator, Role.admin)


def houses_for(facilitator):
    """The houses where ``facilitator`` may verify: those they are attached to (admins: every house)."""
    query = select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.name)
    if not facilitator.has_role(Role.admin):
        query = query.where(NeighbourhoodHouse.id.in_(
            select(user_houses.c.house_id).where(user_houses.c.user_id == facilitator.id)))
    return db.session.scalars(query).all()


def find_citizen(email):
    """The active account with this email address, or None (the facilitator's search)."""
    email = (email or "").strip().lower()
    if not email:
        return None
    return db.session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))


def check_citizen(facilitator, citizen):
    """Refuse (PermissionDenied / DomainError) a verification this facilitator may not make."""
    if not may_verify(facilitator):
        raise PermissionDenied(_("Only facilitators and administrators verify identities."))
    if citizen is None or citizen.deleted_at is not None:
        raise DomainError(_("There is no such account."), field="email")
    if citizen.id == facilitator.id:
        raise PermissionDenied(_("You cannot verify your own account: another facilitator must do it."))
    if citizen.is_staff:
        raise PermissionDenied(_("Staff accounts cannot be verified by a facilitator."))
    if citizen.is_blocked:
        raise DomainError(_("This account is blocked and cannot be verified."))


def _holder_id(digest):
    """The account already holding this identity hash, or None."""
    return db.session.scalar(select(User.id).where(User.identity_hmac == digest))


def verify_in_person(facilitator, citizen, *, document_type, codice_fiscale, house, residency_confirmed):
    """Verify ``citizen`` after seeing a document; refuse a codice fiscale held by another account.

    The refusal (DuplicateIdentity) leaves an audit event ``verification.duplicate_refused`` in the
    session for the caller to commit. Two facilitators verifying the same person at once: the
    unique index decides, and the loser gets the same refusal (never a 500).
    """
    check_citizen(facilitator, citizen)
    try:
        document = DocumentType(document_type)
    except ValueError:
        raise DomainError(_("Choose the document you looked at."), field="document_type") from None
    if house is None or house.id not in {h.id for h in houses_for(facilitator)}:
        raise DomainError(_("Choose the Casa del Quartiere where you are."), field="house")
    if not residency_confirmed:
        raise DomainError(_("Confirm that the document shows residency in Turin."), field="residency")
    try:
        code = validate(codice_fiscale)
    except InvalidCodiceFiscale as exc:
        raise DomainError(str(exc.message), field="codice_fiscale") from None
    digest = identity_hmac(code)
    # SQLite: takes the write lock, so the check below sees every verification committed before.
    citizen = lock_row(User, citizen.id)
    holder = _holder_id(digest)
    if holder is not None and holder != citizen.id:
        _refuse_duplicate(facilitator, citizen, holder, house)
    was_verified = citizen.is_verified
    try:
        with db.session.begin_nested():
            citizen.identity_hmac = digest
            citizen.identity_document_type = document.value
            citizen.verified_house_id = house.id
            citizen.verified_at = utcnow()
            citizen.verified_by_id = facilitator.id
            citizen.verification_revoked_at = None
            db.session.flush()
    except IntegrityError as exc:
        # PostgreSQL: another transaction took this hash after our check and committed first.
        if not is_duplicate_identity_error(exc):
            raise
        _refuse_duplicate(facilitator, citizen, _holder_id(digest), house)
    record("verification.in_person", actor=facilitator, target=citizen,
           details={"document_type": document.value, "house_id": house.id, "residency": True,
                    "again": was_verified})
    notify([citizen], "account.verified_in_person", {"house": house.name})
    return citizen


def _refuse_duplicate(facilitator, citizen, holder_id, house):
    """Audit the refusal (both account ids, for administrators) and raise DuplicateIdentity."""
    record("verification.duplicate_refused", actor=facilitator, target=citizen,
           details={"citizen_id": citizen.id, "holder_id": holder_id, "house_id": house.id})
    raise DuplicateIdentity(str(DUPLICATE_MESSAGE), field="codice_fiscale")


def is_duplicate_identity_error(exc):
    """True when an IntegrityError comes from the unique index on users.identity_hmac."""
    return "identity_hmac" in str(getattr(exc, "orig", exc)).lower()


def revoke_verification(admin, citizen, reason):
    """An administrator revokes a verification (reason required); the hash goes, so the person can
    verify another account afterwards. The citizen is notified."""
    if admin is None or not admin.has_role(Role.admin):
        raise PermissionDenied(_("Only administrators revoke verifications."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the verification is revoked: the citizen is told."), field="reason")
    if not citizen.is_verified and citizen.identity_hmac is None:
        raise DomainError(_("This account is not verified."))
    details = {"document_type": citizen.identity_document_type, "house_id": citizen.verified_house_id,
               "verified_by_id": citizen.verified_by_id}
    citizen.verified_at = None
    citizen.verified_by_id = None
    citizen.identity_hmac = None
    citizen.identity_document_type = None
    citizen.verified_house_id = None
    citizen.verification_revoked_at = utcnow()
    record("verification.revoked", actor=admin, target=citizen, reason=reason, details=details)
    notify([citizen], "account.verification_revoked", {"reason": reason})
    return citizen


def verification_facts(user):
    """How and where ``user`` was verified, for the admin page: a dict (no number, no hash)."""
    house = db.session.get(NeighbourhoodHouse, user.verified_house_id) if user.verified_house_id else None
    by = db.session.get(User, user.verified_by_id) if user.verified_by_id else None
    return {"in_person": user.identity_hmac is not None, "house": house, "by": by,
            "document": document_label(user.identity_document_type) if user.identity_document_type else None,
            "revoked_at": user.verification_revoked_at}
