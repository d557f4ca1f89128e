"""Pact services: the rules of each step beyond the transition matrix — proposals, protocol numbers,
the office's decisions, the consultation, versions and the frozen text, signatures and their
verification, volunteers, reports, disputes, notifications, audit and who sees what."""
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.comments.services import COMMENTABLE
from app.extensions import db
from app.models import AuditEvent, Notification, User
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.commons import Commons, CommonsKind
from app.models.pact import (
    PUBLIC_STATUSES,
    Pact,
    PactKind,
    PactParty,
    PactSignature,
    PactStatus,
    PactVersion,
    PartyKind,
    ReportReview,
    RequestStatus,
    text_sha256,
)
from app.notifications.services import FOLLOWABLE
from app.pacts import services
from app.pacts.registry import verify_signatures
from app.pacts.text import diff_versions, initial_text
from tests.pact_builders import ROLES, advance, draft, make_person, pact_world, sign_all, step_to
from tests.test_supports_concurrency import run_together

S = PactStatus


def kinds_for(user):
    return [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]


def actions_for(pact_id):
    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "pact", AuditEvent.target_id == pact_id)
        .order_by(AuditEvent.seq))]


# --- proposal ------------------------------------------------------------------------------

def test_a_draft_has_the_organisation_as_its_proponent_party_and_the_requested_support(app_ctx):
    world = pact_world()
    pact = draft(world, co_proponent=False)
    assert pact.status == S.draft and pact.protocol_number is None
    assert [(p.kind, p.organisation_id, p.user_id) for p in pact.parties] == [
        (PartyKind.proponent, world.organisation_id, None)]
    assert [(i.kind.value, i.description, i.quantity, i.unit) for i in pact.support_items] == [
        ("tools", "Sacchi e guanti", 50, "pezzi")]
    assert pact.history[0].to_status == S.draft and actions_for(pact.id) == ["pact.created"]


def test_only_a_confirmed_citizen_proposes_and_only_a_representative_acts_for_the_organisation(app_ctx):
    world = pact_world()
    fields = dict(title="Orto", commons_id=world.commons_id, objectives="Coltivare.", activities="Zappare.")
    for user in (make_person(confirmed=False), world.user("official"), world.user("admin")):
        with pytest.raises(PermissionDenied):
            services.create_draft(user, **fields)
    with pytest.raises(PermissionDenied):
        services.create_draft(world.user("stranger"), organisation_id=world.organisation_id, **fields)
    own = services.create_draft(world.user("stranger"), **fields)
    assert [(p.organisation_id, p.user_id) for p in own.parties] == [(None, world.users["stranger"].id)]


def test_a_proposal_needs_a_title_objectives_activities_and_a_commons(app_ctx):
    world = pact_world()
    citizen = world.user("stranger")
    base = dict(title="Orto", commons_id=world.commons_id, objectives="Coltivare.", activities="Zappare.")
    for change in ({"title": " "}, {"objectives": ""}, {"activities": "\r\n"}, {"commons_id": None}):
        with pytest.raises(DomainError):
            services.create_draft(citizen, **{**base, **change})
    with pytest.raises(DomainError):
        services.create_draft(citizen, **base, requested_support=[{"kind": "cash", "description": "Soldi"}])
    with pytest.raises(DomainError):
        services.create_draft(citizen, **base, duration_months=0)


def test_a_citizen_proposes_a_new_commons_with_the_pact(app_ctx):
    world = pact_world()
    pact = services.create_draft(
        world.user("stranger"), title="Aiuola", objectives="Fiori.", activities="Piantare.",
        new_commons={"name": "Aiuola di via Nizza", "kind": "green_area", "lat": 45.05, "lon": 7.67,
                     "address": "via Nizza 100", "description": "Un'aiuola abbandonata."})
    db.session.flush()
    commons = db.session.get(Commons, pact.commons_id)
    assert (commons.name, commons.kind, commons.proposed_by_id, commons.is_registered) == (
        "Aiuola di via Nizza", CommonsKind.green_area, world.users["stranger"].id, False)
    with pytest.raises(DomainError):
        services.create_draft(world.user("stranger"), title="X", objectives="Y", activities="Z",
                              new_commons={"name": "Lontano", "kind": "square", "lat": 41.9, "lon": 12.5})


def test_update_draft_by_the_proponents_only_while_draft_or_needs_integration(app_ctx):
    world = pact_world()
    pact = draft(world)
    services.update_draft(pact, world.user("co_proponent"), title="Nuovo titolo", duration_months=24)
    assert (pact.title, pact.duration_months) == ("Nuovo titolo", 24)
    for role in ("stranger", "official", "admin"):
        with pytest.raises(PermissionDenied):
            services.update_draft(pact, world.user(role), title="No")
    step_to(world, pact, S.submitted)
    with pytest.raises(DomainError):
        services.update_draft(db.session.get(Pact, pact.id), world.user("author"), title="Troppo tardi")
    step_to(world, db.session.get(Pact, pact.id), S.needs_integration)
    services.update_draft(db.session.get(Pact, pact.id), world.user("author"), activities="Con planimetria.")
    assert db.session.get(Pact, pact.id).activities == "Con planimetria."


# --- submission and protocol numbers -----------------------------------------------------------

def test_submission_needs_the_declarations(app_ctx):
    world = pact_world()
    pact = draft(world)
    services.update_draft(pact, world.user("author"), declarations_accepted=False)
    with pytest.raises(DomainError):
        services.submit(pact, world.user("author"))
    services.update_draft(pact, world.user("author"), declarations_accepted=True)
    services.submit(pact, world.user("author"))
    assert pact.status == S.submitted


def test_submission_gives_a_sequential_protocol_number_a_receipt_and_tells_the_office(app_ctx):
    world = pact_world()
    now = datetime(2026, 5, 4, 10, tzinfo=timezone.utc)
    numbers = []
    for n in range(3):
        pact = draft(world, title=f"Patto {n}")
        services.submit(pact, world.user("author"), now=now)
        db.session.commit()
        numbers.append(pact.protocol_number)
        assert pact.submitted_at == now and pact.department_id == world.department_id
    assert numbers == ["PC-2026-0001", "PC-2026-0002", "PC-2026-0003"]
    assert "pact.received" in kinds_for(world.users["author"])
    assert "pact.to_examine" in kinds_for(world.users["official"])
    assert "pact.to_examine" not in kinds_for(world.users["other_official"])
    # The year is Rome's: 23:30 UTC on 31 December is already the new year in Turin.
    pact = draft(world, title="Capodanno")
    services.submit(pact, world.user("author"), now=datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))
    assert pact.protocol_number == "PC-2027-0001"


def test_a_resubmission_keeps_its_protocol_number(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.needs_integration))
    number, submitted_at = pact.protocol_number, pact.submitted_at
    step_to(world, pact, S.submitted)
    pact = db.session.get(Pact, pact.id)
    assert (pact.protocol_number, pact.submitted_at) == (number, submitted_at)
    assert [h.to_status for h in pact.history] == [S.draft, S.submitted, S.needs_integration, S.submitted]


def test_protocol_numbers_stay_unique_and_gapless_under_concurrent_submissions(app):
    with app.app_context():
        world = pact_world()
        ids = [draft(world, title=f"Concorrente {n}").id for n in range(6)]
        author_id = world.users["author"].id

    def job(pact_id):
        return lambda: services.submit(db.session.get(Pact, pact_id), db.session.get(User, author_id)).protocol_number

    results, errors = run_together(app, [job(i) for i in ids], 6)
    assert errors == []
    year = utcnow().astimezone(services.ROME).year
    assert sorted(results) == [f"PC-{year}-{n:04d}" for n in range(1, 7)]
    with app.app_context():
        assert db.session.scalar(select(func.count(func.distinct(Pact.protocol_number)))) == 6


# --- the office ---------------------------------------------------------------------------------

def test_motivations_are_required(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.submitted))
    official = world.user("official")
    with pytest.raises(DomainError):
        services.request_integration(pact, official, " ")
    with pytest.raises(DomainError):
        services.declare_inadmissible(pact, official, "")
    services.declare_inadmissible(pact, official, "Il bene è privato.")
    assert pact.history[-1].reason == "Il bene è privato."
    assert "pact.inadmissible" in kinds_for(world.users["author"])


def test_admissibility_classifies_assigns_and_adds_the_city_party(app_ctx):
    world = pact_world()
    colleague = make_person(roles=("official",), departments=[world.commons.department])
    pact = db.session.get(Pact, advance(world, S.submitted))
    with pytest.raises(DomainError):
        services.declare_admissible(pact, world.user("official"), kind="huge")
    with pytest.raises(DomainError):
        services.declare_admissible(pact, world.user("official"), kind="complex",
                                    responsible_id=world.users["other_official"].id)
    services.declare_admissible(pact, world.user("official"), kind=PactKind.complex, responsible_id=colleague.id)
    assert (pact.kind, pact.official_id, pact.department_id) == (PactKind.complex, colleague.id, world.department_id)
    assert [(p.kind, p.user_id) for p in pact.parties if p.kind == PartyKind.city] == [(PartyKind.city, colleague.id)]
    assert pact.is_public
    assert "pact.admissible" in actions_for(pact.id)


def test_the_consultation_window_and_co_design_after_it(app, app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.admissible))
    start = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    services.open_consultation(pact, world.user("official"), starts_at=start)
    assert pact.consultation_ends_at - start == timedelta(days=app.config["PACT_CONSULTATION_DAYS"])
    with pytest.raises(DomainError):
        services.start_co_design(pact, world.user("official"), now=start + timedelta(days=29))
    services.start_co_design(pact, world.user("official"), now=pact.consultation_ends_at)
    assert pact.status == S.co_design
    assert [v.number for v in pact.versions] == [1]


def test_the_standard_template_has_every_section_of_the_pact_document_in_italian(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.co_design))
    with force_locale("en"):
        text = initial_text(pact)  # an English-speaking official still gets the City's Italian text
    assert pact.versions[0].text == text
    for heading in ("Le parti", "Il bene comune", "Obiettivi e attività", "Durata e rinnovo", "Impegni reciproci",
                    "Il sostegno del Comune", "Garanzie di fruizione collettiva", "Assicurazione e sicurezza",
                    "Rendicontazione", "Pubblicità", "Esclusione di singoli aderenti", "Controversie", "Modifiche"):
        assert f". {heading}\n" in text, heading
    assert "comitato di conciliazione" in text and "almeno una volta all'anno e una relazione finale" in text
    assert world.organisation.name in text and "Sacchi e guanti – 50 pezzi" in text
    assert pact.protocol_number in text and world.commons.name in text


def test_meetings_are_recorded_by_the_office(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.co_design))
    held = datetime(2026, 4, 2, 17, tzinfo=timezone.utc)
    with pytest.raises(PermissionDenied):
        services.record_meeting(pact, world.user("author"), held_at=held, place="Giardino")
    with pytest.raises(DomainError):
        services.record_meeting(pact, world.user("official"), held_at=held)
    meeting = services.record_meeting(pact, world.user("official"), held_at=held, place="Casa del Quartiere",
                                      participants="Anna, Olga", minutes="Deciso il calendario.")
    assert meeting.id and pact.meetings == [meeting]
    assert "pact.meeting_recorded" in actions_for(pact.id)
    draft_pact = draft(world, title="Bozza")
    with pytest.raises(DomainError):
        services.record_meeting(draft_pact, world.user("official"), held_at=held, place="Qui")


# --- consultation -------------------------------------------------------------------------------

def test_a_neighbour_asks_to_join_and_the_proponents_accept(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.public_consultation))
    neighbour = world.user("stranger")
    request = services.request_to_join(pact, neighbour, message="Abito di fronte.")
    assert "pact.join_requested" in kinds_for(world.users["author"])
    with pytest.raises(DomainError):
        services.request_to_join(pact, neighbour)
    with pytest.raises(DomainError):
        services.request_to_join(pact, world.user("co_proponent"))
    with pytest.raises(PermissionDenied):
        services.decide_join_request(request, world.user("verified"), True)
    services.decide_join_request(request, world.user("representative"), True)
    assert request.status == RequestStatus.accepted
    assert services.is_proponent(pact, neighbour)
    assert "pact.join_accepted" in kinds_for(neighbour)
    with pytest.raises(DomainError):
        services.decide_join_request(request, world.user("official"), False)
    declined = services.request_to_join(pact, world.user("verified"))
    services.decide_join_request(declined, world.user("official"), False)
    assert not services.is_proponent(pact, world.user("verified"))
    assert "pact.join_declined" in kinds_for(world.users["verified"])


def test_join_requests_only_during_the_consultation_and_from_confirmed_citizens(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.admissible))
    with pytest.raises(DomainError):
        services.request_to_join(pact, world.user("stranger"))
    step_to(world, pact, S.public_consultation)
    with pytest.raises(PermissionDenied):
        services.request_to_join(db.session.get(Pact, pact.id), make_person(confirmed=False))


def test_pacts_are_commentable_and_followable_when_public(app_ctx):
    world = pact_world()
    private = draft(world, title="Privato")
    public = db.session.get(Pact, advance(world, S.public_consultation, title="Pubblico"))
    for registry in (COMMENTABLE, FOLLOWABLE):
        assert registry["pact"].load(private.id) is None
        assert registry["pact"].load(public.id).id == public.id
        assert registry["pact"].url(public) == f"/pacts/{public.id}"


def test_competing_proposals_are_listed_and_merged(app_ctx):
    world = pact_world()
    main = db.session.get(Pact, advance(world, S.public_consultation, title="Principale"))
    rival_world_user = world.user("verified")
    rival = services.create_draft(rival_world_user, title="Concorrente", commons_id=world.commons_id,
                                  objectives="Anche noi.", activities="Pulizia.", declarations_accepted=True)
    services.submit(rival, rival_world_user)
    draft(world, title="Solo bozza")
    assert [p.id for p in services.competing(main)] == [rival.id]
    with pytest.raises(PermissionDenied):
        services.merge_competing(rival, main, world.user("other_official"))
    services.merge_competing(rival, main, world.user("official"), reason="Stesso giardino.")
    rival, main = db.session.get(Pact, rival.id), db.session.get(Pact, main.id)
    assert (rival.status, rival.merged_into_id) == (S.withdrawn, main.id)
    assert services.is_proponent(main, rival_world_user)
    assert services.competing(main) == []
    assert "pact.merged" in kinds_for(rival_world_user)


# --- versions and the frozen text -------------------------------------------------------------------

def test_versions_during_co_design_with_a_diff(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.co_design))
    v1 = pact.versions[0]
    v2 = services.add_version(pact, world.user("author"), text=v1.text.replace("Sfalcio mensile", "Sfalcio "
                                                                                 "quindicinale"), note="Più spesso")
    assert v2.number == 2 and v2.author_id == world.users["author"].id
    v3 = services.add_version(pact, world.user("official"), text=v2.text + "\nNuovo paragrafo.\n")
    assert v3.number == 3
    with pytest.raises(DomainError):
        services.add_version(pact, world.user("official"), text=v3.text)
    with pytest.raises(PermissionDenied):
        services.add_version(pact, world.user("stranger"), text="Altro")
    diff = diff_versions(v1, v2)
    assert ("removed", "Sfalcio mensile, pulizia, piantumazioni.") in diff
    assert ("added", "Sfalcio quindicinale, pulizia, piantumazioni.") in diff
    assert {op for op, _ in diff} == {"same", "added", "removed"}
    assert [op for op, _ in diff_versions(v2, v3) if op != "same"] == ["added", "added"]


def test_a_complex_pact_needs_the_approval_act(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.co_design, kind_requested="complex"))
    assert pact.kind == PactKind.complex
    with pytest.raises(DomainError):
        services.approve(pact, world.user("official"), act_type="Delibera", act_number="12")
    services.approve(pact, world.user("official"), act_type="Delibera di Giunta", act_number="2026 00123",
                     act_date=date(2026, 6, 1))
    assert (pact.status, pact.approval_act_number, pact.approval_act_date) == (S.approved, "2026 00123",
                                                                               date(2026, 6, 1))


def test_approval_freezes_the_chosen_version(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.co_design))
    v1 = pact.versions[0]
    services.add_version(pact, world.user("author"), text=v1.text + "\nAggiunta.\n")
    services.approve(pact, world.user("official"), version_number=1)
    db.session.commit()
    assert pact.approved_version_number == 1 and pact.approved_text_sha256 == text_sha256(v1.text)
    assert pact.text_is_frozen
    for attempt in (lambda: services.add_version(pact, world.user("author"), text="Cambiato"),
                    lambda: services.add_version(pact, world.user("official"), text="Cambiato"),
                    lambda: services.set_support_items(pact, world.user("official"), []),
                    lambda: services.update_draft(pact, world.user("author"), title="Cambiato")):
        with pytest.raises(DomainError):
            attempt()
    db.session.rollback()
    pact = db.session.get(Pact, pact.id)
    assert [v.number for v in pact.versions] == [1, 2] and pact.title == "Cura del giardino"
    assert len(pact.support_items) == 1


def test_the_office_sets_the_city_support_while_the_text_is_open(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.co_design))
    items = [{"kind": "training", "description": "Corso sicurezza", "quantity": 1, "unit": "corso"},
             {"kind": "staff_hours", "description": "Giardiniere comunale", "quantity": 20.5, "unit": "ore"}]
    with pytest.raises(PermissionDenied):
        services.set_support_items(pact, world.user("author"), items)
    services.set_support_items(pact, world.user("official"), items)
    assert [(i.kind.value, i.quantity) for i in pact.support_items] == [("training", 1), ("staff_hours", 20.5)]
    assert "pact.support_items_set" in actions_for(pact.id)


# --- signing -------------------------------------------------------------------------------------------

def test_signatures_store_capacity_and_hash_and_activation_waits_for_every_party(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.signing))
    city = next(p for p in pact.parties if p.kind == PartyKind.city)
    org = next(p for p in pact.parties if p.organisation_id)
    person = next(p for p in pact.parties if p.kind == PartyKind.proponent and p.user_id)
    assert services.signable_parties(pact, world.user("official")) == [city]
    assert services.signable_parties(pact, world.user("representative")) == [org]
    assert services.signable_parties(pact, world.user("co_proponent")) == [person]
    assert services.signable_parties(pact, world.user("stranger")) == []
    signature = services.sign(pact, world.user("representative"), org.id)
    assert signature.text_sha256 == pact.approved_text_sha256 == text_sha256(pact.approved_version.text)
    assert signature.capacity == f"legale rappresentante di {world.organisation.name}"
    with pytest.raises(DomainError):
        services.sign(pact, world.user("author"), org.id)
    assert pact.status == S.signing
    services.sign(pact, world.user("official"), city.id)
    assert pact.status == S.signing
    last = services.sign(pact, world.user("co_proponent"), person.id)
    assert last.capacity == "in proprio"
    assert pact.status == S.active
    assert pact.starts_on == utcnow().astimezone(services.ROME).date() and pact.ends_on is not None
    assert all(ok for _, ok in verify_signatures(pact))
    assert "pact.active" in kinds_for(world.users["author"])
    assert actions_for(pact.id).count("pact.signed") == 3


def test_an_unverified_citizen_cannot_sign(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.signing))
    person = next(p for p in pact.parties if p.kind == PartyKind.proponent and p.user_id)
    db.session.get(User, world.users["co_proponent"].id).verified_at = None
    db.session.commit()
    pact = db.session.get(Pact, pact.id)
    user = world.user("co_proponent")
    assert services.signable_parties(pact, user) == []
    with pytest.raises(PermissionDenied, match="account verificato"):
        services.sign(pact, user, person.id)
    assert db.session.scalar(select(func.count(PactSignature.id))) == 0


def test_tampering_with_the_approved_text_fails_verification_and_blocks_signing(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.signing))
    city = next(p for p in pact.parties if p.kind == PartyKind.city)
    services.sign(pact, world.user("official"), city.id)
    db.session.commit()
    assert [ok for _, ok in services.verify(pact)] == [True]
    version = db.session.get(PactVersion, pact.approved_version.id)
    version.text = version.text.replace("Sfalcio mensile", "Nessuno sfalcio")
    db.session.commit()
    pact = db.session.get(Pact, pact.id)
    assert [ok for _, ok in verify_signatures(pact)] == [False]
    org = next(p for p in pact.parties if p.organisation_id)
    with pytest.raises(DomainError):
        services.sign(pact, world.user("author"), org.id)


def test_signing_is_refused_before_and_after_the_signing_step(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.approved))
    assert services.signable_parties(pact, world.user("official")) == []
    active = db.session.get(Pact, advance(world, S.active, title="Attivo"))
    assert services.signable_parties(active, world.user("official")) == []


# --- active pacts ----------------------------------------------------------------------------------------

def test_volunteers_join_leave_rejoin_and_are_excluded(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.active))
    citizen = world.user("stranger")
    with pytest.raises(DomainError):
        services.join_as_volunteer(pact, citizen, accept_rules=False)
    with pytest.raises(PermissionDenied):
        services.join_as_volunteer(pact, make_person(confirmed=False), accept_rules=True)
    first = services.join_as_volunteer(pact, citizen, accept_rules=True)
    assert services.join_as_volunteer(pact, citizen, accept_rules=True).id == first.id
    services.leave(pact, citizen)
    assert first.left_at is not None
    again = services.join_as_volunteer(pact, citizen, accept_rules=True)
    assert again.id == first.id and again.left_at is None
    with pytest.raises(PermissionDenied):
        services.remove_volunteer(pact, world.user("verified"), first.id, "No")
    with pytest.raises(DomainError):
        services.remove_volunteer(pact, world.user("representative"), first.id, "")
    services.remove_volunteer(pact, world.user("representative"), first.id, "Comportamento scorretto.")
    assert first.removal_reason == "Comportamento scorretto." and first.left_at is not None
    assert "pact.volunteer_removed" in kinds_for(citizen)
    with pytest.raises(PermissionDenied):
        services.join_as_volunteer(pact, citizen, accept_rules=True)
    other = db.session.get(Pact, advance(world, S.co_design, title="Non ancora"))
    with pytest.raises(DomainError):
        services.join_as_volunteer(other, citizen, accept_rules=True)


def test_reports_are_filed_by_proponents_and_reviewed_by_the_office(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.active))
    pact.starts_on = date(2025, 1, 1)
    fields = dict(activities="Sfalci e feste.", volunteer_hours=120, beneficiaries_reached=300)
    with pytest.raises(PermissionDenied):
        services.file_report(pact, world.user("stranger"), period_start=date(2025, 1, 1),
                             period_end=date(2025, 12, 31), **fields)
    with pytest.raises(DomainError):
        services.file_report(pact, world.user("author"), period_start=date(2025, 6, 1),
                             period_end=date(2025, 1, 1), **fields)
    with pytest.raises(DomainError):
        services.file_report(pact, world.user("author"), period_start=date(2025, 1, 1),
                             period_end=date(2099, 1, 1), **fields)
    with pytest.raises(DomainError):
        services.file_report(pact, world.user("author"), period_start=date(2025, 1, 1),
                             period_end=date(2025, 12, 31), activities="x", volunteer_hours=-1)
    report = services.file_report(pact, world.user("author"), period_start=date(2025, 1, 1),
                                  period_end=date(2025, 12, 31), **fields)
    assert "pact.report_filed" in kinds_for(world.users["official"])
    with pytest.raises(DomainError):
        services.file_report(pact, world.user("author"), period_start=date(2025, 12, 1),
                             period_end=date(2026, 1, 31), **fields)
    with pytest.raises(PermissionDenied):
        services.review_report(report, world.user("other_official"), accepted=True)
    with pytest.raises(DomainError):
        services.review_report(report, world.user("official"), accepted=False)
    services.review_report(report, world.user("official"), accepted=False, note="Mancano le foto.")
    assert report.review == ReportReview.needs_changes
    assert "pact.report_needs_changes" in kinds_for(world.users["author"])
    again = services.file_report(pact, world.user("author"), period_start=date(2025, 1, 1),
                                 period_end=date(2025, 12, 31), **fields)
    services.review_report(again, world.user("official"), accepted=True)
    assert again.review == ReportReview.accepted and again.reviewed_by_id == world.users["official"].id
    with pytest.raises(DomainError):
        services.review_report(again, world.user("official"), accepted=True)


def test_disputes_go_to_the_conciliation_committee(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.active))
    with pytest.raises(PermissionDenied):
        services.open_dispute(pact, world.user("stranger"), "Litigio")
    dispute = services.open_dispute(pact, world.user("author"), "Il Comune non ha fornito gli attrezzi.")
    assert "pact.dispute_opened" in kinds_for(world.users["official"])
    with pytest.raises(PermissionDenied):
        services.record_committee_proposal(dispute, world.user("author"), "Proposta")
    services.record_committee_proposal(dispute, world.user("official"), "Consegna entro 15 giorni.")
    services.close_dispute(dispute, world.user("official"), "Attrezzi consegnati.")
    assert (dispute.committee_proposal, dispute.outcome) == ("Consegna entro 15 giorni.", "Attrezzi consegnati.")
    assert dispute.closed_at is not None
    with pytest.raises(DomainError):
        services.close_dispute(dispute, world.user("official"), "Di nuovo")


def test_suspension_revocation_need_a_motivation_and_renewal_starts_a_new_co_design(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.active))
    with pytest.raises(DomainError):
        services.suspend(pact, world.user("official"), "")
    with pytest.raises(DomainError):
        services.revoke(pact, world.user("official"), " ")
    new = services.renew(pact, world.user("author"))
    db.session.commit()
    old = db.session.get(Pact, pact.id)
    new = db.session.get(Pact, new.id)
    assert old.status == S.renewed and new.status == S.co_design and new.renewal_of_id == old.id
    assert new.protocol_number and new.protocol_number != old.protocol_number
    assert new.versions[0].text == old.approved_version.text
    assert sorted(str((p.kind.value, p.organisation_id, p.user_id)) for p in new.parties) == sorted(
        str((p.kind.value, p.organisation_id, p.user_id)) for p in old.parties)
    assert new.commons_id == old.commons_id and not new.text_is_frozen
    services.add_version(new, world.user("official"), text=new.versions[0].text + "\nRinnovo.\n")


def test_no_cash_support_and_no_unknown_pact(app_ctx):
    with pytest.raises(NotFound):
        services.lock_pact(987654)


# --- notifications, audit, visibility --------------------------------------------------------------------

def test_every_move_is_audited_and_the_proponents_hear_of_it(app_ctx):
    world = pact_world()
    pact_id = advance(world, S.active)
    actions = actions_for(pact_id)
    for status in (S.submitted, S.admissible, S.public_consultation, S.co_design, S.approved, S.signing, S.active):
        assert f"pact.{status.value}" in actions
    kinds = kinds_for(world.users["representative"])
    for kind in ("pact.admissible", "pact.public_consultation", "pact.co_design", "pact.approved", "pact.signing",
                 "pact.active"):
        assert kind in kinds


def test_followers_hear_of_public_moves(app_ctx):
    from app.notifications import services as notifications

    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.admissible))
    follower = world.user("verified")
    notifications.follow(follower, "pact", pact.id)
    step_to(world, pact, S.public_consultation)
    assert "pact.public_consultation" in kinds_for(follower)


@pytest.mark.parametrize("status", list(S), ids=[s.value for s in S])
def test_who_can_view_each_status(app_ctx, status):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, status))
    public = pact.is_public
    assert public == (status in PUBLIC_STATUSES and not (status == S.withdrawn and pact.department_id is None))
    assert services.can_view(pact, None) == public
    for role in ROLES:
        office = role == "official" and status not in (S.draft, S.withdrawn)  # the builder withdraws a draft
        expected = public or role in ("author", "co_proponent", "representative") or office
        assert services.can_view(pact, world.user(role)) == expected, role


def test_a_pact_withdrawn_after_admission_stays_public(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.admissible))
    services.withdraw(pact, world.user("author"), "Ci ritiriamo.")
    assert pact.is_public and services.can_view(pact, world.user("stranger"))


def test_the_office_is_the_pacts_department_and_admins_are_not_officials(app_ctx):
    world = pact_world()
    pact = draft(world)
    assert services.is_office(pact, world.user("other_official"))  # no department yet: any official
    services.submit(pact, world.user("author"))
    assert services.is_office(pact, world.user("official"))
    assert not services.is_office(pact, world.user("other_official"))
    assert not services.is_office(pact, world.user("admin"))
    assert not services.is_proponent(pact, None)


def test_sign_all_builder_activates(app_ctx):
    world = pact_world()
    pact = db.session.get(Pact, advance(world, S.signing))
    pact = sign_all(world, pact)
    assert pact.status == S.active and len(pact.signatures) == len(pact.parties) == 3
    assert db.session.scalar(select(func.count(PactParty.id)).where(PactParty.pact_id == pact.id)) == 3


def test_a_redaction_of_the_proposal_edits_the_versions_not_yet_approved(app_ctx, make_user):
    """Moderation edits personal data out of a pact: the co-design versions quote the proposal, so they change too."""
    from app.models import AuditEvent, Role, User
    from app.moderation import services as moderation
    from tests.pact_builders import road_to

    mod_id, flagger_id = make_user(roles=(Role.citizen, Role.moderator)).id, make_user().id  # before any write here
    world = pact_world()
    pact = draft(world)
    pact.objectives = "Curare il giardino con Marta, telefono 333 1234567."
    db.session.commit()
    for step in road_to(S.co_design):
        pact = step_to(world, pact, step)
    assert "333 1234567" in pact.versions[0].text
    mod, flagger = db.session.get(User, mod_id), db.session.get(User, flagger_id)
    moderation.flag(flagger, "pact", pact.id, "personal_data")
    moderation.decide(moderation.case_for("pact", pact.id), mod, "redact", rule="privacy",
                      reason="Numero di telefono di una persona privata.",
                      redactions={"objectives": "Curare il giardino con Marta."})
    db.session.commit()
    pact = db.session.get(Pact, pact.id)
    assert "1234567" not in pact.objectives and all("1234567" not in v.text for v in pact.versions)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.redact"))
    assert "333 1234567" in event.details["original"]["versions"]["1"]
