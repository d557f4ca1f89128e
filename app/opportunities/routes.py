"""Pages of the collaboration opportunities: the open calls, a call's page, posting and closing a call,
answering ("I'll come"), and a citizen's own offers with the calls that match them.

Offers are private: only their citizen sees them. A call's poster sees the names of those who
answered and how many offers match; everyone else sees counts only.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.access import citizen_required, public
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import db_id, page_arg, show_domain_error
from app.models.base import DomainError, utcnow
from app.moderation import holds, placeholders
from app.moderation.forms import FlagContentForm
from app.moderation.limits import content_limits
from app.opportunities import bp, services
from app.opportunities.forms import AnswerForm, CallForm, OfferEditForm, OfferForm
from app.reports import services as report_services

PAGE_SIZE = 20


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _call_or_404(call_id):
    try:
        return services.get_public_call(call_id)
    except DomainError:
        abort(404)


def _call_or_own_held(call_id):
    """A public call, or the viewer's own call while pre-moderation holds it (with a notice)."""
    try:
        return services.get_public_call(call_id)
    except DomainError:
        call = holds.own_held("help_call", call_id, current_user)
        if call is None:
            abort(404)
        holds.tell_author("help_call")
        return call


def _field_error(form, exc, default):
    """Show a service's refusal next to its field (``default`` when it names none)."""
    show_domain_error(form, exc, default=default, aliases={"location": "lat"})
    return exc.message if (exc.details.get("field") or default) == "location" else None


def _back(call_id, message, category="success"):
    flash(message, category)
    return redirect(url_for("opportunities.detail", call_id=call_id))


@bp.route("/opportunities")
@public
def index():
    """The open calls for help, the soonest first, by district and skill."""
    district_id = request.args.get("district", type=db_id)
    skill = " ".join((request.args.get("skill") or "").split()).lower()[:services.SKILL_MAX]
    try:
        stmt = services.open_calls(district_id=district_id, skill=skill)
    except DomainError:
        stmt, skill = services.open_calls(district_id=district_id), ""
    pagination = db.paginate(stmt, page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    return render_template("opportunities/index.html", pagination=pagination,
                           filters={"district_id": district_id, "skill": skill},
                           counts=services.answer_counts(pagination.items), skills_of=services.skills_of,
                           districts=report_services.district_choices(), skills=services.skill_choices())


@bp.route("/opportunities/<int:call_id>")
@public
def detail(call_id):
    """A call's page: what, where (a small map), when, skills, answers of people needed, its pact or organisation."""
    hidden = placeholders.hidden_page("help_call", call_id, url_for("opportunities.index"), _("All calls for help"))
    if hidden is not None:
        return hidden
    call = _call_or_own_held(call_id)
    user = _user()
    manager = services.may_manage(call, user)
    count = services.answer_count(call)
    return render_template(
        "opportunities/detail.html", call=call, count=count, skills=services.skills_of(call),
        open=services.is_open(call), full=count >= call.people_needed, over=call.ends_at <= utcnow(), own_answer=services.own_answer(call, user),
        manager=manager, answers=services.answerers(call, user) if manager else (),
        matching=services.matching_offer_count(call) if manager else None, form=AnswerForm(),
        flag_form=FlagContentForm(prefix="fl"))


def _targets(form, user):
    pacts, organisations = services.posting_targets(user)
    form.target.choices = (
        [SelectChoice("", _("Choose…"))]
        + [SelectChoice(f"pact-{p.id}", _("Pact: %(title)s", title=p.title)) for p in pacts]
        + [SelectChoice(f"organisation-{o.id}", o.name) for o in organisations])
    return pacts, organisations


def _parse_target(value):
    """("pact", id) | ("organisation", id) | (None, None) from the form's value."""
    kind, _sep, ident = (value or "").partition("-")
    if kind in ("pact", "organisation") and ident.isdigit() and 0 < int(ident) < 2**31:
        return kind, int(ident)
    return None, None


@bp.route("/opportunities/new", methods=["GET", "POST"])
@citizen_required
@content_limits()
def new():
    """Post a call for help for an active pact or an organisation one represents."""
    user = _user()
    form = CallForm()
    pacts, organisations = _targets(form, user)
    if request.method == "GET" and request.args.get("for"):
        form.target.data = request.args["for"]
    location_error = None
    if (pacts or organisations) and form.validate_on_submit():
        kind, ident = _parse_target(form.target.data)
        try:
            call = services.create_call(
                user, pact_id=ident if kind == "pact" else None,
                organisation_id=ident if kind == "organisation" else None,
                title=form.title.data, description=form.description.data, lat=form.lat.data or None,
                lon=form.lon.data or None, starts_at=form.starts_at.data, ends_at=form.ends_at.data,
                skills=form.skills.data, people_needed=form.people_needed.data)
        except DomainError as exc:
            if exc.status == 403:
                abort(403, description=exc.message)
            location_error = _field_error(form, exc, "target")
        else:
            held = holds.is_held("help_call", call)
            db.session.commit()
            if held:
                holds.tell_author("help_call")
            else:
                flash(_("Your call for help is published."), "success")
            return redirect(url_for("opportunities.detail", call_id=call.id))
    elif request.method == "POST" and not form.lat.data:
        location_error = _("Place the point on the map.")
    return render_template("opportunities/new.html", form=form, can_post=bool(pacts or organisations),
                           location_error=location_error)


@bp.route("/opportunities/<int:call_id>/close", methods=["POST"])
@citizen_required
def close(call_id):
    """The poster closes the call: no more answers, off the list and the map."""
    call = _call_or_404(call_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.close_call(call, _user())
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403, description=exc.message)
        return _back(call_id, exc.message, "error")
    db.session.commit()
    return _back(call_id, _("The call for help is closed."))


@bp.route("/opportunities/<int:call_id>/answer", methods=["GET", "POST"])
@citizen_required
def answer(call_id):
    """"I'll come": one POST answers the call (and joins its pact, rules accepted); GET shows the form."""
    call = _call_or_404(call_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            services.answer(call, _user(), accept_rules=form.accept_rules.data)
        except DomainError as exc:
            if exc.details.get("field") != "accept_rules":
                db.session.rollback()
                return _back(call_id, exc.message, "error")
            _field_error(form, exc, "accept_rules")
        else:
            db.session.commit()
            done = (_("Thank you! You answered the call and joined the pact as a volunteer.") if call.pact_id
                    else _("Thank you! You answered the call: the organisers know you are coming."))
            return _back(call_id, done)
    return render_template("opportunities/answer.html", call=call, form=form,
                           own_answer=services.own_answer(call, _user()), open=services.is_open(call))


@bp.route("/opportunities/<int:call_id>/withdraw", methods=["POST"])
@citizen_required
def withdraw(call_id):
    """Withdraw one's answer (idempotent); one stays a volunteer of the pact until one leaves it."""
    call = _call_or_404(call_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_answer(call, _user())
    except DomainError as exc:
        db.session.rollback()
        return _back(call_id, exc.message, "error")
    db.session.commit()
    return _back(call_id, _("Your answer was withdrawn."))


# --- offers -------------------------------------------------------------------------------------

def _district_choices(form):
    form.district_id.choices = [SelectChoice(0, _("Whole city"))] + [
        SelectChoice(d.id, f"{d.number} – {d.name}") for d in report_services.district_choices()]


@bp.route("/opportunities/mine")
@citizen_required
def mine():
    """My offers and the calls that match them, the calls I answered and those I posted (only I see this)."""
    user = _user()
    calls = services.posted_calls(user)
    answered = services.answered_calls(user)
    matches = services.matching_calls(user)
    pacts, organisations = services.posting_targets(user)
    return render_template("opportunities/mine.html", offers=services.offers_of(user), matches=matches,
                           answered=answered, posted=calls, skills_of=services.skills_of,
                           counts=services.answer_counts(calls + answered + matches),
                           can_post=bool(pacts or organisations), answered_ids={c.id for c in answered})


@bp.route("/opportunities/offers/new", methods=["GET", "POST"])
@citizen_required
@content_limits()
def new_offer():
    """Say what you can offer: skills, when, where. Only you see it."""
    form = OfferForm()
    _district_choices(form)
    if form.validate_on_submit():
        try:
            services.create_offer(_user(), skills=form.skills.data, availability=form.availability.data,
                                  district_id=form.district_id.data or None)
        except DomainError as exc:
            _field_error(form, exc, "skills")
        else:
            db.session.commit()
            flash(_("Your offer is saved. Only you can see it; below are the calls that match it."), "success")
            return redirect(url_for("opportunities.mine"))
    return render_template("opportunities/offer.html", form=form, offer=None)


def _own_offer_or_404(offer_id):
    try:
        return services.get_own_offer(offer_id, _user())
    except DomainError:
        abort(404)


@bp.route("/opportunities/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@citizen_required
def edit_offer(offer_id):
    """Change or pause one's own offer."""
    offer = _own_offer_or_404(offer_id)
    form = OfferEditForm(obj=offer if request.method == "GET" else None)
    _district_choices(form)
    if request.method == "GET":
        form.district_id.data = offer.district_id or 0
    if form.validate_on_submit():
        try:
            services.update_offer(offer, _user(), skills=form.skills.data, availability=form.availability.data,
                                  district_id=form.district_id.data or None, is_active=form.is_active.data)
        except DomainError as exc:
            _field_error(form, exc, "skills")
        else:
            db.session.commit()
            flash(_("Your offer is updated."), "success")
            return redirect(url_for("opportunities.mine"))
    return render_template("opportunities/offer.html", form=form, offer=offer)


@bp.route("/opportunities/offers/<int:offer_id>/delete", methods=["POST"])
@citizen_required
def delete_offer(offer_id):
    """Delete one's own offer for good."""
    offer = _own_offer_or_404(offer_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.delete_offer(offer, _user())
    db.session.commit()
    flash(_("Your offer is deleted."), "success")
    return redirect(url_for("opportunities.mine"))


@bp.app_template_global()
def pact_help_calls(pact):
    """For the pact's page: its open calls for help, and whether the viewer may post one."""
    from app.pacts.services import is_proponent

    calls = services.open_calls_of_pact(pact.id) if pact.status.value == "active" else []
    may_post = (pact.status.value == "active" and current_user.is_authenticated
                and current_user.is_citizen and is_proponent(pact, current_user))
    return {"calls": calls, "may_post": may_post}
