"""Forms of paper sessions: open one for a proposal, enter one signature sheet line."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.verification.services import DOCUMENT_LABELS

_NO_AUTOFILL = {"autocomplete": "off", "spellcheck": "false"}


class OpenPaperForm(FlaskForm):
    house = SelectField(_l("Casa del Quartiere"), coerce=int,
                        validators=[DataRequired(message=_l("Choose the Casa del Quartiere where you are."))])
    proposal = IntegerField(_l("Proposal number"),
                            validators=[InputRequired(message=_l("Type the number of the proposal on the sheets.")),
                                        NumberRange(min=1, message=_l("Type the number of the proposal on the "
                                                                      "sheets."))],
                            description=_l("The number in the proposal's address, e.g. 12 for /proposals/12. "
                                           "Or find it below."),
                            render_kw={"inputmode": "numeric", "autocomplete": "off"})
    event = SelectField(_l("Event where the sheets were signed (optional)"), coerce=int, validators=[Optional()])


class PaperEntryForm(FlaskForm):
    name = StringField(_l("Name as written on the sheet"),
                       validators=[DataRequired(message=_l("Type the name as written on the sheet.")),
                                   Length(max=80)],
                       render_kw={"autocomplete": "off", "autofocus": True})
    codice_fiscale = StringField(
        _l("Codice fiscale"),
        validators=[DataRequired(message=_l("Type the codice fiscale written on the sheet.")), Length(max=40)],
        description=_l("Only a keyed fingerprint is kept, never the number."),
        render_kw=dict(_NO_AUTOFILL, autocapitalize="characters", maxlength="40"))
    document_type = SelectField(_l("Document"),
                                choices=[SelectChoice("", "—")] + [SelectChoice(d.value, label)
                                                                  for d, label in DOCUMENT_LABELS.items()],
                                validators=[DataRequired(message=_l("Choose the document written on the sheet."))])
    birth_date = DateField(_l("Date of birth"),
                           validators=[InputRequired(message=_l("Type the date of birth written on the sheet."))])
    signed_on = DateField(_l("Date of signature"),
                          validators=[InputRequired(message=_l("Type the date the person signed."))])
    sheet_checked = BooleanField(_l("I checked the signature sheet"),
                                 validators=[DataRequired(message=_l("Check the signature on the sheet, then tick "
                                                                     "the box."))])
