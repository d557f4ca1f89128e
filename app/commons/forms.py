"""Forms of the commons registry (officials), calls for care, and organisations."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.admin.processes import LocalDateTimeField


class CommonsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the commons a name.")), Length(max=200)],
                       description=_l("As people know it, e.g. “Giardino Nicola Grosa”."))
    kind = SelectField(_l("Kind of commons"), validators=[DataRequired(_l("Choose the kind of commons."))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)],
                                description=_l("What it is, its state, what care it needs (Markdown)."),
                                render_kw={"rows": 6})
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    lat = StringField(_l("Latitude"), validators=[Optional(), Length(max=30)],
                      description=_l("Click the map, or type it, e.g. 45.0703."),
                      render_kw={"inputmode": "decimal", "autocomplete": "off"})
    lon = StringField(_l("Longitude"), validators=[Optional(), Length(max=30)],
                      description=_l("E.g. 7.6869."), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    geometry = TextAreaField(_l("Outline (optional)"), validators=[Optional(), Length(max=200000)],
                             description=_l("A GeoJSON Polygon or MultiPolygon in longitude, latitude order "
                                            "(as exported by geojson.io or QGIS). Without a point, the point is "
                                            "the outline's centre."),
                             render_kw={"rows": 4, "spellcheck": "false"})
    district_id = SelectField(_l("District"), coerce=int, validators=[Optional()],
                              description=_l("With a point, the district follows from it; choose one only for an "
                                             "immaterial commons."))
    owner = RadioField(_l("Owner"), default="city")
    owner_name = StringField(_l("Name of the owner"), validators=[Optional(), Length(max=200)],
                             description=_l("Only for a third party's property."))
    owner_consent = TextAreaField(_l("The owner's consent"), validators=[Optional(), Length(max=2000)],
                                  description=_l("The document by which the owner agrees, with its date and "
                                                 "reference."), render_kw={"rows": 2})
    department_id = SelectField(_l("Competent department"), coerce=int, validators=[Optional()])
    heritage_constraint = BooleanField(_l("Under heritage protection (changes need the Soprintendenza's consent)"))
    photos = MultipleFileField(_l("Photos (optional)"),
                               description=_l("JPEG, PNG or WebP. We remove the hidden data (such as the GPS "
                                              "position) from every photo."),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})


class HideForm(FlaskForm):
    reason = TextAreaField(_l("Why is it hidden? (kept in the audit log)"),
                           validators=[DataRequired(_l("Say why the commons is hidden.")), Length(max=2000)],
                           render_kw={"rows": 2})


class CallForm(FlaskForm):
    title = StringField(_l("Title of the call"), validators=[DataRequired(_l("Give the call a title.")),
                                                            Length(max=200)],
                        description=_l("E.g. “Care of the flower beds, spring 2027”."))
    description = TextAreaField(_l("What is offered"), validators=[Optional(), Length(max=20000)],
                                render_kw={"rows": 5}, description=_l("Markdown."))
    requirements = TextAreaField(_l("Requirements"), validators=[Optional(), Length(max=20000)],
                                 render_kw={"rows": 4}, description=_l("Who may answer and what they must offer."))
    criteria = TextAreaField(_l("Evaluation criteria"), validators=[Optional(), Length(max=20000)],
                             render_kw={"rows": 4}, description=_l("How the proposals will be compared."))
    opens_at = LocalDateTimeField(_l("Opens on"), validators=[DataRequired(_l("Enter when the call opens."))],
                                  description=_l("Time in Turin."))
    closes_at = LocalDateTimeField(_l("Closes on"), validators=[DataRequired(_l("Enter when the call closes."))],
                                   description=_l("Time in Turin; proposals are accepted until then."))


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the organisation a name.")), Length(max=200)])
    kind = SelectField(_l("Kind of organisation"), validators=[DataRequired(_l("Choose what kind of organisation "
                                                                                "it is."))])
    description = TextAreaField(_l("Who you are and what you do"), validators=[Optional(), Length(max=20000)],
                                render_kw={"rows": 5}, description=_l("Markdown."))
    tax_code = StringField(_l("Tax code (codice fiscale or partita IVA)"), validators=[Optional(), Length(max=30)],
                           description=_l("Required for associations, cooperatives and companies; informal groups "
                                          "and schools may leave it empty."), render_kw={"autocomplete": "off"})
    email = StringField(_l("Public email address (optional)"), validators=[Optional(), Length(max=254)],
                        render_kw={"type": "email"})
    website = StringField(_l("Website (optional)"), validators=[Optional(), Length(max=300)],
                          render_kw={"type": "url", "placeholder": "https://"})
    district_id = SelectField(_l("District"), coerce=int, validators=[Optional()],
                              description=_l("Where you mostly work; leave “Whole city” otherwise."))


class MemberInviteForm(FlaskForm):
    email = StringField(_l("Email address of their Piazza account"),
                        validators=[DataRequired(_l("Enter an email address.")), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off"})
    role = RadioField(_l("As"), choices=[SelectChoice("member", _l("member")),
                                         SelectChoice("representative", _l("representative"))],
                      default="member")


class AnswerForm(FlaskForm):
    answer = HiddenField(validators=[DataRequired()])
