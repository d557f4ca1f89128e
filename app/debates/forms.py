"""Forms for debates: opening or editing one, and turning it into a proposal."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class DebateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=140)],
                        description=_l("The question or topic, in a few words."))
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=10000)],
                         description=_l("Explain the topic and what you would like to discuss. You can use "
                                        "Markdown: **bold**, *italic*, lists and links."),
                         render_kw={"rows": 10})
    category_id = SelectField(_l("Category (optional)"), coerce=int, validators=[Optional()])
    district_id = SelectField(_l("District (optional)"), coerce=int, validators=[Optional()],
                              description=_l("If the topic concerns one district."))


class ConvertForm(FlaskForm):
    process_id = SelectField(_l("Participatory process"), coerce=int, validators=[DataRequired()],
                             description=_l("The proposal is created as a draft in this process: you can "
                                            "complete it before publishing."))
