"""Office pages for the feasibility review and the projects; public pages of the processes."""
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_currency, format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.access import public, roles_required
from app.extensions import db
from app.http import page_arg
from app.labels import proposal_status_label
from app.models.base import DomainError, NotFound, utcnow
from app.models.proposal import ProposalStatus as P
from app.models.user import Role
from app.reviews import bp, labels, services
from app.reviews.forms import CompleteForm, DoneForm, MilestoneForm, ReviewForm, UpdateForm

#: The queue's ?status= values: a whole tab, or one status within it.
QUEUE_FILTERS = {"review": "review", "threshold_reached": "review", "under_review": "review",
                 "projects": "projects", "accepted": "projects", "in_execution": "projects"}


@bp.app_template_global()
def proposal_review_panel(proposal):
    """The published review and the project of a proposal, for reviews/_on_proposal.html."""
    return services.public_panel(proposal, current_user)


@bp.app_template_global()
def euro(cents):
    """An amount of euro cents in the reader's locale ("12.500,50 €")."""
    return format_currency(Decimal(cents) / 100, "EUR")


bp.add_app_template_global(labels.feasibility_label, "feasibility_label")
bp.add_app_template_global(labels.outcome_label, "outcome_label")
bp.add_app_template_global(proposal_status_label, "proposal_status_label")


def _actor():
    return current_user._get_current_object()


def _proposal_or_404(proposal_id):
    try:
        return services.office_proposal(proposal_id)
    except NotFound:
        abort(404)


def _reviewer_or_403(proposal):
    if not services.may_review(current_user, proposal):
        abort(403, description=_("Only officials of the responsible department can do this."))


@bp.route("/office/proposals")
@roles_required(Role.official)
def queue():
    """Proposals past their threshold for the official's departments, oldest first; projects in a tab."""
    status = request.args.get("status") if request.args.get("status") in QUEUE_FILTERS else "review"
    tab = QUEUE_FILTERS[status]
    processes = services.processes()
    process = next((p for p in processes if p.slug == request.args.get("process")), None)
    query = services.review_queue(current_user, tab=tab, status=None if status == tab else P(status),
                                  process_id=process.id if process else None)
    pagination = db.paginate(query, page=page_arg(), per_page=50, error_out=False)
    now = utcnow()
    return render_template("reviews/queue.html", pagination=pagination, tab=tab, status=status, process=process,
                           processes=processes, age_days=lambda p: services.age_days(p, now),
                           warn_days=services.AGE_WARN_DAYS, overdue_days=services.AGE_OVERDUE_DAYS)


def _review_form(proposal):
    form = ReviewForm() if request.method == "POST" else ReviewForm(
        data=ReviewForm.initial(proposal.review, proposal))
    choices = [SelectChoice(d.id, d.name(str(get_locale()))) for d in services.departments()]
    if proposal.department_id is None:
        choices.insert(0, SelectChoice(0, _("No department yet")))
    form.department_id.choices = choices
    return form


@bp.route("/office/proposals/<int:proposal_id>/review", methods=["GET", "POST"])
@roles_required(Role.official)
def review(proposal_id):
    """The feasibility review: saved privately as a draft, then published with its outcome."""
    proposal = _proposal_or_404(proposal_id)
    published = proposal.review if proposal.review and proposal.review.published_at else None
    if published is None and proposal.status not in services.QUEUE_TABS["review"]:
        flash(_("This proposal is not waiting for a feasibility review."), "error")
        return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    _reviewer_or_403(proposal)
    if published is not None:
        return render_template("reviews/review.html", proposal=proposal, review=published, form=None)
    form = _review_form(proposal)
    if form.validate_on_submit():
        publishing = form.publish.data
        try:
            action = services.publish_review if publishing else services.save_draft
            action(proposal.id, _actor(), form.to_input())
        except DomainError as exc:
            db.session.rollback()
            form.add_domain_error(exc, "public_answer")
            flash(exc.message, "error")
        else:
            db.session.commit()
            if publishing:
                flash(_("The review is published: the author, the supporters and the followers were told."),
                      "success")
                return redirect(url_for("proposals.detail", proposal_id=proposal.id))
            flash(_("Draft saved. Citizens will see the review only once it is published."), "success")
            if not services.may_review(current_user, proposal):
                flash(_("The proposal now belongs to another department."), "info")
                return redirect(url_for("reviews.queue"))
            return redirect(url_for("reviews.review", proposal_id=proposal.id))
    return render_template("reviews/review.html", proposal=proposal, review=proposal.review, form=form)


def _project_or_redirect(proposal_id):
    """(proposal, None) for a project the official handles, or (None, a redirect)."""
    proposal = _proposal_or_404(proposal_id)
    _reviewer_or_403(proposal)
    if proposal.status not in (P.accepted, P.in_execution, P.completed):
        flash(_("Only accepted proposals become projects."), "error")
        return None, redirect(url_for("proposals.detail", proposal_id=proposal.id))
    return proposal, None


def _render_project(proposal, **forms):
    forms.setdefault("update_form", UpdateForm(prefix="up"))
    forms.setdefault("complete_form", CompleteForm(prefix="co"))
    forms.setdefault("milestone_form", MilestoneForm(prefix="ms"))
    return render_template("reviews/project.html", proposal=proposal, updates=services.updates_of(proposal),
                           today=services.today(), **forms)


@bp.route("/office/proposals/<int:proposal_id>/project")
@roles_required(Role.official)
def project(proposal_id):
    """Execution tracking of an accepted proposal: milestones and public updates."""
    proposal, refusal = _project_or_redirect(proposal_id)
    return refusal or _render_project(proposal)


def _project_action(proposal_id, form, form_name, fallback, action, done_message):
    """Validate ``form``, run ``action()``, commit and go back to the project page (re-render on errors)."""
    proposal, refusal = _project_or_redirect(proposal_id)
    if refusal:
        return refusal
    if form.validate_on_submit():
        try:
            action()
        except DomainError as exc:
            db.session.rollback()
            form.add_domain_error(exc, fallback)
        else:
            db.session.commit()
            flash(done_message, "success")
            return redirect(url_for("reviews.project", proposal_id=proposal_id))
    flash(_("Please correct the form below."), "error")
    return _render_project(proposal, **{form_name: form})


@bp.route("/office/proposals/<int:proposal_id>/project/updates", methods=["POST"])
@roles_required(Role.official)
def add_update(proposal_id):
    """Publish a progress update with photos (the first one starts the execution)."""
    form = UpdateForm(prefix="up")
    return _project_action(proposal_id, form, "update_form", "body", lambda: services.add_update(
        proposal_id, _actor(), form.body.data, form.progress.data, photos=request.files.getlist(form.photos.name)),
        _("Update published: the supporters and followers were told."))


@bp.route("/office/proposals/<int:proposal_id>/project/complete", methods=["POST"])
@roles_required(Role.official)
def complete(proposal_id):
    """Close the project with a last update at 100 %."""
    form = CompleteForm(prefix="co")
    return _project_action(proposal_id, form, "complete_form", "body", lambda: services.complete(
        proposal_id, _actor(), form.body.data, photos=request.files.getlist(form.photos.name)),
        _("The project is completed. Thank you!"))


@bp.route("/office/proposals/<int:proposal_id>/project/milestones", methods=["POST"])
@roles_required(Role.official)
def add_milestone(proposal_id):
    """Plan a step of the project."""
    form = MilestoneForm(prefix="ms")
    return _project_action(proposal_id, form, "milestone_form", "title", lambda: services.add_milestone(
        proposal_id, _actor(), form.title.data, form.due_on.data), _("Milestone added."))


def _milestone_action(proposal_id, action, done_message):
    proposal, refusal = _project_or_redirect(proposal_id)
    if refusal:
        return refusal
    form = DoneForm()
    if not form.validate_on_submit():
        flash(_("Give a valid date."), "error")
    else:
        try:
            action(form)
        except NotFound:
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(done_message, "success")
    return redirect(url_for("reviews.project", proposal_id=proposal.id))


@bp.route("/office/proposals/<int:proposal_id>/project/milestones/<int:milestone_id>/done", methods=["POST"])
@roles_required(Role.official)
def milestone_done(proposal_id, milestone_id):
    """Mark a milestone done on a date (today by default)."""
    return _milestone_action(proposal_id, lambda form: services.mark_milestone_done(
        proposal_id, milestone_id, _actor(), form.done_on.data), _("Milestone marked done."))


@bp.route("/office/proposals/<int:proposal_id>/project/milestones/<int:milestone_id>/remove", methods=["POST"])
@roles_required(Role.official)
def remove_milestone(proposal_id, milestone_id):
    """Remove a milestone that is not done yet."""
    return _milestone_action(proposal_id, lambda form: services.remove_milestone(
        proposal_id, milestone_id, _actor()), _("Milestone removed."))


# --- public pages of the processes ---------------------------------------------------------

@bp.route("/processes")
@public
def processes():
    """Every participatory process with its current phase and dates."""
    now = utcnow()
    return render_template("reviews/processes.html", processes=services.processes(), now=now,
                           phase_label=labels.phase_label)


@bp.route("/processes/<slug>")
@public
def process(slug):
    """A process: description, scope, phases (the current one marked), rules and results."""
    try:
        item = services.process_by_slug(slug)
    except NotFound:
        abort(404)
    now = utcnow()
    return render_template("reviews/process.html", process=item, now=now, current=item.phase_at(now),
                           results=services.process_results(item), phase_label=labels.phase_label,
                           format_number=format_number)
