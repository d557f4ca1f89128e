"""Comment actions (post, reply, edit, delete, flag) and the ``comment_thread`` template global.

Every action answers with a redirect to the item's page at the comment (#comment-<id>). A form that
fails validation is shown again on a small page of its own, with the text kept, because the thread
lives inside another blueprint's page.
"""
from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.auth.access import citizen_required
from app.auth.forms import ButtonForm
from app.comments import bp, services
from app.comments.forms import CommentForm, EditCommentForm
from app.extensions import db, limiter
from app.http import per_account
from app.labels import FLAG_REASON_LABELS
from app.markdown import render as render_markdown
from app.models.base import DomainError, NotFound, utcnow
from app.moderation import holds
from app.moderation.limits import content_limits, flag_limits
from app.reports.forms import FlagForm



def _comment_or_404(comment_id):
    try:
        return services.get_comment(comment_id)
    except NotFound:
        abort(404)


def _item_or_404(target_type, target_id):
    try:
        return services.get_item(target_type, target_id)
    except NotFound:
        abort(404)


def _form_page(form, spec, item, mode, comment=None):
    """The form again, on its own page, with its errors and the text typed."""
    return render_template("comments/form.html", form=form, mode=mode, comment=comment, item_url=spec.url(item),
                           item_title=spec.title(item))


@bp.route("/comments/<target_type>/<int:target_id>", methods=["POST"])
@citizen_required
# COMMENT_LIMIT keeps the pace of a conversation; content_limits() the volume per account and address.
@limiter.limit(lambda: current_app.config.get("COMMENT_LIMIT", "10 per minute;200 per day"),
               key_func=per_account, deduct_when=lambda response: response.status_code == 302)
@content_limits()
def post(target_type, target_id):
    """Post a comment on an item, or a reply to a comment (``parent_id``)."""
    spec, item = _item_or_404(target_type, target_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comment = services.post_comment(current_user, target_type, target_id, form.body.data,
                                            parent_id=form.parent_id.data)
        except DomainError as exc:
            db.session.rollback()
            form.body.errors.append(exc.message)
        else:
            held = holds.is_held("comment", comment)
            db.session.commit()
            if held:
                holds.tell_author("comment")
            else:
                flash(_("Your comment is online."), "success")
            return redirect(f"{spec.url(item)}#comment-{comment.id}")
    return _form_page(form, spec, item, "reply" if form.parent_id.data else "new")


@bp.route("/comments/<int:comment_id>/edit", methods=["POST"])
@citizen_required
# Edits notify newly mentioned people: the same pace as posting keeps that from becoming a megaphone.
@limiter.limit(lambda: current_app.config.get("COMMENT_LIMIT", "10 per minute;200 per day"),
               key_func=per_account, deduct_when=lambda response: response.status_code == 302)
def edit(comment_id):
    """Change one's own comment within the edit window."""
    comment = _comment_or_404(comment_id)
    spec, item = services.get_item(comment.target_type, comment.target_id)
    form = EditCommentForm()
    if form.validate_on_submit():
        try:
            services.edit_comment(comment, current_user, form.body.data)
        except DomainError as exc:
            db.session.rollback()
            if exc.status == 403:
                abort(403, description=exc.message)
            form.body.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your comment was updated."), "success")
            return redirect(f"{spec.url(item)}#comment-{comment.id}")
    return _form_page(form, spec, item, "edit", comment)


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@citizen_required
def delete(comment_id):
    """Delete one's own comment (its place in the thread stays)."""
    comment = _comment_or_404(comment_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.delete_comment(comment, current_user)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403, description=exc.message)
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Your comment was deleted."), "success")
    return redirect(services.comment_url(comment))


@bp.route("/comments/<int:comment_id>/flag", methods=["POST"])
@citizen_required
@flag_limits()
def flag(comment_id):
    """Tell the moderators something is wrong with a comment."""
    comment = _comment_or_404(comment_id)
    form = FlagForm()
    if not form.validate_on_submit():
        flash(_("Choose a reason."), "error")
    else:
        try:
            services.flag_comment(comment, current_user, form.reason.data, form.text.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Thank you: the moderators will look at it."), "success")
    return redirect(services.comment_url(comment))


@bp.app_template_global()
def comment_thread(target_type, target_id):
    """The rendered comment thread of an item (count, comments and replies, forms for who may use them)."""
    try:
        spec, item = services.get_item(target_type, target_id)
    except NotFound:
        return Markup("")  # drafts and hidden items have no conversation
    top, replies = services.thread(target_type, target_id)
    user = current_user if current_user.is_authenticated else None
    top, replies, own_held = _without_others_held(top, replies, user)
    names = [u.display_name for u in services.participants(target_type, target_id, item)]
    now = utcnow()

    def body_html(comment):
        return services.highlight_mentions(render_markdown(comment.body), names)

    from app.assisted.provenance import provenance_of

    helped = provenance_of("comments", [c.id for c in top] + [r.id for rs in replies.values() for r in rs])

    return Markup(render_template(
        "comments/_thread.html", target_type=target_type, target_id=target_id, top=top, replies=replies,
        count=services.visible_count(target_type, target_id), body_html=body_html,
        can_edit=lambda c: services.can_edit(c, user, now), may_comment=bool(user and user.is_citizen),
        minutes=int(services.edit_window().total_seconds() // 60), flag_reasons=FLAG_REASON_LABELS,
        back=request.path, own_held=own_held, helped=helped))


def _without_others_held(top, replies, user):
    """Leave out comments held for approval, except the viewer's own: (top, replies, ids of the viewer's held).

    A held comment was never published: others see no trace of it (not even the placeholder of a
    hidden comment); its author sees it, marked as waiting for a moderator.
    """
    everything = top + [r for rs in replies.values() for r in rs]
    held = holds.held_ids("comment", [c.id for c in everything if c.hidden_at is not None])
    if not held:
        return top, replies, set()
    mine = {c.id for c in everything if c.id in held and user is not None and c.author_id == user.id}

    def shown(comment):
        return comment.id not in held or comment.id in mine

    return ([c for c in top if shown(c)], {parent: [r for r in rs if shown(r)] for parent, rs in replies.items()},
            mine)
