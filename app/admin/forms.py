"""Admin forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.user import Role


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value) for r in Role])
    action = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[Optional(), Length(max=500)])


class VerifyForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[Optional(), Length(max=500)])


class DepartmentsForm(FlaskForm):
    departments = MultiCheckboxField(_l("Departments"), coerce=int)
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[Optional(), Length(max=500)])


class HousesForm(FlaskForm):
    houses = MultiCheckboxField(_l("Neighbourhood houses"), coerce=int)
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[Optional(), Length(max=500)])
