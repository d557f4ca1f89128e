"""Admin screens for participatory processes: their dated phases, categories and support rules.

Phases are entered in the city's local time (``BABEL_DEFAULT_TIMEZONE``, Europe/Rome) and stored
in UTC. Collection and support are required; review and execution may be left out. Phases run in
order (collection, support, review, execution) and never overlap, though one may start the moment
the previous one ends: ``Process.phase_at`` answers with a single phase, so during an overlap the
earlier phase would win and the later one would be closed in practice.
"""
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.admin import bp
from app.admin.forms import MultiCheckboxField
from app.audit.services import record
from app.auth.access import roles_required
from app.extensions import db
from app.models.base import DomainError, utcnow
from app.models.place import Category, District
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal
from app.models.proposal import ProposalStatus as P
from app.models.user import Role

PHASE_LABELS = {
    PhaseKind.collection: _l("collection of proposals"),
    PhaseKind.support: _l("collection of supports"),
    PhaseKind.review: _l("feasibility review"),
    PhaseKind.execution: _l("execution"),
}
REQUIRED_PHASES = (PhaseKind.collection, PhaseKind.support)
SETTINGS = ("support_threshold", "supports_per_citizen", "supports_past_threshold", "minimum_age",
            "verified_only", "support_retention_months")
CROSSED = (P.threshold_reached, P.under_review, P.accepted, P.rejected, P.in_execution, P.completed)


def city_tz():
    """The time zone admins enter dates in (the city's own)."""
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Rome")


def local_to_utc(naive):
    """A wall-clock time in the city as an aware UTC datetime; ValueError if the clocks skip it.

    A time that happens twice (the night clocks go back) is taken the first time, in summer time.
    """
    tz = city_tz()
    moment = naive.replace(tzinfo=tz).astimezone(timezone.utc)
    if moment.astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError(_("This time does not exist here: the clocks go forward that night."))
    return moment


# --- form ---------------------------------------------------------------------------------------

class LocalDateTimeField(DateTimeLocalField):
    """A ``datetime-local`` input in the city's time zone whose ``data`` is an aware UTC datetime."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
                         **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a date and time, e.g. 2026-03-01 09:00.")) from None
        if self.data is not None:
            self.data = local_to_utc(self.data)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.astimezone(city_tz()).strftime("%Y-%m-%dT%H:%M") if self.data else ""


def _phase_fields(kind):
    label = PHASE_LABELS[kind]
    return (LocalDateTimeField(_l("Start of %(phase)s", phase=label), validators=[Optional()]),
            LocalDateTimeField(_l("End of %(phase)s", phase=label), validators=[Optional()]))


class ProcessForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("E.g. “Participatory budget 2027 – first round”."))
    slug = StringField(_l("Short name in addresses"), validators=[
        DataRequired(), Length(max=80),
        Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message=_l("Use lowercase letters, digits and single hyphens only."))],
        description=_l("Lowercase letters, digits and hyphens, e.g. bilancio-partecipativo-2027-1."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)],
                                description=_l("What the round is for and how it works (Markdown)."))
    district_id = SelectField(_l("Scope"), coerce=int, default=0)
    categories = MultiCheckboxField(_l("Categories"), coerce=int,
                                    description=_l("Leave all unticked to accept proposals in every category."))
    collection_starts, collection_ends = _phase_fields(PhaseKind.collection)
    support_starts, support_ends = _phase_fields(PhaseKind.support)
    review_starts, review_ends = _phase_fields(PhaseKind.review)
    execution_starts, execution_ends = _phase_fields(PhaseKind.execution)
    support_threshold = IntegerField(_l("Support threshold"), default=250,
                                     validators=[DataRequired(_l("Enter a whole number of at least 1.")),
                                                 NumberRange(min=1, max=1_000_000)],
                                     description=_l("Supports that oblige the City to review a proposal."))
    supports_per_citizen = IntegerField(_l("Supports per citizen"), default=0,
                                        validators=[Optional(), NumberRange(min=0, max=10_000)],
                                        description=_l("How many proposals one citizen may support in this "
                                                       "process; 0 means no limit."))
    supports_past_threshold = BooleanField(_l("Supports keep counting after the threshold"), default=True)
    minimum_age = IntegerField(_l("Minimum age to support"), default=16,
                               validators=[Optional(), NumberRange(min=0, max=120)])
    verified_only = BooleanField(_l("Only verified citizens may support"), default=True,
                                 description=_l("Recommended: supporting counts towards an obligation of the City."))
    support_retention_months = IntegerField(
        _l("Keep individual supports for (months)"), default=6, validators=[Optional(), NumberRange(min=0, max=120)],
        description=_l("After the process ends, who supported what is anonymised; the counts stay exact."))

    def phases(self):
        """{kind: (starts_at, ends_at)} in UTC, None where left empty."""
        return {kind: (getattr(self, f"{kind.value}_starts").data, getattr(self, f"{kind.value}_ends").data)
                for kind in PhaseKind}

    def values(self):
        """What the service needs, from the submitted form."""
        values = {name: getattr(self, name).data for name in ("title", "slug", "description", *SETTINGS)}
        values.update(district_id=self.district_id.data or None, category_ids=sorted(self.categories.data or []),
                      phases=self.phases(), description=(self.description.data or "").strip())
        for name in ("supports_per_citizen", "minimum_age", "support_retention_months"):
            if values[name] is None:
                values[name] = 0
        return values

    def fill(self, process):
        """Show a stored process (GET of the edit page)."""
        for name in ("title", "slug", "description", *SETTINGS):
            getattr(self, name).data = getattr(process, name)
        self.district_id.data = process.district_id or 0
        self.categories.data = [c.id for c in process.categories]
        for phase in process.phases:
            getattr(self, f"{phase.kind.value}_starts").data = phase.starts_at
            getattr(self, f"{phase.kind.value}_ends").data = phase.ends_at


def _form(process=None):
    form = ProcessForm()
    form.district_id.choices = [SelectChoice(0, _("The whole city"))] + [
        SelectChoice(d.id, _("District %(n)d – %(name)s", n=d.number, name=d.name))
        for d in db.session.scalars(select(District).order_by(District.number))]
    form.categories.choices = [SelectChoice(c.id, c.name(str(get_locale()))) for c in
                               db.session.scalars(select(Category).order_by(Category.name_it))]
    if process is not None and not form.is_submitted():
        form.fill(process)
    return form


# --- service ------------------------------------------------------------------------------------

def _check_phases(phases):
    """Refuse half-given, inverted, missing or overlapping phases (see the module docstring)."""
    previous = None
    for kind in PhaseKind:
        start, end = phases.get(kind) or (None, None)
        label = PHASE_LABELS[kind]
        if start is None and end is None:
            if kind in REQUIRED_PHASES:
                raise DomainError(_("The phase “%(phase)s” is required.", phase=label), field=f"{kind.value}_starts")
            continue
        if start is None or end is None:
            raise DomainError(_("Give both the start and the end of the phase “%(phase)s”, or neither.", phase=label),
                              field=f"{kind.value}_{'starts' if start is None else 'ends'}")
        if end <= start:
            raise DomainError(_("The phase “%(phase)s” must end after it starts.", phase=label),
                              field=f"{kind.value}_ends")
        if previous is not None and start < previous[1]:
            raise DomainError(_("The phase “%(phase)s” must start when the phase “%(previous)s” ends, or later: "
                                "phases may not overlap.", phase=label, previous=PHASE_LABELS[previous[0]]),
                              field=f"{kind.value}_starts")
        previous = (kind, end)


def _check_threshold(process, threshold):
    """A threshold may change only while no proposal has crossed it, and not below a current count."""
    if process.id is None or threshold == process.support_threshold:
        return
    crossed = db.session.scalar(select(func.count(Proposal.id)).where(
        Proposal.process_id == process.id,
        or_(Proposal.threshold_reached_at.is_not(None), Proposal.status.in_(CROSSED))))
    if crossed:
        raise DomainError(_("The threshold can no longer change: %(n)d proposals already crossed it. Their "
                            "supporters and the proposals still collecting were promised the same rule.", n=crossed),
                          field="support_threshold")
    top = db.session.scalar(select(func.max(Proposal.support_count)).where(
        Proposal.process_id == process.id, Proposal.status == P.published)) or 0
    if threshold <= top:
        raise DomainError(_("A proposal already has %(n)d supports: the threshold must be higher than that, or the "
                            "proposal would be past it without ever crossing it.", n=top), field="support_threshold")


def _snapshot(process):
    """The audited fields of a process, JSON-friendly."""
    values = {name: getattr(process, name) for name in ("title", "slug", "description", *SETTINGS)}
    values["district_id"] = process.district_id
    values["category_ids"] = sorted(c.id for c in process.categories)
    values["phases"] = {p.kind.value: [p.starts_at.isoformat(), p.ends_at.isoformat()]
                        for p in sorted(process.phases, key=lambda p: list(PhaseKind).index(p.kind))}
    return values


def save_process(actor, process, values):
    """Create (``process`` None) or change a process; audits the changed fields. Returns the process."""
    values = dict(values)
    phases = values.pop("phases")
    category_ids = values.pop("category_ids")
    _check_phases(phases)
    taken = select(Process.id).where(Process.slug == values["slug"])
    if process is not None:
        taken = taken.where(Process.id != process.id)
    if db.session.scalar(taken) is not None:
        raise DomainError(_("Another process already uses this short name."), field="slug")
    creating = process is None
    if creating:
        process = Process()
        before = {}
    else:
        _check_threshold(process, values["support_threshold"])
        before = _snapshot(process)
    for name, value in values.items():
        setattr(process, name, value)
    process.categories = list(db.session.scalars(select(Category).where(Category.id.in_(category_ids)))) \
        if category_ids else []
    _set_phases(process, phases)
    if creating:
        db.session.add(process)
    db.session.flush()
    after = _snapshot(process)
    changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if creating:
        record("process.created", actor=actor, target=process, details={"fields": after})
    elif changed:
        record("process.updated", actor=actor, target=process, details={"changed": changed})
    return process, bool(changed)


def _set_phases(process, phases):
    """Update phases in place (a kind is unique per process), drop emptied ones, add new ones."""
    existing = {p.kind: p for p in process.phases}
    for kind, (start, end) in phases.items():
        phase = existing.get(kind)
        if start is None:
            if phase is not None:
                process.phases.remove(phase)
        elif phase is None:
            process.phases.append(ProcessPhase(kind=kind, starts_at=start, ends_at=end))
        elif (phase.starts_at, phase.ends_at) != (start, end):
            phase.starts_at, phase.ends_at = start, end


def process_overview(now=None):
    """Every process, newest first, with its current phase and counts: [(process, phase, counts)]."""
    now = now or utcnow()
    counts = {row.process_id: row for row in db.session.execute(
        select(Proposal.process_id, func.count(Proposal.id).label("proposals"),
               func.coalesce(func.sum(Proposal.support_count), 0).label("supports"),
               func.count(Proposal.threshold_reached_at).label("crossed"))
        .where(Proposal.status != P.draft).group_by(Proposal.process_id))}
    processes = db.session.scalars(select(Process).options(selectinload(Process.phases), selectinload(
        Process.district)).order_by(Process.created_at.desc(), Process.id.desc())).all()
    return [(p, p.phase_at(now), counts.get(p.id)) for p in processes]


def _phase_state(process, phase, now):
    if phase is not None:
        return str(PHASE_LABELS[phase])
    starts = min((p.starts_at for p in process.phases), default=None)
    if starts is not None and now < starts:
        return _("not started yet")
    ended = process.ended_at()
    return _("ended") if ended is not None and now >= ended else _("between phases")


# --- views --------------------------------------------------------------------------------------

@bp.route("/processes")
@roles_required(Role.admin)
def processes():
    """Participatory processes with their current phase, dates, threshold and counts."""
    now = utcnow()
    rows = [(p, _phase_state(p, phase, now), c) for p, phase, c in process_overview(now)]
    return render_template("admin/processes.html", rows=rows, phase_labels=PHASE_LABELS)


def _save(form, process):
    """Validate, save, commit and redirect; None (with the errors on the form) if refused."""
    if not form.validate_on_submit():
        return None
    try:
        process, changed = save_process(current_user, process, form.values())
    except DomainError as exc:
        db.session.rollback()
        field = getattr(form, exc.details.get("field") or "", None)
        if field is None:
            form.form_errors.append(exc.message)
        else:
            field.errors = [*field.errors, exc.message]
        return None
    db.session.commit()
    flash(_("Process “%(title)s” saved.", title=process.title) if changed else _("Nothing changed."),
          "success" if changed else "info")
    return redirect(url_for("admin.processes"))


@bp.route("/processes/new", methods=["GET", "POST"])
@roles_required(Role.admin)
def process_new():
    """Create a participatory process."""
    form = _form()
    return _save(form, None) or render_template("admin/processes_form.html", form=form, process=None,
                                                 tz=current_app.config.get("BABEL_DEFAULT_TIMEZONE"))


@bp.route("/processes/<int:process_id>/edit", methods=["GET", "POST"])
@roles_required(Role.admin)
def process_edit(process_id):
    """Change a process; the threshold is fixed once a proposal crossed it."""
    process = db.session.get(Process, process_id)
    if process is None:
        abort(404)
    form = _form(process)
    return _save(form, process) or render_template("admin/processes_form.html", form=form, process=process,
                                                    tz=current_app.config.get("BABEL_DEFAULT_TIMEZONE"))
