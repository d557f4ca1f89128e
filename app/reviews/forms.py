"""Forms of the office pages: the feasibility review, project updates and milestones."""
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.models.base import DomainError
from app.reviews.labels import FEASIBILITY_LABELS, OUTCOME_LABELS
from app.reviews.services import ReviewInput, parse_euro

FEASIBILITY_CHOICES = [SelectChoice(value, label) for value, label in FEASIBILITY_LABELS.items()]
PHOTO_HINT = _l("Up to 3 photos: JPEG, PNG or WebP. We remove the hidden data (such as the GPS position).")


def _notes(label):
    return TextAreaField(label, validators=[Optional(), Length(max=5000)])


class ErrorsFromDomain:
    """Put a service's refusal next to the field it is about (or the first field given)."""

    def add_domain_error(self, exc, fallback):
        errors = getattr(exc, "errors", None) or {exc.details.get("field"): exc.message}
        for name, message in errors.items():
            field = getattr(self, name or "", None) or getattr(self, fallback)
            field.errors = [*field.errors, message]


class ReviewForm(ErrorsFromDomain, FlaskForm):
    technical = RadioField(_l("Technical feasibility"), choices=FEASIBILITY_CHOICES, validators=[Optional()])
    technical_notes = _notes(_l("Technical notes"))
    legal = RadioField(_l("Legal feasibility"), choices=FEASIBILITY_CHOICES, validators=[Optional()])
    legal_notes = _notes(_l("Legal notes"))
    economic = RadioField(_l("Economic feasibility"), choices=FEASIBILITY_CHOICES, validators=[Optional()])
    economic_notes = _notes(_l("Economic notes"))
    estimated_cost = StringField(_l("Estimated cost (euro)"), validators=[Optional(), Length(max=40)],
                                 description=_l("For example 12.500,50 — leave empty if not estimated yet."),
                                 render_kw={"inputmode": "decimal", "autocomplete": "off"})
    department_id = SelectField(_l("Responsible department"), coerce=int, validators=[Optional()],
                                description=_l("Choosing another department hands the proposal over to it."))
    execution_starts_on = DateField(_l("Execution starts on"), validators=[Optional()])
    execution_ends_on = DateField(_l("Execution ends on"), validators=[Optional()])
    public_answer = TextAreaField(_l("Answer to citizens"), validators=[Optional(), Length(max=20000)],
                                  description=_l("Published with the review. Markdown: **bold**, *italic*, "
                                                 "lists and links."),
                                  render_kw={"rows": 8})
    outcome = RadioField(_l("Outcome"), choices=[SelectChoice("", _l("not decided yet")),
                                  *(SelectChoice(value, label) for value, label in OUTCOME_LABELS.items())],
                         validators=[Optional()], default="")
    motivation = TextAreaField(_l("Motivation of the outcome"), validators=[Optional(), Length(max=5000)],
                               description=_l("Required to publish: why the proposal is accepted or not."))
    save = SubmitField(_l("Save draft"))
    publish = SubmitField(_l("Publish the review"))

    def validate_estimated_cost(self, field):
        try:
            self.cost_cents = parse_euro(field.data)
        except DomainError as exc:
            raise ValidationError(exc.message) from None

    @staticmethod
    def initial(review, proposal):
        """The form's values from a saved draft (or the proposal's department for a new review)."""
        if review is None:
            return {"department_id": proposal.department_id or 0}
        names = ("technical_notes", "legal_notes", "economic_notes", "public_answer", "motivation",
                 "execution_starts_on", "execution_ends_on")
        data = {name: getattr(review, name) for name in names}
        for name in ("technical", "legal", "economic", "outcome"):
            value = getattr(review, name)
            data[name] = value.value if value is not None else ""
        cents = review.estimated_cost_cents
        data["estimated_cost"] = format_decimal(cents / 100, format="#,##0.00") if cents is not None else ""
        data["department_id"] = proposal.department_id or 0
        return data

    def to_input(self):
        return ReviewInput(
            technical=self.technical.data or None, technical_notes=self.technical_notes.data,
            legal=self.legal.data or None, legal_notes=self.legal_notes.data,
            economic=self.economic.data or None, economic_notes=self.economic_notes.data,
            estimated_cost_cents=getattr(self, "cost_cents", None), department_id=self.department_id.data or None,
            execution_starts_on=self.execution_starts_on.data, execution_ends_on=self.execution_ends_on.data,
            public_answer=self.public_answer.data, outcome=self.outcome.data or None,
            motivation=self.motivation.data)


class UpdateForm(ErrorsFromDomain, FlaskForm):
    body = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=5000)],
                         description=_l("Public, sent to the supporters and followers. Markdown allowed."))
    progress = IntegerField(_l("Progress after this update (%)"),
                            validators=[InputRequired(), NumberRange(min=0, max=100)],
                            render_kw={"min": 0, "max": 100, "inputmode": "numeric"})
    photos = MultipleFileField(_l("Photos (optional)"), description=PHOTO_HINT,
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})


class CompleteForm(ErrorsFromDomain, FlaskForm):
    body = TextAreaField(_l("Closing update"), validators=[DataRequired(), Length(max=5000)],
                         description=_l("What was done. The progress becomes 100% and the project is completed."))
    photos = MultipleFileField(_l("Photos (optional)"), description=PHOTO_HINT,
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})


class MilestoneForm(ErrorsFromDomain, FlaskForm):
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=200)],
                        description=_l("For example “Works contract signed”."))
    due_on = DateField(_l("Expected by (optional)"), validators=[Optional()])


class DoneForm(ErrorsFromDomain, FlaskForm):
    done_on = DateField(_l("Done on"), validators=[Optional()])
