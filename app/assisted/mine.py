"""A person's own contributions, with the house where each was made with help (the claim lands here)."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.assisted.provenance import provenance_of
from app.assisted.records import action_label, describe
from app.extensions import db


@dataclass
class Contribution:
    label: str
    title: str
    url: str | None
    at: datetime
    house: str | None


def _rows(model, owner_column, user_id, action, at_column="created_at", limit=200):
    rows = db.session.scalars(select(model).where(getattr(model, owner_column) == user_id)
                              .order_by(getattr(model, at_column).desc()).limit(limit)).all()
    houses = provenance_of(model.__tablename__, [r.id for r in rows])
    out = []
    for row in rows:
        described = describe(model.__tablename__, row.id)
        if described is None:
            continue
        out.append(Contribution(str(action_label(action)), described.title, described.url,
                                getattr(row, at_column), houses.get(row.id)))
    return out


def contributions_of(user):
    """Newest first: reports, proposals, supports, comments, pact signatures and volunteering."""
    from app import models as m

    items = (_rows(m.Report, "reporter_id", user.id, "report.created")
             + _rows(m.Proposal, "author_id", user.id, "proposal.created")
             + _rows(m.Support, "user_id", user.id, "support.cast")
             + _rows(m.Comment, "author_id", user.id, "comment.created")
             + _rows(m.PactSignature, "signer_id", user.id, "pact.signed", at_column="signed_at")
             + _rows(m.PactVolunteer, "user_id", user.id, "pact.volunteered", at_column="joined_at")
             + _rows(m.EventRegistration, "user_id", user.id, "event.registered"))
    return sorted(items, key=lambda c: c.at, reverse=True)
