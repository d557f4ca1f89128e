"""Admin screens: users, roles, verification, departments, audit log."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice
from sqlalchemy import select

from app.admin import bp, services
from app.admin.forms import DepartmentsForm, HousesForm, RoleForm, VerifyForm
from app.audit.services import verify_chain
from app.auth.access import roles_required
from app.extensions import db
from app.http import page_arg
from app.models.audit import AuditEvent
from app.models.base import DomainError
from app.models.place import NeighbourhoodHouse
from app.models.user import Department, Role, User
from app.verification import services as verification_services
from app.verification.forms import RevokeVerificationForm


@bp.route("/")
@roles_required(Role.admin)
def index():
    """Admin home."""
    return redirect(url_for("admin.users"))


@bp.route("/users")
@roles_required(Role.admin)
def users():
    """Search users by name, email or role."""
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role") if request.args.get("role") in {r.value for r in Role} else None
    pagination = db.paginate(services.search_users(q, role), page=page_arg(),
                             per_page=50, error_out=False)
    return render_template("admin/users.html", pagination=pagination, q=q, role=role, roles=list(Role))


def _user_or_404(user_id):
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        abort(404)
    return user


def _departments_form(user, formdata=None):
    form = DepartmentsForm(formdata=formdata, prefix="dep")
    form.departments.choices = [SelectChoice(d.id, d.name_it) for d in
                                db.session.scalars(select(Department).order_by(Department.name_it))]
    if formdata is None:
        form.departments.data = [d.id for d in user.departments]
    return form


def _houses_form(user, formdata=None):
    form = HousesForm(formdata=formdata, prefix="hou")
    form.houses.choices = [SelectChoice(h.id, h.name) for h in
                           db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.name))]
    if formdata is None:
        form.houses.data = [h.id for h in user.houses]
    return form


@bp.route("/users/<int:user_id>")
@roles_required(Role.admin)
def user_detail(user_id):
    """One user's roles, verification, departments and recent audit events about them."""
    user = _user_or_404(user_id)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "users", AuditEvent.target_id == user.id)
        .order_by(AuditEvent.seq.desc()).limit(50)).all()
    return render_template("admin/user.html", user=user, role_form=RoleForm(prefix="role"),
                           verify_form=VerifyForm(prefix="ver"), dep_form=_departments_form(user), houses_form=_houses_form(user),
                           events=events, roles=list(Role), revoke_form=RevokeVerificationForm(prefix="rev"),
                           verification=verification_services.verification_facts(user))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@roles_required(Role.admin)
def user_roles(user_id):
    """Grant or revoke one role."""
    user = _user_or_404(user_id)
    form = RoleForm(prefix="role")
    if not form.validate_on_submit() or form.action.data not in ("grant", "revoke"):
        abort(400)
    change = services.grant_role if form.action.data == "grant" else services.revoke_role
    try:
        changed = change(current_user, user, form.role.data, form.reason.data or None)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        if changed:
            flash(_("Roles updated."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/verify", methods=["POST"])
@roles_required(Role.admin)
def user_verify(user_id):
    """Mark the citizen verified, or revoke verification."""
    user = _user_or_404(user_id)
    form = VerifyForm(prefix="ver")
    if not form.validate_on_submit() or form.action.data not in ("verify", "unverify"):
        abort(400)
    try:
        if form.action.data == "verify":
            services.set_verified(current_user, user, True, form.reason.data or None)
        else:  # one way to revoke: with a reason, told to the citizen, the identity hash cleared
            verification_services.revoke_verification(current_user, user, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Verification updated."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/departments", methods=["POST"])
@roles_required(Role.admin)
def user_departments(user_id):
    """Set an official's departments."""
    user = _user_or_404(user_id)
    form = _departments_form(user, formdata=request.form)
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_departments(current_user, user, form.departments.data or [], form.reason.data or None)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Departments updated."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/houses", methods=["POST"])
@roles_required(Role.admin)
def user_houses(user_id):
    """Attach a facilitator to neighbourhood houses, or detach them."""
    user = _user_or_404(user_id)
    form = _houses_form(user, formdata=request.form)
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_houses(current_user, user, form.houses.data or [], form.reason.data or None)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Houses updated."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/audit")
@roles_required(Role.admin)
def audit():
    """The audit log, newest first, filterable by action."""
    action = request.args.get("action", "").strip()[:80]
    query = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    pagination = db.paginate(query, page=page_arg(), per_page=50, error_out=False)
    result = verify_chain() if request.args.get("verify") == "1" else None
    return render_template("admin/audit.html", pagination=pagination, action=action, result=result)
