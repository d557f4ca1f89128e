"""Pages of the commons registry (public and office), calls for care, and organisations.

The views parse a form, call one service, commit once and redirect; the rules live in services.py.
"""
import json

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.auth.access import citizen_required, public, roles_required
from app.auth.forms import ButtonForm
from app.commons import bp, services
from app.commons.forms import AnswerForm, CallForm, CommonsForm, HideForm, MemberInviteForm, OrganisationForm
from app.extensions import db
from app.http import db_id, page_arg, path_for, safe_next, show_domain_error
from app.labels import commons_kind_label, commons_owner_label, organisation_kind_label
from app.media.services import attach_photos, delete_photo, photos_of, register_owner_visibility
from app.models.base import DomainError, NotFound, utcnow
from app.models.commons import Commons, CommonsCall, CommonsKind, CommonsOwner, OrganisationKind
from app.models.user import Department
from app.reports import services as report_services

PAGE_SIZE = 25


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _photo_visible(commons_id):
    commons = db.session.get(Commons, commons_id)
    return commons is not None and services.can_view(commons, _user())


register_owner_visibility("commons", _photo_visible)


def _form_error(form, exc, default="name"):
    """Show a service's refusal next to the field it is about."""
    show_domain_error(form, exc, default=default)


def _back(default, message, category="success"):
    flash(message, category)
    return redirect(safe_next(request.form.get("next")) or default)


def _act(action, done, default, form=None):
    """One POST action: check the form, call the service, commit, flash, go back."""
    form = form or ButtonForm()
    if not form.validate_on_submit():
        errors = [e for errors in form.errors.values() for e in errors]
        return _back(default, " ".join(errors) or _("Please check the form."), "error")
    try:
        action(form)
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        db.session.rollback()
        return _back(default, exc.message, "error")
    db.session.commit()
    return _back(default, done)


def _district_choices(empty_label):
    return [SelectChoice(0, empty_label)] + [SelectChoice(d.id, f"{d.number} – {d.name}")
                                             for d in report_services.district_choices()]


# --- the public registry ----------------------------------------------------------------------

@bp.route("/commons")
@public
def index():
    """The registry of urban commons: filters by kind, district, offered for care now, and a name search."""
    filters = services.parse_filters(request.args, db_id)
    pagination = db.paginate(services.public_commons(filters), page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    args = {k: v for k, v in (("kind", filters["kind"].value if filters["kind"] else None),
                              ("district", filters["district_id"]), ("offered", "1" if filters["offered"] else None),
                              ("q", filters["q"] or None)) if v}
    return render_template("commons/index.html", pagination=pagination, filters=filters, kinds=list(CommonsKind),
                           districts=report_services.district_choices(), page_args=args,
                           offered=services.offered_ids([c.id for c in pagination.items]))


@bp.route("/commons/<int:commons_id>")
@public
def detail(commons_id):
    """A commons: what and where it is, who owns it and answers for it, its calls for care and its pacts."""
    user = _user()
    try:
        commons = services.get_viewable(commons_id, user)
    except NotFound:
        abort(404)
    open_calls, upcoming, past = services.calls_of(commons)
    # The pact proposal form (app/pacts) takes the commons from ?commons=; only a registered one.
    propose_url = (url_for("pacts.new", commons=commons.id)
                   if "pacts.new" in current_app.view_functions and commons.registered_at and not commons.hidden_at
                   else None)
    return render_template("commons/detail.html", propose_url=propose_url, commons=commons, photos=photos_of("commons", commons.id),
                           open_calls=open_calls, upcoming_calls=upcoming, past_calls=past,
                           pacts=services.public_pacts_of(commons), is_public=services.is_visible(commons),
                           is_official=services.is_official(user), owner_label=commons_owner_label,
                           now_utc=utcnow())


@bp.route("/commons.geojson")
@public
def export_geojson():
    """Open data: the registry as GeoJSON (RFC 7946, lon/lat; the outline when there is one)."""
    commons_list = db.session.scalars(services.public_commons({})).all()
    offered = services.offered_ids([c.id for c in commons_list])
    features = []
    for c in commons_list:
        if c.geometry:
            geometry = json.loads(c.geometry)
        elif c.lat is not None:
            geometry = {"type": "Point", "coordinates": [c.lon, c.lat]}
        else:
            geometry = None
        features.append({"type": "Feature", "id": c.id, "geometry": geometry, "properties": {
            "name": c.name, "kind": c.kind.value, "address": c.address or "",
            "district": c.district.number if c.district else None,
            "owner": c.owner.value, "owner_name": c.owner_name or "",
            "department": c.department.name_it if c.department else "",
            "heritage_constraint": c.heritage_constraint, "offered_for_care": c.id in offered,
            "lat": c.lat, "lon": c.lon, "url": path_for("commons.detail", commons_id=c.id)}})
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return Response(body, mimetype="application/geo+json",
                    headers={"Content-Disposition": 'inline; filename="beni-comuni.geojson"'})


# --- the office -------------------------------------------------------------------------------

def _office_commons(commons_id):
    commons = db.session.get(Commons, commons_id)
    if commons is None:
        abort(404)
    return commons


def _commons_choices(form):
    locale = str(get_locale())
    form.kind.choices = [SelectChoice(k.value, commons_kind_label(k)) for k in CommonsKind]
    form.district_id.choices = _district_choices(_("—"))
    departments = db.session.scalars(select(Department).order_by(Department.name_it)).all()
    form.department_id.choices = [SelectChoice(0, _("—"))] + [SelectChoice(d.id, d.name(locale))
                                                              for d in departments]
    form.owner.choices = [SelectChoice(o.value, commons_owner_label(o)) for o in CommonsOwner]


def _commons_fields(form):
    return dict(name=form.name.data, kind=form.kind.data, lat=form.lat.data or None, lon=form.lon.data or None,
                address=form.address.data, description=form.description.data,
                district_id=form.district_id.data or None, owner=form.owner.data,
                owner_name=form.owner_name.data, owner_consent=form.owner_consent.data,
                department_id=form.department_id.data or None,
                heritage_constraint=form.heritage_constraint.data, geometry=form.geometry.data)


@bp.route("/office/commons")
@roles_required("official")
def office_index():
    """The office's registry: citizens' proposals waiting, registered and hidden commons."""
    status = request.args.get("status")
    filters = {"status": status if status in ("proposed", "registered", "hidden") else None,
               "q": (request.args.get("q") or "").strip()[:100]}
    pagination = db.paginate(services.office_commons(filters), page=page_arg(), per_page=50, error_out=False)
    return render_template("commons/office_index.html", pagination=pagination, filters=filters,
                           page_args={k: v for k, v in filters.items() if v})


@bp.route("/office/commons/new", methods=["GET", "POST"])
@roles_required("official")
def office_new():
    """Add a commons to the registry: kind, point (and outline), owner and consent, department, heritage."""
    form = CommonsForm()
    _commons_choices(form)
    if form.validate_on_submit():
        try:
            commons = services.create_commons(_user(), **_commons_fields(form))
            attach_photos(request.files.getlist(form.photos.name), "commons", commons.id, _user())
        except DomainError as exc:
            _form_error(form, exc, default="photos" if exc.details.get("reason") else "name")
        else:
            db.session.commit()
            flash(_("The commons is in the registry."), "success")
            return redirect(url_for("commons.detail", commons_id=commons.id))
    return render_template("commons/office_form.html", form=form, commons=None, photos=[])


@bp.route("/office/commons/<int:commons_id>/edit", methods=["GET", "POST"])
@roles_required("official")
def office_edit(commons_id):
    """Edit a commons (registered or proposed by a citizen), its photos included."""
    commons = _office_commons(commons_id)
    form = CommonsForm(obj=commons if request.method == "GET" else None)
    _commons_choices(form)
    if request.method == "GET":
        form.kind.data, form.owner.data = commons.kind.value, commons.owner.value
        form.district_id.data, form.department_id.data = commons.district_id or 0, commons.department_id or 0
    if form.validate_on_submit():
        try:
            services.update_commons(commons, _user(), **_commons_fields(form))
            wanted = set(request.form.getlist("remove_photo", type=int))
            for photo in photos_of("commons", commons.id, include_hidden=True):
                if photo.id in wanted:
                    delete_photo(photo)
            attach_photos(request.files.getlist(form.photos.name), "commons", commons.id, _user())
        except DomainError as exc:
            _form_error(form, exc, default="photos" if exc.details.get("reason") else "name")
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("commons.detail", commons_id=commons.id))
    return render_template("commons/office_form.html", form=form, commons=commons,
                           photos=photos_of("commons", commons.id), hide_form=HideForm(prefix="hd"))


@bp.route("/office/commons/<int:commons_id>/register", methods=["POST"])
@roles_required("official")
def office_register(commons_id):
    """Take a commons a citizen proposed into the registry."""
    commons = _office_commons(commons_id)
    return _act(lambda f: services.register_commons(commons, _user()), _("The commons is in the registry."),
                url_for("commons.detail", commons_id=commons_id))


@bp.route("/office/commons/<int:commons_id>/hide", methods=["POST"])
@roles_required("official")
def office_hide(commons_id):
    """Take a commons out of the public registry, with the reason."""
    commons = _office_commons(commons_id)
    return _act(lambda f: services.hide_commons(commons, _user(), f.reason.data),
                _("The commons is hidden from the public."), url_for("commons.office_edit", commons_id=commons_id),
                form=HideForm(prefix="hd"))


@bp.route("/office/commons/<int:commons_id>/restore", methods=["POST"])
@roles_required("official")
def office_restore(commons_id):
    """Put a hidden commons back in the registry."""
    commons = _office_commons(commons_id)
    return _act(lambda f: services.restore_commons(commons, _user()), _("The commons is visible again."),
                url_for("commons.office_edit", commons_id=commons_id))


@bp.route("/office/commons/<int:commons_id>/calls/new", methods=["GET", "POST"])
@roles_required("official")
def office_new_call(commons_id):
    """Offer a commons for care: a dated call with requirements and evaluation criteria."""
    commons = _office_commons(commons_id)
    form = CallForm()
    if form.validate_on_submit():
        try:
            services.open_call(commons, _user(), title=form.title.data, description=form.description.data,
                               requirements=form.requirements.data, criteria=form.criteria.data,
                               opens_at=form.opens_at.data, closes_at=form.closes_at.data)
        except DomainError as exc:
            _form_error(form, exc, default="title")
        else:
            db.session.commit()
            flash(_("The call for care is published on the commons' page."), "success")
            return redirect(url_for("commons.detail", commons_id=commons.id))
    return render_template("commons/call_form.html", form=form, commons=commons)


@bp.route("/office/commons/calls/<int:call_id>/close", methods=["POST"])
@roles_required("official")
def office_close_call(call_id):
    """End a call for care now."""
    call = db.session.get(CommonsCall, call_id)
    if call is None:
        abort(404)
    return _act(lambda f: services.close_call(call, _user()), _("The call is closed."),
                url_for("commons.detail", commons_id=call.commons_id))


# --- organisations ----------------------------------------------------------------------------

def _organisation_choices(form):
    form.kind.choices = [SelectChoice(k.value, organisation_kind_label(k)) for k in OrganisationKind]
    form.district_id.choices = _district_choices(_("Whole city"))


def _organisation_fields(form):
    return dict(name=form.name.data, kind=form.kind.data, description=form.description.data,
                tax_code=form.tax_code.data, email=form.email.data, website=form.website.data,
                district_id=form.district_id.data or None)


def _organisation(organisation_id):
    try:
        return services.get_public_organisation(organisation_id)
    except NotFound:
        abort(404)


def _managed(organisation_id):
    """The organisation, if the current user represents it (404 if it does not exist, 403 otherwise)."""
    organisation = _organisation(organisation_id)
    if not organisation.is_representative(_user()):
        abort(403, description=_("Only the organisation's representatives can do this."))
    return organisation


@bp.route("/organisations/<int:organisation_id>")
@public
def organisation_detail(organisation_id):
    """An organisation's public profile: who they are, their representatives and their public pacts."""
    from app.moderation import placeholders
    from app.moderation.forms import FlagContentForm

    hidden = placeholders.hidden_page("organisation", organisation_id, url_for("commons.index"), _("All commons"))
    if hidden is not None:
        return hidden
    organisation = _organisation(organisation_id)
    user = _user()
    return render_template("organisations/detail.html", organisation=organisation,
                           representatives=services.public_representatives(organisation),
                           pacts=services.public_pacts_of_organisation(organisation),
                           is_representative=organisation.is_representative(user),
                           is_member=user is not None and any(m.user_id == user.id
                                                              for m in organisation.memberships),
                           flag_form=FlagContentForm(prefix="fl"))


@bp.route("/organisations/new", methods=["GET", "POST"])
@citizen_required
def organisation_new():
    """Create an organisation; its creator is its first representative."""
    form = OrganisationForm()
    _organisation_choices(form)
    if form.validate_on_submit():
        try:
            organisation = services.create_organisation(_user(), **_organisation_fields(form))
        except DomainError as exc:
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(_("The organisation is created and you are its representative."), "success")
            return redirect(url_for("commons.organisation_manage", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=None)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@citizen_required
def organisation_edit(organisation_id):
    """A representative edits the public profile."""
    organisation = _managed(organisation_id)
    form = OrganisationForm(obj=organisation if request.method == "GET" else None)
    _organisation_choices(form)
    if request.method == "GET":
        form.kind.data, form.district_id.data = organisation.kind.value, organisation.district_id or 0
    if form.validate_on_submit():
        try:
            services.update_organisation(organisation, _user(), **_organisation_fields(form))
        except DomainError as exc:
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("commons.organisation_detail", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=organisation)


@bp.route("/organisations/mine")
@citizen_required
def organisations_mine():
    """The organisations I belong to, and whether I represent them."""
    return render_template("organisations/mine.html", memberships=services.organisations_of(_user()))


@bp.route("/organisations/<int:organisation_id>/manage")
@citizen_required
def organisation_manage(organisation_id):
    """The representatives' page: members, representatives, invitations."""
    organisation = _managed(organisation_id)
    return render_template("organisations/manage.html", organisation=organisation,
                           invite_form=MemberInviteForm(prefix="in"))


def _manage_url(organisation_id):
    return url_for("commons.organisation_manage", organisation_id=organisation_id)


@bp.route("/organisations/<int:organisation_id>/members", methods=["POST"])
@citizen_required
def organisation_invite(organisation_id):
    """Invite an account by email; the answer is the same whether or not the address has an account."""
    organisation = _organisation(organisation_id)
    form = MemberInviteForm(prefix="in")
    return _act(lambda f: services.invite_member(organisation, _user(), f.email.data,
                                                 representative=f.role.data == "representative"),
                _("If this address belongs to a citizen registered on Piazza, they are invited. They will appear "
                  "here once they accept."), _manage_url(organisation_id), form=form)


@bp.route("/organisations/<int:organisation_id>/members/<int:user_id>/remove", methods=["POST"])
@citizen_required
def organisation_remove_member(organisation_id, user_id):
    """A representative removes a member (never the last representative)."""
    organisation = _organisation(organisation_id)
    return _act(lambda f: services.remove_member(organisation, _user(), user_id),
                _("The list of members was updated."), _manage_url(organisation_id))


@bp.route("/organisations/<int:organisation_id>/members/<int:user_id>/role", methods=["POST"])
@citizen_required
def organisation_set_role(organisation_id, user_id):
    """A representative makes a member a representative, or a representative a member."""
    organisation = _organisation(organisation_id)
    form = AnswerForm()
    if form.validate_on_submit() and form.answer.data not in ("representative", "member"):
        abort(400)
    return _act(lambda f: services.set_representative(organisation, _user(), user_id,
                                                      f.answer.data == "representative"),
                _("The list of members was updated."), _manage_url(organisation_id), form=form)


@bp.route("/organisations/<int:organisation_id>/leave", methods=["POST"])
@citizen_required
def organisation_leave(organisation_id):
    """Step down from an organisation (the last representative cannot)."""
    organisation = _organisation(organisation_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.leave(organisation, _user())
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("commons.organisation_detail", organisation_id=organisation_id))
    db.session.commit()
    flash(_("You are no longer part of %(name)s.", name=organisation.name), "success")
    return redirect(url_for("commons.organisations_mine"))


@bp.route("/organisations/invitations/<token>", methods=["GET", "POST"])
@citizen_required
def organisation_invitation(token):
    """An invitation to join an organisation: the invitee accepts it (POST) or simply leaves it."""
    try:
        organisation, representative = services.read_invitation(token, _user())
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return redirect(url_for("commons.organisations_mine"))
    form = AnswerForm()
    if form.validate_on_submit():
        if form.answer.data != "accept":
            flash(_("You declined the invitation."), "success")
            return redirect(url_for("commons.organisations_mine"))
        try:
            services.accept_invitation(token, _user())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("commons.organisations_mine"))
        db.session.commit()
        flash(_("You are now part of %(name)s.", name=organisation.name), "success")
        return redirect(url_for("commons.organisation_detail", organisation_id=organisation.id))
    return render_template("organisations/invitation.html", organisation=organisation,
                           representative=representative, token=token)
