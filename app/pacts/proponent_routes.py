"""Pages of the proponents, signatories and volunteers of a pact (the citizens' side of the procedure).

Proposing and editing a draft, submitting it (protocol number and receipt), withdrawing it; "my
pacts"; during the consultation asking to join and answering join requests; during co-design the
versions of the text, their differences and new versions; signing; joining an active pact as a
volunteer, managing volunteers and filing reports; the pact as a PDF. Views are thin: parse the
form, call one service of ``app.pacts.services``, commit once, redirect. The rules live there.
"""
from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.auth.access import citizen_required, login_required, public
from app.auth.forms import ButtonForm
from app.comments import services as comment_services
from app.extensions import db
from app.http import db_id, path_for, show_domain_error
from app.models.base import DomainError, utcnow
from app.models.commons import Commons, CommonsKind
from app.models.pact import (
    PACT_TRANSITIONS,
    Pact,
    PactJoinRequest,
    PactKind,
    PactStatus,
    PactVersion,
    RequestStatus,
)
from app.models.place import District
from app.pacts import attachments, bp, registry, services, text
from app.pacts.forms import (
    OWN_RESOURCES_TEMPLATE,
    SUPPORT_ROWS,
    DecisionForm,
    JoinRequestForm,
    PactForm,
    RemoveVolunteerForm,
    ReportForm,
    SignForm,
    SubmitForm,
    VersionForm,
    VolunteerForm,
    WithdrawForm,
    file_hints,
)
from app.moderation.limits import content_limits
from app.pacts.labels import pact_kind_label, support_kind_label

S = PactStatus


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def viewable_pact(pact_id):
    """The pact the current user may see (404 otherwise: drafts belong to their proponents and the office)."""
    pact = db.session.get(Pact, pact_id)
    if pact is None or not services.can_view(pact, _user()):
        abort(404)
    return pact


def _version(pact, number):
    version = next((v for v in pact.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


def _load_public_version(version_id):
    version = db.session.get(PactVersion, version_id)
    return version if version is not None and version.pact.is_public else None


if "pact_version" not in comment_services.COMMENTABLE:
    comment_services.register_commentable(
        "pact_version", _load_public_version,
        lambda v: path_for("pacts.version", pact_id=v.pact_id, number=v.number),
        title=lambda v: _("%(title)s, version %(n)d", title=v.pact.title, n=v.number))


# --- the pact page's slot ---------------------------------------------------------------------------

def _join_form(user):
    form = JoinRequestForm(prefix="jr")
    form.organisation_id.choices = [SelectChoice(0, _("Myself"))] + [
        SelectChoice(o.id, o.name) for o in registry.represented_organisations(user)]
    return form


def _active_volunteers(pact):
    return [v for v in pact.volunteers if v.left_at is None and v.removal_reason is None]


def page_context(pact, user, **overrides):
    """What _proponent_actions.html needs: the viewer's role, the forms they may use, the procedure's durations."""
    proponent = user is not None and services.is_proponent(pact, user)
    status = pact.status
    ctx = {
        "is_proponent": proponent,
        "steps": services.step_durations(pact),
        "can_edit": proponent and status in (S.draft, S.needs_integration),
        "can_submit": proponent and status in (S.draft, S.needs_integration),
        "can_withdraw": proponent and S.withdrawn in PACT_TRANSITIONS[status],
        "submit_form": SubmitForm(prefix="sb"), "withdraw_form": WithdrawForm(prefix="wd"),
        "button_form": ButtonForm(),
        "support_kind_label": support_kind_label,
    }
    if status == S.public_consultation:
        own = None
        if user is not None:
            own = next((r for r in pact.join_requests if r.user_id == user.id), None)
        # Side by side: the other proposals still open on this commons that the viewer may see
        # (one under examination is not public yet; an approved pact no longer competes).
        rivals = [p for p in services.competing(pact) if not p.text_is_frozen and services.can_view(p, user)]
        ctx.update(competing=rivals, own_join_request=own,
                   consultation_open=pact.consultation_ends_at is None or utcnow() < pact.consultation_ends_at,
                   join_form=_join_form(user) if user is not None and user.is_citizen and not proponent
                   and own is None else None,
                   pending_requests=[r for r in pact.join_requests if r.status == RequestStatus.pending]
                   if proponent else [], decision_form=DecisionForm(prefix="dc"))
    if status == S.co_design and proponent:
        latest = pact.current_version
        ctx["version_form"] = VersionForm(prefix="vr", data={"text": latest.text if latest else ""})
    if status == S.signing and user is not None:
        ctx["signable"] = services.signable_parties(pact, user)
        ctx["sign_form"] = SignForm(prefix="sg")
        ctx["needs_verification"] = proponent and user.is_citizen and not user.is_verified
        ctx["signed_party_ids"] = {s.party_id for s in pact.signatures}
    if status in (S.active, S.suspended):
        volunteers = _active_volunteers(pact)
        ctx.update(volunteer_form=VolunteerForm(prefix="vo"), remove_form=RemoveVolunteerForm(prefix="rm"),
                   is_volunteer=user is not None and any(v.user_id == user.id for v in volunteers),
                   volunteer_list=volunteers if proponent else [],
                   report_due=registry.report_due(pact, registry.rome_today()))
    # A refused form comes back with its errors, only where the page offers that form at all.
    ctx.update({name: form for name, form in overrides.items() if ctx.get(name) is not None})
    return ctx


def _refused(pact_id, status, **overrides):
    """The pact's page again, with the flashed refusal, answering ``status``."""
    from app.pacts.routes import render_detail

    db.session.rollback()
    pact = viewable_pact(pact_id)
    return render_detail(pact, **overrides), status


def _act(pact_id, action, done, *, form=None, anchor="", form_name=None):
    """One action on a pact's page: validate the form, call the service, commit, flash, back to the page."""
    pact = viewable_pact(pact_id)
    if form is not None and not form.validate_on_submit():
        errors = [e for errors in form.errors.values() for e in errors]
        flash(" ".join(str(e) for e in errors) or _("Please check the form."), "error")
        return _refused(pact_id, 400, **({form_name: form} if form_name else {}))
    try:
        action(pact)
    except DomainError as exc:
        if exc.status == 404:
            db.session.rollback()
            abort(404)
        flash(exc.message, "error")
        return _refused(pact_id, exc.status, **({form_name: form} if form_name else {}))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("pacts.detail", pact_id=pact_id) + anchor)


# --- proposing -------------------------------------------------------------------------------------

def _commons_choices():
    """Registered commons grouped by district (optgroups), the city-wide ones last."""
    rows = db.session.execute(
        select(Commons, District).outerjoin(District, District.id == Commons.district_id)
        .where(Commons.registered_at.is_not(None), Commons.hidden_at.is_(None))
        .order_by(District.number.is_(None), District.number, Commons.name)).all()
    choices = [SelectChoice(0, _("Choose…"))]
    for commons, district in rows:
        group = (_("District %(n)d – %(name)s", n=district.number, name=district.name) if district
                 else _("Whole city"))
        choices.append(SelectChoice(commons.id, commons.name, optgroup=group))
    return choices


def _prepare(form, user):
    form.commons_id.choices = _commons_choices()
    form.organisation_id.choices = [SelectChoice(0, _("Myself, %(name)s", name=user.display_name))] + [
        SelectChoice(o.id, o.name) for o in registry.represented_organisations(user)]
    file_hints(form)


def _files(form, name):
    """The files sent in the picker ``name`` of ``form`` (checked by the media services, not here)."""
    return request.files.getlist(getattr(form, name).name)


def _float(value):
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _own_resources(text):
    """The own resources as written, without the template's lines left empty."""
    empty = {line.strip() for line in str(OWN_RESOURCES_TEMPLATE).split("\n")}
    lines = [line for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip() not in empty]
    return "\n".join(lines).strip()


def _fields(form):
    """The service's keyword arguments from a valid PactForm."""
    fields = {
        "title": form.title.data.strip(), "organisation_id": form.organisation_id.data or None,
        "objectives": form.objectives.data, "activities": form.activities.data,
        "beneficiaries": form.beneficiaries.data or "", "duration_months": form.duration_months.data,
        "own_resources": _own_resources(form.own_resources.data), "requested_support": form.requested_support(),
        "declarations_accepted": form.declarations_accepted,
        "kind_requested": PactKind(form.kind_requested.data) if form.kind_requested.data else None,
    }
    if form.commons_choice.data == "new":
        fields["new_commons"] = {
            "name": (form.new_name.data or "").strip(),
            "kind": CommonsKind(form.new_kind.data) if form.new_kind.data else None,
            "lat": _float(form.lat.data), "lon": _float(form.lon.data),
            "outline": (form.new_outline.data or "").strip() or None,
            "address": (form.new_address.data or "").strip(), "description": form.new_description.data or ""}
    else:
        fields["commons_id"] = form.commons_id.data or None
    return fields


#: The service's field names that are not the form's.
FIELD_OF = {"new_commons": "new_name", "declarations_accepted": "declare_truth"}


def _form_error(form, exc):
    """A service's refusal next to the field it names; a flash when the form has no such field."""
    show_domain_error(form, exc, aliases=FIELD_OF)


def _new_commons_check(form):
    """A new commons needs its name and kind; a registered one must be chosen (field errors, not rules)."""
    ok = True
    if form.commons_choice.data == "new":
        if not (form.new_name.data or "").strip():
            form.new_name.errors = list(form.new_name.errors) + [_("Give the commons a name.")]
            ok = False
        if not form.new_kind.data:
            form.new_kind.errors = list(form.new_kind.errors) + [_("Choose the kind of commons.")]
            ok = False
    elif not form.commons_id.data:
        form.commons_id.errors = list(form.commons_id.errors) + [_("Choose the commons.")]
        ok = False
    return ok


def _valid(form):
    """The form's own checks and the commons' (every error shown at once)."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    return _new_commons_check(form) and valid


@bp.route("/pacts/new", methods=["GET", "POST"])
@citizen_required
@content_limits()
def new():
    """Propose a pact: it is saved as a draft that only the proponents see until it is submitted."""
    user = _user()
    form = PactForm()
    _prepare(form, user)
    if request.method == "GET":
        form.own_resources.data = str(OWN_RESOURCES_TEMPLATE)
        wanted = request.args.get("commons", type=db_id)
        if wanted and any(c.value == wanted for c in form.commons_id.choices):
            form.commons_id.data = wanted
    if _valid(form):
        try:
            pact = attachments.propose(user, _fields(form), photos=_files(form, "photos"),
                                       documents=_files(form, "documents"))
        except DomainError as exc:
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your draft is saved. Only you and the other proponents can see it until you submit it."),
                  "success")
            return redirect(url_for("pacts.detail", pact_id=pact.id))
    return render_template("pacts/new.html", form=form, pact=None)


def _form_data(pact):
    items = [{"kind": i.kind.value, "item": i.description, "quantity": i.quantity, "unit": i.unit or ""}
             for i in pact.support_items][:SUPPORT_ROWS]
    commons = pact.commons
    new = not commons.is_registered
    accepted = pact.declarations_accepted_at is not None
    return {
        "title": pact.title, "commons_choice": "new" if new else "existing",
        "commons_id": commons.id if not new else 0, "new_name": commons.name if new else "",
        "new_kind": commons.kind.value if new else "", "new_address": (commons.address or "") if new else "",
        "new_description": commons.description if new else "",
        "lat": commons.lat if new and commons.lat is not None else "",
        "lon": commons.lon if new and commons.lon is not None else "",
        "new_outline": (commons.geometry or "") if new else "",
        "organisation_id": pact.organisation_id or 0,
        "kind_requested": (pact.kind or PactKind.ordinary).value,
        "objectives": pact.objectives, "activities": pact.activities, "beneficiaries": pact.beneficiaries,
        "duration_months": pact.duration_months, "own_resources": pact.own_resources,
        "support": items + [{}] * (SUPPORT_ROWS - len(items)),
        "declare_truth": accepted, "declare_rules": accepted, "declare_privacy": accepted,
    }


def _same_new_commons(commons, data):
    if not data or commons.is_registered:
        return False
    return (data["name"] == commons.name and data["kind"] == commons.kind and data["lat"] == commons.lat
            and data["lon"] == commons.lon and (data["address"] or None) == commons.address
            and data["description"] == (commons.description or "")
            and _same_outline(data.get("outline"), commons.geometry))


def _same_outline(text, stored):
    """The same polygon, whatever its spacing (the edit form sends back what it showed)."""
    import json

    if not text or not stored:
        return not text and not stored
    try:
        return json.loads(text) == json.loads(stored)
    except ValueError:
        return False


@bp.route("/pacts/<int:pact_id>/edit", methods=["GET", "POST"])
@citizen_required
@content_limits()
def edit(pact_id):
    """Edit a draft, or a submitted proposal the office asked to integrate."""
    user = _user()
    pact = viewable_pact(pact_id)
    if not services.is_proponent(pact, user):
        abort(403)
    form = PactForm(data=_form_data(pact)) if request.method == "GET" else PactForm()
    _prepare(form, user)
    if pact.created_by_id != user.id:
        # Only the author says for whom the proposal is made: the others see it, fixed.
        name = pact.organisation.name if pact.organisation else (
            pact.created_by.display_name if pact.created_by else "—")
        form.organisation_id.choices = [SelectChoice(pact.organisation_id or 0, name)]
        form.organisation_id.description = _("Only the author of the proposal can change it.")
    if request.method == "POST" and _valid(form):
        fields = _fields(form)
        if pact.created_by_id != user.id:
            fields.pop("organisation_id")  # only the author says for whom the proposal is made
        if _same_new_commons(pact.commons, fields.get("new_commons")):
            fields.pop("new_commons")  # unchanged: keep it rather than propose it again
        try:
            attachments.update(pact, user, fields, photos=_files(form, "photos"), documents=_files(form, "documents"),
                               remove_photo_ids=request.form.getlist("remove_photo", type=int),
                               remove_document_ids=request.form.getlist("remove_document", type=int))
        except DomainError as exc:
            if exc.status == 404:
                abort(404)
            _form_error(form, exc)
            return render_template("pacts/edit.html", form=form, pact=pact), exc.status
        db.session.commit()
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("pacts.detail", pact_id=pact.id))
    status = 400 if request.method == "POST" else 200
    return render_template("pacts/edit.html", form=form, pact=pact), status


@bp.route("/pacts/<int:pact_id>/submit", methods=["POST"])
@citizen_required
def submit(pact_id):
    """Send the proposal to the City: it gets a protocol number and a receipt."""
    pact = viewable_pact(pact_id)
    form = SubmitForm(prefix="sb")
    if not form.validate_on_submit():
        abort(400)
    try:
        services.submit(pact, _user())
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return _refused(pact_id, exc.status)
    db.session.commit()
    flash(_("Your proposal was submitted to the City with protocol number %(n)s.", n=pact.protocol_number),
          "success")
    return redirect(url_for("pacts.receipt", pact_id=pact_id))


@bp.route("/pacts/<int:pact_id>/receipt")
@citizen_required
def receipt(pact_id):
    """The printable receipt of a submitted proposal (its proponents only)."""
    pact = viewable_pact(pact_id)
    if not services.is_proponent(pact, _user()) or not pact.protocol_number:
        abort(404)
    return render_template("pacts/receipt.html", pact=pact, kind_label=pact_kind_label,
                           support_kind_label=support_kind_label)


@bp.route("/pacts/<int:pact_id>/withdraw", methods=["POST"])
@citizen_required
def withdraw(pact_id):
    """The proponents withdraw the proposal, saying why."""
    form = WithdrawForm(prefix="wd")
    return _act(pact_id, lambda p: services.withdraw(p, _user(), reason=form.reason.data.strip()),
                _("The proposal was withdrawn."), form=form)


@bp.route("/pacts/mine")
@citizen_required
def mine():
    """My drafts, my submitted proposals and every pact I take part in, with what is waiting for me."""
    user = _user()
    groups = registry.mine(user, registry.rome_today(), lambda p: bool(services.signable_parties(p, user)))
    return render_template("pacts/mine.html", **groups)


# --- consultation ------------------------------------------------------------------------------------

@bp.route("/pacts/<int:pact_id>/join-requests", methods=["POST"])
@citizen_required
@content_limits()
def request_join(pact_id):
    """During the consultation, ask the proponents to join the proposal (for oneself or an organisation)."""
    form = _join_form(_user())
    return _act(pact_id, lambda p: services.request_to_join(
        p, _user(), organisation_id=form.organisation_id.data or None, message=(form.message.data or "").strip()),
        _("Your request was sent to the proponents."), form=form, anchor="#consultation", form_name="join_form")


@bp.route("/pacts/<int:pact_id>/join-requests/<int:request_id>", methods=["POST"])
@login_required
def decide_join(pact_id, request_id):
    """The proponents (or the office) accept or decline a request to join."""
    form = DecisionForm(prefix="dc")
    if not form.validate_on_submit() or form.answer.data not in ("accept", "decline"):
        abort(400)
    join_request = db.session.get(PactJoinRequest, request_id)
    if join_request is None or join_request.pact_id != pact_id:
        abort(404)
    accept = form.answer.data == "accept"
    done = _("The request was accepted: they are now a proponent.") if accept else _("The request was declined.")
    return _act(pact_id, lambda p: services.decide_join_request(join_request, _user(), accept), done,
                anchor="#consultation")


# --- versions ----------------------------------------------------------------------------------------

@bp.route("/pacts/<int:pact_id>/versions/<int:number>")
@public
def version(pact_id, number):
    """One version of the pact text, with its comments."""
    pact = viewable_pact(pact_id)
    return render_template("pacts/version.html", pact=pact, version=_version(pact, number))


@bp.route("/pacts/<int:pact_id>/versions/<int:number>/diff")
@public
def version_diff(pact_id, number):
    """What changed between two versions (``against``, by default the previous one): added and removed lines."""
    pact = viewable_pact(pact_id)
    new_version = _version(pact, number)
    against = request.args.get("against", type=int)
    old_version = _version(pact, against if against is not None else number - 1)
    lines = text.diff_versions(old_version, new_version)
    return render_template("pacts/diff.html", pact=pact, old=old_version, new=new_version, lines=lines,
                           added=sum(1 for op, _t in lines if op == "added"),
                           removed=sum(1 for op, _t in lines if op == "removed"))


@bp.route("/pacts/<int:pact_id>/versions", methods=["POST"])
@citizen_required
@content_limits()
def add_version(pact_id):
    """During co-design a proponent proposes a new version of the text, with a note."""
    form = VersionForm(prefix="vr")
    return _act(pact_id, lambda p: services.add_version(p, _user(), text=form.text.data.replace("\r\n", "\n"),
                                                         note=form.note.data.strip()),
                _("The new version is published."), form=form, anchor="#versions-title", form_name="version_form")


# --- signing -------------------------------------------------------------------------------------

@bp.route("/pacts/<int:pact_id>/sign", methods=["POST"])
@login_required
def sign(pact_id):
    """Sign the approved text for one party (a verified citizen, a representative, or the City's official)."""
    form = SignForm(prefix="sg")
    party_id = request.form.get("sg-party_id", type=int)
    return _act(pact_id, lambda p: services.sign(p, _user(), party_id), _("Your signature is recorded."),
                form=form, anchor="#signing")


# --- active pacts ------------------------------------------------------------------------------------

@bp.route("/pacts/<int:pact_id>/volunteers", methods=["POST"])
@citizen_required
def join_volunteer(pact_id):
    """Join an active pact as a volunteer, accepting its rules."""
    form = VolunteerForm(prefix="vo")
    return _act(pact_id, lambda p: services.join_as_volunteer(p, _user(), accept_rules=bool(form.accept_rules.data)),
                _("Welcome: you joined the pact as a volunteer."), form=form, anchor="#volunteers")


@bp.route("/pacts/<int:pact_id>/volunteers/leave", methods=["POST"])
@citizen_required
def leave(pact_id):
    """A volunteer leaves the pact."""
    return _act(pact_id, lambda p: services.leave(p, _user()), _("You left the pact."), form=ButtonForm(),
                anchor="#volunteers")


@bp.route("/pacts/<int:pact_id>/volunteers/<int:volunteer_id>/remove", methods=["POST"])
@citizen_required
def remove_volunteer(pact_id, volunteer_id):
    """The representatives remove a volunteer, with the reason (the pact's exclusion clause)."""
    form = RemoveVolunteerForm(prefix="rm")
    return _act(pact_id, lambda p: services.remove_volunteer(p, _user(), volunteer_id, form.reason.data.strip()),
                _("The volunteer was removed."), form=form, anchor="#volunteers")


@bp.route("/pacts/<int:pact_id>/reports/new", methods=["GET", "POST"])
@citizen_required
@content_limits()
def new_report(pact_id):
    """The proponents file a periodic or final report."""
    user = _user()
    pact = viewable_pact(pact_id)
    if not services.is_proponent(pact, user):
        abort(403)
    form = file_hints(ReportForm())
    if request.method == "GET":
        # The period starts where the last report ended (or with the pact), up to yesterday.
        ended = [r.period_end for r in pact.reports if r.review.value != "needs_changes"]
        form.period_start.data = max(ended) + timedelta(days=1) if ended else pact.starts_on
        # Up to yesterday; on the pact's first day (nothing to report yet) a one-day period, never an inverted one.
        yesterday = registry.rome_today() - timedelta(days=1)
        start = form.period_start.data
        form.period_end.data = max(yesterday, start) if start else yesterday
    if form.validate_on_submit():
        try:
            attachments.file_report(
                pact, user, photos=_files(form, "photos"),
                period_start=form.period_start.data, period_end=form.period_end.data,
                is_final=bool(form.is_final.data), activities=form.activities.data, events=form.events.data or "",
                beneficiaries_reached=form.beneficiaries_reached.data, volunteer_hours=form.volunteer_hours.data or 0,
                resources_proponents=form.resources_proponents.data or "",
                resources_city=form.resources_city.data or "", results=form.results.data or "",
                problems=form.problems.data or "")
        except DomainError as exc:
            if exc.status == 404:
                abort(404)
            _form_error(form, exc)
            return render_template("pacts/report.html", form=form, pact=pact), exc.status
        db.session.commit()
        flash(_("Your report was sent to the City."), "success")
        return redirect(url_for("pacts.detail", pact_id=pact_id))
    status = 400 if request.method == "POST" else 200
    return render_template("pacts/report.html", form=form, pact=pact), status


# --- the document ---------------------------------------------------------------------------------

@bp.route("/pacts/<int:pact_id>.pdf")
@public
def pdf(pact_id):
    """The pact document as a printable PDF (public pacts only)."""
    from app.pacts import pdf as pdf_document

    pact = registry.get_public(pact_id)
    if pact is None:
        abort(404)
    body = pdf_document.render(pact, verified=services.verify(pact))
    name = (pact.protocol_number or f"patto-{pact.id}").lower()
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})
