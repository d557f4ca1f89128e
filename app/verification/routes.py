"""The facilitator's verification page, and the administrator's revocation of a verification."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.access import roles_required
from app.extensions import db
from app.http import show_domain_error
from app.models.base import DomainError, PermissionDenied
from app.models.place import NeighbourhoodHouse
from app.models.user import Role, User
from app.verification import bp, services
from app.verification.forms import FindCitizenForm, RevokeVerificationForm, VerifyInPersonForm

def _me():
    return current_user._get_current_object()


def _verify_form(formdata=None):
    form = VerifyInPersonForm(formdata=formdata, prefix="v")
    houses = services.houses_for(_me())
    form.house.choices = [SelectChoice(0, "—")] + [SelectChoice(h.id, h.name) for h in houses]
    if formdata is None and len(houses) == 1:
        form.house.data = houses[0].id
    return form


def _forget_codice_fiscale(form):
    """Never render the number back into the page (it would sit in the browser's history and cache)."""
    typed = bool((form.codice_fiscale.data or "").strip())
    form.codice_fiscale.data = ""
    form.codice_fiscale.raw_data = []
    if typed and form.errors:
        form.codice_fiscale.errors = list(form.codice_fiscale.errors or []) + [
            _("For privacy the field was emptied: type the code again.")]


def _citizen_or_404(user_id):
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        abort(404)
    return user


def _page(find_form, citizen=None, form=None, status=200):
    refusal = None
    if citizen is not None:
        try:
            services.check_citizen(_me(), citizen)
        except DomainError as exc:
            refusal = exc.message
    return render_template("verification/verify.html", find_form=find_form, citizen=citizen,
                           form=form or _verify_form(), refusal=refusal,
                           has_houses=bool(services.houses_for(_me()))), status


@bp.route("/facilitator/verify")
@roles_required(Role.facilitator, Role.admin)
def find():
    """Find the citizen to verify by email address."""
    find_form = FindCitizenForm(formdata=request.args if "email" in request.args else None)
    citizen = None
    if "email" in request.args and find_form.validate():
        citizen = services.find_citizen(find_form.email.data)
        if citizen is None:
            find_form.email.errors.append(_("No account has this email address."))
    return _page(find_form, citizen)


@bp.route("/facilitator/verify/<int:user_id>", methods=["POST"])
@roles_required(Role.facilitator, Role.admin)
def verify(user_id):
    """Record an in-person verification of one citizen."""
    citizen = _citizen_or_404(user_id)
    form = _verify_form(formdata=request.form)
    find_form = FindCitizenForm(formdata=None, data={"email": citizen.email})
    if not form.validate_on_submit():
        _forget_codice_fiscale(form)
        return _page(find_form, citizen, form, 400)
    house = db.session.get(NeighbourhoodHouse, form.house.data)
    try:
        services.verify_in_person(_me(), citizen, document_type=form.document_type.data,
                                  codice_fiscale=form.codice_fiscale.data, house=house,
                                  residency_confirmed=form.residency.data)
    except services.DuplicateIdentity as exc:
        db.session.commit()  # keep the audit event of the refusal
        form.codice_fiscale.errors = [exc.message]
        _forget_codice_fiscale(form)
        return _page(find_form, db.session.get(User, user_id), form, 409)
    except PermissionDenied as exc:
        db.session.rollback()
        abort(403, description=exc.message)
    except DomainError as exc:
        show_domain_error(form, exc, default="codice_fiscale")
        _forget_codice_fiscale(form)
        return _page(find_form, db.session.get(User, user_id), form, 400)
    db.session.commit()
    flash(_("%(name)s is now verified.", name=citizen.display_name), "success")
    return redirect(url_for("verification.find"))


@bp.route("/admin/users/<int:user_id>/verification/revoke", methods=["POST"])
@roles_required(Role.admin)
def revoke(user_id):
    """An administrator revokes a citizen's verification, with a reason."""
    citizen = _citizen_or_404(user_id)
    form = RevokeVerificationForm(prefix="rev")
    if not form.validate_on_submit():
        flash(_("Say why the verification is revoked: the citizen is told."), "error")
        return redirect(url_for("admin.user_detail", user_id=citizen.id))
    try:
        services.revoke_verification(_me(), citizen, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Verification revoked."), "success")
    return redirect(url_for("admin.user_detail", user_id=citizen.id))
