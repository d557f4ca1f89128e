"""What can be moderated: for each kind of content, how to find it, its author, its text and its page.

Moderation never imports the feature modules' services: it works on the models, through the
small description registered here for each ``target_type`` (the same names flags, follows and
comments use). Hiding sets the item's ``hidden_at``; every list, map, search, API and export of
the feature modules already leaves hidden items out, and a hidden item's comments go with it
(a comment thread is only shown on a visible item), so restoring it brings them back exactly.
"""
from dataclasses import dataclass, field
from typing import Callable

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.http import path_for


@dataclass(frozen=True)
class Moderatable:
    target_type: str
    model: type
    #: What it is, for people ("comment", "report"...).
    label: object
    #: Name of the column holding the author's user id.
    author_attr: str
    #: Text columns a moderator may redact, and that pre-moderation screens.
    text_fields: tuple
    #: item -> a short title for the queue.
    title: Callable
    #: item -> its page (a path), or None when it has none.
    url: Callable
    #: item -> True when the public could see it at all, moderation aside (drafts cannot be flagged).
    published: Callable = field(default=lambda item: True)
    #: Name of the "hidden by moderation" column, or None when the kind cannot be hidden (people).
    hidden_attr: str | None = "hidden_at"
    #: Called after the item was hidden or shown again (counters to refresh).
    changed: Callable | None = None
    #: item -> what notifications to the author call it; None: the title. Never the text itself
    #: (a comment is named by what it comments on), so that a redaction leaves nothing behind.
    subject: Callable | None = None
    #: Hidden with the rest when its author is blocked (not an organisation: others represent it too).
    hide_on_block: bool = True

    def subject_of(self, item):
        return (self.subject or self.title)(item) or ""

    def load(self, target_id):
        return db.session.get(self.model, target_id)

    def author_id(self, item):
        return getattr(item, self.author_attr)

    def is_hidden(self, item):
        return self.hidden_attr is not None and getattr(item, self.hidden_attr) is not None

    def text(self, item):
        """Everything a person wrote in the item, for screening."""
        return "\n".join(getattr(item, name) or "" for name in self.text_fields)


#: target_type -> Moderatable
KINDS = {}


def register(kind):
    KINDS[kind.target_type] = kind
    return kind


def kind_for(target_type):
    return KINDS.get(target_type)


def kind_label(target_type):
    kind = KINDS.get(target_type)
    return str(kind.label) if kind else target_type


def _comment_url(comment):
    from app.comments.services import COMMENTABLE

    spec = COMMENTABLE.get(comment.target_type)
    owner = spec.load(comment.target_id) if spec else None
    return f"{spec.url(owner)}#comment-{comment.id}" if owner is not None else None


def _comment_subject(comment):
    from app.comments.services import COMMENTABLE

    spec = COMMENTABLE.get(comment.target_type)
    owner = spec.load(comment.target_id) if spec else None
    return spec.title(owner) if owner is not None else ""


def _comment_changed(comment):
    from app.comments.services import recount

    recount(comment.target_type, comment.target_id)


def _photo_url(photo):
    owner = KINDS.get(photo.owner_type)
    item = owner.load(photo.owner_id) if owner else None
    return owner.url(item) if item is not None else None


def _document_owner(document):
    """The pact a document belongs to (documents are attached to pact proposals only), or None."""
    from app.models.pact import Pact

    return db.session.get(Pact, document.owner_id) if document.owner_type == "pact" else None


def _document_url(document):
    pact = _document_owner(document)
    return path_for("pacts.detail", pact_id=pact.id) if pact is not None else None


def _document_published(document):
    pact = _document_owner(document)
    return pact is not None and pact.status in _pact_public_statuses()


def _pact_report_url(report):
    return f"{path_for('pacts.detail', pact_id=report.pact_id)}#report-{report.id}"


def _register_all():
    from app.models.commons import Organisation
    from app.models.discussion import Comment, Debate
    from app.models.document import Document
    from app.models.opportunity import HelpCall
    from app.models.pact import Pact, PactReport
    from app.models.photo import Photo
    from app.models.proposal import Proposal, ProposalStatus
    from app.models.report import Report
    from app.models.user import User

    register(Moderatable("report", Report, _l("report"), "reporter_id", ("title", "description"),
                         title=lambda r: r.title, url=lambda r: path_for("reports.detail", report_id=r.id)))
    register(Moderatable("proposal", Proposal, _l("proposal"), "author_id", ("title", "body"),
                         title=lambda p: p.title, url=lambda p: path_for("proposals.detail", proposal_id=p.id),
                         published=lambda p: p.status != ProposalStatus.draft))
    register(Moderatable("comment", Comment, _l("comment"), "author_id", ("body",),
                         title=lambda c: (c.body or "")[:80], url=_comment_url, subject=_comment_subject,
                         published=lambda c: c.deleted_at is None, changed=_comment_changed))
    register(Moderatable("debate", Debate, _l("debate"), "author_id", ("title", "body"),
                         title=lambda d: d.title, url=lambda d: path_for("debates.detail", debate_id=d.id)))
    register(Moderatable("pact", Pact, _l("pact proposal"), "created_by_id",
                         ("title", "objectives", "activities", "beneficiaries", "own_resources"),
                         title=lambda p: p.title, url=lambda p: path_for("pacts.detail", pact_id=p.id),
                         published=lambda p: p.status in _pact_public_statuses()))
    register(Moderatable("pact_report", PactReport, _l("pact report"), "submitted_by_id",
                         ("activities", "events", "results", "problems", "resources_proponents"),
                         title=lambda r: r.pact.title, url=_pact_report_url,
                         published=lambda r: r.pact.status in _pact_public_statuses()))
    register(Moderatable("help_call", HelpCall, _l("call for help"), "author_id", ("title", "description"),
                         title=lambda c: c.title, url=lambda c: path_for("opportunities.detail", call_id=c.id)))
    register(Moderatable("photo", Photo, _l("photo"), "uploaded_by_id", (),
                         title=lambda p: "", url=_photo_url))
    # A PDF has no text a moderator could edit: it is hidden (neither listed nor served) or left alone.
    register(Moderatable("document", Document, _l("document"), "uploaded_by_id", (),
                         title=lambda d: d.filename, url=_document_url, published=_document_published))
    register(Moderatable("organisation", Organisation, _l("organisation"), "created_by_id",
                         ("name", "description", "website"), title=lambda o: o.name,
                         url=lambda o: path_for("commons.organisation_detail", organisation_id=o.id),
                         hide_on_block=False))
    register(Moderatable("user", User, _l("user profile"), "id", ("display_name", "bio"),
                         title=lambda u: u.display_name, url=lambda u: None, subject=lambda u: "",
                         published=lambda u: u.deleted_at is None, hidden_attr=None))


def _pact_public_statuses():
    from app.models.pact import PUBLIC_STATUSES

    return PUBLIC_STATUSES
