"""Proposal pages: the public list and page, writing and editing, co-authors, "my proposals", supports.

Only visible proposals are public (never hidden ones); a draft is seen by its author and
co-authors only (404 for anyone else). Only counts of supports are public: a citizen sees their
own supports, nobody sees the supporters. The views parse, call one service and commit once.

The list and the page write when read, for one reason: expiry has no scheduler (see
``queries.expire_on_read``), so the first read after a support window closes records the moves.
"""
import secrets

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.auth.access import citizen_required, public
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import db_id, page_arg, safe_next, show_domain_error
from app.labels import PROPOSAL_STATUS_LABELS, proposal_status_label
from app.media.services import photos_of
from app.models.base import DomainError, utcnow
from app.models.proposal import PhaseKind, Process, ProposalStatus, Support
from app.moderation import holds, placeholders
from app.moderation.limits import content_limits, flag_limits
from app.notifications.services import is_following
from app.proposals import authoring, bp, queries, services
from app.proposals.forms import AddendumForm, AnswerForm, EditForm, InviteForm, ProposalForm, WithdrawForm
from app.reports import services as report_services
from app.reports.forms import FlagForm

PAGE_SIZE = 25
P = ProposalStatus

#: Statuses a visible proposal can have (drafts are never shown), in workflow order.
VISIBLE_STATUSES = [P(value) for value in PROPOSAL_STATUS_LABELS]




def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _expire_on_read():
    """Record what the clock decided (expiries, anonymised supports) before showing anything."""
    if queries.catch_up():
        db.session.commit()


def _filters(processes):
    """Filters from the query string, validated (unknown values are ignored)."""
    args = request.args
    status = args.get("status")
    sort = args.get("sort")
    return {
        "process": {p.slug: p for p in processes}.get(args.get("process") or ""),
        "status": P(status) if status in PROPOSAL_STATUS_LABELS else None,
        "category_id": args.get("category", type=db_id),
        "district_id": args.get("district", type=db_id),
        "close": args.get("close") == "1",
        "sort": sort if sort in queries.SORTS else "newest",
    }


def _random_seed():
    """The visitor's own shuffle: kept in the session so that pages of a random list do not overlap."""
    if "proposal_seed" not in session:
        session["proposal_seed"] = secrets.randbelow(2**62) + 1
    return session["proposal_seed"]


@bp.route("/proposals")
@public
def index():
    """Public list of proposals with filters, sorts (newest, most supported, random) and pagination."""
    _expire_on_read()
    processes = db.session.scalars(select(Process).order_by(Process.created_at.desc(), Process.id.desc())).all()
    filters = _filters(processes)
    seed = _random_seed() if filters["sort"] == "random" else 1
    pagination = db.paginate(queries.public_list(**filters, seed=seed), page=page_arg(),
                             per_page=PAGE_SIZE, error_out=False)
    return render_template("proposals/index.html", pagination=pagination, filters=filters, processes=processes,
                           statuses=VISIBLE_STATUSES, status_label=proposal_status_label,
                           categories=report_services.category_choices(),
                           districts=report_services.district_choices())


@bp.route("/proposals/similar")
@public
def similar():
    """Visible proposals with titles like ``q`` (JSON), offered while a title is typed.

    ``process`` (a slug) keeps to one process; ``exclude`` leaves out the proposal being edited.
    """
    query = (request.args.get("q") or "")[:200]
    process = db.session.scalar(select(Process).where(Process.slug == request.args.get("process", "")))
    items = [{"id": p.id, "title": p.title, "status": p.status.value, "status_label": proposal_status_label(p.status),
              "process": p.process.title, "url": url_for("proposals.detail", proposal_id=p.id)}
             for p in queries.similar(query, process, exclude=request.args.get("exclude", type=db_id))]
    return jsonify({"proposals": items})


def _collecting(proposal, now):
    """Whether the proposal takes new supports now (the service has the final word)."""
    process = proposal.process
    if process.phase_at(now) != PhaseKind.support:
        return False
    if proposal.status == P.threshold_reached:
        return process.supports_past_threshold
    return proposal.status == P.published


def _viewable(proposal_id):
    """The proposal the current user may see (404 otherwise, drafts included)."""
    return authoring.get_viewable(proposal_id, _user())


@bp.route("/proposals/<int:proposal_id>")
@public
def detail(proposal_id):
    """A proposal's page: text, photos, place, timeline, supports, co-authors and the viewer's actions."""
    _expire_on_read()
    hidden = placeholders.hidden_page("proposal", proposal_id, url_for("proposals.index"), _("All proposals"))
    if hidden is not None:
        return hidden
    proposal = _viewable(proposal_id)
    if holds.is_held("proposal", proposal):
        holds.tell_author("proposal")  # only its authors get this far (see authoring.can_view)
    now, user = utcnow(), _user()
    own_support = None
    if user is not None:
        own_support = db.session.scalar(select(Support.id).where(Support.proposal_id == proposal.id,
                                                                 Support.user_id == user.id))
    editor = services.is_editor(proposal, user)
    return render_template(
        "proposals/detail.html", proposal=proposal, process=proposal.process, status_label=proposal_status_label,
        photos=photos_of("proposal", proposal.id), coauthors=[c for c in authoring.accepted_coauthors(proposal) if c.user.deleted_at is None],
        timeline=queries.timeline(proposal), withdrawal_reason=queries.withdrawal_reason(proposal),
        supports=own_support is not None, collecting=_collecting(proposal, now),
        support_phase_open=proposal.process.phase_at(now) == PhaseKind.support,
        support_window=proposal.process.window(PhaseKind.support), now=now,
        collection_open=proposal.process.phase_at(now) == PhaseKind.collection,
        needs_verification=(user is not None and proposal.process.verified_only and not user.is_verified),
        is_author=user is not None and proposal.author_id == user.id, editor=editor,
        invited=user is not None and not editor and any(c.user_id == user.id for c in proposal.coauthors),
        following=is_following(current_user, "proposal", proposal.id),
        addendum_form=AddendumForm(prefix="ad"), withdraw_form=WithdrawForm(prefix="wd"),
        invite_form=InviteForm(prefix="in"), flag_form=FlagForm(prefix="fl"),
        share_url=url_for("proposals.detail", proposal_id=proposal.id, _external=True))


# --- writing --------------------------------------------------------------------------------

def _collecting_processes(now):
    processes = db.session.scalars(select(Process).order_by(Process.created_at.desc(), Process.id.desc())).all()
    return [p for p in processes if p.phase_at(now) == PhaseKind.collection]


def _choices(form, processes):
    """Categories limited to those the processes accept; districts to the scoped ones if all are scoped."""
    locale = str(get_locale())
    allowed = set()
    for process in processes:
        if not process.categories:
            allowed = None
            break
        allowed |= {c.id for c in process.categories}
    form.category_id.choices = [SelectChoice(0, _("Choose…"))] + [
        SelectChoice(c.id, c.name(locale)) for c in report_services.category_choices()
        if allowed is None or c.id in allowed]
    districts = report_services.district_choices()
    scoped = {p.district_id for p in processes}
    if None not in scoped:
        districts = [d for d in districts if d.id in scoped]
    whole_city = [SelectChoice(0, _("Whole city"))] if None in scoped else []
    form.district_id.choices = whole_city + [SelectChoice(d.id, f"{d.number} – {d.name}") for d in districts]


def _form_error(form, exc):
    """Show a service's refusal next to the field it is about (the photos field by default)."""
    show_domain_error(form, exc, default="photos", aliases={"location": "district_id"})


def _picker_data(processes):
    """What proposal-form.js needs to narrow the lists to the chosen process."""
    return {str(p.id): {"categories": [c.id for c in p.categories], "district": p.district_id}
            for p in processes}


@bp.route("/proposals/new", methods=["GET", "POST"])
@citizen_required
@content_limits()
def new():
    """Write a proposal: it is saved as a draft that only the author and co-authors see."""
    processes = _collecting_processes(utcnow())
    form = ProposalForm()
    form.process_id.choices = [SelectChoice(p.id, p.title) for p in processes]
    if request.method == "GET" and request.args.get("process"):
        form.process_id.data = next((p.id for p in processes if p.slug == request.args["process"]), None)
    _choices(form, processes)
    if processes and form.validate_on_submit():
        try:
            proposal = authoring.draft(
                _user(), next((p for p in processes if p.id == form.process_id.data), None),
                title=form.title.data, body=form.body.data, category_id=form.category_id.data,
                district_id=form.district_id.data or None, lat=form.lat.data or None, lon=form.lon.data or None,
                photos=request.files.getlist(form.photos.name), coauthor_emails=form.coauthors.data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your draft is saved. Only you and your co-authors can see it until you publish it."),
                  "success")
            return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    return render_template("proposals/new.html", form=form, processes=processes,
                           picker=_picker_data(processes))


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@citizen_required
@content_limits()
def edit(proposal_id):
    """Edit the text until the first support; afterwards the page offers an addendum instead."""
    proposal = _viewable(proposal_id)
    services.require_editor(proposal, _user())
    form = EditForm(obj=proposal if request.method == "GET" else None)
    _choices(form, [proposal.process])
    if not proposal.is_frozen and form.validate_on_submit():
        try:
            authoring.update(proposal, _user(), title=form.title.data, body=form.body.data,
                             category_id=form.category_id.data, district_id=form.district_id.data or None,
                             lat=form.lat.data or None, lon=form.lon.data or None,
                             photos=request.files.getlist(form.photos.name),
                             remove_photo_ids=request.form.getlist("remove_photo", type=int))
        except DomainError as exc:
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    return render_template("proposals/edit.html", form=form, proposal=proposal, process=proposal.process,
                           picker=_picker_data([proposal.process]), photos=photos_of("proposal", proposal.id),
                           addendum_form=AddendumForm(prefix="ad"))


def _back(proposal_id, message, category="success"):
    """Flash and go back where the form asked (a local path), else to the proposal's page."""
    flash(message, category)
    return redirect(safe_next(request.form.get("next")) or url_for("proposals.detail", proposal_id=proposal_id))


def _act(proposal_id, action, done, *, form=None):
    """Run one action on a proposal: validate the form, call the service, commit, flash.

    ``done`` is the message, or a function of the action's result giving (message, category).
    """
    proposal = _viewable(proposal_id)
    if form is not None and not form.validate_on_submit():
        errors = [e for errors in form.errors.values() for e in errors]
        return _back(proposal_id, " ".join(errors) or _("Please check the form."), "error")
    try:
        result = action(proposal)
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        db.session.rollback()
        return _back(proposal_id, exc.message, "error")
    db.session.commit()
    return _back(proposal_id, *done(result)) if callable(done) else _back(proposal_id, done)


@bp.route("/proposals/<int:proposal_id>/publish", methods=["POST"])
@citizen_required
@content_limits()
def publish(proposal_id):
    """Publish a draft while the process collects proposals (pre-moderation may hold it first)."""
    def done(proposal):
        if holds.is_held("proposal", proposal):
            return str(holds.MESSAGES["proposal"]), "info"
        return _("Your proposal is published: now share it to collect supports."), "success"

    return _act(proposal_id, lambda p: services.publish(p, _user()), done, form=ButtonForm())


@bp.route("/proposals/<int:proposal_id>/delete", methods=["POST"])
@citizen_required
def delete(proposal_id):
    """Delete a draft for good."""
    proposal = _viewable(proposal_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        authoring.delete_draft(proposal, _user())
    except DomainError as exc:
        db.session.rollback()
        return _back(proposal_id, exc.message, "error")
    db.session.commit()
    flash(_("The draft was deleted."), "success")
    return redirect(url_for("proposals.mine"))


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["POST"])
@citizen_required
def withdraw(proposal_id):
    """The author withdraws a published proposal, with an optional public reason."""
    form = WithdrawForm(prefix="wd")
    return _act(proposal_id, lambda p: services.withdraw(p, _user(), reason=form.reason.data),
                _("Your proposal was withdrawn."), form=form)


@bp.route("/proposals/<int:proposal_id>/addenda", methods=["POST"])
@citizen_required
@content_limits()
def add_addendum(proposal_id):
    """Add a dated note to a frozen text (author or co-author)."""
    form = AddendumForm(prefix="ad")
    return _act(proposal_id, lambda p: services.add_addendum(p, _user(), form.body.data),
                _("Your addendum is published."), form=form)


@bp.route("/proposals/<int:proposal_id>/coauthors", methods=["POST"])
@citizen_required
@content_limits()
def invite(proposal_id):
    """Invite a co-author by email; the answer is the same whether or not the address has an account."""
    form = InviteForm(prefix="in")
    return _act(proposal_id, lambda p: authoring.invite(p, _user(), form.email.data),
                _("If this address belongs to a citizen registered on Piazza, they will be invited. They will "
                  "appear here once they accept."), form=form)


@bp.route("/proposals/<int:proposal_id>/coauthors/<int:user_id>/remove", methods=["POST"])
@citizen_required
def remove_coauthor(proposal_id, user_id):
    """The author removes a co-author, or a co-author steps down."""
    return _act(proposal_id, lambda p: authoring.remove_coauthor(p, _user(), user_id),
                _("The list of co-authors was updated."), form=ButtonForm())


@bp.route("/proposals/<int:proposal_id>/invitation", methods=["POST"])
@citizen_required
def answer_invitation(proposal_id):
    """Accept or decline an invitation to co-author a proposal."""
    form = AnswerForm()
    if not form.validate_on_submit() or form.answer.data not in ("accept", "decline"):
        abort(400)
    accept = form.answer.data == "accept"
    done = _("You are now a co-author of this proposal.") if accept else _("You declined the invitation.")
    return _act(proposal_id, lambda p: authoring.answer_invitation(p, _user(), accept), done)


@bp.route("/proposals/<int:proposal_id>/flag", methods=["POST"])
@citizen_required
@flag_limits()
def flag(proposal_id):
    """Tell the moderators something is wrong with this proposal."""
    form = FlagForm(prefix="fl")

    def send(proposal):
        if proposal.status == P.draft:
            abort(404)
        report_services.flag(_user(), "proposal", proposal.id, form.reason.data, form.text.data)

    return _act(proposal_id, send, _("Thank you: the moderators will look at it."), form=form)


@bp.route("/proposals/mine")
@citizen_required
def mine():
    """My drafts, my proposals, invitations to co-author and the proposals I support (only I see these)."""
    return render_template("proposals/mine.html", status_label=proposal_status_label, **queries.mine(_user()))


# --- supports -------------------------------------------------------------------------------

@bp.route("/proposals/<int:proposal_id>/support", methods=["POST"])
@citizen_required
def support(proposal_id):
    """Support a proposal (idempotent); refusals come back as a flash on the proposal's page."""
    if _viewable(proposal_id).status == P.draft:
        abort(404)
    try:
        services.support(_user(), proposal_id)
    except DomainError as exc:
        db.session.rollback()
        return _back(proposal_id, exc.message, "error")
    db.session.commit()
    return _back(proposal_id, _("Thank you for your support."))


@bp.route("/proposals/<int:proposal_id>/withdraw-support", methods=["POST"])
@citizen_required
def withdraw_support(proposal_id):
    """Withdraw one's own support while the support phase is open (idempotent)."""
    if _viewable(proposal_id).status == P.draft:
        abort(404)
    try:
        services.withdraw_support(_user(), proposal_id)
    except DomainError as exc:
        db.session.rollback()
        return _back(proposal_id, exc.message, "error")
    db.session.commit()
    return _back(proposal_id, _("Your support was withdrawn."))
