"""Debate pages: the public list and page, opening and editing one, flags, the turn into a proposal."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from app.auth.access import citizen_required, public
from app.debates import bp, services
from app.debates.forms import ConvertForm, DebateForm
from app.extensions import db
from app.http import db_id, page_arg, show_domain_error
from app.models.base import DomainError, NotFound
from app.moderation import holds, placeholders
from app.moderation.limits import content_limits, flag_limits
from app.notifications.services import is_following
from app.reports import services as report_services
from app.reports.forms import FlagForm

PAGE_SIZE = 20




def _debate_or_404(debate_id):
    try:
        return services.get_public(debate_id)
    except NotFound:
        abort(404)


def _debate_or_own_held(debate_id):
    """A public debate, or the viewer's own debate while pre-moderation holds it (with a notice)."""
    try:
        return services.get_public(debate_id)
    except NotFound:
        debate = holds.own_held("debate", debate_id, current_user)
        if debate is None:
            abort(404)
        holds.tell_author("debate")
        return debate


def _own_debate_or_404(debate_id):
    """The debate, if the signed-in user wrote it (others get a 403; a held one is still its author's)."""
    debate = _debate_or_own_held(debate_id)
    if not services.is_author(debate, current_user):
        abort(403, description=_("Only the author can do this."))
    return debate


def _debate_form(**kwargs):
    form = DebateForm(**kwargs)
    locale = str(get_locale())
    form.category_id.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(c.id, c.name(locale)) for c in report_services.category_choices()]
    form.district_id.choices = [SelectChoice(0, _("The whole city"))] + [
        SelectChoice(d.id, f"{d.number} – {d.name}") for d in report_services.district_choices()]
    return form


def _field_error(form, exc):
    show_domain_error(form, exc)


@bp.route("/debates")
@public
def index():
    """Public list of debates, newest or most commented first, by category and district."""
    sort = request.args.get("sort") if request.args.get("sort") in services.SORTS else "newest"
    filters = {"category_id": request.args.get("category", type=db_id),
               "district_id": request.args.get("district", type=db_id)}
    pagination = db.paginate(services.public_debates(sort, **filters), page=page_arg(),
                             per_page=PAGE_SIZE, error_out=False)
    return render_template("debates/index.html", pagination=pagination, sort=sort, filters=filters,
                           categories=report_services.category_choices(),
                           districts=report_services.district_choices())


@bp.route("/debates/new", methods=["GET", "POST"])
@citizen_required
@content_limits()
def new():
    """Open a debate on a topic of public interest."""
    form = _debate_form()
    if form.validate_on_submit():
        try:
            debate = services.create_debate(current_user, title=form.title.data, body=form.body.data,
                                            category_id=form.category_id.data, district_id=form.district_id.data)
        except DomainError as exc:
            _field_error(form, exc)
        else:
            held = holds.is_held("debate", debate)
            db.session.commit()
            if held:
                holds.tell_author("debate")
            else:
                flash(_("Your debate is open. Everyone can now read it and answer."), "success")
            return redirect(url_for("debates.detail", debate_id=debate.id))
    return render_template("debates/form.html", form=form, debate=None)


@bp.route("/debates/<int:debate_id>")
@public
def detail(debate_id):
    """A debate's public page: its text, the conversation, follow, flag and the author's actions."""
    hidden = placeholders.hidden_page("debate", debate_id, url_for("debates.index"), _("All debates"))
    if hidden is not None:
        return hidden
    debate = _debate_or_own_held(debate_id)
    proposal = debate.proposal if debate.proposal is not None and debate.proposal.is_public else None
    author = services.is_author(debate, current_user)
    return render_template("debates/detail.html", debate=debate, proposal=proposal, is_author=author,
                           can_edit=author and services.can_edit(debate, current_user),
                           following=is_following(current_user, "debate", debate.id), flag_form=FlagForm(prefix="fl"))


@bp.route("/debates/<int:debate_id>/edit", methods=["GET", "POST"])
@citizen_required
def edit(debate_id):
    """The author changes the debate until someone else answers."""
    debate = _own_debate_or_404(debate_id)
    if not services.can_edit(debate, current_user):
        flash(_("Others have already answered: the debate can no longer be edited."), "error")
        return redirect(url_for("debates.detail", debate_id=debate.id))
    form = _debate_form(obj=debate)
    if request.method == "GET":
        form.category_id.data, form.district_id.data = debate.category_id or 0, debate.district_id or 0
    if form.validate_on_submit():
        try:
            services.edit_debate(debate, current_user, title=form.title.data, body=form.body.data,
                                 category_id=form.category_id.data, district_id=form.district_id.data)
        except DomainError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your debate was updated."), "success")
            return redirect(url_for("debates.detail", debate_id=debate.id))
    return render_template("debates/form.html", form=form, debate=debate)


@bp.route("/debates/<int:debate_id>/flag", methods=["POST"])
@citizen_required
@flag_limits()
def flag(debate_id):
    """Tell the moderators something is wrong with this debate."""
    debate = _debate_or_404(debate_id)
    form = FlagForm(prefix="fl")
    if not form.validate_on_submit():
        flash(_("Choose a reason."), "error")
    else:
        try:
            services.flag_debate(debate, current_user, form.reason.data, form.text.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Thank you: the moderators will look at it."), "success")
    return redirect(url_for("debates.detail", debate_id=debate.id))


def _proposal_edit_path(proposal_id):
    try:
        return url_for("proposals.edit", proposal_id=proposal_id)
    except BuildError:  # the proposal authoring pages are registered by their own module
        return f"/proposals/{proposal_id}/edit"


@bp.route("/debates/<int:debate_id>/proposal", methods=["GET", "POST"])
@citizen_required
def convert(debate_id):
    """The author turns the debate into a draft proposal of a process collecting proposals."""
    debate = _own_debate_or_404(debate_id)
    if debate.proposal_id is not None:
        flash(_("This debate has already become a proposal."), "error")
        return redirect(url_for("debates.detail", debate_id=debate.id))
    processes = services.open_processes()
    form = ConvertForm()
    form.process_id.choices = [SelectChoice(p.id, p.title) for p in processes]
    if processes and form.validate_on_submit():
        try:
            proposal = services.convert_to_proposal(debate, current_user, form.process_id.data)
        except DomainError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your draft proposal is ready: complete it and publish it to collect supports."), "success")
            return redirect(_proposal_edit_path(proposal.id))
    return render_template("debates/convert.html", debate=debate, form=form, processes=processes)


@bp.app_template_global()
def debate_origin(proposal_id):
    """A line linking a proposal to the debate it came from (empty if none)."""
    debate = services.origin_of(proposal_id)
    if debate is None:
        return Markup("")
    return Markup(render_template("debates/_origin.html", debate=debate))
