"""Direct links to content hidden by moderation: a placeholder that says when and why, not a 404.

The public reads the notice (the date, the statement of reasons, the rule) in the frame of the
item's page and nothing of the item itself: no title, text, photos, comments, actions or map
marker. A moderator also sees the text behind the notice and a link to the case; the author, a
link to the statement of reasons. What pre-moderation holds was never published: for everyone but
its author (whose page the feature shows as before) it stays the 404 of something that does not
exist, and so do drafts hidden with a blocked author's other contributions.
"""
from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.moderation import bp, services
from app.moderation.forms import text_field_label
from app.moderation.registry import kind_for

#: The placeholder page's heading: the item's own title may be what was hidden.
HEADINGS = {
    "report": _l("Hidden report"),
    "proposal": _l("Hidden proposal"),
    "debate": _l("Hidden debate"),
    "help_call": _l("Hidden call for help"),
    "pact": _l("Hidden pact"),
    "organisation": _l("Hidden organisation"),
}


def public_notice(target_type, item):
    """The notice shown in place of a published item hidden by moderation.

    None when the item is shown, and when it must stay out of sight altogether (a draft, or a
    contribution pre-moderation holds and nobody has approved yet).
    """
    kind = kind_for(target_type)
    if item is None or kind is None or not kind.is_hidden(item) or not kind.published(item):
        return None
    notice = services.hidden_notice(target_type, item)
    return None if notice is None or notice["held"] else notice


def hidden_page(target_type, item_id, back_url, back_label):
    """The placeholder page (200) of a hidden item; None when the item is shown or is nobody's business."""
    kind = kind_for(target_type)
    item = kind.load(item_id)
    notice = public_notice(target_type, item)
    if notice is None:
        return None
    moderator = services.is_moderator(current_user)
    case = services.case_for(target_type, item.id)
    author = (current_user.is_authenticated and case is not None and case.author_id == current_user.id)
    return render_template(
        "moderation/hidden_item.html", notice=notice, heading=HEADINGS.get(target_type, kind.label),
        target_type=target_type, back_url=back_url, back_label=back_label,
        fields=[(name, text_field_label(name), getattr(item, name)) for name in kind.text_fields] if moderator else (),
        case_url=url_for("moderation.case_detail", case_id=case.id) if moderator and case is not None else None,
        statement_url=url_for("moderation.statement", decision_id=case.last_decision_id)
        if author and case.last_decision_id else None)


@bp.app_template_global()
def moderation_placeholder(target_type, item):
    """For templates listing items of other kinds inside a page (a pact's reports): the notice, or None."""
    return public_notice(target_type, item)


@bp.app_template_global()
def moderation_case_url(target_type, target_id):
    """The case of an item in the moderators' queue, for moderators only (None for everyone else)."""
    if not services.is_moderator(current_user):
        return None
    case = services.case_for(target_type, target_id)
    return url_for("moderation.case_detail", case_id=case.id) if case is not None else None
