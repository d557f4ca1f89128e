"""Every (from, to) pair of PACT_TRANSITIONS through the services: a legal move succeeds for the right
roles and is refused (PermissionDenied) for every other role; an illegal move is always an
IllegalTransition, whoever tries it."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models.base import IllegalTransition, PermissionDenied, utcnow
from app.models.pact import PACT_TRANSITIONS, Pact, PactStatus, PactStatusChange, PartyKind
from app.pacts import services
from tests.pact_builders import PROPONENT_ROLES, ROLES, advance, pact_world

S = PactStatus

LEGAL = sorted(((a, b) for a, targets in PACT_TRANSITIONS.items() for b in targets), key=lambda p: (p[0].value, p[1].value))
ILLEGAL_FROM = list(S)


def _party(pact, kind=PartyKind.proponent, organisation=True):
    return next(p for p in pact.parties if p.kind == kind and (p.organisation_id is not None) == organisation)


def mover(to_status, from_status=None):
    """The service that makes the move to ``to_status``, as f(pact, actor)."""
    to_status = S(to_status)
    if to_status == S.submitted:
        return lambda pact, actor: services.submit(pact, actor)
    if to_status == S.needs_integration:
        return lambda pact, actor: services.request_integration(pact, actor, "Manca la planimetria.")
    if to_status == S.admissible:
        return lambda pact, actor: services.declare_admissible(pact, actor, kind="ordinary")
    if to_status == S.inadmissible:
        return lambda pact, actor: services.declare_inadmissible(pact, actor, "Non è un bene comune.")
    if to_status == S.public_consultation:
        return lambda pact, actor: services.open_consultation(pact, actor, starts_at=utcnow() - timedelta(days=31),
                                                              days=30)
    if to_status == S.co_design:
        return lambda pact, actor: services.start_co_design(pact, actor)
    if to_status == S.approved:
        return lambda pact, actor: services.approve(pact, actor)
    if to_status == S.signing:
        return lambda pact, actor: services.open_signing(pact, actor)
    if to_status == S.active and from_status == S.suspended:
        return lambda pact, actor: services.resume(pact, actor)
    if to_status == S.active:
        return lambda pact, actor: services.sign(pact, actor, _party(pact).id if pact.parties else 0)
    if to_status == S.suspended:
        return lambda pact, actor: services.suspend(pact, actor, "Lavori in corso.")
    if to_status == S.completed:
        return lambda pact, actor: services.complete(pact, actor)
    if to_status == S.renewed:
        return lambda pact, actor: services.renew(pact, actor)
    if to_status == S.revoked:
        return lambda pact, actor: services.revoke(pact, actor, "Attività non svolte.")
    if to_status == S.withdrawn:
        return lambda pact, actor: services.withdraw(pact, actor, "Ci ritiriamo.")
    if to_status == S.draft:
        return lambda pact, actor: services._move(pact, S.draft, actor, None, None)
    raise AssertionError(to_status)


def allowed_roles(from_status, to_status):
    if to_status in (S.submitted, S.withdrawn):
        return PROPONENT_ROLES
    if to_status == S.renewed:
        return PROPONENT_ROLES | {"official"}
    if to_status == S.active and from_status == S.signing:
        return frozenset({"author", "representative"})  # the organisation's representatives sign last
    return frozenset({"official"})


def prepare(world, from_status):
    pact_id = advance(world, from_status)
    if from_status == S.signing:
        # Everyone but the organisation signs first: the organisation's signature completes the pact.
        pact = db.session.get(Pact, pact_id)
        services.sign(pact, world.user("official"), _party(pact, PartyKind.city, organisation=False).id)
        services.sign(pact, world.user("co_proponent"), _party(pact, organisation=False).id)
        db.session.commit()
    return pact_id


@pytest.mark.parametrize("from_status,to_status", LEGAL, ids=[f"{a.value}->{b.value}" for a, b in LEGAL])
def test_a_legal_move_succeeds_for_the_right_roles_only(app_ctx, from_status, to_status):
    world = pact_world()
    allowed = allowed_roles(from_status, to_status)
    move = mover(to_status, from_status)
    pact_id = prepare(world, from_status)
    for role in ROLES:
        if role in allowed:
            continue
        with pytest.raises(PermissionDenied):
            move(db.session.get(Pact, pact_id), world.user(role))
        db.session.rollback()
        assert db.session.get(Pact, pact_id).status == from_status, role
    for index, role in enumerate(sorted(allowed)):
        if index:
            pact_id = prepare(world, from_status)
        move(db.session.get(Pact, pact_id), world.user(role))
        db.session.commit()
        pact = db.session.get(Pact, pact_id)
        assert pact.status == to_status, role
        last = pact.history[-1]
        assert (last.from_status, last.to_status, last.actor_id) == (from_status, to_status, world.user(role).id)


@pytest.mark.parametrize("from_status", ILLEGAL_FROM, ids=[s.value for s in ILLEGAL_FROM])
def test_an_illegal_move_is_refused_for_everyone(app_ctx, from_status):
    world = pact_world()
    pact_id = prepare(world, from_status)
    before = len(db.session.get(Pact, pact_id).history)
    illegal = [s for s in S if s not in PACT_TRANSITIONS[from_status]]
    assert illegal
    for to_status in illegal:
        movers = [mover(to_status, from_status)]
        if to_status == S.active:
            movers = [mover(S.active, S.signing), mover(S.active, S.suspended)]
        for move in movers:
            for role in sorted(allowed_roles(from_status, to_status)) + ["stranger", "admin"]:
                with pytest.raises(IllegalTransition):
                    move(db.session.get(Pact, pact_id), world.user(role))
                db.session.rollback()
    pact = db.session.get(Pact, pact_id)
    assert pact.status == from_status
    assert db.session.query(PactStatusChange).filter_by(pact_id=pact_id).count() == before


def test_every_status_can_be_reached_through_the_services(app_ctx):
    world = pact_world()
    for status in S:
        pact = db.session.get(Pact, advance(world, status, title=f"Patto {status.value}"))
        assert pact.status == status
        assert pact.history[0].to_status == S.draft
        assert pact.history[-1].to_status == status
