"""What the administrators' report reads: sessions (filtered, paginated), one session, unusual patterns.

Everything here only reads, and every number is counted by the database (GROUP BY / HAVING), never
by looping over rows in Python. A staff read writes no audit event, as with the audit log itself.
"""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.assisted.statistics import month_starts, next_month, utc_start
from app.extensions import db
from app.http import db_id
from app.models.assisted import AssistedAction, AssistedSession, EndReason, SessionKind
from app.models.base import utcnow
from app.models.place import NeighbourhoodHouse
from app.models.proposal import Proposal, Support
from app.models.user import User

#: The unusual-patterns section looks this far back.
ALERT_DAYS = 30
#: A facilitator whose sessions ran into the hard time limit this often in ALERT_DAYS is listed:
#: sessions left open at an unattended computer, or help that routinely takes too long.
HARD_LIMIT_REPEATS = 3
#: Actions that put a support on a proposal.
SUPPORT_ACTIONS = ("support.cast", "support.paper")

KIND_LABELS = {SessionKind.assist: _l("At the desk"), SessionKind.paper: _l("Paper supports")}
END_LABELS = {EndReason.closed: _l("Ended by the facilitator"), EndReason.hard_limit: _l("Time limit reached"),
              EndReason.idle: _l("Left idle"), EndReason.signed_out: _l("Facilitator signed out")}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def kind_label(kind):
    return KIND_LABELS.get(kind, kind)


def end_of(session, now=None):
    """(moment, reason) the session ended, or (now, None) while it is open.

    A session past its hard or idle end is over even if nobody has made the request that records
    it yet (sessions end by timestamp, lazily): this report reads the end from the clock too.
    """
    if session.ended_at is not None:
        return session.ended_at, session.end_reason
    now = now or utcnow()
    return session.expiry(now) or (now, None)


def end_label(session, now=None):
    reason = end_of(session, now)[1]
    return END_LABELS.get(reason, reason) if reason is not None else _l("Still open")


def end_value(session, now=None):
    """The end reason as data (CSV): closed, hard_limit, idle, signed_out, or open."""
    reason = end_of(session, now)[1]
    return reason.value if reason is not None else "open"


def duration_minutes(session, now=None):
    """Whole minutes from opening to the end (to now while it is open)."""
    end = end_of(session, now)[0]
    return max(0, int((end - session.opened_at).total_seconds() // 60))


def _id_arg(value):
    try:
        return db_id(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    house_id: int | None = None
    facilitator_id: int | None = None
    #: The first day of a Rome month.
    month: date | None = None

    @classmethod
    def from_args(cls, args):
        """From the query string; anything malformed is simply no filter."""
        found = _MONTH.match(args.get("month", ""))
        month = date(int(found.group(1)), int(found.group(2)), 1) if found else None
        return cls(_id_arg(args.get("house")), _id_arg(args.get("facilitator")), month)

    def as_args(self):
        args = {"house": self.house_id, "facilitator": self.facilitator_id,
                "month": self.month.strftime("%Y-%m") if self.month else None}
        return {k: v for k, v in args.items() if v is not None}

    def conditions(self):
        where = []
        if self.house_id is not None:
            where.append(AssistedSession.house_id == self.house_id)
        if self.facilitator_id is not None:
            where.append(AssistedSession.facilitator_id == self.facilitator_id)
        if self.month is not None:
            where += [AssistedSession.opened_at >= utc_start(self.month),
                      AssistedSession.opened_at < utc_start(next_month(self.month))]
        return where


class RowPagination(SelectPagination):
    """Flask-SQLAlchemy's pagination of a select, keeping whole rows (an entity and its columns)."""

    def _query_items(self):
        query = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(query).all())


def sessions_query(filters):
    """Sessions, newest first, with house, facilitator, person helped, paper proposal and action count."""
    facilitator, citizen = aliased(User), aliased(User)
    counts = select(AssistedAction.session_id, func.count(AssistedAction.id).label("n")) \
        .group_by(AssistedAction.session_id).subquery()
    return (select(AssistedSession, NeighbourhoodHouse.name.label("house_name"),
                   facilitator.display_name.label("facilitator_name"), citizen.display_name.label("citizen_name"),
                   Proposal.title.label("proposal_title"), func.coalesce(counts.c.n, 0).label("actions"))
            .join(NeighbourhoodHouse, NeighbourhoodHouse.id == AssistedSession.house_id)
            .join(facilitator, facilitator.id == AssistedSession.facilitator_id)
            .outerjoin(citizen, citizen.id == AssistedSession.citizen_id)
            .outerjoin(Proposal, Proposal.id == AssistedSession.proposal_id)
            .outerjoin(counts, counts.c.session_id == AssistedSession.id)
            .where(*filters.conditions())
            .order_by(AssistedSession.opened_at.desc(), AssistedSession.id.desc()))


def sessions_page(filters, page, per_page=50):
    return RowPagination(select=sessions_query(filters), session=db.session, page=page, per_page=per_page,
                         error_out=False)


def totals(filters):
    """(sessions, actions) matching the filters."""
    sessions = db.session.scalar(select(func.count(AssistedSession.id)).where(*filters.conditions())) or 0
    actions = db.session.scalar(select(func.count(AssistedAction.id))
                                .join(AssistedSession, AssistedSession.id == AssistedAction.session_id)
                                .where(*filters.conditions())) or 0
    return sessions, actions


def filter_choices(now=None):
    """Houses, facilitators who ever ran a session, and the last twelve months, for the filter form."""
    houses = db.session.execute(select(NeighbourhoodHouse.id, NeighbourhoodHouse.name)
                                .order_by(NeighbourhoodHouse.name)).all()
    facilitators = db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(select(AssistedSession.facilitator_id)))
        .order_by(User.display_name, User.id)).all()
    return houses, facilitators, list(reversed(month_starts(now)))


def session_actions(session_id):
    return db.session.scalars(select(AssistedAction).where(AssistedAction.session_id == session_id)
                              .order_by(AssistedAction.created_at, AssistedAction.id)).all()


# --- unusual patterns ------------------------------------------------------------------------------

@dataclass
class Patterns:
    since: object
    #: (facilitator id, name, managed accounts created)
    managed: list
    #: (facilitator id, name, proposal id, proposal title, supports)
    supports: list
    #: (session id, opened_at, house name, facilitator id, name, actions)
    capped: list
    #: (facilitator id, name, sessions ended by the hard limit)
    hard_limits: list
    managed_threshold: int
    supports_threshold: int
    max_actions: int
    hard_limit_repeats: int = HARD_LIMIT_REPEATS

    @property
    def any(self):
        return bool(self.managed or self.supports or self.capped or self.hard_limits)


def _managed_accounts(since, threshold):
    n = func.count(AssistedAction.id)
    per = select(AssistedAction.facilitator_id.label("facilitator_id"), n.label("n")) \
        .where(AssistedAction.action == "account.created", AssistedAction.created_at >= since) \
        .group_by(AssistedAction.facilitator_id).having(n >= threshold).subquery()
    return db.session.execute(select(User.id, User.display_name, per.c.n).join(per, per.c.facilitator_id == User.id)
                              .order_by(per.c.n.desc(), User.display_name)).all()


def _supports_per_proposal(since, threshold):
    n = func.count(AssistedAction.id)
    per = select(AssistedAction.facilitator_id.label("facilitator_id"), Support.proposal_id.label("proposal_id"),
                 n.label("n")) \
        .join(Support, Support.id == AssistedAction.record_id) \
        .where(AssistedAction.record_type == "supports", AssistedAction.action.in_(SUPPORT_ACTIONS),
               AssistedAction.created_at >= since) \
        .group_by(AssistedAction.facilitator_id, Support.proposal_id).having(n >= threshold).subquery()
    return db.session.execute(
        select(User.id, User.display_name, Proposal.id, Proposal.title, per.c.n)
        .join(per, per.c.facilitator_id == User.id).join(Proposal, Proposal.id == per.c.proposal_id)
        .order_by(per.c.n.desc(), User.display_name, Proposal.id)).all()


def _capped_sessions(since, cap):
    n = func.count(AssistedAction.id)
    per = select(AssistedAction.session_id.label("session_id"), n.label("n")) \
        .join(AssistedSession, AssistedSession.id == AssistedAction.session_id) \
        .where(AssistedSession.opened_at >= since) \
        .group_by(AssistedAction.session_id).having(n >= cap).subquery()
    return db.session.execute(
        select(AssistedSession.id, AssistedSession.opened_at, NeighbourhoodHouse.name, User.id, User.display_name,
               per.c.n)
        .join(per, per.c.session_id == AssistedSession.id)
        .join(NeighbourhoodHouse, NeighbourhoodHouse.id == AssistedSession.house_id)
        .join(User, User.id == AssistedSession.facilitator_id)
        .order_by(AssistedSession.opened_at.desc())).all()


def _hard_limits(since, repeats):
    n = func.count(AssistedSession.id)
    per = select(AssistedSession.facilitator_id.label("facilitator_id"), n.label("n")) \
        .where(AssistedSession.end_reason == EndReason.hard_limit, AssistedSession.opened_at >= since) \
        .group_by(AssistedSession.facilitator_id).having(n >= repeats).subquery()
    return db.session.execute(select(User.id, User.display_name, per.c.n).join(per, per.c.facilitator_id == User.id)
                              .order_by(per.c.n.desc(), User.display_name)).all()


def unusual_patterns(now=None):
    """What the safeguards ask an administrator to look at, over the last ALERT_DAYS days."""
    config = current_app.config
    since = (now or utcnow()) - timedelta(days=ALERT_DAYS)
    return Patterns(
        since=since,
        managed=_managed_accounts(since, config["ASSISTED_ALERT_MANAGED"]),
        supports=_supports_per_proposal(since, config["ASSISTED_ALERT_SUPPORTS"]),
        capped=_capped_sessions(since, config["ASSISTED_MAX_ACTIONS"]),
        hard_limits=_hard_limits(since, HARD_LIMIT_REPEATS),
        managed_threshold=config["ASSISTED_ALERT_MANAGED"], supports_threshold=config["ASSISTED_ALERT_SUPPORTS"],
        max_actions=config["ASSISTED_MAX_ACTIONS"])
