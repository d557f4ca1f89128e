"""Forms for the account pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.auth.forms import VALID_EMAIL


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name to show"), validators=[DataRequired(), Length(max=80)],
                               render_kw={"autocomplete": "nickname"})
    bio = TextAreaField(_l("About you (optional, public)"), validators=[Optional(), Length(max=1000)])
    birth_date = DateField(_l("Date of birth (optional)"), validators=[Optional()],
                           description=_l("Only used to check the minimum age to support proposals in a "
                                          "participatory process; never shown to anyone."))
    locale = SelectField(_l("Language"), choices=[SelectChoice("it", "Italiano"), SelectChoice("en", "English")])
    notification_pref = RadioField(
        _l("Email me about notifications"),
        choices=[
            SelectChoice("immediate", _l("Straight away")),
            SelectChoice("daily", _l("Once a day, in a digest")),
            SelectChoice("none", _l("Never (I will look in Piazza)")),
        ],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                             description=_l("At least 10 characters. You will stay signed in here; "
                                            "every other device is signed out."),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(_l("New email address"),
                           validators=[DataRequired(), Length(max=254), VALID_EMAIL],
                           description=_l("We send a link to the new address; the change happens when you open it."),
                           render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Current password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    confirm = BooleanField(
        _l("I understand: my personal data is deleted and my public contributions stay, without my name"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
