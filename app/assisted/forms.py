"""Forms of the facilitator's desk and of claiming a managed account."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.verification.services import DOCUMENT_LABELS

_NO_AUTOFILL = {"autocomplete": "off", "spellcheck": "false"}


class OpenSessionForm(FlaskForm):
    house = SelectField(_l("Casa del Quartiere"), coerce=int,
                        validators=[DataRequired(message=_l("Choose the Casa del Quartiere where you are."))])


class DocumentForm(FlaskForm):
    codice_fiscale = StringField(
        _l("Codice fiscale on the document"),
        validators=[DataRequired(message=_l("Type the codice fiscale printed on the document.")), Length(max=40)],
        description=_l("Finds the verified account of the person in front of you. Nothing is stored."),
        render_kw=dict(_NO_AUTOFILL, autocapitalize="characters", maxlength="40"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code shown by the person"),
        validators=[DataRequired(message=_l("Type the code the person shows you.")), Length(max=20)],
        description=_l("Six digits from “Get a code for a facilitator” in their account, or the claim code "
                       "printed on an earlier receipt."),
        render_kw=dict(_NO_AUTOFILL, autocapitalize="characters", maxlength="20"))


class ManagedAccountForm(FlaskForm):
    display_name = StringField(_l("Name to show with their contributions"),
                               validators=[DataRequired(message=_l("Enter the name the person wants to appear with.")),
                                           Length(max=80)], render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=30)],
                        description=_l("Only the Casa del Quartiere uses it, to reach the person. Never shown."),
                        render_kw={"autocomplete": "off", "inputmode": "tel"})
    birth_date = DateField(_l("Date of birth (optional)"), validators=[Optional()],
                           description=_l("Some participatory processes have a minimum age."))
    locale = SelectField(_l("Language"), choices=[SelectChoice("it", "Italiano"), SelectChoice("en", "English")])
    document_type = SelectField(_l("Document you looked at (optional)"),
                                choices=[SelectChoice("", "—")] + [SelectChoice(d.value, label)
                                                                  for d, label in DOCUMENT_LABELS.items()])
    codice_fiscale = StringField(
        _l("Codice fiscale (optional: verifies the account now)"), validators=[Optional(), Length(max=40)],
        description=_l("A verified account can support proposals and sign pacts. Only a keyed fingerprint is kept."),
        render_kw=dict(_NO_AUTOFILL, autocapitalize="characters", maxlength="40"))
    terms = BooleanField(_l("The person read (or heard) and accepts the terms of use"),
                         validators=[DataRequired(message=_l("The person must accept the terms of use."))])
    privacy = BooleanField(_l("The person read (or heard) the privacy notice and agrees"),
                           validators=[DataRequired(message=_l("The person must accept the privacy notice."))])


class ClaimForm(FlaskForm):
    code = StringField(_l("Claim code from your receipt"),
                       validators=[DataRequired(message=_l("Type the claim code printed on your receipt.")),
                                   Length(max=20)],
                       render_kw=dict(_NO_AUTOFILL, autocapitalize="characters", maxlength="20"))
    email = EmailField(_l("Your email address"), validators=[DataRequired(), Email(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(), Length(min=10, max=200)],
                             description=_l("At least 10 characters. A few unrelated words are easy to remember "
                                            "and hard to guess."),
                             render_kw={"autocomplete": "new-password"})
