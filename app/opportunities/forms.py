"""Forms for calls for help, answers and offers."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.admin.processes import LocalDateTimeField
from app.opportunities.services import PEOPLE_MAX

SKILLS_HINT = _l("Separated by commas, e.g. “gardening, carpentry, first aid”.")


class CallForm(FlaskForm):
    #: "pact-<id>" or "organisation-<id>"; the service checks the poster may act for it.
    target = SelectField(_l("For"), validate_choice=False,
                         validators=[DataRequired(_l("Choose the pact or the organisation the call is for."))])
    title = StringField(_l("What is needed"), validators=[DataRequired(_l("Say what you need help with.")),
                                                          Length(max=200)],
                        description=_l("In a few words, e.g. “Autumn cleaning of the garden”."),
                        render_kw={"autocomplete": "off"})
    description = TextAreaField(_l("Details (optional)"), validators=[Optional(), Length(max=5000)],
                                description=_l("What people will do, what to bring, whom to ask for on the spot."),
                                render_kw={"rows": 5})
    lat = HiddenField()
    lon = HiddenField()
    starts_at = LocalDateTimeField(_l("Starts"), validators=[InputRequired(_l("Say when it starts."))])
    ends_at = LocalDateTimeField(_l("Ends"), validators=[InputRequired(_l("Say when it ends."))])
    skills = StringField(_l("Skills wanted"), validators=[DataRequired(_l("Give at least one skill, e.g. “gardening”.")),
                                                          Length(max=300)],
                         description=SKILLS_HINT, render_kw={"autocomplete": "off"})
    people_needed = IntegerField(_l("How many people"), default=1,
                                 validators=[InputRequired(_l("Say how many people you need.")),
                                             NumberRange(min=1, max=PEOPLE_MAX)],
                                 render_kw={"min": 1, "max": PEOPLE_MAX, "inputmode": "numeric"})


class AnswerForm(FlaskForm):
    accept_rules = BooleanField(_l("I accept the pact's rules"))


class OfferForm(FlaskForm):
    skills = StringField(_l("What you can do"), validators=[DataRequired(_l("Give at least one skill, e.g. “gardening”.")),
                                                            Length(max=300)],
                         description=SKILLS_HINT, render_kw={"autocomplete": "off"})
    availability = TextAreaField(_l("When you are available"),
                                 validators=[DataRequired(_l("Say when you are available.")), Length(max=2000)],
                                 description=_l("E.g. “Saturday mornings”, “weekday evenings after 6 pm”."),
                                 render_kw={"rows": 3})
    district_id = SelectField(_l("Where"), coerce=int, validators=[Optional()],
                              description=_l("The district where you would like to help, or the whole city."))


class OfferEditForm(OfferForm):
    is_active = BooleanField(_l("Use this offer to suggest calls"),
                             description=_l("Untick it to pause the offer without deleting it."))
