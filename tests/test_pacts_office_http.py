"""The City's pacts office over HTTP: the queue (scope, overdue), a pact's office page, and every office
action — what it changes (status, history, audit), its illegal version refused with nothing changed,
another department's official refused, the text frozen after approval."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, User
from app.models.base import utcnow
from app.models.commons import CommonsKind
from app.models.pact import (
    Pact,
    PactDispute,
    PactKind,
    PactMeeting,
    PactReport,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactSupportItem,
    PactVersion,
    PartyKind,
    ReportReview,
)
from app.models.place import NeighbourhoodHouse
from app.models.user import Department, Role
from app.pacts import services
from app.seed.demo import seed_places
from tests.conftest import login
from tests.pact_builders import draft, make_commons, make_person, pact_world, reload_user, road_to, step_to
from tests.http_helpers import assert_field_error, english, location_path, text_of

S = PactStatus
DAY = timedelta(days=1)


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def world(app):
    """The builders' cast (tests/pact_builders.py), plus a colleague in the office's department, a second
    commons of the department and a Casa del Quartiere; a dict of ids by name (``_world``: the PactWorld)."""
    with app.app_context():
        seed_places()
        cast = pact_world()
        colleague = make_person((Role.official,), departments=[db.session.get(Department, cast.department_id)],
                                name="Bruno Verde")
        square = make_commons(db.session.get(Department, cast.department_id), name="Piazzetta Montanaro",
                              kind=CommonsKind.square)
        house = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id)).first()
        # Loaded after the last commit, so that the cast stays usable once this context ends.
        cast.users = {role: reload_user(user.id) for role, user in cast.users.items()}
        colleague = reload_user(colleague.id)
        return {"_world": cast, "proponent": cast.author.id, "citizen": cast.stranger.id,
                "official": cast.official.id, "colleague": colleague.id, "other": cast.other_official.id,
                "parks": cast.department_id, "roads": cast.other_department_id, "garden": cast.commons_id,
                "square": square.id, "house": house.id}


def _user(ids, name):
    return db.session.get(User, ids[name])


def make_pact(app, world, status, *, kind=PactKind.ordinary, title="Cura del giardino di via Baltea",
              commons="garden", consultation_ended=True):
    """A pact brought to ``status`` through the services, by the builders (committed); returns its id."""
    cast = world["_world"]
    with app.app_context():
        pact = draft(cast, title=title, kind_requested=kind, commons_id=world[commons])
        for step in road_to(status):
            if step == S.public_consultation and not consultation_ended:
                services.open_consultation(pact, cast.user("official"), starts_at=utcnow() - DAY, days=30)
                db.session.commit()
                pact = db.session.get(Pact, pact.id)
            else:
                pact = step_to(cast, pact, step)
        assert pact.status == S(status)
        return pact.id


def pact_row(app, pact_id):
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        _ = (pact.history, pact.versions, pact.support_items, pact.parties)
        db.session.expunge_all()
        return pact


def count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.session.scalar(query)


def audit_actions(app, pact_id):
    with app.app_context():
        return db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.target_type == "pact", AuditEvent.target_id == pact_id).order_by(AuditEvent.seq)).all()


def as_user(client, world, name):
    with client.application.app_context():
        login(client, db.session.get(User, world[name]))
    return client


def office_url(pact_id, action=""):
    return f"/office/pacts/{pact_id}" + (f"/{action}" if action else "")


def assert_moved(app, pact_id, response, to, event=None):
    """Redirected back to the office page, the pact in ``to``, a history row and the audit event."""
    assert response.status_code == 302, response.status_code
    assert location_path(response) == office_url(pact_id)
    pact = pact_row(app, pact_id)
    assert pact.status == to
    assert pact.history[-1].to_status == to
    assert (event or f"pact.{to.value}") in audit_actions(app, pact_id)
    return pact


def assert_unchanged(app, pact_id, status, history_len):
    pact = pact_row(app, pact_id)
    assert pact.status == status and len(pact.history) == history_len
    return pact


# --- the queue -----------------------------------------------------------------------------------------

def backdate(app, pact_id, days):
    """Pretend the pact's whole history happened ``days`` earlier (its current step started then)."""
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        for change in pact.history:
            change.at = change.at - days * DAY
        pact.status_changed_at = pact.history[-1].at
        db.session.commit()


def test_the_queue_lists_the_departments_pacts_oldest_first_and_counts_the_overdue(app, client, world):
    late = make_pact(app, world, S.submitted, title="Patto in ritardo")
    fresh = make_pact(app, world, S.approved, title="Patto approvato ieri")
    make_pact(app, world, S.draft, title="Bozza privata")
    backdate(app, late, 40)
    page = as_user(client, world, "official").get("/office/pacts")
    assert page.status_code == 200
    body = text_of(page)
    assert body.index("Patto in ritardo") < body.index("Patto approvato ieri")
    assert "Bozza privata" not in body
    assert "1 pact is past the time limit of its step." in body
    assert body.count('class="age-overdue"') == 1
    assert f'href="/office/pacts/{late}"' in body and f'href="/office/pacts/{fresh}"' in body


def test_the_queue_filters_by_status(app, client, world):
    make_pact(app, world, S.submitted, title="Patto presentato")
    make_pact(app, world, S.approved, title="Patto approvato")
    body = text_of(as_user(client, world, "official").get("/office/pacts?status=approved"))
    assert "Patto approvato" in body and "Patto presentato" not in body
    other_department = text_of(client.get(f"/office/pacts?department={world['roads']}"))
    assert "Patto approvato" not in other_department and "(2 without the filters)" in other_department
    assert "Patto presentato" in text_of(client.get(f"/office/pacts?department={world['parks']}"))


def test_another_departments_official_does_not_see_the_pact_in_the_queue(app, client, world):
    make_pact(app, world, S.submitted, title="Patto del verde")
    body = text_of(as_user(client, world, "other").get("/office/pacts"))
    assert "Patto del verde" not in body and "Nothing waits for your departments here." in body


def test_citizens_are_refused_the_queue_and_visitors_sent_to_sign_in(app, client, world):
    assert client.get("/office/pacts").status_code == 302
    assert as_user(client, world, "citizen").get("/office/pacts").status_code == 403


# --- the page of one pact --------------------------------------------------------------------------------

def test_the_office_page_shows_the_steps_and_only_the_actions_legal_now(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    backdate(app, pact_id, 40)
    response = as_user(client, world, "official").get(office_url(pact_id))
    assert response.status_code == 200
    body = text_of(response)
    assert "Time taken by each step" in body and "overdue" in body
    assert "Overdue: the step “submitted” has taken 40 days, the limit is 30." in body
    for action in ("integration", "admissible", "inadmissible"):
        assert f'action="/office/pacts/{pact_id}/{action}"' in body
    for action in ("consultation", "approve", "signing", "suspend", "versions"):
        assert f'action="/office/pacts/{pact_id}/{action}"' not in body


def test_another_departments_official_gets_404_on_the_page(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    assert as_user(client, world, "other").get(office_url(pact_id)).status_code == 404
    assert client.get(office_url(999999)).status_code == 404


def test_a_draft_has_no_office_page(app, client, world):
    pact_id = make_pact(app, world, S.draft)
    assert as_user(client, world, "official").get(office_url(pact_id)).status_code == 404


# (endpoint path, form data) for every office POST: used to check the department scope on each.
EVERY_POST = [
    ("integration", {"integration-reason": "Manca la planimetria."}),
    ("admissible", {"admissible-kind": "ordinary", "admissible-department_id": "0"}),
    ("inadmissible", {"inadmissible-reason": "Fuori ambito."}),
    ("consultation", {"consultation-starts_on": "2026-12-01", "consultation-days": "30"}),
    ("co-design", {}),
    ("meetings", {"meeting-held_at": "2026-12-01T18:00", "meeting-place": "Cascina Roccafranca"}),
    ("support", {"support-items-0-kind": "tools", "support-items-0-description": "Rastrelli"}),
    ("versions", {"version-text": "Nuovo testo"}),
    ("merge", {"merge-other_id": "1"}),
    ("approve", {"approve-version_number": "1"}),
    ("signing", {}),
    ("sign", {"sign-party_id": "1", "sign-confirm": "y"}),
    ("suspend", {"suspend-reason": "Lavori."}),
    ("resume", {}),
    ("revoke", {"revoke-reason": "Inadempienze."}),
    ("complete", {}),
    ("renew", {}),
    ("reports/1/review", {"report1-decision": "accept"}),
    ("disputes/1/proposal", {"committee1-proposal": "Proposta."}),
    ("disputes/1/close", {"close1-outcome": "Chiusa."}),
]


@pytest.mark.parametrize("action,data", EVERY_POST, ids=[a for a, _ in EVERY_POST])
def test_another_departments_official_is_refused_every_action(app, client, world, action, data):
    pact_id = make_pact(app, world, S.submitted)
    before = audit_actions(app, pact_id)
    response = as_user(client, world, "other").post(office_url(pact_id, action), data=data)
    assert response.status_code == 404
    assert_unchanged(app, pact_id, S.submitted, 2)
    assert audit_actions(app, pact_id) == before


# --- admissibility ----------------------------------------------------------------------------------------

def test_request_integration_moves_the_pact_and_keeps_the_reason(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    response = as_user(client, world, "official").post(
        office_url(pact_id, "integration"), data={"integration-reason": "Manca la planimetria."})
    pact = assert_moved(app, pact_id, response, S.needs_integration)
    assert pact.history[-1].reason == "Manca la planimetria."
    follow = client.get(office_url(pact_id))
    assert "The proponents were asked to complete the proposal." in text_of(follow)


def test_request_integration_without_a_reason_is_refused(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    response = as_user(client, world, "official").post(office_url(pact_id, "integration"),
                                                       data={"integration-reason": " "})
    assert response.status_code == 400
    assert_field_error(response, "integration-reason", "This field is required.")
    assert_unchanged(app, pact_id, S.submitted, 2)


def test_declare_admissible_classifies_and_assigns_the_responsible_official(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    response = as_user(client, world, "official").post(office_url(pact_id, "admissible"), data={
        "admissible-kind": "complex", "admissible-department_id": str(world["parks"]),
        "admissible-responsible_id": str(world["colleague"])})
    pact = assert_moved(app, pact_id, response, S.admissible)
    assert pact.kind == PactKind.complex and pact.department_id == world["parks"]
    assert pact.official_id == world["colleague"]
    assert [p.user_id for p in pact.parties if p.kind == PartyKind.city] == [world["colleague"]]


def test_the_responsible_official_must_be_of_the_department(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    response = as_user(client, world, "official").post(office_url(pact_id, "admissible"), data={
        "admissible-kind": "ordinary", "admissible-department_id": str(world["parks"]),
        "admissible-responsible_id": str(world["other"])})
    assert response.status_code == 400
    assert_unchanged(app, pact_id, S.submitted, 2)


def test_declare_admissible_twice_is_a_conflict(app, client, world):
    pact_id = make_pact(app, world, S.admissible)
    response = as_user(client, world, "official").post(office_url(pact_id, "admissible"), data={
        "admissible-kind": "ordinary", "admissible-department_id": str(world["parks"])})
    assert response.status_code == 409
    assert "cannot move" in text_of(response)
    assert_unchanged(app, pact_id, S.admissible, 3)


def test_declare_inadmissible_needs_a_motivation(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    as_user(client, world, "official")
    refused = client.post(office_url(pact_id, "inadmissible"), data={"inadmissible-reason": ""})
    assert refused.status_code == 400
    assert_unchanged(app, pact_id, S.submitted, 2)
    done = client.post(office_url(pact_id, "inadmissible"), data={"inadmissible-reason": "Il bene è privato."})
    assert assert_moved(app, pact_id, done, S.inadmissible).history[-1].reason == "Il bene è privato."


# --- consultation and co-design ----------------------------------------------------------------------------

def test_open_consultation_sets_the_window(app, client, world):
    pact_id = make_pact(app, world, S.admissible)
    page = text_of(as_user(client, world, "official").get(office_url(pact_id)))
    assert 'name="consultation-days"' in page and 'value="30"' in page  # PACT_CONSULTATION_DAYS
    response = client.post(office_url(pact_id, "consultation"),
                           data={"consultation-starts_on": date.today().isoformat(), "consultation-days": "20"})
    pact = assert_moved(app, pact_id, response, S.public_consultation)
    assert (pact.consultation_ends_at - pact.consultation_starts_at) == 20 * DAY


def test_open_consultation_from_the_wrong_status_is_a_conflict(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    response = as_user(client, world, "official").post(office_url(pact_id, "consultation"), data={
        "consultation-starts_on": date.today().isoformat(), "consultation-days": "30"})
    assert response.status_code == 409
    assert_unchanged(app, pact_id, S.submitted, 2)


def test_co_design_starts_only_after_the_consultation_ended(app, client, world):
    open_one = make_pact(app, world, S.public_consultation, consultation_ended=False)
    ended = make_pact(app, world, S.public_consultation, title="Consultazione finita")
    as_user(client, world, "official")
    assert f'action="/office/pacts/{open_one}/co-design"' not in client.get(office_url(open_one)).text
    refused = client.post(office_url(open_one, "co-design"))
    assert refused.status_code == 400
    assert_unchanged(app, open_one, S.public_consultation, 4)
    assert count(app, PactVersion, pact_id=open_one) == 0
    response = client.post(office_url(ended, "co-design"))
    assert response.status_code == 302
    assert pact_row(app, ended).status == S.co_design
    assert count(app, PactVersion, pact_id=ended) == 1
    assert "pact.co_design" in audit_actions(app, ended)


def test_record_a_meeting_at_a_casa_del_quartiere(app, client, world):
    pact_id = make_pact(app, world, S.co_design)
    response = as_user(client, world, "official").post(office_url(pact_id, "meetings"), data={
        "meeting-held_at": "2026-11-20T18:30", "meeting-house_id": str(world["house"]),
        "meeting-participants": "Rosa, Anna", "meeting-minutes": "Concordate le attività."})
    assert response.status_code == 302
    with app.app_context():
        meeting = db.session.scalars(select(PactMeeting).where(PactMeeting.pact_id == pact_id)).one()
        assert meeting.house_id == world["house"] and meeting.participants == "Rosa, Anna"
        assert meeting.held_at.hour == 17  # 18:30 in Turin (CET) is 17:30 UTC
    assert "pact.meeting_recorded" in audit_actions(app, pact_id)


def test_a_meeting_needs_a_place(app, client, world):
    pact_id = make_pact(app, world, S.co_design)
    response = as_user(client, world, "official").post(office_url(pact_id, "meetings"), data={
        "meeting-held_at": "2026-11-20T18:30", "meeting-house_id": "0"})
    assert response.status_code == 400
    assert_field_error(response, "meeting-place", "Say where the meeting was held.")
    assert count(app, PactMeeting, pact_id=pact_id) == 0


def test_set_the_citys_support_items(app, client, world):
    pact_id = make_pact(app, world, S.co_design)
    response = as_user(client, world, "official").post(office_url(pact_id, "support"), data={
        "support-items-0-kind": "tools", "support-items-0-description": "Rastrelli e guanti",
        "support-items-0-quantity": "10", "support-items-0-unit": "pezzi",
        "support-items-1-kind": "staff_hours", "support-items-1-description": "",
    })
    assert response.status_code == 302
    items = pact_row(app, pact_id).support_items
    assert [(i.kind.value, i.description, i.quantity, i.unit) for i in items] == [
        ("tools", "Rastrelli e guanti", 10.0, "pezzi")]
    assert "pact.support_items_set" in audit_actions(app, pact_id)


def test_add_a_version_of_the_text(app, client, world):
    pact_id = make_pact(app, world, S.co_design)
    page = text_of(as_user(client, world, "official").get(office_url(pact_id)))
    with app.app_context():
        first = db.session.scalars(select(PactVersion).where(PactVersion.pact_id == pact_id)).one().text
    assert first.strip().splitlines()[0] in page  # the textarea starts from the latest version
    response = client.post(office_url(pact_id, "versions"),
                           data={"version-text": first + "\nArticolo aggiunto.\n", "version-note": "Art. 9"})
    assert response.status_code == 302
    assert [v.number for v in pact_row(app, pact_id).versions] == [1, 2]
    assert "pact.version_added" in audit_actions(app, pact_id)
    assert "Articolo aggiunto." in text_of(client.get(office_url(pact_id)))  # the diff


def test_merge_a_competing_proposal_into_this_one(app, client, world):
    into = make_pact(app, world, S.co_design)
    other = make_pact(app, world, S.submitted, title="Proposta concorrente")
    page = text_of(as_user(client, world, "official").get(office_url(into)))
    assert "Competing proposals for the same commons" in page and "Proposta concorrente" in page
    response = client.post(office_url(into, "merge"), data={"merge-other_id": str(other), "merge-reason": "Unite"})
    assert response.status_code == 302 and location_path(response) == office_url(into)
    merged = pact_row(app, other)
    assert merged.status == S.withdrawn and merged.merged_into_id == into
    assert "pact.merged" in audit_actions(app, into)


def test_merging_a_proposal_that_is_not_competing_is_refused(app, client, world):
    into = make_pact(app, world, S.co_design)
    elsewhere = make_pact(app, world, S.submitted, commons="square")
    response = as_user(client, world, "official").post(office_url(into, "merge"),
                                                       data={"merge-other_id": str(elsewhere)})
    assert response.status_code == 400
    assert pact_row(app, elsewhere).status == S.submitted


# --- approval, the frozen text, signing --------------------------------------------------------------------

def test_approve_an_ordinary_pact_freezes_the_chosen_version(app, client, world):
    pact_id = make_pact(app, world, S.co_design)
    response = as_user(client, world, "official").post(office_url(pact_id, "approve"), data={
        "approve-version_number": "1", "approve-starts_on": "2027-01-01", "approve-ends_on": "2027-12-31"})
    pact = assert_moved(app, pact_id, response, S.approved)
    assert pact.approved_version_number == 1 and pact.approved_text_sha256 == pact.versions[0].sha256
    assert pact.starts_on == date(2027, 1, 1) and pact.ends_on == date(2027, 12, 31)


def test_a_complex_pact_is_not_approved_without_the_act(app, client, world):
    pact_id = make_pact(app, world, S.co_design, kind=PactKind.complex)
    as_user(client, world, "official")
    assert 'name="approve-act_number"' in client.get(office_url(pact_id)).text
    refused = client.post(office_url(pact_id, "approve"), data={"approve-version_number": "1"})
    assert refused.status_code == 400
    assert_field_error(refused, "approve-act_type", "A complex pact is approved by an act")
    assert_unchanged(app, pact_id, S.co_design, 5)
    done = client.post(office_url(pact_id, "approve"), data={
        "approve-version_number": "1", "approve-act_type": "Deliberazione della Giunta",
        "approve-act_number": "2026 04512/070", "approve-act_date": "2026-11-30"})
    pact = assert_moved(app, pact_id, done, S.approved)
    assert (pact.approval_act_number, pact.approval_act_date) == ("2026 04512/070", date(2026, 11, 30))


def test_after_approval_the_text_and_the_support_cannot_change(app, client, world):
    pact_id = make_pact(app, world, S.approved)
    as_user(client, world, "official")
    page = client.get(office_url(pact_id)).text
    assert f'action="/office/pacts/{pact_id}/versions"' not in page
    assert f'action="/office/pacts/{pact_id}/support"' not in page
    items_before = count(app, PactSupportItem, pact_id=pact_id)
    version = client.post(office_url(pact_id, "versions"), data={"version-text": "Testo cambiato"})
    assert version.status_code == 400 and "frozen" in text_of(version)
    support = client.post(office_url(pact_id, "support"), data={
        "support-items-0-kind": "tools", "support-items-0-description": "Altro"})
    assert support.status_code == 400
    assert count(app, PactVersion, pact_id=pact_id) == 1
    assert count(app, PactSupportItem, pact_id=pact_id) == items_before


def test_open_signing_and_a_conflict_before_approval(app, client, world):
    approved = make_pact(app, world, S.approved)
    co_design = make_pact(app, world, S.co_design, title="Ancora in coprogettazione")
    as_user(client, world, "official")
    assert_moved(app, approved, client.post(office_url(approved, "signing")), S.signing)
    assert client.post(office_url(co_design, "signing")).status_code == 409
    assert_unchanged(app, co_design, S.co_design, 5)


def test_sign_for_the_city_shows_the_hash_and_needs_the_confirmation(app, client, world):
    pact_id = make_pact(app, world, S.signing)
    with app.app_context():
        pact = db.session.get(Pact, pact_id)
        city = next(p.id for p in pact.parties if p.kind == PartyKind.city)
        proponent_party = next(p.id for p in pact.parties if p.kind == PartyKind.proponent)
        sha = pact.approved_text_sha256
    page = text_of(as_user(client, world, "official").get(office_url(pact_id)))
    assert sha in page
    refused = client.post(office_url(pact_id, "sign"), data={"sign-party_id": str(city)})
    assert refused.status_code == 400
    assert count(app, PactSignature, pact_id=pact_id) == 0
    not_ours = client.post(office_url(pact_id, "sign"), data={"sign-party_id": str(proponent_party),
                                                              "sign-confirm": "y"})
    assert not_ours.status_code == 403
    done = client.post(office_url(pact_id, "sign"), data={"sign-party_id": str(city), "sign-confirm": "y"})
    assert done.status_code == 302
    with app.app_context():
        signature = db.session.scalars(select(PactSignature).where(PactSignature.pact_id == pact_id)).one()
        assert signature.text_sha256 == sha and signature.signer_id == world["official"]
        assert signature.capacity.startswith("per il Comune di Torino")
    again = client.post(office_url(pact_id, "sign"), data={"sign-party_id": str(city), "sign-confirm": "y"})
    assert again.status_code == 400
    assert count(app, PactSignature, pact_id=pact_id) == 1


# --- the active pact ---------------------------------------------------------------------------------------

def test_suspend_needs_a_reason_then_resume(app, client, world):
    pact_id = make_pact(app, world, S.active)
    as_user(client, world, "official")
    history = len(pact_row(app, pact_id).history)
    assert client.post(office_url(pact_id, "suspend"), data={"suspend-reason": ""}).status_code == 400
    assert_unchanged(app, pact_id, S.active, history)
    assert client.post(office_url(pact_id, "resume")).status_code == 409
    suspended = assert_moved(app, pact_id, client.post(office_url(pact_id, "suspend"),
                                                       data={"suspend-reason": "Lavori di rete"}), S.suspended)
    assert suspended.history[-1].reason == "Lavori di rete"
    assert_moved(app, pact_id, client.post(office_url(pact_id, "resume"), data={"resume-reason": ""}), S.active)


def test_revoke_needs_a_motivation(app, client, world):
    pact_id = make_pact(app, world, S.active)
    as_user(client, world, "official")
    history = len(pact_row(app, pact_id).history)
    assert client.post(office_url(pact_id, "revoke"), data={"revoke-reason": " "}).status_code == 400
    assert_unchanged(app, pact_id, S.active, history)
    pact = assert_moved(app, pact_id, client.post(office_url(pact_id, "revoke"),
                                                  data={"revoke-reason": "Attività mai svolte."}), S.revoked)
    assert pact.history[-1].reason == "Attività mai svolte."


def test_complete_and_then_nothing_more(app, client, world):
    pact_id = make_pact(app, world, S.active)
    as_user(client, world, "official")
    assert_moved(app, pact_id, client.post(office_url(pact_id, "complete")), S.completed)
    history = len(pact_row(app, pact_id).history)
    assert client.post(office_url(pact_id, "suspend"), data={"suspend-reason": "x"}).status_code == 409
    assert_unchanged(app, pact_id, S.completed, history)


def test_renew_goes_to_the_new_pact_in_co_design(app, client, world):
    pact_id = make_pact(app, world, S.active)
    response = as_user(client, world, "official").post(office_url(pact_id, "renew"))
    assert response.status_code == 302
    assert pact_row(app, pact_id).status == S.renewed
    with app.app_context():
        new = db.session.scalars(select(Pact).where(Pact.renewal_of_id == pact_id)).one()
        assert new.status == S.co_design and new.versions[0].text == db.session.get(
            Pact, pact_id).approved_version.text
        new_id = new.id
    assert location_path(response) == office_url(new_id)
    assert "pact.renewed" in audit_actions(app, pact_id)
    assert client.post(office_url(make_pact(app, world, S.approved), "renew")).status_code == 409


def add_report(app, pact_id, world):
    with app.app_context():
        report = PactReport(pact_id=pact_id, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                            activities="Dodici giornate di cura.", volunteer_hours=140,
                            submitted_by_id=world["proponent"])
        db.session.add(report)
        db.session.commit()
        return report.id


def test_review_a_report_accept_or_ask_for_changes_with_a_note(app, client, world):
    pact_id = make_pact(app, world, S.active)
    first, second = add_report(app, pact_id, world), add_report(app, pact_id, world)
    as_user(client, world, "official")
    page = text_of(client.get(office_url(pact_id)))
    assert "Reports to review" in page and "Dodici giornate di cura." in page
    no_note = client.post(office_url(pact_id, f"reports/{first}/review"), data={f"report{first}-decision": "changes"})
    assert no_note.status_code == 400
    assert_field_error(no_note, f"report{first}-note", "Say what must change in the report.")
    assert client.post(office_url(pact_id, f"reports/{first}/review"), data={
        f"report{first}-decision": "changes", f"report{first}-note": "Aggiungete le foto."}).status_code == 302
    assert client.post(office_url(pact_id, f"reports/{second}/review"),
                       data={f"report{second}-decision": "accept"}).status_code == 302
    with app.app_context():
        reviews = {r.id: (r.review, r.review_note) for r in db.session.scalars(select(PactReport))}
        assert reviews == {first: (ReportReview.needs_changes, "Aggiungete le foto."),
                           second: (ReportReview.accepted, None)}
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "pact_report.reviewed")) == 2
    again = client.post(office_url(pact_id, f"reports/{second}/review"), data={f"report{second}-decision": "accept"})
    assert again.status_code == 400


def test_a_report_of_another_pact_is_not_found(app, client, world):
    pact_id = make_pact(app, world, S.active)
    other = make_pact(app, world, S.active, title="Altro patto", commons="square")
    report = add_report(app, other, world)
    response = as_user(client, world, "official").post(office_url(pact_id, f"reports/{report}/review"),
                                                       data={f"report{report}-decision": "accept"})
    assert response.status_code == 404
    assert count(app, PactReport, review=ReportReview.submitted) == 1


def test_record_the_committees_proposal_and_close_a_dispute(app, client, world):
    pact_id = make_pact(app, world, S.active)
    with app.app_context():
        dispute = services.open_dispute(db.session.get(Pact, pact_id), _user(world, "proponent"),
                                        "Uso esclusivo del giardino da parte di un socio.")
        db.session.commit()
        dispute_id = dispute.id
    as_user(client, world, "official")
    assert "Uso esclusivo del giardino" in text_of(client.get(office_url(pact_id)))
    assert client.post(office_url(pact_id, f"disputes/{dispute_id}/proposal"),
                       data={f"committee{dispute_id}-proposal": ""}).status_code == 400
    assert client.post(office_url(pact_id, f"disputes/{dispute_id}/proposal"), data={
        f"committee{dispute_id}-proposal": "Turni aperti a tutti."}).status_code == 302
    assert client.post(office_url(pact_id, f"disputes/{dispute_id}/close"), data={
        f"close{dispute_id}-outcome": "Accolta la proposta."}).status_code == 302
    with app.app_context():
        closed = db.session.get(PactDispute, dispute_id)
        assert closed.committee_proposal == "Turni aperti a tutti." and closed.closed_at is not None
    assert client.post(office_url(pact_id, f"disputes/{dispute_id}/close"),
                       data={f"close{dispute_id}-outcome": "Di nuovo"}).status_code == 400


# --- the slot on the public page ---------------------------------------------------------------------------

def test_the_public_page_shows_the_office_panel_only_to_the_pacts_officials(app, client, world):
    pact_id = make_pact(app, world, S.approved)
    link = f'href="/office/pacts/{pact_id}"'
    assert link in as_user(client, world, "official").get(f"/pacts/{pact_id}").text
    assert link not in as_user(client, world, "other").get(f"/pacts/{pact_id}").text
    assert link not in as_user(client, world, "citizen").get(f"/pacts/{pact_id}").text


def test_history_rows_are_written_once_per_move(app, client, world):
    pact_id = make_pact(app, world, S.submitted)
    as_user(client, world, "official").post(office_url(pact_id, "integration"),
                                            data={"integration-reason": "Manca un documento."})
    assert count(app, PactStatusChange, pact_id=pact_id) == 3
