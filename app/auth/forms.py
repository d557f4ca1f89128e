"""Forms for registration, login and password reset."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

VALID_EMAIL = Email(message=_l("Enter a valid email address."), check_deliverability=False)


class RegisterForm(FlaskForm):
    display_name = StringField(
        _l("Name to show"), validators=[DataRequired(), Length(max=80)],
        description=_l("Shown next to your contributions. It can be a nickname."),
        render_kw={"autocomplete": "nickname"},
    )
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254), VALID_EMAIL],
                       render_kw={"autocomplete": "email"})
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256)],
        description=_l("At least 10 characters. A few unrelated words are easy to remember and hard to guess."),
        render_kw={"autocomplete": "new-password"},
    )
    accept_terms = BooleanField(
        _l("I accept the terms of use and have read the privacy notice"),
        validators=[DataRequired(message=_l("You need to accept the terms to register."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"),
                            description=_l("Do not use this on a shared computer."))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254), VALID_EMAIL],
                       render_kw={"autocomplete": "email"})


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                             description=_l("At least 10 characters."),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token, for POST buttons (logout, confirm...)."""
