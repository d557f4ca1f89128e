"""Pages of the neighbourhood houses and of events: lists, a house's and an event's page, iCal feeds,
registering, and publishing, editing and cancelling an event.

Public pages never name a house's facilitators (issue 7): a house shows its hours, contacts and events.
"""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.assisted.context import assisted_helper
from app.auth.access import citizen_required, login_required, public
from app.auth.forms import ButtonForm
from app.extensions import db
from app.houses import bp, services
from app.houses.forms import EditEventForm, EventForm
from app.http import db_id, page_arg, show_domain_error
from app.models.base import DomainError, NotFound
from app.models.event import EventKind
from app.reports import services as report_services

PAGE_SIZE = 20


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _house_or_404(slug):
    try:
        return services.get_house(slug)
    except NotFound:
        abort(404)


def _event_or_404(event_id):
    try:
        return services.get_event(event_id)
    except NotFound:
        abort(404)


@bp.route("/houses")
@public
def index():
    """The nine houses, with a map."""
    return render_template("houses/index.html", houses=services.houses())


@bp.route("/houses/<slug>")
@public
def detail(slug):
    """A house: address, map point, opening hours, contacts, upcoming events."""
    house = _house_or_404(slug)
    events = db.session.scalars(services.upcoming(house_id=house.id).limit(30)).all()
    return render_template("houses/detail.html", house=house, events=events, weekdays=services.WEEKDAYS,
                           kind_labels=services.KIND_LABELS)


def _calendar(events, name, filename):
    body = services.ical(events, name, request.host_url, request.host.split(":")[0])
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.route("/houses/<slug>/events.ics")
@public
def house_calendar(slug):
    """The house's events as an iCal feed."""
    house = _house_or_404(slug)
    return _calendar(services.feed_events(house=house), house.name, f"{house.slug}.ics")


@bp.route("/districts/<int:number>/events.ics")
@public
def district_calendar(number):
    """The district's events as an iCal feed."""
    try:
        district = services.district_by_number(number)
    except NotFound:
        abort(404)
    return _calendar(services.feed_events(district=district), _("District %(n)d – %(name)s", n=district.number,
                                                                    name=district.name),
                     f"district-{district.number}.ics")


@bp.route("/events")
@public
def events():
    """Upcoming events, the soonest first, by district and kind."""
    district_id = request.args.get("district", type=db_id)
    kind = request.args.get("kind")
    kind = EventKind(kind) if kind in EventKind._value2member_map_ else None
    stmt = services.upcoming(district_id=district_id, kind=kind)
    pagination = db.paginate(stmt, page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    houses, organisations, city = services.publishing_targets(_user())
    return render_template("houses/events.html", pagination=pagination, kind_labels=services.KIND_LABELS,
                           filters={"district_id": district_id, "kind": kind.value if kind else ""},
                           districts=report_services.district_choices(),
                           may_publish=bool(houses or organisations or city))


@bp.route("/events/<int:event_id>")
@public
def event_detail(event_id):
    """An event: when, where, organiser, places left, and registering."""
    event = _event_or_404(event_id)
    user = _user()
    count = services.registration_count(event)
    return render_template("houses/event.html", event=event, count=count, full=services.is_full(event, count),
                           open=services.takes_registrations(event), own=services.own_registration(event, user),
                           manager=services.may_manage(event, user), kind_labels=services.KIND_LABELS,
                           form=ButtonForm())


def _back(event, message, category="success"):
    flash(message, category)
    return redirect(url_for("houses.event_detail", event_id=event.id))


@bp.route("/events/<int:event_id>/register", methods=["POST"])
@citizen_required
def register(event_id):
    """Register oneself for the event."""
    event = _event_or_404(event_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.register(_user(), event, registered_by=assisted_helper())
    except DomainError as exc:
        db.session.rollback()
        return _back(event, exc.message, "error")
    db.session.commit()
    return _back(event, _("You are registered. We will remind you the day before."))


@bp.route("/events/<int:event_id>/unregister", methods=["POST"])
@citizen_required
def unregister(event_id):
    """Cancel one's registration."""
    event = _event_or_404(event_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.cancel_registration(_user(), event)
    except DomainError as exc:
        db.session.rollback()
        return _back(event, exc.message, "error")
    db.session.commit()
    return _back(event, _("Your registration is cancelled."))


def _targets(form, user):
    houses, organisations, city = services.publishing_targets(user)
    form.target.choices = (
        [SelectChoice("", _("Choose…"))]
        + [SelectChoice(f"house-{h.id}", h.name) for h in houses]
        + [SelectChoice(f"organisation-{o.id}", o.name) for o in organisations]
        + ([SelectChoice("city", _("The City of Turin"))] if city else []))
    return houses, organisations, city


def _organiser(value, houses, organisations):
    """(house, organisation) from the form's value; (None, None) is the city; raises on a foreign value."""
    kind, _sep, ident = (value or "").partition("-")
    if kind == "house":
        match = [h for h in houses if str(h.id) == ident]
        if match:
            return match[0], None
    elif kind == "organisation":
        match = [o for o in organisations if str(o.id) == ident]
        if match:
            return None, match[0]
    elif value == "city":
        return None, None
    raise DomainError(_("Choose who organises the event."), field="target")


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event():
    """Publish an event for a house one facilitates, an organisation one represents, or the city (officials)."""
    user = _user()
    form = EventForm()
    houses, organisations, city = _targets(form, user)
    can_publish = bool(houses or organisations or city)
    if can_publish and form.validate_on_submit():
        try:
            house, organisation = _organiser(form.target.data, houses, organisations)
            event = services.create_event(user, house=house, organisation=organisation, **form.fields())
        except DomainError as exc:
            show_domain_error(form, exc, default="title")
        else:
            db.session.commit()
            return _back(event, _("The event is published."))
    return render_template("houses/event_form.html", form=form, can_publish=can_publish, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id):
    """Change an event one may manage."""
    event = _event_or_404(event_id)
    user = _user()
    if not services.may_manage(event, user):
        abort(403)
    form = EditEventForm(obj=event if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = event.kind.value
    if form.validate_on_submit():
        try:
            services.update_event(user, event, **form.fields())
        except DomainError as exc:
            show_domain_error(form, exc, default="title")
        else:
            db.session.commit()
            return _back(event, _("The event is updated."))
    return render_template("houses/event_form.html", form=form, can_publish=True, event=event)


@bp.route("/events/<int:event_id>/cancel", methods=["POST"])
@login_required
def cancel_event(event_id):
    """Cancel an event one may manage (registered people are told)."""
    event = _event_or_404(event_id)
    user = _user()
    if not services.may_manage(event, user):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.cancel_event(user, event)
    except DomainError as exc:
        db.session.rollback()
        return _back(event, exc.message, "error")
    db.session.commit()
    return _back(event, _("The event is cancelled; the people registered are told."))
