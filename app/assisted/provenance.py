"""Provenance: every record created while a facilitator acts for a citizen is written down.

The ORM hook below runs for every flush of a request that acts in an assisted session: each new
object of a tracked kind gets one AssistedAction row (session, facilitator, house, citizen) and one
audit event, in the same transaction. Flows do not need to know they are assisted: a report or a
support made through the usual pages and services is caught here, and a kind added later only needs
a line in ``_tracked()``.
"""
from dataclasses import dataclass, field

from flask import g, has_request_context
from sqlalchemy import delete as sa_delete
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.assisted import AssistedAction, AssistedSession


@dataclass(frozen=True)
class Acting:
    """Who acts for whom, as plain ids (read inside a flush: no lazy loading there)."""

    session_id: int
    facilitator_id: int
    house_id: int
    citizen_id: int | None
    #: model class -> action name, replacing the default (paper supports: "support.paper").
    overrides: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Ref:
    id: int


_TRACKED = {}


def _tracked():
    """Model class -> action name of every kind of record a citizen can create."""
    if not _TRACKED:
        from app import models as m

        _TRACKED.update({
            m.Report: "report.created",
            m.Proposal: "proposal.created",
            m.ProposalAddendum: "proposal.addendum",
            m.ProposalCoauthor: "proposal.coauthor_invited",
            m.Support: "support.cast",
            m.Comment: "comment.created",
            m.Debate: "debate.created",
            m.Pact: "pact.proposed",
            m.PactJoinRequest: "pact.join_requested",
            m.PactSignature: "pact.signed",
            m.PactVolunteer: "pact.volunteered",
            m.PactReport: "pact.report_filed",
            m.EventRegistration: "event.registered",
            m.Flag: "content.flagged",
            m.HelpCall: "help.called",
            m.HelpAnswer: "help.answered",
            m.HelpOffer: "help.offered",
            m.Photo: "photo.added",
            m.Document: "document.added",
            m.PactVersion: "pact.version_proposed",
            m.Commons: "commons.proposed",
            m.Organisation: "organisation.created",
            m.OrganisationMember: "organisation.joined",
            m.ModerationAppeal: "moderation.appealed",
        })
    return _TRACKED


#: Action names with their labels live in app.assisted.labels (translated); these are the keys.
def tracked_actions():
    return sorted(set(_tracked().values()) | {"support.paper", "account.created"})


def acting():
    """The Acting of this request, or None outside an assisted session."""
    if not has_request_context():
        return None
    return g.get("assisted_acting")


@event.listens_for(Session, "after_flush")
def _collect(session, flush_context):
    who = acting()
    if who is None:
        return
    if session.new or session.dirty or session.deleted:
        session.info["assisted_changed"] = True
    tracked = _tracked()
    found = [(obj, who.overrides.get(type(obj)) or tracked[type(obj)]) for obj in session.new if type(obj) in tracked]
    if found:
        session.info.setdefault("assisted_new", []).extend(found)


@event.listens_for(Session, "after_flush_postexec")
def _write(session, flush_context):
    found = session.info.pop("assisted_new", None)
    who = acting()
    if not found or who is None:
        return
    from app.audit.services import record

    for obj, action in found:
        add_action(who, action, obj.__tablename__, obj.id, session=session, record=record)
    g.assisted_recorded = True


@event.listens_for(Session, "after_commit")
def _committed(session):
    if session.info.pop("assisted_changed", False) and has_request_context():
        g.assisted_committed = True


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop("assisted_changed", None)
    session.info.pop("assisted_new", None)


def add_action(who, action, record_type, record_id, *, citizen_id=None, session=None, record=None):
    """Write the provenance row and the audit event of one record (also used outside the hook)."""
    if record is None:
        from app.audit.services import record
    session = session or db.session
    citizen = citizen_id if citizen_id is not None else who.citizen_id
    # SQLite reuses the highest id of a deleted row (a withdrawn support, then a new one): a row left for
    # the deleted record would then name the new one, so it goes (the audit log keeps the old action).
    session.execute(sa_delete(AssistedAction).where(AssistedAction.record_type == record_type,
                                                    AssistedAction.record_id == record_id))
    session.add(AssistedAction(session_id=who.session_id, facilitator_id=who.facilitator_id, house_id=who.house_id,
                               citizen_id=citizen, action=action, record_type=record_type, record_id=record_id))
    record("assisted." + action, actor=_Ref(who.facilitator_id), target_type=record_type, target_id=record_id,
           details={"session_id": who.session_id, "house_id": who.house_id, "citizen_id": citizen})


def action_count(session_id):
    return db.session.scalar(select(func.count(AssistedAction.id)).where(AssistedAction.session_id == session_id))


def provenance_of(record_type, record_ids):
    """record id -> house name for those of ``record_ids`` created with help (one query)."""
    ids = [i for i in record_ids if i is not None]
    if not ids:
        return {}
    from app.models.place import NeighbourhoodHouse

    rows = db.session.execute(
        select(AssistedAction.record_id, NeighbourhoodHouse.name)
        .join(NeighbourhoodHouse, NeighbourhoodHouse.id == AssistedAction.house_id)
        .where(AssistedAction.record_type == record_type, AssistedAction.record_id.in_(ids))).all()
    return {record_id: name for record_id, name in rows}


def house_of(record):
    """The name of the house where ``record`` was created with help, or None."""
    if record is None or getattr(record, "id", None) is None:
        return None
    return provenance_of(record.__tablename__, [record.id]).get(record.id)


def session_of(record_type, record_id):
    """The AssistedSession in which the record was created, or None."""
    return db.session.scalar(select(AssistedSession).join(AssistedAction, AssistedAction.session_id == AssistedSession.id)
                             .where(AssistedAction.record_type == record_type, AssistedAction.record_id == record_id))
