"""Rules of assisted sessions: open, pick or create the citizen, end by time, claim an account.

Services raise DomainError / PermissionDenied and never commit; routes commit once.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.assisted import codes
from app.assisted.provenance import Acting, add_action
from app.audit.services import record
from app.extensions import db
from app.locking import lock_row
from app.models.assisted import AssistedAction, AssistedSession, EndReason, IdentifiedBy, SessionKind
from app.models.base import DomainError, PermissionDenied, utcnow
from app.models.user import Role, User, UserRole
from app.verification import services as verification
from app.notifications.services import notify, register_kind
from app.verification.codice_fiscale import InvalidCodiceFiscale, validate

register_kind("assisted.session_opened", _l(
    "A facilitator at %(house)s opened an assisted session for your account. If you were not there, tell "
    "the house or write to the City: every action done is on your receipt and in the audit log."))


def may_facilitate(user):
    return user is not None and user.is_authenticated and user.has_role(Role.facilitator) and user.is_active


def houses_for(facilitator):
    """The houses where this facilitator runs sessions: those they are attached to (admins too)."""
    return verification.houses_for(facilitator) if facilitator.has_role(Role.facilitator) else []


def open_session_of(facilitator, now=None):
    """The facilitator's session still open (by the clock as well as by its row), or None."""
    now = now or utcnow()
    current = db.session.scalar(select(AssistedSession).where(AssistedSession.facilitator_id == facilitator.id,
                                                              AssistedSession.ended_at.is_(None))
                                .order_by(AssistedSession.id.desc()))
    if current is not None and expire_if_due(current, now):
        return None
    return current


def expire_if_due(assisted, now=None):
    """End the session if its hard or idle end has passed (at that moment, not now). True if ended."""
    now = now or utcnow()
    if assisted.ended_at is not None:
        return True
    due = assisted.expiry(now)
    if due is None:
        return False
    end_session(assisted, due[1], at=due[0])
    return True


def open_session(facilitator, house, *, kind=SessionKind.assist, proposal=None, event=None, now=None):
    """Open a session at ``house``; a session still open is ended first (one at a time)."""
    now = now or utcnow()
    if not may_facilitate(facilitator):
        raise PermissionDenied(_("Only facilitators run assisted sessions."))
    if house is None or house.id not in {h.id for h in houses_for(facilitator)}:
        raise DomainError(_("Choose the Casa del Quartiere where you are."), field="house")
    cfg = current_app.config
    since = now - timedelta(days=1)
    opened_today = db.session.scalar(select(func.count(AssistedSession.id)).where(
        AssistedSession.facilitator_id == facilitator.id, AssistedSession.opened_at >= since))
    if opened_today >= cfg["ASSISTED_SESSIONS_PER_DAY"]:
        raise DomainError(_("You opened %(num)d sessions in the last 24 hours, the most allowed. "
                            "An administrator can raise the limit.", num=opened_today))
    previous = open_session_of(facilitator, now)
    if previous is not None:
        end_session(previous, EndReason.closed, at=now)
    assisted = AssistedSession(kind=kind, house_id=house.id, facilitator_id=facilitator.id, opened_at=now,
                               last_seen_at=now, hard_end_at=now + cfg["ASSISTED_SESSION_MAX"],
                               idle_minutes=int(cfg["ASSISTED_SESSION_IDLE"].total_seconds() // 60),
                               proposal_id=proposal.id if proposal is not None else None,
                               event_id=event.id if event is not None else None)
    db.session.add(assisted)
    db.session.flush()
    record("assisted.session_opened", actor=facilitator, target=assisted,
           details={"house_id": house.id, "kind": kind.value,
                    "proposal_id": assisted.proposal_id, "event_id": assisted.event_id})
    return assisted


def end_session(assisted, reason, at=None):
    if assisted.ended_at is not None:
        return assisted
    assisted.ended_at = at or utcnow()
    assisted.end_reason = reason
    record("assisted.session_ended", actor=assisted.facilitator, target=assisted,
           details={"reason": reason.value, "house_id": assisted.house_id, "citizen_id": assisted.citizen_id,
                    "actions": db.session.scalar(select(func.count(AssistedAction.id))
                                                 .where(AssistedAction.session_id == assisted.id))})
    return assisted


def touch(assisted, now=None):
    assisted.last_seen_at = now or utcnow()


def _check_open(assisted, facilitator, now=None):
    if assisted.facilitator_id != facilitator.id:
        raise PermissionDenied(_("This is another facilitator's session."))
    if expire_if_due(assisted, now):
        raise DomainError(_("This assisted session has ended."))


def check_may_help(facilitator, citizen):
    """A facilitator acts only for an ordinary, active citizen: never themselves nor staff."""
    if citizen is None or citizen.deleted_at is not None:
        raise DomainError(_("There is no such account."))
    if citizen.id == facilitator.id:
        raise PermissionDenied(_("You cannot act for yourself in an assisted session."))
    if citizen.is_staff:
        raise PermissionDenied(_("Staff accounts cannot be helped in an assisted session."))
    if citizen.is_blocked:
        raise DomainError(_("This account is blocked."))
    if not citizen.has_role(Role.citizen):
        raise DomainError(_("This account cannot take part."))


def _pick(assisted, facilitator, citizen, how, now=None):
    _check_open(assisted, facilitator, now)
    if assisted.kind != SessionKind.assist:
        raise DomainError(_("A session for paper supports helps nobody in particular."))
    if assisted.citizen_id is not None and assisted.citizen_id != citizen.id:
        raise DomainError(_("This session already helps someone: end it and open a new one for the next person."))
    check_may_help(facilitator, citizen)
    assisted.citizen_id = citizen.id
    assisted.identified_by = how
    record("assisted.citizen_identified", actor=facilitator, target=assisted,
           details={"citizen_id": citizen.id, "how": how.value, "house_id": assisted.house_id})
    # The person always hears of it (by email too, if they have one): nobody acts for them unnoticed.
    notify([citizen], "assisted.session_opened", {"house": assisted.house.name})
    return citizen


def identify_by_document(assisted, facilitator, codice_fiscale, now=None):
    """Pick the verified account whose codice fiscale the facilitator reads again on the document."""
    try:
        code = validate(codice_fiscale)
    except InvalidCodiceFiscale as exc:
        raise DomainError(str(exc.message), field="codice_fiscale") from None
    digest = verification.identity_hmac(code)
    citizen = db.session.scalar(select(User).where(User.identity_hmac == digest, User.deleted_at.is_(None)))
    if citizen is None:
        raise DomainError(_("No verified account has this codice fiscale: create a managed account, or find "
                            "their account with the code they can show."), field="codice_fiscale")
    return _pick(assisted, facilitator, citizen, IdentifiedBy.document, now)


def identify_by_code(assisted, facilitator, code, now=None):
    """Pick the account that shows a one-time code (consumed), or a managed account's claim code."""
    now = now or utcnow()
    citizen = codes.account_for_assist_code(code, now)
    how = IdentifiedBy.code
    if citizen is None:
        citizen = codes.account_for_claim_code(code, now)
        how = IdentifiedBy.claim_code
    if citizen is None:
        raise DomainError(_("This code is not valid, or it expired. Ask the person to show a new one."), field="code")
    _pick(assisted, facilitator, citizen, how, now)
    if how == IdentifiedBy.code:
        codes.consume_assist_code(citizen)
    return citizen


def create_managed_account(assisted, facilitator, *, display_name, phone=None, birth_date=None, locale="it",
                           terms=False, privacy=False, document_type=None, codice_fiscale=None, now=None):
    """A managed account for someone without email: consent recorded; optionally verified at once."""
    now = now or utcnow()
    _check_open(assisted, facilitator, now)
    if assisted.kind != SessionKind.assist:
        raise DomainError(_("A session for paper supports helps nobody in particular."))
    if assisted.citizen_id is not None:
        raise DomainError(_("This session already helps someone: end it and open a new one for the next person."))
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Enter the name the person wants to appear with."), field="display_name")
    if not (terms and privacy):
        raise DomainError(_("The person must accept the terms of use and the privacy notice."), field="terms")
    limit = current_app.config["ASSISTED_MANAGED_PER_DAY"]
    made = db.session.scalar(select(func.count(AssistedAction.id)).where(
        AssistedAction.facilitator_id == facilitator.id, AssistedAction.action == "account.created",
        AssistedAction.created_at >= now - timedelta(days=1)))
    if made >= limit:
        raise DomainError(_("You created %(num)d managed accounts in the last 24 hours, the most allowed.",
                            num=made))
    citizen = User(display_name=display_name[:80], phone=(phone or "").strip()[:30] or None, birth_date=birth_date,
                   locale=locale, managed_at=now, terms_accepted_at=now, privacy_accepted_at=now)
    citizen.role_rows.append(UserRole(role=Role.citizen))
    db.session.add(citizen)
    db.session.flush()
    who = acting_for(assisted, citizen.id)
    add_action(who, "account.created", "users", citizen.id, citizen_id=citizen.id)
    assisted.citizen_id = citizen.id
    assisted.identified_by = IdentifiedBy.managed
    codes.issue_claim_code(citizen, now)
    if (codice_fiscale or "").strip():
        house = assisted.house
        verification.verify_in_person(facilitator, citizen, document_type=document_type,
                                      codice_fiscale=codice_fiscale, house=house, residency_confirmed=True)
    return citizen


def acting_for(assisted, citizen_id=None):
    return Acting(session_id=assisted.id, facilitator_id=assisted.facilitator_id, house_id=assisted.house_id,
                  citizen_id=citizen_id if citizen_id is not None else assisted.citizen_id)


def actions_of(assisted):
    return db.session.scalars(select(AssistedAction).where(AssistedAction.session_id == assisted.id)
                              .order_by(AssistedAction.id)).all()


def may_see_receipt(user, assisted):
    """The facilitator who ran it, any facilitator of the same house, administrators."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_role(Role.admin) or user.id == assisted.facilitator_id:
        return True
    return user.has_role(Role.facilitator) and assisted.house_id in {h.id for h in houses_for(user)}


def claim_account(code, *, email, password, now=None):
    """Take a managed account over with its claim code: set an email (to confirm) and a password."""
    from app.auth import services as auth

    now = now or utcnow()
    user = codes.account_for_claim_code(code, now)
    if user is None:
        raise DomainError(_("This claim code is not valid or has expired. A Casa del Quartiere can give you a new "
                            "one."), field="code")
    email = auth.normalise_email(email)
    if auth.find_by_email(email) is not None:
        raise DomainError(_("This email address already has an account. Use another one, or sign in to it."),
                          field="email")
    auth.check_password_strength(password, email, user.display_name)
    user = lock_row(User, user.id)
    if not user.is_managed:
        raise DomainError(_("This account was already claimed."), field="code")
    user.email = email
    user.password_hash = auth.hash_password(password)
    user.claimed_at = now
    codes.clear_claim_code(user)
    user.session_version += 1
    record("account.claimed", actor=user, target=user, details={"managed_at": user.managed_at.isoformat()})
    auth.send_confirmation(user)
    return user


def reissue_claim_code(facilitator, citizen, now=None):
    """A facilitator gives a returning person a new claim code (the old one stops working)."""
    if not may_facilitate(facilitator):
        raise PermissionDenied(_("Only facilitators run assisted sessions."))
    if not citizen.is_managed:
        raise DomainError(_("This account was already claimed."))
    code = codes.issue_claim_code(citizen, now)
    record("account.claim_code_reissued", actor=facilitator, target=citizen)
    return code


def delete_managed_account(assisted, facilitator, now=None):
    """The person asked at the house to delete their managed account: erased, the session ends."""
    from app.account.services import erase_account

    _check_open(assisted, facilitator, now)
    citizen = assisted.citizen
    if citizen is None or not citizen.is_managed:
        raise DomainError(_("Only a managed account not yet taken over can be deleted here; its owner deletes "
                            "any other account from their own settings."))
    erase_account(citizen, actor=facilitator, reason="managed account: asked at the house")
    end_session(assisted, EndReason.closed, at=now)
    return citizen


def receipt_claim_code(assisted, viewer, now=None):
    """The claim code a receipt may show: to the facilitator who ran the session, while it is open or
    for CLAIM_SHOW_HOURS after it ended, and only if the code was issued in that session. Anyone else
    (a colleague, an administrator) reads the receipt without it; each showing is audited."""
    now = now or utcnow()
    citizen = assisted.citizen
    if citizen is None or viewer is None or viewer.id != assisted.facilitator_id:
        return None
    if assisted.ended_at is not None and now - assisted.ended_at > current_app.config["CLAIM_SHOW_HOURS"]:
        return None
    code = codes.current_claim_code(citizen, now)
    issued_here = db.session.scalar(select(AssistedAction.id).where(
        AssistedAction.session_id == assisted.id, AssistedAction.action == "account.created",
        AssistedAction.record_id == citizen.id))
    if code is None or issued_here is None:
        return None
    record("assisted.claim_code_shown", actor=viewer, target=assisted, details={"citizen_id": citizen.id})
    return code


def _anonymise_assisted(user):
    """Account deletion: the provenance rows and sessions no longer tie its anonymous records together."""
    from sqlalchemy import update

    db.session.execute(update(AssistedAction).where(AssistedAction.citizen_id == user.id).values(citizen_id=None))
    db.session.execute(update(AssistedSession).where(AssistedSession.citizen_id == user.id).values(citizen_id=None))


def _register_anonymiser():
    from app.account.services import register_anonymiser

    register_anonymiser(_anonymise_assisted)


_register_anonymiser()
