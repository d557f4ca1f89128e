"""Deleting a managed account at the person's request, from the session page."""
from flask import abort, flash, redirect, session, url_for
from flask_babel import gettext as _

from app.assisted import bp, services
from app.assisted.context import SESSION_KEY, real_user
from app.auth.access import facilitator_desk
from app.auth.forms import ButtonForm
from app.extensions import db
from app.models.base import DomainError


@bp.route("/assist/session/delete-account", methods=["POST"])
@facilitator_desk
def delete_managed():
    """Erase the managed account helped in the open session (its contributions stay, anonymous)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    facilitator = real_user()
    assisted = services.open_session_of(facilitator)
    if assisted is None or session.get(SESSION_KEY) != assisted.id:
        db.session.commit()
        flash(_("No assisted session is open: nothing was done."), "error")
        return redirect(url_for("assisted.desk"))
    try:
        services.delete_managed_account(assisted, facilitator)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("assisted.current"))
    db.session.commit()
    session.pop(SESSION_KEY, None)
    flash(_("The managed account is deleted. Its public contributions stay, attributed to nobody."), "success")
    return redirect(url_for("assisted.desk"))
