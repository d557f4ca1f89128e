"""Moderation pages for everyone: flagging any content, the statement of reasons and its appeal, the
community rules, and the public transparency report. The moderators' own pages are in queue_routes.
"""
from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import citizen_required, login_required, public
from app.extensions import db
from app.http import safe_next, show_domain_error
from app.models.base import DomainError, NotFound
from app.models.moderation import ModerationDecision
from app.moderation import bp, services
from app.moderation.forms import AppealForm, FlagContentForm
from app.moderation.limits import flag_limits
from app.moderation.registry import kind_for
from app.moderation.rules import RULES


@bp.route("/flags/<target_type>/<int:target_id>", methods=["POST"])
@citizen_required
@flag_limits()
def flag(target_type, target_id):
    """Flag any moderatable item (pact texts and reports, photos, profiles, calls for help...)."""
    kind = kind_for(target_type)
    if kind is None:
        abort(404)
    back = safe_next(request.form.get("next")) or "/"
    form = FlagContentForm(prefix="fl")
    if not form.validate_on_submit():
        flash(_("Choose a reason."), "error")
        return redirect(back)
    try:
        services.flag(current_user, target_type, target_id, form.reason.data, form.text.data)
    except NotFound:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Thank you: the moderators will look at it."), "success")
    return redirect(back)


def _decision_for_viewer(decision_id):
    """The decision, if the viewer is its case's author or a moderator (others get a 404)."""
    decision = db.session.get(ModerationDecision, decision_id)
    if decision is None:
        abort(404)
    if not (services.is_moderator(current_user) or decision.case.author_id == current_user.id):
        abort(404)
    return decision


@bp.route("/moderation/decisions/<int:decision_id>", methods=["GET", "POST"])
@login_required
def statement(decision_id):
    """The statement of reasons: what was decided on the author's content, why, under which rule, how to appeal."""
    decision = _decision_for_viewer(decision_id)
    kind = kind_for(decision.case.target_type)
    item = kind.load(decision.case.target_id) if kind else None
    form = AppealForm()
    can_appeal = services.can_appeal(decision, current_user)
    if request.method == "POST":
        if not can_appeal and services.appeal_of(decision) is None and decision.case.author_id != current_user.id:
            abort(403)
        if form.validate_on_submit():
            try:
                services.appeal(decision, current_user, form.text.data)
            except DomainError as exc:
                show_domain_error(form, exc, default="text")
            else:
                db.session.commit()
                flash(_("Your appeal was sent: a different moderator will decide and you will be told."), "success")
                return redirect(request.path)
    status = 400 if form.errors else 200
    return render_template("moderation/statement.html", decision=decision, case=decision.case, kind=kind,
                           item=item, item_url=kind.url(item) if kind and item is not None else None,
                           form=form, can_appeal=can_appeal, appeal=services.appeal_of(decision),
                           deadline=services.appeal_deadline(decision), rules=RULES), status


@bp.route("/rules")
@public
def rules():
    """The community rules every moderation decision cites."""
    return render_template("moderation/rules.html", rules=RULES,
                           threshold=current_app.config["MODERATION_HIDE_THRESHOLD"],
                           appeal_days=current_app.config["MODERATION_APPEAL_DAYS"])


@bp.route("/transparency")
@public
def transparency():
    """Public monthly counts of flags, decisions and appeals."""
    return render_template("moderation/transparency.html", months=services.transparency(),
                           median_hours=services.median_decision_hours())
