"""Forms for events: publishing and editing one."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.admin.processes import LocalDateTimeField
from app.houses.services import CAPACITY_MAX, KIND_LABELS
from app.models.event import EventKind


def _float(text):
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


class EventForm(FlaskForm):
    #: "house-<id>", "organisation-<id>" or "city"; the service checks the user may publish for it.
    target = SelectField(_l("Organised by"), validate_choice=False,
                         validators=[DataRequired(_l("Choose who organises the event."))])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in EventKind],
                       validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the event a title.")), Length(max=200)],
                        render_kw={"autocomplete": "off"})
    description = TextAreaField(_l("Description (optional)"), validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 5})
    address = StringField(_l("Address (optional at a house)"), validators=[Optional(), Length(max=300)],
                          description=_l("Leave empty for an event at the organising house."))
    lat = HiddenField()
    lon = HiddenField()
    starts_at = LocalDateTimeField(_l("Starts"), validators=[InputRequired(_l("Say when it starts."))])
    ends_at = LocalDateTimeField(_l("Ends"), validators=[InputRequired(_l("Say when it ends."))])
    capacity = IntegerField(_l("Places (optional)"), validators=[Optional(), NumberRange(min=1, max=CAPACITY_MAX)],
                            description=_l("Leave empty for no limit."), render_kw={"inputmode": "numeric"})
    registration_open = BooleanField(_l("People can register"), default=True)

    def fields(self):
        """The service's keyword arguments."""
        return {"kind": EventKind(self.kind.data), "title": self.title.data, "description": self.description.data or "",
                "address": self.address.data or "", "lat": _float(self.lat.data), "lon": _float(self.lon.data),
                "starts_at": self.starts_at.data, "ends_at": self.ends_at.data, "capacity": self.capacity.data,
                "registration_open": bool(self.registration_open.data)}


class EditEventForm(EventForm):
    target = None
