"""Forms of in-person verification."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.verification.services import DOCUMENT_LABELS


class FindCitizenForm(FlaskForm):
    """Search by email (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    email = EmailField(_l("Email address of the citizen"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "off"})


class VerifyInPersonForm(FlaskForm):
    document_type = SelectField(_l("Document you looked at"),
                                choices=[SelectChoice("", "—")] + [SelectChoice(d.value, label)
                                                                  for d, label in DOCUMENT_LABELS.items()],
                                validators=[DataRequired(message=_l("Choose the document you looked at."))])
    codice_fiscale = StringField(
        _l("Codice fiscale"),
        validators=[DataRequired(message=_l("Type the codice fiscale printed on the document.")),
                    Length(max=40)],
        description=_l("16 characters, as printed on the document. Piazza keeps only a keyed fingerprint "
                       "of it, never the code itself."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                   "maxlength": "40", "inputmode": "text"},
    )
    house = SelectField(_l("Casa del Quartiere"), coerce=int,
                        validators=[DataRequired(message=_l("Choose the Casa del Quartiere where you are."))])
    residency = BooleanField(
        _l("The document (or a certificate shown with it) confirms residency in Turin"),
        validators=[DataRequired(message=_l("Confirm that the document shows residency in Turin."))])


class RevokeVerificationForm(FlaskForm):
    reason = TextAreaField(_l("Why is the verification revoked? (the citizen is told)"),
                           validators=[DataRequired(message=_l(
                               "Say why the verification is revoked: the citizen is told.")), Length(max=500)])
