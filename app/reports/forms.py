"""Forms for reports: placing one, and the staff and citizen actions on it."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.labels import FLAG_REASON_LABELS


class ReportForm(FlaskForm):
    category_id = SelectField(_l("What kind of problem is it?"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=140)],
                        description=_l("In a few words, e.g. “Street lamp off in via Nizza 120”."))
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=5000)],
                                description=_l("What is wrong, since when, and anything that helps to find it."))
    lat = HiddenField()
    lon = HiddenField()
    district_id = SelectField(_l("District"), coerce=int, validators=[Optional()],
                              description=_l("If you do not use the map, choose the district and describe "
                                             "the place below."))
    address = StringField(_l("Where exactly (street, number, landmark)"), validators=[Optional(), Length(max=200)])
    photos = MultipleFileField(_l("Photos (up to 3, optional)"),
                               description=_l("JPEG, PNG or WebP. We remove the hidden data (such as the GPS "
                                              "position) from every photo."),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})
    #: Set once the reporter has seen the "already reported?" suggestions.
    confirmed_new = HiddenField(default="")


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    note = TextAreaField(_l("Public note"), validators=[Optional(), Length(max=5000)],
                         description=_l("Shown in the report's timeline and sent to the reporter and followers."))
    duplicate_of = IntegerField(_l("Original report number (for duplicates)"),
                                validators=[Optional(), NumberRange(min=1)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Public update"), validators=[DataRequired(), Length(max=5000)])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assign to"), coerce=int, validators=[DataRequired()])


class FlagForm(FlaskForm):
    reason = RadioField(_l("What is wrong with it?"),
                        choices=[SelectChoice(k, v) for k, v in FLAG_REASON_LABELS.items()],
                        validators=[DataRequired()])
    text = TextAreaField(_l("Details (optional)"), validators=[Optional(), Length(max=1000)])


class FixedForm(FlaskForm):
    answer = HiddenField(validators=[DataRequired()])
