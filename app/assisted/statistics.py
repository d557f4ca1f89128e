"""Public numbers of the Case del Quartiere: per house and per month, and the houses' share per district.

Months are Turin's calendar months (Europe/Rome). Rather than truncating timestamps with each engine's
own date functions (SQLite and PostgreSQL differ, and neither knows Rome's daylight saving time the
same way), the month boundaries are computed here as UTC instants and the database sorts every row
into its month with one CASE expression: the counting stays a GROUP BY in SQL on both engines.
Grouping happens over a subquery because PostgreSQL does not recognise two renderings of a CASE with
bound parameters as the same GROUP BY expression.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, literal_column, select

from app.extensions import db
from app.models.assisted import AssistedAction, AssistedSession
from app.models.base import utcnow
from app.models.discussion import Comment, Debate
from app.models.place import District, NeighbourhoodHouse
from app.models.proposal import Proposal, ProposalStatus, Support
from app.models.report import Report
from app.models.user import User

ROME = ZoneInfo("Europe/Rome")
MONTHS = 12


def month_starts(now=None, count=MONTHS):
    """The first days of the last ``count`` Rome months (this one included), oldest first."""
    local = (now or utcnow()).astimezone(ROME)
    index = local.year * 12 + local.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def next_month(day):
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def utc_start(day):
    """The UTC instant at which ``day`` begins in Turin."""
    return datetime(day.year, day.month, day.day, tzinfo=ROME).astimezone(timezone.utc)


@dataclass(frozen=True)
class Window:
    """Consecutive Rome months and their boundaries as UTC instants (one more boundary than months)."""

    months: list
    bounds: list

    @classmethod
    def last(cls, now=None, count=MONTHS):
        months = month_starts(now, count)
        return cls(months, [utc_start(m) for m in months] + [utc_start(next_month(months[-1]))])

    @property
    def start(self):
        return self.bounds[0]

    @property
    def end(self):
        return self.bounds[-1]

    def contains(self, column):
        return and_(column >= self.start, column < self.end)

    def bucket(self, column):
        """SQL: the index (0 = oldest) of the month ``column`` falls in; rows must be inside the window."""
        # Month numbers are rendered inline: PostgreSQL cannot type a bare parameter in a CASE result.
        return case(*[(column < bound, literal_column(str(i))) for i, bound in enumerate(self.bounds[1:])])


@dataclass
class MonthCounts:
    month: date
    sessions: int = 0
    people: int = 0
    managed: int = 0
    claimed: int = 0
    actions: int = 0


@dataclass
class HouseStats:
    id: int
    slug: str
    name: str
    #: One MonthCounts per month of the window, newest first.
    months: list
    #: The whole window; ``people`` counts each person once however many months they came.
    total: MonthCounts
    #: (action, count) over the whole window, most frequent first.
    actions: list = field(default_factory=list)
    #: (month, action) -> count.
    actions_by_month: dict = field(default_factory=dict)

    @property
    def active(self):
        return self.total.sessions > 0 or self.total.actions > 0


def _grouped(inner, *measures):
    """``select house_id, month, *measures from inner group by house_id, month`` as rows."""
    return db.session.execute(select(inner.c.house_id, inner.c.month, *measures)
                              .group_by(inner.c.house_id, inner.c.month)).all()


def house_statistics(now=None):
    """(window, [HouseStats for every house], all-houses MonthCounts) for the last twelve Rome months."""
    window = Window.last(now)
    houses = db.session.execute(select(NeighbourhoodHouse.id, NeighbourhoodHouse.slug, NeighbourhoodHouse.name)
                                .order_by(NeighbourhoodHouse.name)).all()
    cells = {}  # (house_id, month index) -> MonthCounts

    def cell(house_id, index):
        return cells.setdefault((house_id, index), MonthCounts(window.months[index]))

    sessions = select(AssistedSession.house_id.label("house_id"),
                      window.bucket(AssistedSession.opened_at).label("month"),
                      AssistedSession.citizen_id.label("citizen_id")) \
        .where(window.contains(AssistedSession.opened_at)).subquery()
    for house_id, index, n, people in _grouped(sessions, func.count(), func.count(distinct(sessions.c.citizen_id))):
        c = cell(house_id, index)
        c.sessions, c.people = n, people

    managed = select(AssistedAction.house_id.label("house_id"),
                     window.bucket(AssistedAction.created_at).label("month"),
                     User.claimed_at.label("claimed_at")) \
        .outerjoin(User, User.id == AssistedAction.record_id) \
        .where(AssistedAction.action == "account.created", AssistedAction.record_type == "users",
               window.contains(AssistedAction.created_at)).subquery()
    for house_id, index, n, claimed in _grouped(managed, func.count(), func.count(managed.c.claimed_at)):
        c = cell(house_id, index)
        c.managed, c.claimed = n, claimed

    actions = select(AssistedAction.house_id.label("house_id"),
                     window.bucket(AssistedAction.created_at).label("month"),
                     AssistedAction.action.label("action")) \
        .where(window.contains(AssistedAction.created_at)).subquery()
    by_action = db.session.execute(select(actions.c.house_id, actions.c.month, actions.c.action, func.count())
                                   .group_by(actions.c.house_id, actions.c.month, actions.c.action)).all()
    per_house_actions = {}
    for house_id, index, action, n in by_action:
        cell(house_id, index).actions += n
        per_house_actions.setdefault(house_id, {})[(window.months[index], action)] = n

    # People over the whole window: a person who came in three months is one person helped.
    people_total = dict(db.session.execute(
        select(AssistedSession.house_id, func.count(distinct(AssistedSession.citizen_id)))
        .where(window.contains(AssistedSession.opened_at)).group_by(AssistedSession.house_id)).all())
    everyone = db.session.scalar(select(func.count(distinct(AssistedSession.citizen_id)))
                                 .where(window.contains(AssistedSession.opened_at))) or 0

    result = []
    overall = MonthCounts(window.months[0], people=everyone)
    for house_id, slug, name in houses:
        months = [cells.get((house_id, i)) or MonthCounts(m) for i, m in enumerate(window.months)]
        total = MonthCounts(window.months[0], people=people_total.get(house_id, 0))
        for m in months:
            total.sessions += m.sessions
            total.managed += m.managed
            total.claimed += m.claimed
            total.actions += m.actions
        for attr in ("sessions", "managed", "claimed", "actions"):
            setattr(overall, attr, getattr(overall, attr) + getattr(total, attr))
        by_month = per_house_actions.get(house_id, {})
        totals_by_action = {}
        for (_month, action), n in by_month.items():
            totals_by_action[action] = totals_by_action.get(action, 0) + n
        result.append(HouseStats(house_id, slug, name, list(reversed(months)), total,
                                 sorted(totals_by_action.items(), key=lambda kv: (-kv[1], kv[0])), by_month))
    return window, result, overall


# --- the houses' share of participation, per district -----------------------------------------------

#: The kinds of participation counted, in display order.
KINDS = ("reports", "proposals", "supports", "comments")


@dataclass
class DistrictShare:
    id: int
    number: int
    name: str
    #: kind -> (through houses, all)
    counts: dict

    @property
    def assisted(self):
        return sum(a for a, _ in self.counts.values())

    @property
    def total(self):
        return sum(t for _, t in self.counts.values())

    @property
    def share(self):
        """Percentage of the district's participation that came through the houses (None: nothing yet)."""
        return round(100 * self.assisted / self.total, 1) if self.total else None


def _provenance(record_type, id_column):
    return and_(AssistedAction.record_type == record_type, AssistedAction.record_id == id_column)


def _by_district(district_column, id_column, record_type, *where, joins=()):
    query = select(district_column, func.count(id_column), func.count(AssistedAction.id)) \
        .select_from(id_column.table)
    for target, on in joins:
        query = query.join(target, on)
    query = query.outerjoin(AssistedAction, _provenance(record_type, id_column)) \
        .where(district_column.is_not(None), *where).group_by(district_column)
    return {d: (assisted, total) for d, total, assisted in db.session.execute(query)}


def _comments_by_district(window):
    """Comments count in the district of the report, proposal or debate they are under; others not at all."""
    on_report = db.aliased(Report)
    on_proposal = db.aliased(Proposal)
    on_debate = db.aliased(Debate)
    inner = select(func.coalesce(on_report.district_id, on_proposal.district_id, on_debate.district_id)
                   .label("district_id"), Comment.id.label("comment_id"), AssistedAction.id.label("action_id")) \
        .outerjoin(on_report, and_(Comment.target_type == "report", on_report.id == Comment.target_id)) \
        .outerjoin(on_proposal, and_(Comment.target_type == "proposal", on_proposal.id == Comment.target_id)) \
        .outerjoin(on_debate, and_(Comment.target_type == "debate", on_debate.id == Comment.target_id)) \
        .outerjoin(AssistedAction, _provenance("comments", Comment.id)) \
        .where(window.contains(Comment.created_at), Comment.hidden_at.is_(None), Comment.deleted_at.is_(None)) \
        .subquery()
    rows = db.session.execute(select(inner.c.district_id, func.count(inner.c.comment_id), func.count(inner.c.action_id))
                              .where(inner.c.district_id.is_not(None)).group_by(inner.c.district_id))
    return {d: (assisted, total) for d, total, assisted in rows}


def district_shares(now=None):
    """(window, [DistrictShare per district], city-wide DistrictShare) over the last twelve Rome months."""
    window = Window.last(now)
    per_kind = {
        "reports": _by_district(Report.district_id, Report.id, "reports",
                                window.contains(Report.created_at), Report.hidden_at.is_(None)),
        "proposals": _by_district(Proposal.district_id, Proposal.id, "proposals",
                                  window.contains(Proposal.created_at), Proposal.hidden_at.is_(None),
                                  Proposal.status != ProposalStatus.draft),
        # Supports of a proposal that is hidden are not public participation any more (nor its draft).
        "supports": _by_district(Proposal.district_id, Support.id, "supports", window.contains(Support.created_at),
                                 Proposal.hidden_at.is_(None), joins=[(Proposal, Proposal.id == Support.proposal_id)]),
        "comments": _comments_by_district(window),
    }
    districts = db.session.execute(select(District.id, District.number, District.name).order_by(District.number)).all()
    shares = [DistrictShare(d_id, number, name, {k: per_kind[k].get(d_id, (0, 0)) for k in KINDS})
              for d_id, number, name in districts]
    city = DistrictShare(0, 0, "", {k: (sum(s.counts[k][0] for s in shares), sum(s.counts[k][1] for s in shares))
                                    for k in KINDS})
    return window, shares, city
