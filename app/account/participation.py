"""What a citizen did on Piazza, in "download my data", and what account deletion does to it.

Contributions (reports, proposals, debates, comments) stay public, attributed to "Former
participant". Supports are political opinions (GDPR Art. 9): on deletion they lose their user
like after the retention period, so counts stay exact. Pending co-author invitations and private
drafts go.
"""
from sqlalchemy import delete, select, update

from app.account.services import register_anonymiser, register_exporter
from app.extensions import db
from app.models.discussion import Comment, Debate
from app.media.services import delete_photo, photos_of
from app.models.proposal import Proposal, ProposalCoauthor, ProposalStatus, Support
from app.models.report import Flag, Report


def _iso(value):
    return value.isoformat() if value is not None else None


def _rows(model, *where, order=None):
    return db.session.scalars(select(model).where(*where).order_by(order if order is not None else model.id))


def export_participation(user):
    return {
        "reports": [{"id": r.id, "title": r.title, "description": r.description, "status": r.status.value,
                     "lat": r.lat, "lon": r.lon, "created_at": _iso(r.created_at)}
                    for r in _rows(Report, Report.reporter_id == user.id)],
        "proposals": [{"id": p.id, "process": p.process.slug, "title": p.title, "body": p.body,
                       "status": p.status.value, "lat": p.lat, "lon": p.lon, "created_at": _iso(p.created_at),
                       "published_at": _iso(p.published_at), "addenda": [a.body for a in p.addenda]}
                      for p in _rows(Proposal, Proposal.author_id == user.id)],
        "coauthorships": [{"proposal_id": c.proposal_id, "invited_at": _iso(c.invited_at),
                           "accepted_at": _iso(c.accepted_at)}
                          for c in _rows(ProposalCoauthor, ProposalCoauthor.user_id == user.id)],
        "supports": [{"proposal_id": s.proposal_id, "created_at": _iso(s.created_at)}
                     for s in _rows(Support, Support.user_id == user.id)],
        "debates": [{"id": d.id, "title": d.title, "body": d.body, "created_at": _iso(d.created_at)}
                    for d in _rows(Debate, Debate.author_id == user.id)],
        "comments": [{"id": c.id, "on": f"{c.target_type}/{c.target_id}", "body": c.body,
                      "created_at": _iso(c.created_at), "deleted_at": _iso(c.deleted_at)}
                     for c in _rows(Comment, Comment.author_id == user.id)],
        "flags": [{"on": f"{f.target_type}/{f.target_id}", "reason": f.reason, "text": f.text,
                   "created_at": _iso(f.created_at)}
                  for f in _rows(Flag, Flag.user_id == user.id)],
    }


def anonymise_participation(user):
    db.session.execute(update(Support).where(Support.user_id == user.id).values(user_id=None))
    # Drafts were never public: they go, with their photos and invitations.
    for draft in db.session.scalars(select(Proposal).where(Proposal.author_id == user.id,
                                                          Proposal.status == ProposalStatus.draft)):
        for photo in photos_of("proposal", draft.id, include_hidden=True):
            delete_photo(photo)
        db.session.delete(draft)
    db.session.execute(delete(ProposalCoauthor).where(ProposalCoauthor.user_id == user.id,
                                                      ProposalCoauthor.accepted_at.is_(None)))


register_exporter("participation", export_participation)
register_anonymiser(anonymise_participation)
