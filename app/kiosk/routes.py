"""/kiosk: a facilitator turns this browser into a kiosk of their Casa del Quartiere, or back."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.access import roles_required
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import show_domain_error
from app.kiosk import bp, context, services
from app.kiosk.forms import StartKioskForm
from app.models.base import DomainError


def _start_form(formdata=None):
    form = StartKioskForm(formdata=formdata, prefix="k")
    houses = services.kiosk_houses(current_user)
    form.house.choices = [SelectChoice(0, "—")] + [SelectChoice(h.id, h.name) for h in houses]
    if formdata is None:
        current = g.get("kiosk_house")
        form.house.data = current.id if current is not None else (houses[0].id if len(houses) == 1 else 0)
    return form


def _page(form, status=200):
    return render_template("kiosk/settings.html", form=form, stop_form=ButtonForm(prefix="s"),
                           houses=services.kiosk_houses(current_user), kiosk=g.get("kiosk_house")), status


@bp.route("/kiosk")
@roles_required("facilitator", "admin")
def settings():
    """Whether this browser is a kiosk, and the buttons to turn it on (for one of my houses) or off."""
    return _page(_start_form())


@bp.route("/kiosk/start", methods=["POST"])
@roles_required("facilitator", "admin")
def start():
    """Make this browser a kiosk of one of my houses (a long-lived cookie; audited)."""
    form = _start_form(formdata=request.form)
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        house = services.start(current_user, form.house.data, previous=g.get("kiosk_house"))
    except DomainError as exc:
        show_domain_error(form, exc, default="house")
        return _page(form, exc.status)
    db.session.commit()
    flash(_("This computer is now a kiosk of %(house)s: large text, a short menu, and whoever signs in "
            "is signed out after a few minutes without activity.", house=house.name), "success")
    response = redirect(url_for("main.index"))
    context.set_cookie(response, house.id)
    return response


@bp.route("/kiosk/stop", methods=["POST"])
@roles_required("facilitator", "admin")
def stop():
    """Make this browser an ordinary one again (audited)."""
    house = g.get("kiosk_house")
    if not ButtonForm(prefix="s").validate_on_submit() or house is None:
        return redirect(url_for("kiosk.settings"))
    services.stop(current_user, house)
    db.session.commit()
    flash(_("Kiosk mode is off on this computer."), "success")
    response = redirect(url_for("kiosk.settings"))
    context.delete_cookie(response)
    return response

