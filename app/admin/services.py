"""Role and verification changes. Each one writes an audit event in the caller's transaction."""
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.audit.services import record
from app.auth.passwords import hash_password
from app.auth.services import find_by_email, normalise_email
from app.extensions import db
from app.models.base import DomainError, utcnow
from app.models.place import NeighbourhoodHouse
from app.models.user import Department, Role, User, UserRole
from app.notifications.services import notify

ROLE_LABELS_EN = {
    Role.citizen: "citizen",
    Role.facilitator: "facilitator",
    Role.official: "official",
    Role.moderator: "moderator",
    Role.admin: "administrator",
}


def grant_role(actor, user, role, reason=None, notify_user=True):
    """Give ``user`` a role (no-op if held). Returns True if something changed."""
    role = Role(role)
    if user.deleted_at is not None:
        raise DomainError(_("This account was deleted."))
    if role in user.roles:
        return False
    user.role_rows.append(UserRole(role=role))
    record("user.role_granted", actor=actor, target=user, reason=reason, details={"role": role.value})
    if notify_user:
        notify([user], "account.role_granted", {"role": role.value})
    return True


def revoke_role(actor, user, role, reason=None):
    """Take a role away; the last administrator cannot lose theirs."""
    role = Role(role)
    if role not in user.roles:
        return False
    if role == Role.admin:
        admins = db.session.scalar(select(func.count()).select_from(UserRole).where(UserRole.role == Role.admin))
        if admins <= 1:
            raise DomainError(_("There must always be at least one administrator."))
    for row in list(user.role_rows):
        if row.role == role:
            user.role_rows.remove(row)
    if role == Role.official:
        user.departments.clear()
    record("user.role_revoked", actor=actor, target=user, reason=reason, details={"role": role.value})
    notify([user], "account.role_revoked", {"role": role.value})
    return True


def set_verified(actor, user, verified, reason=None, notify_user=True):
    """Mark a citizen verified (or revoke it)."""
    if verified and user.verified_at is None:
        if not user.is_confirmed:
            raise DomainError(_("Only accounts with a confirmed email address can be verified here."))
        user.verified_at = utcnow()
        user.verified_by_id = actor.id if actor is not None else None
        record("user.verified", actor=actor, target=user, reason=reason)
        if notify_user:
            notify([user], "account.verified")
        return True
    if not verified and user.verified_at is not None:
        user.verified_at = None
        user.verified_by_id = None
        # The identity recorded in person goes too, so the person can verify another account.
        user.identity_hmac = user.identity_document_type = user.verified_house_id = None
        user.verification_revoked_at = utcnow()
        record("user.verification_revoked", actor=actor, target=user, reason=reason)
        return True
    return False


def set_departments(actor, user, department_ids, reason=None):
    """Set the departments an official works for."""
    if department_ids and not user.has_role(Role.official):
        raise DomainError(_("Only officials belong to departments."))
    departments = db.session.scalars(select(Department).where(Department.id.in_(department_ids))).all() \
        if department_ids else []
    before = sorted(d.id for d in user.departments)
    after = sorted(d.id for d in departments)
    if before == after:
        return False
    user.departments = list(departments)
    record("user.departments_set", actor=actor, target=user, reason=reason,
           details={"before": before, "after": after})
    return True


def create_user(actor, email, *, display_name=None, password=None, roles=(), verified=False, confirmed=True):
    """Create an account from the command line or the seed (no strength check: staff tooling)."""
    email = normalise_email(email)
    if find_by_email(email) is not None:
        raise DomainError(f"{email} already has an account")
    user = User(email=email, display_name=display_name or email.split("@")[0],
                password_hash=hash_password(password) if password else None,
                email_confirmed_at=utcnow() if confirmed else None, terms_accepted_at=utcnow())
    db.session.add(user)
    db.session.flush()
    record("user.created", actor=actor, target=user, details={"via": "admin"})
    for role in roles or (Role.citizen,):
        grant_role(actor, user, role, notify_user=False)
    if verified:
        set_verified(actor, user, True, notify_user=False)
    return user


def search_users(q=None, role=None):
    """Users matching a name/email fragment and/or a role (for the admin list)."""
    query = select(User).where(User.deleted_at.is_(None))
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(func.lower(User.email).like(like), func.lower(User.display_name).like(like)))
    if role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == Role(role))))
    return query.order_by(User.id)


def set_houses(actor, user, house_ids, reason=None):
    """Set the neighbourhood houses a facilitator works at (attach and detach, audited)."""
    if house_ids and not user.has_role(Role.facilitator):
        raise DomainError(_("Only facilitators work at a neighbourhood house."))
    houses = db.session.scalars(select(NeighbourhoodHouse).where(NeighbourhoodHouse.id.in_(house_ids))).all() \
        if house_ids else []
    before = sorted(h.id for h in user.houses)
    after = sorted(h.id for h in houses)
    if before == after:
        return False
    user.houses = list(houses)
    record("user.houses_set", actor=actor, target=user, reason=reason, details={"before": before, "after": after})
    return True
