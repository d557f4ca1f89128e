"""The facilitator's kiosk form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired


class StartKioskForm(FlaskForm):
    house = SelectField(_l("Casa del Quartiere of this computer"), coerce=int,
                        validators=[DataRequired(message=_l("Choose the Casa del Quartiere of this computer."))])
