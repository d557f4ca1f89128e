"""Forms of moderation: flagging, appealing, deciding."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.labels import FLAG_REASON_LABELS


class FlagContentForm(FlaskForm):
    reason = RadioField(_l("What is wrong with it?"),
                        choices=[SelectChoice(k, v) for k, v in FLAG_REASON_LABELS.items()],
                        validators=[DataRequired()])
    text = TextAreaField(_l("Details (optional)"), validators=[Optional(), Length(max=1000)])


class AppealForm(FlaskForm):
    text = TextAreaField(_l("Why is the decision wrong?"), validators=[DataRequired(), Length(min=10, max=2000)])
