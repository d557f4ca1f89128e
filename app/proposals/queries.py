"""Reading proposals: the public list (filters, sorts, a stable random order), similar titles,
a proposal's timeline, a citizen's own proposals and supports, and expiry when read.
"""
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import BigInteger, and_, cast, exists, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal, ProposalCoauthor, Support
from app.models.proposal import ProposalStatus as P
from app.proposals import services

SORTS = ("newest", "supported", "random")
#: A prime above any proposal id we will ever have: (id * a + b) mod M is then a permutation of the
#: ids for every a in 1..M-1. With a between M/4 and 3M/4 it is a Weyl sequence (frac(id * a/M)):
#: neighbouring ids land far apart, each seed gives its own order and the same seed the same one.
RANDOM_MODULUS = 2_147_483_629
#: "Close to the threshold" means at least this share of it (the issue asks for 75 %).
CLOSE_NUM, CLOSE_DEN = 3, 4


def visible():
    """The SQL condition of a proposal anyone may see: not a draft, not hidden."""
    return and_(Proposal.status != P.draft, Proposal.hidden_at.is_(None))


def _support_phase(now):
    """SQL: the proposal's process is in its support phase at ``now``."""
    return exists().where(ProcessPhase.process_id == Proposal.process_id, ProcessPhase.kind == PhaseKind.support,
                          ProcessPhase.starts_at <= now, ProcessPhase.ends_at > now)


def public_list(process=None, status=None, category_id=None, district_id=None, close=False, sort="newest",
                seed=1, now=None):
    """The query behind the public list: visible proposals, filtered and sorted."""
    now = now or utcnow()
    query = (select(Proposal).join(Process, Process.id == Proposal.process_id).where(visible())
             .options(selectinload(Proposal.process), selectinload(Proposal.district)))
    if process is not None:
        query = query.where(Proposal.process_id == process.id)
    if status is not None:
        query = query.where(Proposal.status == status)
    if category_id:
        query = query.where(Proposal.category_id == category_id)
    if district_id:
        query = query.where(Proposal.district_id == district_id)
    if close:
        query = query.where(Proposal.status == P.published, _support_phase(now),
                            Proposal.support_count * CLOSE_DEN >= Process.support_threshold * CLOSE_NUM)
    if sort == "supported":
        return query.order_by(Proposal.support_count.desc(), Proposal.id.desc())
    if sort == "random":
        a = RANDOM_MODULUS // 4 + seed % (RANDOM_MODULUS // 2)
        b = seed // RANDOM_MODULUS % RANDOM_MODULUS
        # BIGINT: id * a overflows a 32-bit integer on PostgreSQL; SQLite integers are 64-bit anyway.
        key = (cast(Proposal.id, BigInteger) * a + b) % RANDOM_MODULUS
        return query.order_by(key, Proposal.id)
    return query.order_by(Proposal.published_at.desc().nulls_last(), Proposal.id.desc())


# --- expiry when read ---------------------------------------------------------------------------

def expire_on_read(now=None):
    """Expire what stayed below the threshold in every process whose support window has closed.

    There is no scheduler: timestamps decide, and the first page read after a window closes records
    the moves (with their audit events) so that lists, filters, the map and the API agree with the
    clock. The check is one cheap query; only when it finds something does the read write.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Process).where(
            exists().where(ProcessPhase.process_id == Process.id, ProcessPhase.kind == PhaseKind.support,
                           ProcessPhase.ends_at <= now),
            exists().where(Proposal.process_id == Process.id, Proposal.status == P.published))).all()
    return sum(services.expire_due(process, now=now) for process in due)


def anonymise_on_read(now=None):
    """Take the names off supports of processes whose retention period is over (GDPR Art. 9).

    Like expiry, the clock decides and reads catch up; ``flask proposals catch-up`` does the same
    from cron for a site nobody visits. Only ended processes that still hold named supports are
    looked at (a handful of rows), then each one's own retention decides.
    """
    now = now or utcnow()
    ended = db.session.scalars(
        select(Process).where(
            exists().where(ProcessPhase.process_id == Process.id),
            ~exists().where(ProcessPhase.process_id == Process.id, ProcessPhase.ends_at > now),
            exists().where(Support.process_id == Process.id, Support.user_id.is_not(None)))).all()
    return sum(services.anonymise_supports(process, now=now) for process in ended)


def catch_up(now=None):
    """Everything the clock decided since the last read: expiries, then anonymisations. Returns changes."""
    return expire_on_read(now) + anonymise_on_read(now)


# --- similar titles ---------------------------------------------------------------------------

#: Words that say nothing about what a proposal is (Italian and English).
STOPWORDS = frozenset("""
a ad al alla alle agli ai all con col da dal dalla dalle dei del della delle dello degli di e ed
gli i il in la le lo nel nella nelle nei negli per piu più su sul sulla sulle tra fra un una uno
che non o ma come anche questo questa quello quella nuovo nuova nuovi nuove
the an and or of to for in on at by with from new more this that our""".split())


def _words(text):
    """Significant word stems of ``text``: accents and case folded, short and common words dropped.

    The first five letters stand for the word, so that "albero" and "alberi" meet.
    """
    folded = unicodedata.normalize("NFKD", text or "")
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    return {w[:5] for w in re.findall(r"[^\W_]+", folded) if len(w) >= 3 and w not in STOPWORDS}


def similar(text, process=None, exclude=None, limit=5, scan=2000):
    """Up to ``limit`` visible proposals whose titles share significant words with ``text``.

    Compared in Python on (id, title) pairs of the most recent ``scan`` proposals: accent folding
    behaves the same on SQLite and PostgreSQL, and a title is short.
    """
    wanted = _words(text)
    if not wanted:
        return []
    query = select(Proposal.id, Proposal.title).where(visible())
    if process is not None:
        query = query.where(Proposal.process_id == process.id)
    if exclude:
        query = query.where(Proposal.id != exclude)
    rows = db.session.execute(query.order_by(Proposal.id.desc()).limit(scan)).all()
    scored = []
    for proposal_id, title in rows:
        shared = len(wanted & _words(title))
        if shared:
            scored.append((-shared, -proposal_id))
    ids = [-pid for _, pid in sorted(scored)[:limit]]
    found = {p.id: p for p in db.session.scalars(select(Proposal).where(Proposal.id.in_(ids)))}
    return [found[i] for i in ids]


# --- a proposal's story --------------------------------------------------------------------------

@dataclass
class Moment:
    when: object
    kind: str  # created | published | frozen | threshold | status | addendum
    status: P | None = None
    addendum_id: int | None = None


def timeline(proposal):
    """What happened to the proposal, oldest first: from its timestamps, status moves and addenda."""
    moments = [Moment(proposal.created_at, "created")]
    for when, kind in ((proposal.published_at, "published"), (proposal.frozen_at, "frozen"),
                       (proposal.threshold_reached_at, "threshold")):
        if when is not None:
            moments.append(Moment(when, kind))
    later = {s.value for s in P} - {"draft", "published", "threshold_reached"}
    seen = set()
    for action, when in db.session.execute(
            select(AuditEvent.action, AuditEvent.created_at).where(
                AuditEvent.target_type == "proposal", AuditEvent.target_id == proposal.id,
                AuditEvent.action.in_([f"proposal.{s}" for s in later])).order_by(AuditEvent.seq)):
        status = P(action.split(".", 1)[1])
        seen.add(status)
        moments.append(Moment(when, "status", status=status))
    if proposal.status.value in later and proposal.status not in seen:
        # Moves made without an audit event (imported or demo data): the last one still shows.
        moments.append(Moment(proposal.status_changed_at, "status", status=proposal.status))
    moments.extend(Moment(a.created_at, "addendum", addendum_id=a.id) for a in proposal.addenda)
    return sorted(moments, key=lambda m: m.when)


def withdrawal_reason(proposal):
    """The reason the author gave when withdrawing, if any."""
    if proposal.status != P.withdrawn:
        return None
    return db.session.scalar(select(AuditEvent.reason).where(
        AuditEvent.target_type == "proposal", AuditEvent.target_id == proposal.id,
        AuditEvent.action == "proposal.withdrawn").order_by(AuditEvent.seq.desc()).limit(1))


# --- "my proposals" ------------------------------------------------------------------------------

def mine(user, now=None):
    """A citizen's drafts, published proposals, invitations and own supports."""
    now = now or utcnow()
    accepted = select(ProposalCoauthor.proposal_id).where(ProposalCoauthor.user_id == user.id,
                                                          ProposalCoauthor.accepted_at.is_not(None))
    own = db.session.scalars(
        select(Proposal).where((Proposal.author_id == user.id) | Proposal.id.in_(accepted))
        .options(selectinload(Proposal.process)).order_by(Proposal.created_at.desc(), Proposal.id.desc())).all()
    invitations = db.session.scalars(
        select(Proposal).join(ProposalCoauthor, ProposalCoauthor.proposal_id == Proposal.id)
        .where(ProposalCoauthor.user_id == user.id, ProposalCoauthor.accepted_at.is_(None))
        .order_by(ProposalCoauthor.invited_at.desc())).all()
    supported = db.session.execute(
        select(Proposal, Support.created_at).join(Support, Support.proposal_id == Proposal.id)
        .where(Support.user_id == user.id).options(selectinload(Proposal.process))
        .order_by(Support.created_at.desc())).all()
    return {
        "drafts": [p for p in own if p.status == P.draft],
        "published": [p for p in own if p.status != P.draft],
        "invitations": invitations,
        "supports": [(p, when, p.process.phase_at(now) == PhaseKind.support) for p, when in supported],
    }
