"""The City's office for pacts: queue, admissibility, consultation, co-design, approval, signing, reports.

Every page and action is for officials (``roles_required(Role.official)``); the pact's department
scope is checked by the loader (another department's pact is a 404) and again by each service.
Views stay thin: parse one small form, call one service, commit once, flash and go back.
"""
from datetime import datetime, time

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.admin.processes import local_to_utc
from app.auth.access import roles_required
from app.extensions import db
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.pact import (
    PACT_TRANSITIONS,
    TEXT_OPEN_STATUSES,
    Pact,
    PactDispute,
    PactReport,
    PactStatus,
    PartyKind,
    ReportReview,
)
from app.models.place import NeighbourhoodHouse
from app.models.user import Department, Role, User, UserRole
from app.pacts import bp, services, text
from app.pacts.labels import pact_kind_label
from app.pacts.office_forms import (
    SUPPORT_KIND_LABELS,
    AdmissibleForm,
    ApproveForm,
    ButtonForm,
    CloseDisputeForm,
    CommitteeProposalForm,
    CompleteForm,
    ConsultationForm,
    InadmissibleForm,
    IntegrationForm,
    MeetingForm,
    MergeForm,
    ReportReviewForm,
    ResumeForm,
    RevokeForm,
    SignForm,
    SupportForm,
    SuspendForm,
    VersionForm,
)
from app.reviews.services import today

S = PactStatus

#: What the office does at each status (the queue's filter, in the procedure's order).
QUEUE_STATUSES = (S.submitted, S.needs_integration, S.admissible, S.public_consultation, S.co_design,
                  S.approved, S.signing, S.active, S.suspended)
#: Statuses in which a co-design meeting may be recorded.
MEETING_STATUSES = frozenset({S.admissible, S.public_consultation, S.co_design, S.approved, S.signing, S.active})
#: Statuses in which the office sets the City's support items (the text is still open).
SUPPORT_STATUSES = TEXT_OPEN_STATUSES - {S.draft, S.needs_integration}
#: Statuses from which another proposal on the same commons may be merged into this one.
MERGE_STATUSES = frozenset({S.submitted, S.admissible, S.public_consultation, S.co_design})


#: The office actions, named as the pact page's office panel lists them (each an anchor of the office page).
ACTION_LABELS = {
    "integration": _l("ask for more information"), "admissible": _l("declare admissible"),
    "inadmissible": _l("declare not admissible"), "consultation": _l("open the public consultation"),
    "co_design": _l("start co-design"), "meeting": _l("record a meeting"), "support": _l("set the City's support"),
    "version": _l("write a new version of the text"), "approve": _l("approve the pact"),
    "merge": _l("merge a competing proposal"), "signing": _l("open the signing"),
    "sign": _l("sign for the City"), "reports": _l("review the reports"), "suspend": _l("suspend"),
    "resume": _l("resume"), "revoke": _l("revoke"), "complete": _l("complete"), "renew": _l("renew"),
    "disputes": _l("handle the disputes"),
}
#: Where each action's form is on the office page.
ACTION_ANCHORS = {"meeting": "meetings", "support": "support", "version": "versions", "merge": "competing",
                  "co_design": "co-design", "suspend": "life", "resume": "life", "revoke": "life",
                  "complete": "life", "renew": "life"}


def _actor():
    return current_user._get_current_object()


def _locale():
    return str(get_locale() or "it")


def _office_pact(pact_id):
    """The pact, if the current official's departments handle it; else 404 (no hint it exists)."""
    pact = db.session.get(Pact, pact_id)
    if pact is None or pact.status == S.draft or not services.is_office(pact, current_user):
        abort(404)
    return pact


def _moves(pact):
    return PACT_TRANSITIONS.get(pact.status, frozenset())


def pending_reports(pact):
    return [r for r in getattr(pact, "reports", []) if r.review == ReportReview.submitted]


def open_disputes(pact):
    return [d for d in getattr(pact, "disputes", []) if d.closed_at is None]


def mergeable(pact):
    """The competing proposals that could still be merged into ``pact`` (they may still be withdrawn)."""
    return [p for p in services.competing(pact) if S.withdrawn in _moves(p) and p.status != S.draft]


def city_parties_to_sign(pact, user):
    """The City's parties the official may sign for now (empty outside signing)."""
    if pact.status != S.signing:
        return []
    return [p for p in services.signable_parties(pact, user) if p.kind == PartyKind.city]


def available_actions(pact, user, now=None):
    """The office actions that make sense for ``pact`` now (the services still enforce every rule)."""
    now = now or utcnow()
    moves, status = _moves(pact), pact.status
    actions = []
    if status == S.submitted:
        actions += ["integration", "admissible", "inadmissible"]
    if S.public_consultation in moves:
        actions.append("consultation")
    if status == S.public_consultation and pact.consultation_ends_at and pact.consultation_ends_at <= now:
        actions.append("co_design")
    if status in MEETING_STATUSES:
        actions.append("meeting")
    if status in SUPPORT_STATUSES:
        actions.append("support")
    if status == S.co_design:
        actions += ["version", "approve"]
    if status in MERGE_STATUSES and mergeable(pact):
        actions.append("merge")
    if S.signing in moves:
        actions.append("signing")
    if city_parties_to_sign(pact, user):
        actions.append("sign")
    if pending_reports(pact):
        actions.append("reports")
    if S.suspended in moves:
        actions.append("suspend")
    if status == S.suspended:
        actions.append("resume")
    if S.revoked in moves:
        actions.append("revoke")
    if S.completed in moves:
        actions.append("complete")
    if S.renewed in moves:
        actions.append("renew")
    if open_disputes(pact):
        actions.append("disputes")
    return actions


@bp.app_template_global()
def pact_office_panel(pact):
    """For pacts/_office_actions.html: what the current official may do on ``pact`` now, or None."""
    if not (current_user.is_authenticated and current_user.has_role(Role.official)):
        return None
    if pact.status == S.draft or not services.is_office(pact, current_user):
        return None
    actions = available_actions(pact, current_user)
    return {"actions": [(str(ACTION_LABELS[a]), ACTION_ANCHORS.get(a, a)) for a in actions],
            "overdue": services.current_overdue(pact)}


bp.add_app_template_global(pact_kind_label, "pact_kind_name")


# --- the queue -----------------------------------------------------------------------------

def _queue_rows(official, now):
    """(pact, current step, overdue step or None) for the official's queue, oldest first."""
    return [(e.pact, e.step, e.step if e.overdue else None) for e in services.office_queue(official, now=now)]


@bp.route("/office/pacts")
@roles_required(Role.official)
def office_queue():
    """What waits for the office in the official's departments, oldest first, overdue steps highlighted."""
    now = utcnow()
    rows = _queue_rows(_actor(), now)
    departments = sorted({p.department for p, _c, _o in rows if p.department is not None}, key=lambda d: d.id)
    status = request.args.get("status") or ""
    department = request.args.get("department", type=int)
    shown = [r for r in rows if (not status or r[0].status.value == status)
             and (not department or r[0].department_id == department)]
    return render_template("pacts/office/queue.html", rows=shown, total=len(rows), status=status,
                           department=department, departments=departments, statuses=QUEUE_STATUSES,
                           overdue=sum(1 for r in rows if r[2] is not None), pending_reports=pending_reports,
                           open_disputes=open_disputes, now=now)


# --- the page of one pact ------------------------------------------------------------------

def _departments():
    return db.session.scalars(select(Department).order_by(Department.name_it)).all()


def _officials(department_ids):
    query = (select(User).join(UserRole).where(UserRole.role == Role.official, User.deleted_at.is_(None))
             .order_by(User.display_name))
    return [u for u in db.session.scalars(query).unique()
            if not department_ids or any(d.id in department_ids for d in u.departments)]


def _houses():
    return db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.name)).all()


def _forms(pact, overrides):
    """Every office form of the page, freshly filled, except the one being re-shown with its errors."""
    user = _actor()
    department_ids = {d.id for d in user.departments}
    default_department = pact.department_id or next(iter(sorted(department_ids)), None)
    latest = pact.current_version
    builders = {
        "integration": lambda: IntegrationForm(prefix="integration", formdata=None),
        "admissible": lambda: AdmissibleForm(prefix="admissible", formdata=None, departments=_departments(),
                                             officials=_officials(department_ids), locale=_locale(),
                                             data={"department_id": default_department}),
        "inadmissible": lambda: InadmissibleForm(prefix="inadmissible", formdata=None),
        "consultation": lambda: ConsultationForm(prefix="consultation", formdata=None, data={
            "starts_on": today(), "days": current_app.config["PACT_CONSULTATION_DAYS"]}),
        "co_design": lambda: ButtonForm(prefix="co_design", formdata=None),
        "meeting": lambda: MeetingForm(prefix="meeting", formdata=None, houses=_houses()),
        "support": lambda: SupportForm(prefix="support", formdata=None, data=SupportForm.initial(pact)),
        "version": lambda: VersionForm(prefix="version", formdata=None,
                                       data={"text": latest.text if latest else ""}),
        "merge": lambda: MergeForm(prefix="merge", formdata=None, competing=mergeable(pact)),
        "approve": lambda: ApproveForm(prefix="approve", formdata=None, versions=pact.versions),
        "signing": lambda: ButtonForm(prefix="signing", formdata=None),
        "sign": lambda: SignForm(prefix="sign", formdata=None),
        "suspend": lambda: SuspendForm(prefix="suspend", formdata=None),
        "resume": lambda: ResumeForm(prefix="resume", formdata=None),
        "revoke": lambda: RevokeForm(prefix="revoke", formdata=None),
        "complete": lambda: CompleteForm(prefix="complete", formdata=None),
        "renew": lambda: ButtonForm(prefix="renew", formdata=None),
    }
    # One form per pending report and open dispute, each with its own prefix (unique field ids).
    for report in pending_reports(pact):
        builders[f"report{report.id}"] = lambda r=report: ReportReviewForm(prefix=f"report{r.id}", formdata=None)
    for dispute in open_disputes(pact):
        builders[f"committee{dispute.id}"] = lambda d=dispute: CommitteeProposalForm(
            prefix=f"committee{d.id}", formdata=None)
        builders[f"close{dispute.id}"] = lambda d=dispute: CloseDisputeForm(prefix=f"close{d.id}", formdata=None)
    forms = {name: build() for name, build in builders.items()}
    forms.update(overrides)
    return forms


def _render(pact, overrides=None, status=200, failed=None):
    """The office page of ``pact``; ``overrides`` re-show a form that failed, with its errors."""
    overrides = overrides or {}
    now = utcnow()
    user = _actor()
    versions = pact.versions
    diff = text.diff_versions(versions[-2], versions[-1]) if len(versions) >= 2 else None
    page = render_template(
        "pacts/office/pact.html", pact=pact, forms=_forms(pact, overrides), actions=available_actions(pact, user, now),
        steps=services.step_durations(pact, now=now), overdue=services.current_overdue(pact, now=now),
        competing=services.competing(pact), reports=pending_reports(pact), disputes=open_disputes(pact),
        city_parties=city_parties_to_sign(pact, user), diff=diff, support_labels=SUPPORT_KIND_LABELS,
        failed=failed, now=now)
    return page, status


@bp.route("/office/pacts/<int:pact_id>")
@roles_required(Role.official)
def office_pact(pact_id):
    """The office's page of one pact: its steps and times, and every action legal now."""
    return _render(_office_pact(pact_id))


def _back(pact_id, anchor=None):
    return redirect(url_for("pacts.office_pact", pact_id=pact_id) + (f"#{anchor}" if anchor else ""))


def _act(pact_id, name, form, action, done, anchor=None):
    """Validate ``form``, run ``action(pact)``, commit once, flash ``done`` and go back to the pact.

    An invalid form is shown again with its errors (400); a service's refusal becomes the form's
    error and a flash, with the refusal's own status (409 for a move the procedure forbids).
    """
    pact = _office_pact(pact_id)
    if not form.validate_on_submit():
        flash(_("Please correct the form below."), "error")
        return _render(pact, {name: form}, 400, failed=name)
    try:
        result = action(pact)
    except NotFound:
        db.session.rollback()
        abort(404)
    except PermissionDenied as exc:
        db.session.rollback()
        abort(403, description=exc.message)
    except DomainError as exc:
        db.session.rollback()
        form.add_domain_error(exc)
        flash(exc.message, "error")
        return _render(_office_pact(pact_id), {name: form}, exc.status, failed=name)
    db.session.commit()
    flash(done() if callable(done) else done, "success")
    if isinstance(result, Pact) and result.id != pact_id:
        return _back(result.id)
    return _back(pact_id, anchor)


def _post(rule, endpoint):
    """Register an office action: POST only, officials only."""
    def decorator(view):
        return bp.route(f"/office/pacts/<int:pact_id>/{rule}", methods=["POST"], endpoint=endpoint)(
            roles_required(Role.official)(view))
    return decorator


@_post("integration", "office_request_integration")
def request_integration(pact_id):
    """Ask the proponents for what is missing (submitted → needs integration)."""
    form = IntegrationForm(prefix="integration")
    return _act(pact_id, "integration", form, lambda p: services.request_integration(p, _actor(), form.reason.data),
                _("The proponents were asked to complete the proposal."))


@_post("admissible", "office_declare_admissible")
def declare_admissible(pact_id):
    """Declare the proposal admissible: ordinary or complex, department and responsible official."""
    user = _actor()
    form = AdmissibleForm(prefix="admissible", departments=_departments(), locale=_locale(),
                          officials=_officials({d.id for d in user.departments}))
    return _act(pact_id, "admissible", form, lambda p: services.declare_admissible(
        p, user, kind=form.kind.data, department_id=form.department_id.data,
        responsible_id=form.responsible_id.data or None),
        _("The proposal is admissible: it is now public. Next, open the public consultation."))


@_post("inadmissible", "office_declare_inadmissible")
def declare_inadmissible(pact_id):
    """Declare the proposal inadmissible, with the motivation."""
    form = InadmissibleForm(prefix="inadmissible")
    return _act(pact_id, "inadmissible", form,
                lambda p: services.declare_inadmissible(p, _actor(), form.reason.data),
                _("The proposal was declared not admissible; the proponents can read the motivation."))


@_post("consultation", "office_open_consultation")
def open_consultation(pact_id):
    """Open the public consultation for a dated window."""
    form = ConsultationForm(prefix="consultation")

    def action(pact):
        starts_at = local_to_utc(datetime.combine(form.starts_on.data, time(0, 0)))
        return services.open_consultation(pact, _actor(), starts_at=starts_at, days=form.days.data)

    return _act(pact_id, "consultation", form, action,
                _("The public consultation is open: anyone may comment, ask to join or propose an alternative."))


@_post("co-design", "office_start_co_design")
def start_co_design(pact_id):
    """Start co-design once the consultation has ended (version 1 from the standard template)."""
    form = ButtonForm(prefix="co_design")
    return _act(pact_id, "co_design", form, lambda p: services.start_co_design(p, _actor()),
                _("Co-design has started: version 1 of the text is ready to be worked on."), "versions")


@_post("meetings", "office_record_meeting")
def record_meeting(pact_id):
    """Record a co-design meeting: when, where, who, and the minutes."""
    form = MeetingForm(prefix="meeting", houses=_houses())
    return _act(pact_id, "meeting", form, lambda p: services.record_meeting(p, _actor(), **form.to_kwargs()),
                _("The meeting is recorded."), "meetings")


@_post("support", "office_set_support")
def set_support(pact_id):
    """Replace the City's support items (never cash; only while the text is open)."""
    form = SupportForm(prefix="support")
    return _act(pact_id, "support", form, lambda p: services.set_support_items(p, _actor(), form.to_items()),
                _("The City's support is saved."), "support")


@_post("versions", "office_add_version")
def add_version(pact_id):
    """Add a version of the pact text (co-design only: after approval the text is frozen)."""
    form = VersionForm(prefix="version")
    return _act(pact_id, "version", form,
                lambda p: services.add_version(p, _actor(), text=form.text.data, note=form.note.data or ""),
                _("New version of the text saved."), "versions")


@_post("merge", "office_merge")
def merge(pact_id):
    """Merge a competing proposal for the same commons into this pact."""
    pact = _office_pact(pact_id)
    form = MergeForm(prefix="merge", competing=mergeable(pact))

    def action(into):
        other = db.session.get(Pact, form.other_id.data)
        if other is None:
            raise NotFound(_("That proposal does not exist."))
        return services.merge_competing(other, into, _actor(), form.reason.data or "")

    return _act(pact_id, "merge", form, action,
                _("The competing proposal was merged: its proponents now take part in this pact."))


@_post("approve", "office_approve")
def approve(pact_id):
    """Approve the pact (complex pacts: with the approval act); the chosen version is frozen."""
    pact = _office_pact(pact_id)
    form = ApproveForm(prefix="approve", versions=pact.versions)
    return _act(pact_id, "approve", form, lambda p: services.approve(p, _actor(), **form.to_kwargs()),
                _("The pact is approved: its text is frozen. Next, open the signing."))


@_post("signing", "office_open_signing")
def open_signing(pact_id):
    """Send the approved text to be signed by every party."""
    form = ButtonForm(prefix="signing")
    return _act(pact_id, "signing", form, lambda p: services.open_signing(p, _actor()),
                _("Signing is open: the parties can now sign the approved text."))


@_post("sign", "office_sign")
def sign(pact_id):
    """Sign the approved text for the City of Turin."""
    form = SignForm(prefix="sign")

    def action(pact):
        try:
            party_id = int(form.party_id.data)
        except (TypeError, ValueError):
            raise DomainError(_("Choose the party you sign for."), field="confirm") from None
        return services.sign(pact, _actor(), party_id)

    return _act(pact_id, "sign", form, action, _("You signed the pact for the City of Turin."), "signatures")


@_post("suspend", "office_suspend")
def suspend(pact_id):
    """Suspend an active pact, with the motivation."""
    form = SuspendForm(prefix="suspend")
    return _act(pact_id, "suspend", form, lambda p: services.suspend(p, _actor(), form.reason.data),
                _("The pact is suspended."))


@_post("resume", "office_resume")
def resume(pact_id):
    """Resume a suspended pact."""
    form = ResumeForm(prefix="resume")
    return _act(pact_id, "resume", form, lambda p: services.resume(p, _actor(), form.reason.data or ""),
                _("The pact is active again."))


@_post("revoke", "office_revoke")
def revoke(pact_id):
    """Revoke the pact, with the motivation."""
    form = RevokeForm(prefix="revoke")
    return _act(pact_id, "revoke", form, lambda p: services.revoke(p, _actor(), form.reason.data),
                _("The pact is revoked."))


@_post("complete", "office_complete")
def complete(pact_id):
    """Close the pact as completed."""
    form = CompleteForm(prefix="complete")
    return _act(pact_id, "complete", form, lambda p: services.complete(p, _actor(), form.reason.data or ""),
                _("The pact is completed. Thank you to everyone who took part!"))


@_post("renew", "office_renew")
def renew(pact_id):
    """Renew the pact: a new pact in co-design, starting from the approved text."""
    form = ButtonForm(prefix="renew")
    return _act(pact_id, "renew", form, lambda p: services.renew(p, _actor()),
                _("The pact is renewed: here is the new pact, in co-design from the approved text."))


def _child(model, pact_id, child_id):
    item = db.session.get(model, child_id)
    if item is None or item.pact_id != pact_id:
        abort(404)
    return item


@_post("reports/<int:report_id>/review", "office_review_report")
def review_report(pact_id, report_id):
    """Accept a report (it becomes public) or ask the proponents for changes."""
    form = ReportReviewForm(prefix=f"report{report_id}")

    def action(pact):
        report = _child(PactReport, pact.id, report_id)
        return services.review_report(report, _actor(), accepted=form.decision.data == "accept",
                                      note=form.note.data or "")

    return _act(pact_id, f"report{report_id}", form, action, lambda: _("The report is accepted and public.")
                if form.decision.data == "accept" else _("The proponents were asked to change the report."),
                "reports")


@_post("disputes/<int:dispute_id>/proposal", "office_committee_proposal")
def committee_proposal(pact_id, dispute_id):
    """Record the conciliation committee's proposal on a dispute."""
    form = CommitteeProposalForm(prefix=f"committee{dispute_id}")
    return _act(pact_id, f"committee{dispute_id}", form, lambda p: services.record_committee_proposal(
        _child(PactDispute, p.id, dispute_id), _actor(), form.proposal.data),
        _("The committee's proposal is recorded."), "disputes")


@_post("disputes/<int:dispute_id>/close", "office_close_dispute")
def close_dispute(pact_id, dispute_id):
    """Close a dispute with its outcome."""
    form = CloseDisputeForm(prefix=f"close{dispute_id}")
    return _act(pact_id, f"close{dispute_id}", form, lambda p: services.close_dispute(
        _child(PactDispute, p.id, dispute_id), _actor(), form.outcome.data),
        _("The dispute is closed."), "disputes")
