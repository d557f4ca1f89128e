"""Proposal rules: the lifecycle (every move, legal and illegal), the frozen text, supports and the
threshold (crossed exactly once), expiry, anonymisation, and a stateful model of supports."""
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from hypothesis.stateful import run_state_machine_as_test
from sqlalchemy import func, select

from app.audit.services import verify_chain
from app.extensions import db
from app.models import AuditEvent, Notification, Role, User
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.proposal import (
    PROPOSAL_TRANSITIONS,
    PhaseKind,
    Process,
    ProcessPhase,
    Proposal,
    ProposalAddendum,
    ProposalStatus,
    Support,
)
from app.proposals import services
from app.proposals.services import SupportClosed, SupportLimitReached

P = ProposalStatus
DAY = timedelta(days=1)
#: Support open now; collection before it, review and execution after it.
DEFAULT_PHASES = {
    "collection": (-30 * DAY, -10 * DAY),
    "support": (-10 * DAY, 10 * DAY),
    "review": (10 * DAY, 40 * DAY),
    "execution": (40 * DAY, 400 * DAY),
}


# --- builders ---------------------------------------------------------------------------------

def _moment(value, now):
    """A phase bound: an aware datetime as it is, a timedelta relative to ``now``."""
    return now + value if isinstance(value, timedelta) else value


def build_process(phases=None, threshold=3, per_citizen=0, past_threshold=True, verified_only=True,
                  retention_months=6, now=None):
    """A committed Process; ``phases`` maps a kind to (start, end), timedeltas from now or datetimes."""
    now = now or utcnow()
    process = Process(slug=f"p-{uuid.uuid4().hex[:12]}", title="Bilancio partecipativo", description="",
                      support_threshold=threshold, supports_per_citizen=per_citizen,
                      supports_past_threshold=past_threshold, verified_only=verified_only,
                      support_retention_months=retention_months)
    for kind, (start, end) in (DEFAULT_PHASES if phases is None else phases).items():
        process.phases.append(ProcessPhase(kind=PhaseKind(kind), starts_at=_moment(start, now),
                                           ends_at=_moment(end, now)))
    db.session.add(process)
    db.session.commit()
    return process


@pytest.fixture
def make_process(app_ctx):
    """``make_process(phases={"collection": (start, end), ...}, threshold=3, ...)``."""
    return build_process


@pytest.fixture
def people(app_ctx, make_user):
    """Everybody this module needs. make_user writes from its own connection: all are built first."""
    verified = {"verified": True}
    spec = {
        "author": verified, "v1": verified, "v2": verified, "v3": verified, "v4": verified,
        "unverified": {"verified": False},
        "unconfirmed": {"confirmed": False, "verified": True},
        "official": {"roles": [Role.official], "verified": True},
    }
    ids = {name: make_user(**kw).id for name, kw in spec.items()}
    return {name: db.session.get(User, i) for name, i in ids.items()}


def collecting_moment(process):
    start, _ = process.window(PhaseKind.collection)
    return start + timedelta(hours=1)


def new_proposal(process, author, publish=True, title="Più alberi in via Nizza"):
    proposal = services.create_proposal(author, process, title=title,
                                        body="Piantare dieci tigli lungo il marciapiede.")
    if publish:
        services.publish(proposal, author, now=collecting_moment(process))
    db.session.commit()
    return proposal


def rows_of(proposal):
    return db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == proposal.id))


def stored_count(proposal):
    return db.session.scalar(select(Proposal.support_count).where(Proposal.id == proposal.id))


def assert_count_matches_rows(proposal):
    db.session.flush()
    assert stored_count(proposal) == rows_of(proposal) == proposal.support_count


def events(action, proposal):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                       AuditEvent.target_type == "proposal",
                                                       AuditEvent.target_id == proposal.id)
                              .order_by(AuditEvent.seq)).all()


def threshold_notifications():
    """user_id -> how many "threshold reached" notifications they got."""
    return Counter(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "proposal.threshold_reached")))


def support_and_commit(user, proposal, **kw):
    result = services.support(user, proposal.id, **kw)
    db.session.commit()
    assert_count_matches_rows(proposal)
    return result


# --- the lifecycle ----------------------------------------------------------------------------

ALL_MOVES = [(a, b) for a in P for b in P]


@pytest.fixture
def trio(app_ctx, make_user):
    """An author and two verified supporters (enough for threshold 1 and a support after it)."""
    ids = [make_user(verified=True).id for _ in range(3)]
    author, s1, s2 = (db.session.get(User, i) for i in ids)
    return {"author": author, "s1": s1, "s2": s2}


def _proposal_in(trio, process, status):
    """A proposal brought to ``status`` by legal moves, committed."""
    author = trio["author"]
    proposal = new_proposal(process, author, publish=status != P.draft)
    if status == P.expired:
        assert services.expire_due(process, now=process.window(PhaseKind.support)[1] + timedelta(seconds=1)) == 1
    elif status == P.withdrawn:
        services.withdraw(proposal, author)
    elif status not in (P.draft, P.published):
        assert services.support(trio["s1"], proposal.id).crossed
        path = {P.under_review: [P.under_review], P.accepted: [P.under_review, P.accepted],
                P.rejected: [P.under_review, P.rejected],
                P.in_execution: [P.under_review, P.accepted, P.in_execution],
                P.completed: [P.under_review, P.accepted, P.in_execution, P.completed]}
        for step in path.get(status, []):
            services._move(proposal, step)
    db.session.commit()
    assert proposal.status == status
    return proposal


@pytest.mark.parametrize("current, target", ALL_MOVES, ids=[f"{a.value}->{b.value}" for a, b in ALL_MOVES])
def test_every_move_follows_the_transition_table(trio, current, target):
    process = build_process(threshold=1)
    proposal = _proposal_in(trio, process, current)
    author = trio["author"]
    legal = target in PROPOSAL_TRANSITIONS[current]
    before_events = len(events(f"proposal.{target.value}", proposal))
    crossings_before = len(events("proposal.threshold_reached", proposal))

    def attempt():
        if target == P.published:
            return services.publish(proposal, author, now=collecting_moment(process))
        if target == P.withdrawn:
            return services.withdraw(proposal, author)
        return services._move(proposal, target)

    if target == P.expired:
        # expire_due is the only way in: it takes exactly the moves the table allows.
        expired = services.expire_due(process, now=process.window(PhaseKind.support)[1] + timedelta(seconds=1))
        assert expired == (1 if legal else 0)
    elif target == P.threshold_reached:
        # The support service is the only way in: the deciding support crosses, nothing else does.
        if current in (P.published, P.threshold_reached):
            result = services.support(trio["s2"], proposal.id)
            assert result.created and result.crossed == legal
        else:
            with pytest.raises(SupportClosed):
                services.support(trio["s2"], proposal.id)
            db.session.rollback()
    elif legal:
        attempt()
    else:
        with pytest.raises(IllegalTransition):
            attempt()
    db.session.commit()
    db.session.refresh(proposal)

    if legal:
        assert proposal.status == target
        moved = events(f"proposal.{target.value}", proposal)
        assert len(moved) == before_events + 1
        assert moved[-1].details == {"from": current.value, "to": target.value}
        assert proposal.status_changed_at is not None
    else:
        assert proposal.status == current
        assert len(events(f"proposal.{target.value}", proposal)) == before_events
        assert len(events("proposal.threshold_reached", proposal)) == crossings_before
        # And the low-level move refuses it too, whatever the way in.
        with pytest.raises(IllegalTransition):
            services._move(proposal, target)
        assert proposal.status == current
    assert verify_chain().ok


# --- drafting, publishing, editing, withdrawing -----------------------------------------------

def test_only_confirmed_citizens_create_proposals(people, make_process):
    process = make_process()
    for who in ("unconfirmed", "official"):
        with pytest.raises(PermissionDenied):
            services.create_proposal(people[who], process, title="t", body="b")
    with pytest.raises(PermissionDenied):
        services.create_proposal(None, process, title="t", body="b")
    # Verification is not needed to propose, only to support.
    assert services.create_proposal(people["unverified"], process, title="t", body="b").status == P.draft


@pytest.mark.parametrize("field, value", [("title", "  "), ("body", ""), ("title", "x" * 141)])
def test_title_and_text_are_required_and_bounded(people, make_process, field, value):
    kwargs = {"title": "Titolo", "body": "Testo", field: value}
    with pytest.raises(DomainError):
        services.create_proposal(people["author"], make_process(), **kwargs)


def test_drafts_are_not_public_until_published(people, make_process):
    process = make_process(phases={"collection": (-DAY, DAY), "support": (DAY, 10 * DAY)})
    proposal = new_proposal(process, people["author"], publish=False)
    assert proposal.status == P.draft and not proposal.is_public and proposal.published_at is None
    services.publish(proposal, people["author"])
    db.session.commit()
    assert proposal.status == P.published and proposal.is_public and proposal.published_at is not None
    event = events("proposal.published", proposal)[0]
    assert event.details == {"from": "draft", "to": "published"}
    assert event.actor_id == people["author"].id  # who did it is recorded (DESIGN.md §3)
    proposal.hidden_at = utcnow()
    assert not proposal.is_public


def test_publish_only_during_the_collection_phase(people, make_process):
    process = make_process()
    collection_start, collection_end = process.window(PhaseKind.collection)
    proposal = new_proposal(process, people["author"], publish=False)
    for moment in (collection_start - timedelta(seconds=1), collection_end, utcnow(),
                   process.ended_at() + DAY):
        with pytest.raises(DomainError) as refused:
            services.publish(proposal, people["author"], now=moment)
        assert refused.type is DomainError
        assert proposal.status == P.draft
    services.publish(proposal, people["author"], now=collection_start)
    assert proposal.status == P.published and proposal.published_at == collection_start


def test_a_process_without_a_collection_phase_takes_no_proposals(people, make_process):
    process = make_process(phases={"support": (-DAY, DAY)})
    proposal = new_proposal(process, people["author"], publish=False)
    with pytest.raises(DomainError):
        services.publish(proposal, people["author"])


def test_only_the_author_publishes(people, make_process):
    process = make_process()
    proposal = new_proposal(process, people["author"], publish=False)
    for who in ("v1", "official"):
        with pytest.raises(PermissionDenied):
            services.publish(proposal, people[who], now=collecting_moment(process))
    with pytest.raises(PermissionDenied):
        services.publish(proposal, None, now=collecting_moment(process))
    assert proposal.status == P.draft


def test_the_author_edits_until_the_first_support_then_adds_addenda(people, make_process):
    process = make_process()
    proposal = new_proposal(process, people["author"])
    with pytest.raises(PermissionDenied):
        services.edit(proposal, people["v1"], title="Altro", body="Altro testo")
    services.edit(proposal, people["author"], title="  Più alberi  ", body="Dodici tigli.")
    db.session.commit()
    assert (proposal.title, proposal.body) == ("Più alberi", "Dodici tigli.")
    with pytest.raises(DomainError):
        services.edit(proposal, people["author"], title="", body="x")
    db.session.rollback()
    assert not proposal.is_frozen

    moment = utcnow()
    support_and_commit(people["v1"], proposal, now=moment)
    assert proposal.is_frozen and proposal.frozen_at == moment
    with pytest.raises(DomainError) as refused:
        services.edit(proposal, people["author"], title="Cambiato", body="Cambiato")
    assert refused.type is DomainError
    db.session.rollback()
    assert (proposal.title, proposal.body) == ("Più alberi", "Dodici tigli.")

    with pytest.raises(PermissionDenied):
        services.add_addendum(proposal, people["v1"], "Non sono l'autore.")
    services.add_addendum(proposal, people["author"], "Anche panchine.")
    db.session.commit()
    assert [a.body for a in proposal.addenda] == ["Anche panchine."]

    # The text stays frozen even when every support is withdrawn again.
    services.withdraw_support(people["v1"], proposal.id)
    db.session.commit()
    assert proposal.support_count == 0 and proposal.frozen_at == moment
    with pytest.raises(DomainError):
        services.edit(proposal, people["author"], title="Cambiato", body="Cambiato")


def test_the_frozen_moment_is_the_first_support_only(people, make_process):
    proposal = new_proposal(make_process(), people["author"])
    first = utcnow()
    support_and_commit(people["v1"], proposal, now=first)
    support_and_commit(people["v2"], proposal, now=first + timedelta(minutes=5))
    assert proposal.frozen_at == first


def test_addenda_are_for_published_proposals(people, make_process):
    process = make_process()
    draft = new_proposal(process, people["author"], publish=False)
    with pytest.raises(DomainError):
        services.add_addendum(draft, people["author"], "Nota")
    assert db.session.scalar(select(func.count(ProposalAddendum.id))) == 0


def test_withdrawn_proposals_cannot_be_edited(people, make_process):
    proposal = new_proposal(make_process(), people["author"])
    services.withdraw(proposal, people["author"])
    with pytest.raises(DomainError):
        services.edit(proposal, people["author"], title="x", body="y")


def test_only_the_author_withdraws(people, make_process):
    proposal = new_proposal(make_process(), people["author"])
    for who in ("v1", "official"):
        with pytest.raises(PermissionDenied):
            services.withdraw(proposal, people[who])
    assert proposal.status == P.published
    services.withdraw(proposal, people["author"])
    db.session.commit()
    assert proposal.status == P.withdrawn
    withdrawn = events("proposal.withdrawn", proposal)[0]
    assert withdrawn.details == {"from": "published", "to": "withdrawn"}
    assert withdrawn.actor_id == people["author"].id
    with pytest.raises(SupportClosed):
        services.support(people["v1"], proposal.id)


# --- supports: who, when, how many --------------------------------------------------------------

@pytest.mark.parametrize("who", ["unverified", "unconfirmed", "official", None])
def test_supporting_needs_a_confirmed_verified_citizen(people, make_process, who):
    proposal = new_proposal(make_process(), people["author"])
    with pytest.raises(PermissionDenied):
        services.support(people[who] if who else None, proposal.id)
    db.session.rollback()
    assert rows_of(proposal) == 0 and stored_count(proposal) == 0


def test_unverified_citizens_support_when_the_process_allows_it(people, make_process):
    proposal = new_proposal(make_process(verified_only=False), people["author"])
    assert support_and_commit(people["unverified"], proposal).created
    # A confirmed email and the citizen role are still needed.
    for who in ("unconfirmed", "official"):
        with pytest.raises(PermissionDenied):
            services.support(people[who], proposal.id)
        db.session.rollback()
    assert rows_of(proposal) == 1


def test_supports_only_while_the_support_phase_is_open(people, make_process):
    process = make_process()
    proposal = new_proposal(process, people["author"])
    start, end = process.window(PhaseKind.support)
    for moment in (start - timedelta(seconds=1), end, end + 30 * DAY):
        with pytest.raises(SupportClosed):
            services.support(people["v1"], proposal.id, now=moment)
        db.session.rollback()
    assert rows_of(proposal) == 0
    assert support_and_commit(people["v1"], proposal, now=start).created
    assert support_and_commit(people["v2"], proposal, now=end - timedelta(microseconds=1)).created


def test_drafts_and_hidden_proposals_collect_no_supports(people, make_process):
    process = make_process()
    draft = new_proposal(process, people["author"], publish=False)
    hidden = new_proposal(process, people["author"])
    hidden.hidden_at = utcnow()
    db.session.commit()
    for proposal in (draft, hidden):
        with pytest.raises(SupportClosed):
            services.support(people["v1"], proposal.id)
        db.session.rollback()
        assert rows_of(proposal) == 0 and stored_count(proposal) == 0


def test_supporting_a_missing_proposal_is_not_found(people, make_process):
    with pytest.raises(NotFound):
        services.support(people["v1"], 987654)


def test_supporting_twice_is_idempotent(people, make_process):
    proposal = new_proposal(make_process(), people["author"])
    first = support_and_commit(people["v1"], proposal)
    assert (first.created, first.count, first.crossed) == (True, 1, False)
    second = support_and_commit(people["v1"], proposal)
    assert (second.created, second.count, second.crossed) == (False, 1, False)
    assert second.support.id == first.support.id
    assert rows_of(proposal) == 1 and stored_count(proposal) == 1


def test_each_citizen_supports_at_most_n_proposals_per_process(people, make_process):
    process = make_process(per_citizen=2, threshold=100)
    other_process = make_process(per_citizen=2, threshold=100)
    a, b, c = (new_proposal(process, people["author"], title=f"Proposta {n}") for n in "abc")
    elsewhere = new_proposal(other_process, people["author"])
    support_and_commit(people["v1"], elsewhere)  # another process does not count
    support_and_commit(people["v1"], a)
    support_and_commit(people["v1"], b)
    with pytest.raises(SupportLimitReached):
        services.support(people["v1"], c.id)
    db.session.rollback()
    assert rows_of(c) == 0 and stored_count(c) == 0
    # Supporting again what one already supports is still the idempotent answer.
    assert support_and_commit(people["v1"], a).created is False
    # Others have their own allowance.
    assert support_and_commit(people["v2"], c).created
    # Taking a support back frees one.
    services.withdraw_support(people["v1"], a.id)
    db.session.commit()
    assert support_and_commit(people["v1"], c).created
    for proposal in (a, b, c):
        assert_count_matches_rows(proposal)


# --- the threshold --------------------------------------------------------------------------------

def test_the_deciding_support_crosses_the_threshold_exactly_once(people, make_process):
    process = make_process(threshold=3)
    proposal = new_proposal(process, people["author"])
    moment = utcnow()
    results = [support_and_commit(people[who], proposal, now=moment) for who in ("v1", "v2", "v3")]
    assert [r.crossed for r in results] == [False, False, True]
    assert [r.count for r in results] == [1, 2, 3]
    assert proposal.status == P.threshold_reached and proposal.threshold_reached_at == moment
    crossing = events("proposal.threshold_reached", proposal)
    assert len(crossing) == 1
    assert crossing[0].details == {"from": "published", "to": "threshold_reached"}
    assert crossing[0].reason == "3 supports"
    expected = {people[w].id for w in ("author", "v1", "v2", "v3")}
    assert threshold_notifications() == Counter({uid: 1 for uid in expected})
    note = db.session.scalar(select(Notification).where(Notification.user_id == people["v1"].id))
    assert note.params == {"title": proposal.title, "threshold": 3}

    # Supports past the threshold count (the default) but cross nothing again.
    later = support_and_commit(people["v4"], proposal)
    assert later.created and not later.crossed and later.count == 4
    assert proposal.status == P.threshold_reached and proposal.threshold_reached_at == moment
    assert len(events("proposal.threshold_reached", proposal)) == 1
    assert threshold_notifications() == Counter({uid: 1 for uid in expected})
    assert verify_chain().ok


def test_an_author_who_supports_is_notified_once(people, make_process):
    proposal = new_proposal(make_process(threshold=2), people["author"])
    support_and_commit(people["author"], proposal)
    assert support_and_commit(people["v1"], proposal).crossed
    assert threshold_notifications() == Counter({people["author"].id: 1, people["v1"].id: 1})


def test_supports_past_the_threshold_can_be_refused(people, make_process):
    proposal = new_proposal(make_process(threshold=2, past_threshold=False), people["author"])
    support_and_commit(people["v1"], proposal)
    assert support_and_commit(people["v2"], proposal).crossed
    with pytest.raises(SupportClosed):
        services.support(people["v3"], proposal.id)
    db.session.rollback()
    assert rows_of(proposal) == 2 and stored_count(proposal) == 2
    # Who already supports still gets the idempotent answer.
    assert support_and_commit(people["v1"], proposal).created is False


def test_withdrawing_lowers_the_count_but_a_crossed_threshold_stays_crossed(people, make_process):
    proposal = new_proposal(make_process(threshold=2), people["author"])
    support_and_commit(people["v1"], proposal)
    assert support_and_commit(people["v2"], proposal).crossed
    crossed_at = proposal.threshold_reached_at
    assert services.withdraw_support(people["v1"], proposal.id) == 1
    db.session.commit()
    assert_count_matches_rows(proposal)
    assert proposal.status == P.threshold_reached and proposal.threshold_reached_at == crossed_at
    # Back above the threshold: no second crossing.
    again = support_and_commit(people["v1"], proposal)
    assert again.created and not again.crossed and again.count == 2
    support_and_commit(people["v3"], proposal)
    assert len(events("proposal.threshold_reached", proposal)) == 1
    assert sum(threshold_notifications().values()) == 3  # author, v1, v2 at the crossing


def test_a_proposal_that_falls_back_below_the_threshold_before_crossing_crosses_later(people, make_process):
    proposal = new_proposal(make_process(threshold=2), people["author"])
    support_and_commit(people["v1"], proposal)
    services.withdraw_support(people["v1"], proposal.id)
    db.session.commit()
    support_and_commit(people["v1"], proposal)
    assert proposal.status == P.published
    assert support_and_commit(people["v2"], proposal).crossed


def test_withdrawing_only_while_the_support_phase_is_open(people, make_process):
    process = make_process()
    proposal = new_proposal(process, people["author"])
    support_and_commit(people["v1"], proposal)
    start, end = process.window(PhaseKind.support)
    for moment in (start - timedelta(seconds=1), end, end + DAY):
        with pytest.raises(SupportClosed):
            services.withdraw_support(people["v1"], proposal.id, now=moment)
        db.session.rollback()
    assert rows_of(proposal) == 1 and stored_count(proposal) == 1


def test_withdrawing_a_support_that_does_not_exist_changes_nothing(people, make_process):
    proposal = new_proposal(make_process(), people["author"])
    support_and_commit(people["v1"], proposal)
    assert services.withdraw_support(people["v2"], proposal.id) == 1
    db.session.commit()
    assert_count_matches_rows(proposal)
    assert services.withdraw_support(people["v1"], proposal.id) == 0
    db.session.commit()
    assert services.withdraw_support(people["v1"], proposal.id) == 0
    db.session.commit()
    assert_count_matches_rows(proposal)
    assert proposal.support_count == 0


def test_withdrawing_touches_only_ones_own_support_on_that_proposal(people, make_process):
    process = make_process(threshold=100)
    a = new_proposal(process, people["author"], title="A")
    b = new_proposal(process, people["author"], title="B")
    for who in ("v1", "v2"):
        support_and_commit(people[who], a)
        support_and_commit(people[who], b)
    services.withdraw_support(people["v1"], a.id)
    db.session.commit()
    assert_count_matches_rows(a)
    assert_count_matches_rows(b)
    assert (a.support_count, b.support_count) == (1, 2)
    assert db.session.scalar(select(Support.user_id).where(Support.proposal_id == a.id)) == people["v2"].id


# --- expiry ---------------------------------------------------------------------------------------

def test_expire_due_closes_what_stayed_below_the_threshold(people, make_process):
    process = make_process(threshold=2)
    low = new_proposal(process, people["author"], title="Pochi")
    crossed = new_proposal(process, people["author"], title="Molti")
    draft = new_proposal(process, people["author"], publish=False, title="Bozza")
    withdrawn = new_proposal(process, people["author"], title="Ritirata")
    services.withdraw(withdrawn, people["author"])
    db.session.commit()
    support_and_commit(people["v1"], low)
    support_and_commit(people["v1"], crossed)
    support_and_commit(people["v2"], crossed)
    _, end = process.window(PhaseKind.support)

    assert services.expire_due(process) == 0
    assert services.expire_due(process, now=end - timedelta(seconds=1)) == 0
    assert low.status == P.published

    assert services.expire_due(process, now=end) == 1
    db.session.commit()
    assert low.status == P.expired and low.status_changed_at == end
    assert (crossed.status, draft.status, withdrawn.status) == (P.threshold_reached, P.draft, P.withdrawn)
    assert events("proposal.expired", low)[0].details == {"from": "published", "to": "expired"}
    assert services.expire_due(process, now=end + DAY) == 0
    assert low.support_count == 1 and rows_of(low) == 1
    assert verify_chain().ok


def test_expire_due_without_a_support_phase_does_nothing(people, make_process):
    process = make_process(phases={"collection": (-DAY, DAY)})
    proposal = new_proposal(process, people["author"], publish=False)
    services.publish(proposal, people["author"])
    assert services.expire_due(process, now=utcnow() + 1000 * DAY) == 0
    assert proposal.status == P.published


def test_expire_due_leaves_other_processes_alone(people, make_process):
    early = make_process(phases={"collection": (-30 * DAY, -20 * DAY), "support": (-20 * DAY, -DAY)})
    running = make_process()
    old = new_proposal(early, people["author"], title="Vecchia")
    current = new_proposal(running, people["author"], title="Attuale")
    assert services.expire_due(early) == 1
    assert (old.status, current.status) == (P.expired, P.published)


# --- anonymisation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start, months, expected", [
    (datetime(2025, 1, 31, 12, 0, tzinfo=UTC), 1, datetime(2025, 2, 28, 12, 0, tzinfo=UTC)),
    (datetime(2024, 1, 31, 12, 0, tzinfo=UTC), 1, datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),
    (datetime(2025, 8, 31, 9, 30, tzinfo=UTC), 6, datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
    (datetime(2025, 12, 31, 0, 0, tzinfo=UTC), 2, datetime(2026, 2, 28, 0, 0, tzinfo=UTC)),
    (datetime(2025, 12, 15, 0, 0, tzinfo=UTC), 1, datetime(2026, 1, 15, 0, 0, tzinfo=UTC)),
    (datetime(2025, 3, 31, 0, 0, tzinfo=UTC), 1, datetime(2025, 4, 30, 0, 0, tzinfo=UTC)),
    (datetime(2025, 5, 10, 0, 0, tzinfo=UTC), 24, datetime(2027, 5, 10, 0, 0, tzinfo=UTC)),
    (datetime(2025, 5, 10, 0, 0, tzinfo=UTC), 0, datetime(2025, 5, 10, 0, 0, tzinfo=UTC)),
])
def test_month_arithmetic_clamps_to_the_end_of_shorter_months(start, months, expected):
    assert services._add_months(start, months) == expected


def test_supports_are_anonymised_one_month_after_a_process_ending_on_31_january(people, make_process):
    def jan(day, hour=0):
        return datetime(2025, 1, day, hour, tzinfo=UTC)

    process = make_process(phases={"collection": (jan(1), jan(10)), "support": (jan(10), jan(31, 12))},
                           threshold=100, retention_months=1)
    proposal = services.create_proposal(people["author"], process, title="Panchine", body="In piazza.")
    services.publish(proposal, people["author"], now=jan(5))
    db.session.commit()
    for who in ("v1", "v2", "v3"):
        support_and_commit(people[who], proposal, now=jan(20))
    services.withdraw_support(people["v3"], proposal.id, now=jan(21))
    db.session.commit()

    retention_end = datetime(2025, 2, 28, 12, tzinfo=UTC)
    for moment in (jan(31, 12), datetime(2025, 2, 27, 12, tzinfo=UTC), retention_end - timedelta(seconds=1)):
        assert services.anonymise_supports(process, now=moment) == 0
    db.session.commit()
    assert set(db.session.scalars(select(Support.user_id).where(Support.proposal_id == proposal.id))) == {
        people["v1"].id, people["v2"].id}

    assert services.anonymise_supports(process, now=retention_end) == 2
    db.session.commit()
    assert db.session.scalars(select(Support.user_id).where(Support.process_id == process.id)).all() == [None, None]
    assert stored_count(proposal) == 2 == rows_of(proposal)
    assert services.anonymise_supports(process, now=retention_end + DAY) == 0


def test_anonymisation_uses_the_process_retention_and_touches_only_that_process(people, make_process):
    process = make_process(threshold=100)  # default retention: 6 months
    other = make_process(threshold=100)
    proposal = new_proposal(process, people["author"])
    elsewhere = new_proposal(other, people["author"])
    for who in ("v1", "v2"):
        support_and_commit(people[who], proposal)
    support_and_commit(people["v1"], elsewhere)
    ended = process.ended_at()
    assert ended == process.window(PhaseKind.execution)[1]
    assert services.anonymise_supports(process) == 0
    assert services.anonymise_supports(process, now=services._add_months(ended, 6) - timedelta(seconds=1)) == 0
    assert services.anonymise_supports(process, now=services._add_months(ended, 6)) == 2
    db.session.commit()
    assert db.session.scalar(select(func.count(Support.id)).where(Support.process_id == process.id,
                                                                  Support.user_id.is_not(None))) == 0
    assert db.session.scalar(select(Support.user_id).where(Support.proposal_id == elsewhere.id)) == people["v1"].id
    assert stored_count(proposal) == rows_of(proposal) == 2


def test_a_process_without_phases_is_never_anonymised(people, make_process):
    process = make_process(phases={})
    assert services.anonymise_supports(process, now=utcnow() + 10000 * DAY) == 0


# --- a stateful model of supports --------------------------------------------------------------------

N_PROPOSALS = 3


def test_supports_behave_like_the_model(app, make_user):
    """Random sequences of supports and withdrawals, each committed, against a simple model."""
    verified_ids = [make_user(verified=True).id for _ in range(4)]
    unverified_id = make_user(verified=False).id
    author_id = make_user(verified=True).id
    user_ids = verified_ids + [unverified_id]

    class Supports(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.ctx = app.app_context()
            self.ctx.push()
            self.proposal_ids = None

        @initialize(threshold=st.integers(1, 4), per_citizen=st.integers(0, 3), past=st.booleans())
        def open_a_process(self, threshold, per_citizen, past):
            # A fresh process and proposals per example (ids are never reused: nothing is deleted).
            self.process = build_process(threshold=threshold, per_citizen=per_citizen, past_threshold=past)
            author = db.session.get(User, author_id)
            self.proposal_ids = [new_proposal(self.process, author, title=f"P{j}").id for j in range(N_PROPOSALS)]
            self.supports = set()  # (user index, proposal index)
            self.crossed = set()
            self.threshold, self.per_citizen, self.past = threshold, per_citizen, past

        def count(self, j):
            return sum(1 for (_, k) in self.supports if k == j)

        @precondition(lambda self: self.proposal_ids is not None)
        @rule(i=st.integers(0, len(user_ids) - 1), j=st.integers(0, N_PROPOSALS - 1))
        def support(self, i, j):
            user = db.session.get(User, user_ids[i])
            pid = self.proposal_ids[j]
            if user_ids[i] == unverified_id:
                expected = PermissionDenied
            elif (i, j) in self.supports:
                expected = "existing"
            elif j in self.crossed and not self.past:
                expected = SupportClosed
            elif self.per_citizen and sum(1 for (u, _) in self.supports if u == i) >= self.per_citizen:
                expected = SupportLimitReached
            else:
                expected = "created"
            if isinstance(expected, type):
                with pytest.raises(expected):
                    services.support(user, pid)
                db.session.rollback()
                return
            result = services.support(user, pid)
            db.session.commit()
            if expected == "existing":
                assert not result.created and not result.crossed
            else:
                self.supports.add((i, j))
                should_cross = j not in self.crossed and self.count(j) >= self.threshold
                if should_cross:
                    self.crossed.add(j)
                assert result.created and result.crossed == should_cross
            assert result.count == self.count(j)

        @precondition(lambda self: self.proposal_ids is not None)
        @rule(i=st.integers(0, len(user_ids) - 1), j=st.integers(0, N_PROPOSALS - 1))
        def withdraw_support(self, i, j):
            user = db.session.get(User, user_ids[i])
            count = services.withdraw_support(user, self.proposal_ids[j])
            db.session.commit()
            self.supports.discard((i, j))
            assert count == self.count(j)

        @invariant()
        def counts_statuses_and_crossings_match_the_model(self):
            if self.proposal_ids is None:
                return
            ids = self.proposal_ids
            rows = dict(db.session.execute(select(Support.proposal_id, func.count(Support.id))
                                           .where(Support.proposal_id.in_(ids)).group_by(Support.proposal_id)).all())
            stored = {pid: (count, status) for pid, count, status in db.session.execute(
                select(Proposal.id, Proposal.support_count, Proposal.status).where(Proposal.id.in_(ids)))}
            crossings = dict(db.session.execute(
                select(AuditEvent.target_id, func.count(AuditEvent.id))
                .where(AuditEvent.action == "proposal.threshold_reached", AuditEvent.target_type == "proposal",
                       AuditEvent.target_id.in_(ids)).group_by(AuditEvent.target_id)).all())
            for j, pid in enumerate(ids):
                count, status = stored[pid]
                # support_count == number of rows (== the model).
                assert count == rows.get(pid, 0) == self.count(j)
                # Only these two statuses, and a crossed proposal never goes back (the model's set only grows).
                assert status in (P.published, P.threshold_reached)
                assert status == (P.threshold_reached if j in self.crossed else P.published)
                # At most one threshold event per proposal: exactly one once crossed.
                assert crossings.get(pid, 0) == (1 if j in self.crossed else 0)

        @invariant()
        def the_audit_chain_holds(self):
            assert verify_chain().ok

        def teardown(self):
            db.session.rollback()
            self.ctx.pop()

    run_state_machine_as_test(Supports, settings=settings(
        max_examples=30, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow]))
