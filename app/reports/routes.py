"""Report pages: the public list and page, placing a report, staff actions, the triage queue."""
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.access import citizen_required, public, roles_required
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import db_id, page_arg
from app.labels import report_status_label
from app.models.base import DomainError, NotFound, utcnow
from app.models.report import STATUS_GROUPS, TRANSITIONS, ReportStatus
from app.models.user import Role
from app.moderation import holds, placeholders
from app.moderation.limits import content_limits, flag_limits
from app.notifications.services import is_following
from app.reports import bp, services
from app.reports.forms import AssignForm, FixedForm, FlagForm, NoteForm, ReportForm, StatusForm

PAGE_SIZE = 25


def _filters():
    """Filters from the query string, validated (unknown values are ignored)."""
    args = request.args
    group = args.get("status") if args.get("status") in STATUS_GROUPS else None
    return {
        "status_group": group,
        "category_id": args.get("category", type=db_id),
        "district_id": args.get("district", type=db_id),
    }



def _report_or_404(report_id):
    try:
        return services.get_public(report_id)
    except NotFound:
        abort(404)


def _report_or_own_held(report_id):
    """A public report, or the viewer's own report while pre-moderation holds it (with a notice)."""
    try:
        return services.get_public(report_id)
    except NotFound:
        report = holds.own_held("report", report_id, current_user)
        if report is None:
            abort(404)
        holds.tell_author("report")
        return report


@bp.route("/reports")
@public
def index():
    """Public list of reports with filters, pagination and counts."""
    filters = _filters()
    pagination = db.paginate(services.public_reports(**filters), page=page_arg(),
                             per_page=PAGE_SIZE, error_out=False)
    return render_template("reports/index.html", pagination=pagination, filters=filters,
                           counts=services.counts_by_status_and_district(),
                           categories=services.category_choices(), districts=services.district_choices(),
                           groups=STATUS_GROUPS, map_url=_map_url(filters))


def _map_url(filters):
    """The same selection on the map, in the map's own terms (category slug, district number)."""
    from app.models.place import Category, District

    args = {"layers": "reports"}
    if filters["status_group"]:
        args["status"] = filters["status_group"]
    category = db.session.get(Category, filters["category_id"]) if filters["category_id"] else None
    if category is not None:
        args["category"] = category.slug
    district = db.session.get(District, filters["district_id"]) if filters["district_id"] else None
    if district is not None:
        args["district"] = district.number
    return url_for("maps.index", **args)


def _report_form():
    form = ReportForm()
    locale = str(get_locale())
    form.category_id.choices = [SelectChoice(0, _("Choose…"))] + [
        SelectChoice(c.id, c.name(locale)) for c in services.category_choices()]
    form.district_id.choices = [SelectChoice(0, _("Choose…"))] + [
        SelectChoice(d.id, f"{d.number} – {d.name}") for d in services.district_choices()]
    return form



@bp.route("/reports/new", methods=["GET", "POST"])
@citizen_required
@content_limits()
def new():
    """Place a report: point, category, text, photos; "already reported?" before saving."""
    form = _report_form()
    nearby = []
    if form.validate_on_submit():
        lat, lon = form.lat.data or None, form.lon.data or None
        if lat and lon and not form.confirmed_new.data:
            try:
                nearby = services.nearby_open(form.category_id.data, float(lat), float(lon))
            except ValueError:
                nearby = []
        if nearby:
            form.confirmed_new.data = "1"
            flash(_("Someone may have reported this already. Follow their report, or send yours anyway."), "warning")
        else:
            try:
                report = services.create_report(
                    current_user, title=form.title.data, description=form.description.data,
                    category_id=form.category_id.data, lat=lat, lon=lon, address=form.address.data,
                    district_id=form.district_id.data or None, photos=request.files.getlist(form.photos.name))
            except DomainError as exc:
                db.session.rollback()
                field = getattr(form, exc.details.get("field", ""), None) or form.photos
                if exc.details.get("field") == "location":
                    field = form.address
                field.errors.append(exc.message)
            else:
                held = holds.is_held("report", report)
                db.session.commit()
                if held:
                    holds.tell_author("report")
                else:
                    flash(_("Thank you! Your report is number %(n)d. We will tell you when it changes.",
                            n=report.id), "success")
                return redirect(url_for("reports.detail", report_id=report.id))
    return render_template("reports/new.html", form=form, nearby=nearby)


@bp.route("/reports/nearby.json")
@public
def nearby():
    """Open reports of a category near a point, for the "already reported?" box."""
    category_id = request.args.get("category", type=int)
    lat, lon = request.args.get("lat", type=float), request.args.get("lon", type=float)
    if not category_id or lat is None or lon is None:
        return jsonify({"error": {"code": "bad_request", "message": "category, lat and lon are required"}}), 400
    items = [{"id": r.id, "title": r.title, "status": r.status.value, "status_label": report_status_label(r.status),
              "distance_m": round(d), "url": url_for("reports.detail", report_id=r.id)}
             for r, d in services.nearby_open(category_id, lat, lon)]
    return jsonify({"radius_m": services.DUPLICATE_RADIUS_M, "reports": items})


@bp.route("/reports/<int:report_id>")
@public
def detail(report_id):
    """A report's public page: place, photos, timeline, and the actions open to the viewer.

    Hidden by moderation, it is a placeholder saying when and why (held for approval: 404 but to its author).
    """
    from app.media.services import photos_of

    hidden = placeholders.hidden_page("report", report_id, url_for("reports.index"), _("All reports"))
    if hidden is not None:
        return hidden
    report = _report_or_own_held(report_id)
    handler = services.handles(current_user, report)
    status_form = assign_form = None
    if handler:
        status_form = StatusForm(prefix="st")
        # In workflow order, with nothing preselected: one stray click must not reopen a report.
        status_form.status.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(s.value, report_status_label(s)) for s in ReportStatus if s in TRANSITIONS[report.status]]
        assign_form = AssignForm(prefix="as")
        assign_form.assignee.choices = [SelectChoice(u.id, u.display_name) for u in services.colleagues(report)]
    return render_template(
        "reports/detail.html", report=report, photos=photos_of("report", report.id), handler=handler,
        status_form=status_form, note_form=NoteForm(prefix="no") if handler else None, assign_form=assign_form,
        flag_form=FlagForm(prefix="fl"), button=ButtonForm(),
        following=is_following(current_user, "report", report.id),
        awaiting_reporter=(report.status == ReportStatus.resolved and current_user.is_authenticated
                           and report.reporter_id == current_user.id))


def _back(report, message=None, category="success"):
    if message:
        flash(message, category)
    return redirect(url_for("reports.detail", report_id=report.id))


def _fail(report, exc):
    db.session.rollback()
    return _back(report, exc.message, "error")


@bp.route("/reports/<int:report_id>/status", methods=["POST"])
@roles_required(Role.official)
def change_status(report_id):
    """An official moves the report on, with a public note."""
    report = _report_or_404(report_id)
    form = StatusForm(prefix="st")
    form.status.choices = [SelectChoice(s.value) for s in ReportStatus]
    if not form.validate_on_submit():
        return _back(report, _("Choose the new status."), "error")
    try:
        services.change_status(report, current_user, form.status.data, form.note.data, form.duplicate_of.data)
    except DomainError as exc:
        return _fail(report, exc)
    db.session.commit()
    return _back(report, _("Status updated."))


@bp.route("/reports/<int:report_id>/note", methods=["POST"])
@roles_required(Role.official)
def add_note(report_id):
    """An official posts a public update."""
    report = _report_or_404(report_id)
    form = NoteForm(prefix="no")
    if not form.validate_on_submit():
        return _back(report, _("Write the update first."), "error")
    try:
        services.add_note(report, current_user, form.note.data)
    except DomainError as exc:
        return _fail(report, exc)
    db.session.commit()
    return _back(report, _("Update published."))


@bp.route("/reports/<int:report_id>/assign", methods=["POST"])
@roles_required(Role.official)
def assign(report_id):
    """Assign the report to an official of its department."""
    report = _report_or_404(report_id)
    form = AssignForm(prefix="as")
    form.assignee.choices = [SelectChoice(u.id) for u in services.colleagues(report)]
    if not form.validate_on_submit():
        return _back(report, _("Choose an official of the responsible department."), "error")
    try:
        services.assign(report, current_user, form.assignee.data)
    except DomainError as exc:
        return _fail(report, exc)
    db.session.commit()
    return _back(report, _("Report assigned."))


@bp.route("/reports/<int:report_id>/fixed", methods=["POST"])
@citizen_required
def fixed(report_id):
    """The reporter says whether the problem is really fixed."""
    report = _report_or_404(report_id)
    form = FixedForm()
    if not form.validate_on_submit() or form.answer.data not in ("yes", "no"):
        abort(400)
    try:
        services.reporter_answer(report, current_user, form.answer.data == "yes")
    except DomainError as exc:
        return _fail(report, exc)
    db.session.commit()
    return _back(report, _("Thank you for telling us."))


@bp.route("/reports/<int:report_id>/flag", methods=["POST"])
@citizen_required
@flag_limits()
def flag(report_id):
    """Tell the moderators something is wrong with this report."""
    report = _report_or_404(report_id)
    form = FlagForm(prefix="fl")
    if not form.validate_on_submit():
        return _back(report, _("Choose a reason."), "error")
    try:
        services.flag(current_user, "report", report.id, form.reason.data, form.text.data)
    except DomainError as exc:
        return _fail(report, exc)
    db.session.commit()
    return _back(report, _("Thank you: the moderators will look at it."))


@bp.route("/staff/reports")
@roles_required(Role.official)
def queue():
    """The triage queue of the official's departments, oldest first, with ageing."""
    filters = _filters()
    filters["status_group"] = filters["status_group"] or ("open" if "status" not in request.args else None)
    assigned = request.args.get("assigned") if request.args.get("assigned") in ("me", "nobody") else None
    pagination = db.paginate(services.triage_queue(current_user, assigned=assigned, **filters),
                             page=page_arg(), per_page=50, error_out=False)
    now = utcnow()
    return render_template("reports/queue.html", pagination=pagination, filters=filters, assigned=assigned,
                           categories=services.category_choices(), districts=services.district_choices(),
                           button=ButtonForm(), age_days=lambda r: (now - r.created_at).days)


@bp.route("/staff/reports/acknowledge", methods=["POST"])
@roles_required(Role.official)
def acknowledge_many():
    """Acknowledge several new reports at once."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    ids = [int(i) for i in request.form.getlist("report_id") if i.isdigit()][:200]
    moved = services.acknowledge_many(current_user, ids)
    db.session.commit()
    flash(ngettext("%(num)d report acknowledged.", "%(num)d reports acknowledged.", moved), "success")
    return redirect(url_for("reports.queue"))


