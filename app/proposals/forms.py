"""Forms for writing proposals and for what authors, co-authors and readers do on them."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

#: What the Markdown of a proposal may use, in words (app/markdown.py has the exact list).
MARKDOWN_HELP = _l("You can use **bold**, *italics*, lists (lines starting with “- ”), links and titles "
                   "(lines starting with “## ”). Images and HTML are not allowed: add photos below.")


class ProposalForm(FlaskForm):
    process_id = SelectField(_l("Participatory process"), coerce=int,
                             validators=[DataRequired(_l("Choose a process."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give your proposal a title.")), Length(max=140)],
                        description=_l("In a few words, e.g. “Benches and shade in piazza Madama Cristina”."),
                        render_kw={"autocomplete": "off"})
    body = TextAreaField(_l("Your proposal"), validators=[DataRequired(_l("Describe your proposal.")),
                                                         Length(max=20000)],
                         description=MARKDOWN_HELP, render_kw={"rows": 12})
    category_id = SelectField(_l("Category"), coerce=int, validators=[DataRequired(_l("Choose a category."))])
    district_id = SelectField(_l("District"), coerce=int, validators=[Optional()],
                              description=_l("Leave it on “Whole city” if the proposal is not for one district. "
                                             "With a point on the map, the district follows from the point."))
    lat = HiddenField()
    lon = HiddenField()
    photos = MultipleFileField(_l("Photos (up to 3, optional)"),
                               description=_l("JPEG, PNG or WebP. We remove the hidden data (such as the GPS "
                                              "position) from every photo."),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})
    coauthors = TextAreaField(_l("Co-authors (optional)"), validators=[Optional(), Length(max=2000)],
                              description=_l("Email addresses of up to 5 citizens registered on Piazza, separated "
                                             "by commas. They are invited and appear once they accept."),
                              render_kw={"rows": 2})


class EditForm(ProposalForm):
    """The same fields without the process (fixed) and co-authors (managed on the proposal's page)."""

    process_id = None
    coauthors = None


class AddendumForm(FlaskForm):
    body = TextAreaField(_l("Addendum"), validators=[DataRequired(_l("Write the addendum first.")), Length(max=5000)],
                         description=_l("The text cannot change any more since it has supports: add a dated "
                                        "note instead. Markdown works here too."), render_kw={"rows": 5})


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why are you withdrawing it? (optional, shown on the proposal's page)"),
                           validators=[Optional(), Length(max=1000)], render_kw={"rows": 3})


class InviteForm(FlaskForm):
    email = StringField(_l("Email address of the co-author"),
                        validators=[DataRequired(_l("Enter an email address.")), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off"})


class AnswerForm(FlaskForm):
    answer = HiddenField(validators=[DataRequired()])
