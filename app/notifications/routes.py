"""Notification centre and follow/unfollow buttons."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.auth.access import citizen_required, login_required
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import page_arg, safe_next
from app.models.base import NotFound
from app.models.messaging import Notification
from app.notifications import bp, services

PAGE_SIZE = 30


@bp.route("/notifications")
@login_required
def index():
    """The user's notifications, newest first."""
    page = page_arg()
    query = select(Notification).where(Notification.user_id == current_user.id).order_by(
        Notification.created_at.desc(), Notification.id.desc())
    pagination = db.paginate(query, page=max(page, 1), per_page=PAGE_SIZE, error_out=False)
    return render_template("notifications/index.html", pagination=pagination, button=ButtonForm(),
                           message_for=services.message_for)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id):
    """Mark one notification read and go to what it is about."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        note = services.mark_read(current_user, notification_id)
    except NotFound:
        abort(404)
    db.session.commit()
    return redirect(safe_next(note.url) or url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    """Mark every notification read."""
    if ButtonForm().validate_on_submit():
        services.mark_all_read(current_user)
        db.session.commit()
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/follow/<target_type>/<int:target_id>", methods=["POST"])
@citizen_required
def follow(target_type, target_id):
    """Follow an item to be told when it changes."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.follow(current_user, target_type, target_id)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("You are following this. We will tell you when it changes."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("account.profile"))


@bp.route("/unfollow/<target_type>/<int:target_id>", methods=["POST"])
@citizen_required
def unfollow(target_type, target_id):
    """Stop following an item."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.unfollow(current_user, target_type, target_id)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("You no longer follow this."), "info")
    return redirect(safe_next(request.form.get("next")) or url_for("account.profile"))
