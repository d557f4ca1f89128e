"""What an assisted action (or any contribution) is, in words and with a link: for receipts and lists."""
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from app.extensions import db

ACTION_LABELS = {
    "account.created": _l("Account created"),
    "report.created": _l("Report placed"),
    "proposal.created": _l("Proposal written"),
    "proposal.addendum": _l("Addendum to a proposal"),
    "proposal.coauthor_invited": _l("Co-author invited"),
    "support.cast": _l("Proposal supported"),
    "support.paper": _l("Paper support entered"),
    "comment.created": _l("Comment written"),
    "debate.created": _l("Debate opened"),
    "pact.proposed": _l("Collaboration pact proposed"),
    "pact.join_requested": _l("Asked to join a pact proposal"),
    "pact.signed": _l("Pact signed"),
    "pact.volunteered": _l("Joined a pact as a volunteer"),
    "pact.report_filed": _l("Pact report filed"),
    "event.registered": _l("Registered for an event"),
    "content.flagged": _l("Content flagged"),
    "help.called": _l("Call for help posted"),
    "help.answered": _l("Call for help answered"),
    "help.offered": _l("Help offered"),
    "photo.added": _l("Photo added"),
    "document.added": _l("Document attached"),
    "pact.version_proposed": _l("New version of a pact text"),
    "commons.proposed": _l("Commons proposed"),
    "organisation.created": _l("Organisation created"),
    "organisation.joined": _l("Joined an organisation"),
    "moderation.appealed": _l("Moderation decision appealed"),
}

#: Actions that are part of another one on a receipt (a report's photos, a pact's new commons...), left out of
#: the list.
MINOR_ACTIONS = frozenset({"photo.added", "document.added", "commons.proposed"})


def action_label(action):
    return ACTION_LABELS.get(action, action)


@dataclass
class Described:
    title: str
    #: The page of the record (a path), or None when it has none of its own.
    url: str | None


def _report(rid):
    from app.models import Report

    r = db.session.get(Report, rid)
    return r and Described(r.title, url_for("reports.detail", report_id=r.id))


def _proposal(rid):
    from app.models import Proposal

    p = db.session.get(Proposal, rid)
    return p and Described(p.title, url_for("proposals.detail", proposal_id=p.id))


def _support(rid):
    from app.models import Support

    s = db.session.get(Support, rid)
    return s and _proposal(s.proposal_id)


def _addendum(rid):
    from app.models import ProposalAddendum

    a = db.session.get(ProposalAddendum, rid)
    return a and _proposal(a.proposal_id)


def _coauthor(rid):
    from app.models import ProposalCoauthor

    c = db.session.get(ProposalCoauthor, rid)
    return c and _proposal(c.proposal_id)


def _comment(rid):
    from app.comments.services import comment_url
    from app.models import Comment
    from app.models.base import DomainError

    c = db.session.get(Comment, rid)
    if c is None:
        return None
    try:
        url = comment_url(c)
    except DomainError:
        url = None
    text = c.body if len(c.body) <= 80 else c.body[:77] + "…"
    return Described(text, url)


def _debate(rid):
    from app.models import Debate

    d = db.session.get(Debate, rid)
    return d and Described(d.title, url_for("debates.detail", debate_id=d.id))


def _pact(rid):
    from app.models import Pact

    p = db.session.get(Pact, rid)
    return p and Described(p.title, url_for("pacts.detail", pact_id=p.id))


def _pact_child(model_name):
    def describe(rid):
        from app import models

        row = db.session.get(getattr(models, model_name), rid)
        return row and _pact(row.pact_id)

    return describe


def _event_registration(rid):
    from app.models import EventRegistration

    r = db.session.get(EventRegistration, rid)
    if r is None:
        return None
    return Described(r.event.title, url_for("houses.event_detail", event_id=r.event_id))


def _user(rid):
    from app.models import User

    u = db.session.get(User, rid)
    return u and Described(u.display_name, None)


def _flag(rid):
    from app.models import Flag

    f = db.session.get(Flag, rid)
    return f and Described(f"{f.target_type} #{f.target_id}", None)


DESCRIBERS = {
    "reports": _report, "proposals": _proposal, "supports": _support, "proposal_addenda": _addendum,
    "proposal_coauthors": _coauthor, "comments": _comment, "debates": _debate, "pacts": _pact,
    "pact_join_requests": _pact_child("PactJoinRequest"), "pact_signatures": _pact_child("PactSignature"),
    "pact_volunteers": _pact_child("PactVolunteer"), "pact_reports": _pact_child("PactReport"),
    "pact_versions": _pact_child("PactVersion"),
    "event_registrations": _event_registration, "users": _user, "flags": _flag,
}


def describe(record_type, record_id):
    """Described(title, url) of a record, or None when it is gone or unknown."""
    describer = DESCRIBERS.get(record_type)
    return describer(record_id) if describer else None
