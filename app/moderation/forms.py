"""Forms of moderation: flagging, appealing, deciding."""
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.admin.forms import MultiCheckboxField
from app.labels import FLAG_REASON_LABELS
from app.moderation.rules import rule_choices


class FlagContentForm(FlaskForm):
    reason = RadioField(_l("What is wrong with it?"),
                        choices=[SelectChoice(k, v) for k, v in FLAG_REASON_LABELS.items()],
                        validators=[DataRequired()])
    text = TextAreaField(_l("Details (optional)"), validators=[Optional(), Length(max=1000)])


class AppealForm(FlaskForm):
    text = TextAreaField(_l("Why is the decision wrong?"), validators=[DataRequired(), Length(min=10, max=2000)],
                         render_kw={"rows": 5})


# --- the moderators' forms (queue_routes) ----------------------------------------------------

#: Text columns of moderatable content, for the redaction form's labels.
TEXT_FIELD_LABELS = {
    "title": _l("Title"),
    "body": _l("Text"),
    "description": _l("Description"),
    "objectives": _l("Objectives"),
    "activities": _l("Activities"),
    "beneficiaries": _l("Beneficiaries"),
    "own_resources": _l("Resources of the proponents"),
    "resources_proponents": _l("Resources of the proponents"),
    "events": _l("Events"),
    "results": _l("Results"),
    "problems": _l("Problems"),
    "display_name": _l("Name shown"),
    "bio": _l("About"),
}

RULE_MISSING = _l("Choose the rule that was broken.")
REASON_MISSING = _l("Explain the decision: the author will read it.")


def text_field_label(name):
    return TEXT_FIELD_LABELS.get(name, name)


class _RuleMixin:
    """A select of the community rules, filled in the reader's language."""

    def fill_rules(self):
        self.rule.choices = [SelectChoice("", _("Choose a rule…"))] + [SelectChoice(k, v) for k, v in rule_choices()]


class RestoreForm(FlaskForm):
    reason = TextAreaField(_l("Note (optional)"), description=_l("The author is told the content is shown again."),
                           validators=[Optional(), Length(max=2000)])


class HideForm(_RuleMixin, FlaskForm):
    rule = SelectField(_l("Rule broken"), validators=[DataRequired(message=RULE_MISSING)])
    reason = TextAreaField(_l("Statement of reasons"),
                           description=_l("The author reads it; the public sees it on the notice that replaces the "
                                          "content."),
                           validators=[DataRequired(message=REASON_MISSING), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fill_rules()


class RedactForm(HideForm):
    """Edit out part of the content: one textarea per text field (added per kind), photos to remove."""

    remove_photos = MultiCheckboxField(_l("Photos to remove"), coerce=int, validators=[Optional()])
    reason = TextAreaField(_l("Statement of reasons"),
                           description=_l("Say what was edited out and why, without repeating it: the author reads "
                                          "it."),
                           validators=[DataRequired(message=REASON_MISSING), Length(max=2000)])


@lru_cache(maxsize=None)
def redact_form_class(target_type, text_fields):
    """The redaction form of one kind of content: a ``text_<name>`` textarea per text field."""
    attrs = {f"text_{name}": TextAreaField(text_field_label(name), validators=[Optional()]) for name in text_fields}
    return type(f"RedactForm_{target_type}", (RedactForm,), attrs)


class BlockForm(HideForm):
    reason = TextAreaField(_l("Justification"),
                           description=_l("The person receives it by email, with the address to contest the block."),
                           validators=[DataRequired(message=REASON_MISSING), Length(max=2000)])
    confirm = BooleanField(_l("I understand: this blocks the account and hides everything it wrote"),
                           validators=[DataRequired(message=_l("Confirm that you want to block the account."))])


class AppealDecisionForm(FlaskForm):
    outcome = RadioField(_l("Outcome of the appeal"),
                         choices=[SelectChoice("upheld", _l("Uphold: the decision stands")),
                                  SelectChoice("overturned", _l("Overturn: show the content again as it was"))],
                         validators=[DataRequired(message=_l("Uphold or overturn the decision."))])
    answer = TextAreaField(_l("Answer to the author"),
                           validators=[DataRequired(message=_l("Explain the outcome: the author will read it.")),
                                       Length(max=2000)])


class BulkForm(_RuleMixin, FlaskForm):
    """The same decision on the checked rows of the queue (restore or hide only)."""

    action = RadioField(_l("Decision"),
                        choices=[SelectChoice("restore", _l("Restore: no problem found")),
                                 SelectChoice("hide", _l("Hide, with the rule and the reason below"))],
                        validators=[DataRequired(message=_l("Choose restore or hide."))])
    rule = SelectField(_l("Rule broken (to hide)"), validators=[Optional()])
    reason = TextAreaField(_l("Statement of reasons (to hide)"),
                           description=_l("Every author reads the same text: keep it general."),
                           validators=[Optional(), Length(max=2000)])
    # The queue's filters, to come back to the same page.
    status = HiddenField()
    kind = HiddenField()
    flag_reason = HiddenField()
    page = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fill_rules()


class WordForm(FlaskForm):
    word = StringField(_l("Word or phrase"),
                       description=_l("New contributions containing it wait for a moderator before they are "
                                      "published. Whole words only, capitals do not matter."),
                       validators=[DataRequired(message=_l("Write a word or a phrase.")), Length(max=80)])
