"""Forms of the City's pact office: one small form per action on a pact."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.admin.processes import LocalDateTimeField
from app.models.pact import PactKind, SupportKind
from app.pacts.labels import PACT_KIND_LABELS, SUPPORT_KIND_LABELS
from app.reviews.forms import ErrorsFromDomain

#: Empty rows offered after the City's current support items.
SPARE_SUPPORT_ROWS = 2


class OfficeForm(ErrorsFromDomain, FlaskForm):
    """Every office form: a service's refusal goes next to the field it is about."""

    #: The field a refusal without a field of its own is shown next to.
    fallback = None

    def add_domain_error(self, exc, fallback=None):
        fallback = fallback or self.fallback
        if fallback is None:
            return  # a form of buttons only: the page shows the message in a flash
        super().add_domain_error(exc, fallback)


class ButtonForm(OfficeForm):
    """A button with its CSRF token (start co-design, open signing, renew...)."""


def _reason(label, required, hint=None):
    validators = [DataRequired(), Length(max=5000)] if required else [Optional(), Length(max=5000)]
    return TextAreaField(label, validators=validators, description=hint, render_kw={"rows": 3})


class IntegrationForm(OfficeForm):
    fallback = "reason"
    reason = _reason(_l("What is missing"), True, _l("Sent to the proponents: they complete the proposal and "
                                                    "submit it again."))


class InadmissibleForm(OfficeForm):
    fallback = "reason"
    reason = _reason(_l("Motivation"), True, _l("Required. The proponents read it."))


class SuspendForm(OfficeForm):
    fallback = "reason"
    reason = _reason(_l("Why the pact is suspended"), True, _l("Required. Public on the pact's page."))


class RevokeForm(OfficeForm):
    fallback = "reason"
    reason = _reason(_l("Motivation of the revocation"), True, _l("Required. Public on the pact's page."))


class ResumeForm(OfficeForm):
    fallback = "reason"
    reason = _reason(_l("Note (optional)"), False)


class CompleteForm(OfficeForm):
    fallback = "reason"
    reason = _reason(_l("Closing note (optional)"), False)


class AdmissibleForm(OfficeForm):
    fallback = "kind"
    kind = RadioField(_l("Kind of pact"), validators=[InputRequired()],
                      choices=[SelectChoice(k.value, PACT_KIND_LABELS[k]) for k in PactKind],
                      description=_l("Ordinary: the standard template, approved by the responsible official. "
                                     "Complex: approved by an act of the City."))
    department_id = SelectField(_l("Responsible department"), coerce=int, validators=[InputRequired()])
    responsible_id = SelectField(_l("Responsible official"), coerce=int, validators=[Optional()],
                                 description=_l("An official of the department; by default, you."))

    def __init__(self, *args, departments=(), officials=(), locale="it", **kwargs):
        super().__init__(*args, **kwargs)
        self.department_id.choices = [SelectChoice(d.id, d.name(locale)) for d in departments]
        self.responsible_id.choices = [SelectChoice(0, _l("Me"))] + [
            SelectChoice(u.id, f"{u.display_name} — {', '.join(d.name(locale) for d in u.departments)}")
            for u in officials]


class ConsultationForm(OfficeForm):
    fallback = "starts_on"
    starts_on = DateField(_l("The consultation starts on"), validators=[InputRequired()])
    days = IntegerField(_l("Days it stays open"), validators=[InputRequired(), NumberRange(min=1, max=180)],
                        render_kw={"inputmode": "numeric", "min": 1, "max": 180})


class MeetingForm(OfficeForm):
    fallback = "held_at"
    held_at = LocalDateTimeField(_l("Date and time"), validators=[InputRequired()],
                                 description=_l("Turin time."))
    house_id = SelectField(_l("Casa del Quartiere"), coerce=int, validators=[Optional()])
    place = StringField(_l("Or another place"), validators=[Optional(), Length(max=200)])
    participants = TextAreaField(_l("Participants"), validators=[Optional(), Length(max=5000)],
                                 description=_l("Names and, where it helps, who they speak for."),
                                 render_kw={"rows": 2})
    minutes = TextAreaField(_l("Minutes"), validators=[Optional(), Length(max=20000)],
                            description=_l("Public. Markdown allowed."), render_kw={"rows": 5})

    def __init__(self, *args, houses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.house_id.choices = [SelectChoice(0, _l("— another place —"))] + [
            SelectChoice(h.id, f"{h.name} ({h.neighbourhood})") for h in houses]

    def to_kwargs(self):
        return {"held_at": self.held_at.data, "house_id": self.house_id.data or None,
                "place": (self.place.data or "").strip() or None, "participants": self.participants.data or "",
                "minutes": self.minutes.data or ""}


class SupportItemForm(FlaskForm):
    class Meta:
        csrf = False  # the enclosing form carries the token

    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, v) for k, v in SUPPORT_KIND_LABELS.items()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=300)])
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=20)],
                           render_kw={"inputmode": "decimal"})
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=30)],
                       description=_l("e.g. hours, pieces, m²"))


class SupportForm(OfficeForm):
    fallback = "items"
    items = FieldList(FormField(SupportItemForm), min_entries=1)

    def to_items(self):
        """The rows with a description, as the service takes them (empty rows are dropped)."""
        items = []
        for row in self.items:
            description = (row.form.description.data or "").strip()
            if not description:
                continue
            quantity = (row.form.quantity.data or "").strip().replace(",", ".")
            items.append({"kind": row.form.kind.data, "description": description,
                          "quantity": float(quantity) if quantity else None,
                          "unit": (row.form.unit.data or "").strip() or None})
        return items

    def validate_items(self, field):
        for row in field:
            quantity = (row.form.quantity.data or "").strip().replace(",", ".")
            if quantity:
                try:
                    if float(quantity) < 0:
                        raise ValueError
                except ValueError:
                    row.form.quantity.errors = [*row.form.quantity.errors, _l("Give a number, e.g. 12 or 2,5.")]
                    raise ValueError(_l("A quantity is not a number.")) from None

    @staticmethod
    def initial(pact):
        rows = [{"kind": i.kind.value, "description": i.description,
                 "quantity": "" if i.quantity is None else f"{i.quantity:g}".replace(".", ","),
                 "unit": i.unit or ""} for i in pact.support_items]
        return {"items": rows + [{"kind": SupportKind.tools.value}] * SPARE_SUPPORT_ROWS}


class VersionForm(OfficeForm):
    fallback = "text"
    text = TextAreaField(_l("Text of the pact"), validators=[DataRequired(), Length(max=100000)],
                         description=_l("Markdown. The new version is compared line by line with the last one."),
                         render_kw={"rows": 16})
    note = StringField(_l("What changed"), validators=[Optional(), Length(max=2000)])


class MergeForm(OfficeForm):
    fallback = "other_id"
    other_id = SelectField(_l("Competing proposal to merge into this one"), coerce=int,
                           validators=[InputRequired()],
                           description=_l("It is withdrawn and its proponents join this pact."))
    reason = _reason(_l("Note (optional)"), False)

    def __init__(self, *args, competing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.other_id.choices = [SelectChoice(p.id, f"{p.protocol_number or '#' + str(p.id)} — {p.title}")
                                 for p in competing]


class ApproveForm(OfficeForm):
    fallback = "version_number"
    version_number = SelectField(_l("Version to approve"), coerce=int, validators=[InputRequired()])
    act_type = StringField(_l("Type of the approval act"), validators=[Optional(), Length(max=100)],
                           description=_l("Complex pacts: e.g. “Deliberazione della Giunta Comunale”."))
    act_number = StringField(_l("Number of the act"), validators=[Optional(), Length(max=50)])
    act_date = DateField(_l("Date of the act"), validators=[Optional()])
    starts_on = DateField(_l("In force from (optional)"), validators=[Optional()],
                          description=_l("By default, the day the last party signs."))
    ends_on = DateField(_l("Until (optional)"), validators=[Optional()],
                        description=_l("By default, from the duration requested."))

    def __init__(self, *args, versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.version_number.choices = [SelectChoice(v.number, _l("Version %(n)d", n=v.number))
                                       for v in reversed(versions)]

    def to_kwargs(self):
        return {"version_number": self.version_number.data, "act_type": (self.act_type.data or "").strip() or None,
                "act_number": (self.act_number.data or "").strip() or None, "act_date": self.act_date.data,
                "starts_on": self.starts_on.data, "ends_on": self.ends_on.data}


class SignForm(OfficeForm):
    fallback = "confirm"
    party_id = HiddenField(validators=[DataRequired()])
    confirm = BooleanField(_l("I have read the approved text and sign it for the City of Turin"),
                           validators=[DataRequired(message=_l("Tick the box to sign."))])


class ReportReviewForm(OfficeForm):
    fallback = "note"
    decision = RadioField(_l("Decision"), validators=[InputRequired()], choices=[
        SelectChoice("accept", _l("Accept the report (it becomes public)")),
        SelectChoice("changes", _l("Ask the proponents for changes"))])
    note = _reason(_l("Note to the proponents"), False, _l("Required when you ask for changes."))


class CommitteeProposalForm(OfficeForm):
    fallback = "proposal"
    proposal = _reason(_l("The conciliation committee's proposal"), True)


class CloseDisputeForm(OfficeForm):
    fallback = "outcome"
    outcome = _reason(_l("Outcome"), True)
