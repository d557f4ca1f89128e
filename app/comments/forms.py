"""Forms for comments: write or answer one, edit one's own."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.comments.services import MAX_LENGTH

BODY_HINT = _l("You can use Markdown: **bold**, *italic*, lists and links. Mention someone taking part in this "
               "conversation with @ and their name.")


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=MAX_LENGTH)],
                         description=BODY_HINT)
    #: The comment answered, if this is a reply.
    parent_id = IntegerField(_l("Comment answered"), widget=HiddenField.widget,
                             validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])


class EditCommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=MAX_LENGTH)],
                         description=BODY_HINT)
