"""Forms of the citizens' side of a pact: the proposal, joining, versions, signing, volunteers, reports."""
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.media.services import _human_size
from app.models.commons import CommonsKind
from app.models.pact import PactKind
from app.pacts.labels import SUPPORT_KIND_LABELS

MARKDOWN_HELP = _l("You can use **bold**, *italics*, lists (lines starting with “- ”) and titles "
                   "(lines starting with “## ”).")

#: The own resources field starts with these lines, to be completed.
OWN_RESOURCES_TEMPLATE = _l("- People: \n- Tools: \n- Money for self-financing (EUR): ")

SUPPORT_ROWS = 4

#: What the file pickers offer (the server checks the content whatever the browser sends);
#: their hints, which depend on the configured limits, are set by the views (file_hints).
PHOTO_TYPES = {"accept": "image/jpeg,image/png,image/webp"}
PDF_TYPES = {"accept": "application/pdf,.pdf"}


class SupportRowForm(Form):
    """One row of support requested from the City (inside the pact form, no CSRF of its own)."""

    kind = SelectField(_l("Kind of support"), validators=[Optional()])
    item = StringField(_l("What exactly"), validators=[Optional(), Length(max=300)])
    quantity = FloatField(_l("Quantity"), validators=[Optional(), NumberRange(min=0)],
                          render_kw={"inputmode": "decimal"})
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=30)],
                       description=_l("e.g. hours, pieces, m²"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice("", _l("— none —"))] + [
            SelectChoice(k.value, label) for k, label in SUPPORT_KIND_LABELS.items()]

    def validate_item(self, field):
        if self.kind.data and not (field.data or "").strip():
            raise ValidationError(_l("Say what you need."))


class PactForm(FlaskForm):
    title = StringField(_l("Title of the pact"),
                        validators=[DataRequired(_l("Give the pact a title.")), Length(max=200)],
                        description=_l("In a few words, e.g. “Care of the flower beds in piazza Carducci”."),
                        render_kw={"autocomplete": "off"})
    commons_choice = RadioField(_l("Which commons?"), choices=[
        SelectChoice("existing", _l("A commons already in the City's registry")),
        SelectChoice("new", _l("A new commons, not yet in the registry"))], default="existing")
    commons_id = SelectField(_l("Commons in the registry"), coerce=int, validators=[Optional()],
                             description=_l("Grouped by district."))
    new_name = StringField(_l("Name of the new commons"), validators=[Optional(), Length(max=200)])
    new_kind = SelectField(_l("Kind of commons"), validators=[Optional()])
    new_address = StringField(_l("Address"), validators=[Optional(), Length(max=300)],
                              render_kw={"autocomplete": "street-address"})
    new_description = TextAreaField(_l("Describe the place"), validators=[Optional(), Length(max=2000)],
                                    render_kw={"rows": 3})
    lat = HiddenField()
    lon = HiddenField()
    new_outline = TextAreaField(_l("The outline as GeoJSON text"), validators=[Optional(), Length(max=200000)],
                                description=_l("Optional: a Polygon in longitude, latitude order (as geojson.io or "
                                               "QGIS export it). Drawing it on the map fills this in."),
                                render_kw={"rows": 3, "spellcheck": "false"})
    organisation_id = SelectField(_l("Who proposes the pact"), coerce=int, validators=[Optional()],
                                  description=_l("You can act for an organisation only if you are one of its "
                                                 "representatives."))
    kind_requested = RadioField(_l("Kind of pact requested"), choices=[
        SelectChoice(PactKind.ordinary.value, _l("Ordinary: simple activities on a standard template (cleaning, "
                                                 "care of green areas, small maintenance, cultural activities)")),
        SelectChoice(PactKind.complex.value, _l("Complex: larger or longer interventions, approved by an act of "
                                                "the City"))],
        default=PactKind.ordinary.value)
    objectives = TextAreaField(_l("Objectives"), validators=[DataRequired(_l("Say what the pact is for.")),
                                                             Length(max=10000)],
                               description=MARKDOWN_HELP, render_kw={"rows": 5})
    activities = TextAreaField(_l("Activities, phases and timing"),
                               validators=[DataRequired(_l("Describe the activities.")), Length(max=20000)],
                               description=_l("What you will do, in which phases, how often and when "
                                              "(e.g. “March–April: clearing; then every Saturday morning”)."),
                               render_kw={"rows": 7})
    beneficiaries = TextAreaField(_l("Who benefits"), validators=[Optional(), Length(max=5000)],
                                  render_kw={"rows": 3})
    duration_months = IntegerField(_l("Duration requested, in months"),
                                   validators=[Optional(), NumberRange(min=1, max=120)],
                                   render_kw={"inputmode": "numeric", "min": 1, "max": 120})
    own_resources = TextAreaField(_l("Your own resources"), validators=[Optional(), Length(max=5000)],
                                  description=_l("People (how many, with which skills), tools, and any money you "
                                                 "raise yourselves."),
                                  render_kw={"rows": 4})
    support = FieldList(FormField(SupportRowForm), min_entries=SUPPORT_ROWS, max_entries=SUPPORT_ROWS)
    declare_truth = BooleanField(_l("I declare that the information in this proposal is true."))
    declare_rules = BooleanField(_l("I accept the Regulation n. 391 on the collaboration between citizens and "
                                    "the City for the care of urban commons."))
    declare_privacy = BooleanField(_l("I consent to the processing of my personal data for this procedure and "
                                      "to the publication of the proposal once it is admitted."))
    photos = MultipleFileField(_l("Photos of the commons (optional)"), render_kw=PHOTO_TYPES)
    documents = MultipleFileField(_l("Documents in PDF (optional)"), render_kw=PDF_TYPES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.labels import commons_kind_label

        self.new_kind.choices = [SelectChoice("", _l("Choose…"))] + [
            SelectChoice(k.value, commons_kind_label(k)) for k in CommonsKind]

    @property
    def declarations_accepted(self):
        return bool(self.declare_truth.data and self.declare_rules.data and self.declare_privacy.data)

    def requested_support(self):
        return [{"kind": row.kind.data, "description": (row.item.data or "").strip(),
                 "quantity": row.quantity.data, "unit": (row.unit.data or "").strip()}
                for row in self.support if row.kind.data]


class SubmitForm(FlaskForm):
    """Submitting a draft: nothing but the token (the declarations are part of the proposal)."""


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why are you withdrawing the proposal?"),
                           validators=[DataRequired(_l("Say why you withdraw it.")), Length(max=2000)],
                           render_kw={"rows": 3})


class JoinRequestForm(FlaskForm):
    organisation_id = SelectField(_l("Join as"), coerce=int, validators=[Optional()])
    message = TextAreaField(_l("A message for the proponents (optional)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 3})


class DecisionForm(FlaskForm):
    answer = HiddenField(validators=[DataRequired()])


class VersionForm(FlaskForm):
    text = TextAreaField(_l("Text of the new version"),
                         validators=[DataRequired(_l("The text cannot be empty.")), Length(max=100000)],
                         render_kw={"rows": 18})
    note = StringField(_l("What changed and why"), validators=[DataRequired(_l("Explain the change.")),
                                                              Length(max=1000)])


class SignForm(FlaskForm):
    party_id = HiddenField(validators=[DataRequired()])
    confirm = BooleanField(_l("I have read the approved text and I sign it"),
                           validators=[DataRequired(_l("Tick the box to confirm that you sign."))])


class VolunteerForm(FlaskForm):
    accept_rules = BooleanField(_l("I accept the rules of this pact"),
                                validators=[DataRequired(_l("You must accept the rules of the pact to join."))])


class RemoveVolunteerForm(FlaskForm):
    reason = StringField(_l("Reason for the removal"), validators=[DataRequired(_l("Give the reason.")),
                                                                   Length(max=1000)])


class ReportForm(FlaskForm):
    period_start = DateField(_l("From"), validators=[DataRequired(_l("Enter the first day of the period."))])
    period_end = DateField(_l("To"), validators=[DataRequired(_l("Enter the last day of the period."))])
    is_final = BooleanField(_l("This is the final report of the pact"))
    activities = TextAreaField(_l("Activities carried out"),
                               validators=[DataRequired(_l("Describe the activities.")), Length(max=20000)],
                               render_kw={"rows": 5})
    events = TextAreaField(_l("Events"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})
    beneficiaries_reached = IntegerField(_l("People reached"), validators=[Optional(), NumberRange(min=0)],
                                         render_kw={"inputmode": "numeric", "min": 0})
    volunteer_hours = FloatField(_l("Volunteer hours"), default=0,
                                 validators=[Optional(), NumberRange(min=0, max=1_000_000)],
                                 render_kw={"inputmode": "decimal", "min": 0})
    resources_proponents = TextAreaField(_l("Resources used by the proponents"),
                                         validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})
    resources_city = TextAreaField(_l("Resources used by the City"), validators=[Optional(), Length(max=5000)],
                                   render_kw={"rows": 3})
    results = TextAreaField(_l("Results against the objectives"), validators=[Optional(), Length(max=10000)],
                            render_kw={"rows": 4})
    problems = TextAreaField(_l("Problems met"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})
    photos = MultipleFileField(_l("Photos of the activities (optional)"), render_kw=PHOTO_TYPES)


def file_hints(form):
    """Put the configured limits in the hints of the form's photo and document pickers."""
    cfg = current_app.config
    photos = getattr(form, "photos", None)
    if photos is not None:
        photos.description = ngettext(
            "JPEG, PNG or WebP, up to %(num)d photo of at most %(size)s. We remove the hidden data (such as the "
            "GPS position) from every photo.",
            "JPEG, PNG or WebP, up to %(num)d photos of at most %(size)s each. We remove the hidden data (such as "
            "the GPS position) from every photo.",
            cfg["PHOTOS_PER_ITEM"], size=_human_size(cfg["UPLOAD_MAX_BYTES"]))
    documents = getattr(form, "documents", None)
    if documents is not None:
        documents.description = " ".join((
            ngettext("PDF only, up to %(num)d file of at most %(size)s and %(pages)d pages.",
                     "PDF only, up to %(num)d files of at most %(size)s and %(pages)d pages each.",
                     cfg["DOCUMENTS_PER_ITEM"], size=_human_size(cfg["DOCUMENT_MAX_BYTES"]),
                     pages=cfg["DOCUMENT_MAX_PAGES"]),
            _("For example the project plan, or the consent of the owner of the place. We keep only the pages: "
              "links, forms, scripts and attachments inside the files are removed.")))
    return form
