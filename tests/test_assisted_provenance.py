"""Provenance of every kind of record a citizen can create, made in ONE real assisted session over HTTP.

Each record gets exactly one AssistedAction (session, facilitator, house, citizen, action) and one audit
event ``assisted.<action>`` whose actor is the facilitator; the audit chain still verifies. The same
citizen signed in normally, and the facilitator once the session is over (or before anyone is picked),
leave no provenance. Public pages, the map's GeoJSON, the API and the open data exports say "with help
at <house>" where the templates show it, and never name the facilitator.
"""
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.assisted import codes
from app.assisted.provenance import _tracked
from app.assisted.records import MINOR_ACTIONS, action_label
from app.audit.services import verify_chain
from app.commons import services as commons
from app.extensions import db
from app.models import (AssistedAction, AssistedSession, AuditEvent, Comment, Debate, Document, Flag, Photo,
                        Report, Role, Support, User, UserRole, user_houses)
from app.models.base import utcnow
from app.models.commons import Commons, Organisation, OrganisationMember
from app.models.event import Event, EventKind, EventRegistration
from app.models.moderation import ModerationAppeal
from app.models.opportunity import HelpAnswer, HelpCall, HelpOffer
from app.models.pact import (Pact, PactJoinRequest, PactKind, PactParty, PactReport, PactSignature, PactStatus,
                             PactVersion, PactVolunteer)
from app.models.place import NeighbourhoodHouse
from app.models.proposal import Proposal, ProposalAddendum, ProposalCoauthor
from app.moderation import services as moderation
from app.opportunities import services as opportunities
from app.pacts import services as pacts
from app.reports import services as reports
from tests.conftest import login
from tests.http_helpers import english, location_path, new_client, text_of
from tests.pact_builders import advance, pact_world, reload_user
from tests.pdf_builders import plain_pdf, text_of_pdf
from tests.test_assisted_http import city, open_session, report_form  # noqa: F401 - city is a fixture
from tests.test_proposals import build_process, new_proposal

S = PactStatus
DAY = timedelta(days=1)
#: A name and an address that appear nowhere else, so that any leak of the facilitator is seen.
HELPER_NAME = "Ottavia Riservatissima"
HELPER_EMAIL = "ottavia.riservatissima@casa-quartiere.example.org"
VANCHIGLIA = (45.0700, 7.7000)
#: Collecting proposals now, supports later.
COLLECTING = {"collection": (-DAY, 10 * DAY), "support": (10 * DAY, 20 * DAY)}

#: Every kind a citizen can create -> the action its provenance row is written with. The guard below
#: fails when the hook tracks a kind this file does not create (and check) in the session.
EXPECTED_ACTIONS = {
    Report: "report.created",
    Photo: "photo.added",
    Proposal: "proposal.created",
    ProposalCoauthor: "proposal.coauthor_invited",
    ProposalAddendum: "proposal.addendum",
    Support: "support.cast",
    Comment: "comment.created",
    Debate: "debate.created",
    EventRegistration: "event.registered",
    Flag: "content.flagged",
    HelpCall: "help.called",
    HelpAnswer: "help.answered",
    HelpOffer: "help.offered",
    Pact: "pact.proposed",
    Document: "document.added",
    PactJoinRequest: "pact.join_requested",
    PactVolunteer: "pact.volunteered",
    PactSignature: "pact.signed",
    PactReport: "pact.report_filed",
    PactVersion: "pact.version_proposed",
    Commons: "commons.proposed",
    Organisation: "organisation.created",
    OrganisationMember: "organisation.joined",
    ModerationAppeal: "moderation.appealed",
}


#: Rows written with a tracked record, not records of their own (or the session's own bookkeeping).
SIDE_TABLES = frozenset({
    "assisted_sessions", "assisted_actions", "audit_events", "audit_chain_head",
    "notifications", "outbox_emails", "follows",  # who is told, and who follows what they wrote
    "report_updates",  # a report's timeline starts with its creation
    "moderation_cases",  # a flag opens (or joins) the case of the flagged item
    "pact_parties", "pact_status_changes", "pact_support_items",  # parts of a pact proposal and its history
    "search_documents",  # the search index row of a new public item
})


def row_counts(app):
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


@pytest.fixture
def helper(app, make_user, city):  # noqa: F811 - the fixture imported above
    user = make_user(roles=[Role.facilitator], display_name=HELPER_NAME, email=HELPER_EMAIL)
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=user.id, house_id=city["house_id"]))
        db.session.commit()
    return user


def jpeg(color=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


@dataclass
class Scene:
    """Ids of what the session acts on, built through the services before any request."""

    world: object
    citizen: User
    invitee_email: str
    collecting_process_id: int
    supporting_process_id: int
    others_proposal_id: int
    strangers_report_id: int
    event_id: int
    organisation_call_id: int
    signing_pact_id: int
    signing_party_id: int
    active_pact_id: int
    consultation_pact_id: int
    volunteering_pact_id: int
    co_design_pact_id: int
    decision_id: int
    invitation_url: str
    house_slug: str
    #: model class -> the id of the record of that kind made in the session (one per tracked kind)
    created: dict = field(default_factory=dict)
    #: (model class, id) of the other records the session made along the way (the creator's membership...)
    also: list = field(default_factory=list)


def build_scene(app, city, helper):  # noqa: F811
    """The pact world; the citizen is its co-proponent (verified, an individual party of the author's pacts)."""
    with app.app_context():
        world = pact_world()
        signing = advance(world, S.signing, title="Giardino da firmare")
        active = advance(world, S.active, title="Giardino attivo", now=utcnow() - 40 * DAY)
        # A proposal the citizen is not part of, to ask to join; a party may volunteer in its own pact.
        consultation = advance(world, S.public_consultation, title="Giardino in consultazione", co_proponent=False)
        volunteering = active
        co_design = advance(world, S.co_design, title="Giardino da scrivere insieme")
        citizen = world.user("co_proponent")
        # A comment of the citizen hidden by a moderator: the session appeals the decision.
        debate = Debate(author_id=world.users["stranger"].id, title="Il mercato del sabato", body="Parliamone.")
        db.session.add(debate)
        db.session.flush()
        comment = Comment(target_type="debate", target_id=debate.id, author_id=citizen.id, body="Tutti ladri.")
        db.session.add(comment)
        db.session.flush()
        moderation.flag(world.user("stranger"), "comment", comment.id, "offensive")
        decision = moderation.decide(moderation.case_for("comment", comment.id), world.user("moderator"), "hide",
                                     rule="respect", reason="Offende chi lavora al mercato.")
        # An invitation to join the world's organisation, answered in the session.
        invitation = commons.invite_member(world.organisation, world.user("representative"), citizen.email)
        party_id = db.session.scalar(select(PactParty.id).where(PactParty.pact_id == signing,
                                                                PactParty.user_id == citizen.id))
        collecting = build_process(phases=COLLECTING)
        supporting = build_process()
        others = new_proposal(supporting, world.user("verified"), title="Panchine lungo la Dora")
        report = reports.create_report(world.user("stranger"), title="Cestino rotto", description="Da cambiare.",
                                       category_id=city["category_id"], lat=45.0600, lon=7.6500)
        starts = utcnow() + 3 * DAY
        house = db.session.get(NeighbourhoodHouse, city["house_id"])
        event = Event(house=house, kind=EventKind.assembly, title="Assemblea di quartiere", starts_at=starts,
                      ends_at=starts + timedelta(hours=2), capacity=20, district_id=house.district_id,
                      created_by_id=helper.id)
        db.session.add(event)
        call = opportunities.create_call(
            world.user("representative"), organisation_id=world.organisation_id, title="Pulizia del parco",
            lat=VANCHIGLIA[0], lon=VANCHIGLIA[1], starts_at=starts, ends_at=starts + timedelta(hours=3),
            skills="gardening", people_needed=5)
        db.session.commit()
        world.users = {role: reload_user(user.id) for role, user in world.users.items()}
        scene = Scene(world=world, citizen=world.users["co_proponent"], invitee_email=world.users["verified"].email,
                      collecting_process_id=collecting.id, supporting_process_id=supporting.id,
                      others_proposal_id=others.id, strangers_report_id=report.id, event_id=event.id,
                      organisation_call_id=call.id, signing_pact_id=signing, signing_party_id=party_id,
                      active_pact_id=active, consultation_pact_id=consultation, volunteering_pact_id=volunteering,
                      co_design_pact_id=co_design, decision_id=decision.id, invitation_url=invitation,
                      house_slug=house.slug)
        db.session.expunge_all()
        return scene


def newest(app, model, **where):
    """The id of the newest row of ``model`` matching ``where``."""
    with app.app_context():
        query = select(model.id).order_by(model.id.desc())
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.session.scalar(query)


def ok(response):
    """A form that saved redirects (a page with the form again would mean it did not), and not to the
    session page (a page out of reach while acting) nor to the sign-in page."""
    assert response.status_code == 302, (response.status_code, re.findall(
        r'class="[^"]*(?:error|flash)[^"]*"[^>]*>([^<]+)', text_of(response)))
    assert location_path(response) not in ("/assist/session", "/login"), response.headers["Location"]
    return response


def pact_form(scene, **overrides):
    data = {"title": "Orto condiviso di via Baltea", "commons_choice": "existing", "commons_id": scene.world.commons_id,
            "organisation_id": "0", "kind_requested": "ordinary", "objectives": "Un orto per il quartiere.",
            "activities": "Ogni sabato mattina.", "beneficiaries": "Le famiglie della via", "duration_months": "12",
            "own_resources": "", "support-0-kind": "", "support-1-kind": "", "support-2-kind": "",
            "support-3-kind": "", "declare_truth": "y", "declare_rules": "y", "declare_privacy": "y"}
    data.update(overrides)
    return data


def act_in_a_session(app, client, login_as, city, helper, scene):  # noqa: F811
    """Open a session, pick the citizen by a one-time code and create one record of every kind."""
    with app.app_context():
        code = codes.issue_assist_code(db.session.get(User, scene.citizen.id))
        db.session.commit()
    login_as(helper)
    open_session(client, city)
    picked = client.post("/assist/session/code", data={"c-code": code})
    assert picked.status_code == 302 and location_path(picked) == "/assist/session"
    citizen_id = scene.citizen.id
    made = scene.created

    # A report with a photo.
    ok(client.post("/reports/new", data={**report_form(city, title="Marciapiede sconnesso"),
                                         "photos": [(io.BytesIO(jpeg()), "marciapiede.jpg")]},
                   content_type="multipart/form-data"))
    made[Report] = newest(app, Report, reporter_id=citizen_id)
    made[Photo] = newest(app, Photo, owner_type="report", owner_id=made[Report])

    # A proposal: the draft, a co-author invited, published, then an addendum.
    response = ok(client.post("/proposals/new", data={
        "process_id": scene.collecting_process_id, "title": "Fontanelle in piazza Vanchiglia",
        "body": "Due fontanelle per l'estate.", "category_id": city["category_id"], "district_id": 0,
        "lat": str(VANCHIGLIA[0]), "lon": str(VANCHIGLIA[1]), "coauthors": ""}))
    proposal_id = int(re.search(r"/proposals/(\d+)$", response.headers["Location"]).group(1))
    made[Proposal] = proposal_id
    ok(client.post(f"/proposals/{proposal_id}/coauthors", data={"in-email": scene.invitee_email}))
    made[ProposalCoauthor] = newest(app, ProposalCoauthor, proposal_id=proposal_id)
    ok(client.post(f"/proposals/{proposal_id}/publish"))
    ok(client.post(f"/proposals/{proposal_id}/addenda", data={"ad-body": "Anche una panchina all'ombra."}))
    made[ProposalAddendum] = newest(app, ProposalAddendum, proposal_id=proposal_id)

    # Someone else's proposal: a support and a comment.
    ok(client.post(f"/proposals/{scene.others_proposal_id}/support"))
    made[Support] = newest(app, Support, user_id=citizen_id, proposal_id=scene.others_proposal_id)
    ok(client.post(f"/comments/proposal/{scene.others_proposal_id}", data={"body": "Servono davvero."}))
    made[Comment] = newest(app, Comment, author_id=citizen_id)

    ok(client.post("/debates/new", data={"title": "Una piazza senza auto la domenica?",
                                         "body": "Proviamo in primavera.", "category_id": 0, "district_id": 0}))
    made[Debate] = newest(app, Debate, author_id=citizen_id)

    ok(client.post(f"/events/{scene.event_id}/register"))
    made[EventRegistration] = newest(app, EventRegistration, event_id=scene.event_id, user_id=citizen_id)

    # A flag on someone else's report, through the generic route.
    ok(client.post(f"/flags/report/{scene.strangers_report_id}",
                   data={"fl-reason": "spam", "fl-text": "", "next": f"/reports/{scene.strangers_report_id}"}))
    made[Flag] = newest(app, Flag, user_id=citizen_id)

    # Calls for help: one posted for the citizen's active pact, one answered, an offer.
    starts = (utcnow() + 10 * DAY).replace(second=0, microsecond=0)
    ok(client.post("/opportunities/new", data={
        "target": f"pact-{scene.active_pact_id}", "title": "Serve aiuto per le aiuole", "description": "Zappe.",
        "lat": str(VANCHIGLIA[0]), "lon": str(VANCHIGLIA[1]), "starts_at": _local(starts),
        "ends_at": _local(starts + timedelta(hours=3)), "skills": "gardening", "people_needed": "3"}))
    made[HelpCall] = newest(app, HelpCall, author_id=citizen_id)
    ok(client.post(f"/opportunities/{scene.organisation_call_id}/answer"))
    made[HelpAnswer] = newest(app, HelpAnswer, call_id=scene.organisation_call_id, user_id=citizen_id)
    ok(client.post("/opportunities/offers/new", data={"skills": "Gardening", "availability": "Sabato mattina",
                                                      "district_id": "0"}))
    made[HelpOffer] = newest(app, HelpOffer, user_id=citizen_id)

    # Pacts: a draft with a document (submitted, so that it can become public), a join request,
    # volunteering, a signature and a report.
    response = ok(client.post("/pacts/new", data=pact_form(scene, documents=[(io.BytesIO(plain_pdf()), "piano.pdf")]),
                              content_type="multipart/form-data"))
    made[Pact] = int(location_path(response).rsplit("/", 1)[1])
    made[Document] = newest(app, Document, owner_type="pact", owner_id=made[Pact])
    ok(client.post(f"/pacts/{made[Pact]}/submit"))
    ok(client.post(f"/pacts/{scene.consultation_pact_id}/join-requests",
                   data={"jr-organisation_id": "0", "jr-message": "Vorrei partecipare."}))
    made[PactJoinRequest] = newest(app, PactJoinRequest, pact_id=scene.consultation_pact_id, user_id=citizen_id)
    ok(client.post(f"/pacts/{scene.volunteering_pact_id}/volunteers", data={"vo-accept_rules": "y"}))
    made[PactVolunteer] = newest(app, PactVolunteer, pact_id=scene.volunteering_pact_id, user_id=citizen_id)
    ok(client.post(f"/pacts/{scene.signing_pact_id}/sign",
                   data={"sg-party_id": scene.signing_party_id, "sg-confirm": "y"}))
    made[PactSignature] = newest(app, PactSignature, party_id=scene.signing_party_id)
    with app.app_context():
        start = db.session.get(Pact, scene.active_pact_id).starts_on
    ok(client.post(f"/pacts/{scene.active_pact_id}/reports/new", data={
        "period_start": start.isoformat(), "period_end": (start + 20 * DAY).isoformat(),
        "activities": "Quattro giornate di cura.", "beneficiaries_reached": "40", "volunteer_hours": "12"}))
    made[PactReport] = newest(app, PactReport, pact_id=scene.active_pact_id, submitted_by_id=citizen_id)

    ok(client.post(f"/pacts/{scene.co_design_pact_id}/versions",
                   data={"vr-text": "Art. 1 - Il giardino si cura il sabato mattina.", "vr-note": "Orari"}))
    made[PactVersion] = newest(app, PactVersion, pact_id=scene.co_design_pact_id, author_id=citizen_id)
    # A second draft, on a commons that is not in the registry yet: the commons is proposed with it.
    with app.app_context():
        from app import geo

        point = next(iter(geo.districts())).shape.representative_point()
    response = ok(client.post("/pacts/new", data=pact_form(
        scene, title="Cortile aperto", commons_choice="new", commons_id="0", new_name="Cortile della scuola Aurora",
        new_kind="school_courtyard", lat=f"{point.y:.6f}", lon=f"{point.x:.6f}", new_address="via Aurora 1")))
    second_pact = int(location_path(response).rsplit("/", 1)[1])
    scene.also.append((Pact, second_pact))
    made[Commons] = newest(app, Commons, proposed_by_id=citizen_id)

    # Organisations: one founded (its founder becomes its representative), one joined by invitation.
    ok(client.post("/organisations/new", data={"name": "Amici del giardino Aurora", "kind": "informal_group",
                                               "description": "Vicini di casa.", "tax_code": "", "email": "",
                                               "website": "", "district_id": "0"}))
    founded = newest(app, Organisation, created_by_id=citizen_id)
    made[Organisation] = founded
    scene.also.append((OrganisationMember, newest(app, OrganisationMember, organisation_id=founded)))
    assert client.get(scene.invitation_url).status_code == 200
    ok(client.post(scene.invitation_url, data={"answer": "accept"}))
    made[OrganisationMember] = newest(app, OrganisationMember, organisation_id=scene.world.organisation_id,
                                      user_id=citizen_id)

    # An appeal against the moderator's decision on the citizen's comment.
    ok(client.post(f"/moderation/decisions/{scene.decision_id}",
                   data={"text": "Era un modo di dire, non volevo offendere nessuno."}))
    made[ModerationAppeal] = newest(app, ModerationAppeal, decision_id=scene.decision_id)

    assert all(made.values()), {cls.__name__: ident for cls, ident in made.items() if not ident}
    assert all(ident for _, ident in scene.also), scene.also
    with app.app_context():
        return db.session.scalar(select(AssistedSession).where(AssistedSession.facilitator_id == helper.id)
                                 .order_by(AssistedSession.id.desc()))


def _local(moment):
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Rome")).strftime("%Y-%m-%dT%H:%M")


# --- the guard --------------------------------------------------------------------------------

def test_every_tracked_kind_is_created_and_checked_here():
    assert set(_tracked()) == set(EXPECTED_ACTIONS), (
        "a kind is tracked by app.assisted.provenance without a test here, or the other way round: "
        f"{sorted(c.__name__ for c in set(_tracked()) ^ set(EXPECTED_ACTIONS))}")
    assert {cls: _tracked()[cls] for cls in EXPECTED_ACTIONS} == EXPECTED_ACTIONS


# --- in a session ------------------------------------------------------------------------------

def test_every_kind_made_in_one_session_carries_the_session_the_facilitator_and_the_house(
        app, client, login_as, city, helper):  # noqa: F811
    scene = build_scene(app, city, helper)
    before = row_counts(app)
    assisted = act_in_a_session(app, client, login_as, city, helper, scene)
    # Every table the session wrote to holds a tracked kind, or is part of another record or of the
    # bookkeeping: a new kind of record reachable from these pages without provenance fails here.
    grown = {name for name, n in row_counts(app).items() if n > before[name]}
    untracked = grown - {model.__tablename__ for model in _tracked()} - SIDE_TABLES
    assert not untracked, f"records made in the session without provenance: {sorted(untracked)}"
    assert set(scene.created) == set(_tracked())
    assert assisted.citizen_id == scene.citizen.id and assisted.ended_at is None
    with app.app_context():
        for model, record_id in [*scene.created.items(), *scene.also]:
            kind = f"{model.__name__} {record_id}"
            rows = db.session.scalars(select(AssistedAction).where(
                AssistedAction.record_type == model.__tablename__, AssistedAction.record_id == record_id)).all()
            assert len(rows) == 1, kind
            action = rows[0]
            assert (action.session_id, action.facilitator_id, action.house_id, action.citizen_id) == (
                assisted.id, helper.id, city["house_id"], scene.citizen.id), kind
            assert action.action == EXPECTED_ACTIONS[model], kind
            events = db.session.scalars(select(AuditEvent).where(
                AuditEvent.action == "assisted." + action.action, AuditEvent.target_type == model.__tablename__,
                AuditEvent.target_id == record_id)).all()
            assert len(events) == 1, kind
            assert events[0].actor_id == helper.id, kind
            assert events[0].details["session_id"] == assisted.id, kind
            assert events[0].details["house_id"] == city["house_id"], kind
            assert events[0].details["citizen_id"] == scene.citizen.id, kind
        # Nothing else was written down for the session: one row per record made, no stray kinds.
        rows = db.session.execute(select(AssistedAction.record_type, AssistedAction.record_id)
                                  .where(AssistedAction.session_id == assisted.id)).all()
        expected = [*scene.created.items(), *scene.also]
        assert sorted(rows) == sorted((m.__tablename__, i) for m, i in expected)
        # The records are the citizen's, never the facilitator's.
        assert db.session.get(Report, scene.created[Report]).reporter_id == scene.citizen.id
        assert db.session.get(Pact, scene.created[Pact]).created_by_id == scene.citizen.id
        assert db.session.get(PactSignature, scene.created[PactSignature]).signer_id == scene.citizen.id
        result = verify_chain()
        assert result.ok, result
    # The receipt lists them all.
    ok(client.post("/assist/session/end"))
    receipt = client.get(f"/assist/sessions/{assisted.id}/receipt")
    assert receipt.status_code == 200
    listed = text_of(receipt)
    for action in set(EXPECTED_ACTIONS.values()) - MINOR_ACTIONS:
        assert str(action_label(action)) in listed and action not in listed, action
    with app.app_context():
        assert db.session.get(AssistedSession, assisted.id).ended_at is not None


# --- outside a session -----------------------------------------------------------------------

def test_the_same_citizen_alone_and_the_facilitator_after_the_session_leave_no_provenance(
        app, client, login_as, city, helper):  # noqa: F811
    scene = build_scene(app, city, helper)
    assisted = act_in_a_session(app, client, login_as, city, helper, scene)
    in_session = _count(app, AssistedAction)
    alone = {}

    # While the facilitator still acts for them at the house, the citizen uses their own phone.
    own = new_client(app)
    login(own, scene.citizen)
    ok(own.post("/reports/new", data={**report_form(city, title="Lampione spento in corso Regina"),
                                      "lat": "45.0760", "lon": "7.6990",
                                      "photos": [(io.BytesIO(jpeg((20, 20, 200))), "lampione.jpg")]},
                content_type="multipart/form-data"))
    alone[Report] = newest(app, Report, reporter_id=scene.citizen.id)
    alone[Photo] = newest(app, Photo, owner_type="report", owner_id=alone[Report])
    ok(own.post(f"/comments/proposal/{scene.others_proposal_id}", data={"body": "Da casa mia, senza aiuto."}))
    alone[Comment] = newest(app, Comment, author_id=scene.citizen.id)
    ok(own.post("/debates/new", data={"title": "Più alberi in corso Regina?", "body": "Parliamone.",
                                      "category_id": 0, "district_id": 0}))
    alone[Debate] = newest(app, Debate, author_id=scene.citizen.id)
    ok(own.post("/opportunities/offers/new", data={"skills": "Painting", "availability": "Domenica",
                                                   "district_id": "0"}))
    alone[HelpOffer] = newest(app, HelpOffer, user_id=scene.citizen.id)
    ok(own.post(f"/flags/proposal/{scene.others_proposal_id}", data={"fl-reason": "off_topic", "next": "/"}))
    alone[Flag] = newest(app, Flag, user_id=scene.citizen.id)
    response = ok(own.post("/pacts/new", data=pact_form(scene, title="Aiuole di corso Regina")))
    alone[Pact] = int(location_path(response).rsplit("/", 1)[1])
    ok(own.post(f"/pacts/{scene.co_design_pact_id}/versions",
                data={"vr-text": "Art. 1 - Il giardino si cura anche la domenica.", "vr-note": "Domenica"}))
    alone[PactVersion] = newest(app, PactVersion, pact_id=scene.co_design_pact_id, author_id=scene.citizen.id)
    # Meanwhile the session is still acting, and still writing down what it makes.
    ok(client.post("/debates/new", data={"title": "Un orto sul tetto della Casa?", "body": "Con la Casa.",
                                         "category_id": 0, "district_id": 0}))
    helped_debate = newest(app, Debate, author_id=scene.citizen.id)
    assert _count(app, AssistedAction) == in_session + 1
    ok(client.post("/assist/session/end"))

    # The facilitator, themselves again (this one also takes part as a citizen: facilitators alone
    # cannot comment), after the session and in a new session where nobody was picked yet.
    with app.app_context():
        db.session.add(UserRole(user_id=helper.id, role=Role.citizen))
        db.session.commit()
    ok(client.post(f"/comments/proposal/{scene.others_proposal_id}", data={"body": "Lo dico io, da facilitatrice."}))
    own_comments = [newest(app, Comment, author_id=helper.id)]
    open_session(client, city)
    ok(client.post(f"/comments/proposal/{scene.others_proposal_id}", data={"body": "Ancora io, senza nessuno."}))
    own_comments.append(newest(app, Comment, author_id=helper.id))
    ok(client.post("/assist/session/end"))

    with app.app_context():
        assert db.session.scalar(select(func.count(AssistedAction.id))) == in_session + 1
        assert db.session.scalar(select(AssistedAction.session_id).where(
            AssistedAction.record_type == "debates", AssistedAction.record_id == helped_debate)) == assisted.id
        for model, record_id in [*alone.items(), *((Comment, c) for c in own_comments)]:
            assert record_id and record_id not in set(db.session.scalars(
                select(AssistedAction.record_id).where(AssistedAction.record_type == model.__tablename__))), model
            assert db.session.scalar(select(func.count(AuditEvent.id)).where(
                AuditEvent.action.like("assisted.%"), AuditEvent.target_type == model.__tablename__,
                AuditEvent.target_id == record_id)) == 0, model
        assert {db.session.get(Comment, c).author_id for c in own_comments} == {helper.id}
        assert verify_chain().ok
    # The public pages say nothing about help for what was made alone.
    visitor = new_client(app)
    assert "with help at" not in text_of(visitor.get(f"/reports/{alone[Report]}"))
    assert "with help at" not in text_of(visitor.get(f"/debates/{alone[Debate]}"))
    assert "with help at" in text_of(visitor.get(f"/debates/{helped_debate}"))
    thread = text_of(visitor.get(f"/proposals/{scene.others_proposal_id}"))
    for comment_id in (alone[Comment], *own_comments):
        meta = re.search(rf'id="comment-{comment_id}".*?</p>', thread, re.S)
        assert meta is not None and "with help at" not in meta.group(0), comment_id


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- public pages ------------------------------------------------------------------------------

def test_public_pages_say_with_help_at_the_house_and_never_name_the_facilitator(
        app, client, login_as, city, helper):  # noqa: F811
    scene = build_scene(app, city, helper)
    assisted = act_in_a_session(app, client, login_as, city, helper, scene)
    ok(client.post("/assist/session/end"))
    made = scene.created
    with app.app_context():
        # The office makes the citizen's pact proposal public (services, outside any session).
        official = db.session.get(User, scene.world.users["official"].id)
        pact = db.session.get(Pact, made[Pact])
        pacts.declare_admissible(pact, official, kind=PactKind.ordinary)
        pacts.open_consultation(db.session.get(Pact, made[Pact]), official, starts_at=utcnow() - DAY, days=30)
        db.session.commit()
        assert db.session.get(Pact, made[Pact]).is_public
        assert db.session.scalar(select(func.count(AssistedAction.id)).where(
            AssistedAction.session_id == assisted.id)) == len(made) + len(scene.also)
    house = city["house_name"]
    visitor = new_client(app)

    def page(path, *, says=None):
        response = visitor.get(path)
        assert response.status_code == 200, path
        pdf = response.mimetype == "application/pdf"
        body = text_of_pdf(response.data) if pdf else text_of(response)
        if pdf:
            assert HELPER_NAME.encode() not in response.data and HELPER_EMAIL.encode() not in response.data
        assert HELPER_NAME not in body and HELPER_EMAIL not in body, path
        assert "Ottavia" not in body and "riservatissima" not in body.lower(), path
        if says is not None:
            assert says in body, (path, says)
        return body

    # Where the templates say it: the report, the proposal, the debate, the pact, next to the comment.
    page(f"/reports/{made[Report]}", says=f"with help at {house}")
    page(f"/proposals/{made[Proposal]}", says=f"Submitted with help at {house}")
    page(f"/debates/{made[Debate]}", says=f"with help at {house}")
    page(f"/pacts/{made[Pact]}", says=f"Submitted with help at {house}")
    thread = page(f"/proposals/{scene.others_proposal_id}", says="Servono davvero.")
    comment = re.search(rf'id="comment-{made[Comment]}".*?</p>', thread, re.S)
    assert comment is not None and f"with help at {house}" in comment.group(0)
    # Nothing done alone says it: the other proposal's own header, the stranger's report.
    assert "Submitted with help at" not in thread
    assert "with help at" not in page(f"/reports/{scene.strangers_report_id}")

    # Every other public page that shows what the citizen made or took part in.
    for path in (
            "/", "/reports", "/proposals", "/debates", "/pacts", "/map", "/opportunities", "/events", "/houses",
            f"/houses/{scene.house_slug}", f"/events/{scene.event_id}", f"/people/{scene.citizen.id}",
            f"/opportunities/{made[HelpCall]}", f"/opportunities/{scene.organisation_call_id}",
            f"/pacts/{scene.signing_pact_id}", f"/pacts/{scene.active_pact_id}",
            f"/pacts/{scene.consultation_pact_id}", f"/pacts/{scene.co_design_pact_id}",
            f"/pacts/{made[Pact]}.pdf", f"/pacts/{scene.active_pact_id}.pdf", "/commons",
            f"/organisations/{made[Organisation]}", f"/organisations/{scene.world.organisation_id}",
            f"/pacts/{scene.co_design_pact_id}/versions/2", "/transparency",
            # The map's GeoJSON, the API and the open data exports.
            "/api/v1/map/features?bbox=7.58,45.00,7.78,45.15&zoom=17"
            "&layers=reports,proposals,pacts,commons,help-calls,houses,events",
            "/api/v1/reports", f"/api/v1/reports/{made[Report]}", "/api/v1/proposals",
            f"/api/v1/proposals/{made[Proposal]}", "/api/v1/pacts", f"/api/v1/pacts/{made[Pact]}",
            f"/api/v1/pacts/{scene.active_pact_id}", "/pacts.csv", "/pacts.geojson", "/commons.geojson",
            "/open311/v2/requests.json", f"/open311/v2/requests/{made[Report]}.json",
            f"/reports/nearby.json?category={city['category_id']}&lat=45.0450&lon=7.6780", "/pacts/statistics",
            "/districts/1/events.ics", f"/houses/{scene.house_slug}/events.ics"):
        page(path)
    # What was made is really there, so the absence above means something.
    assert "Marciapiede sconnesso" in page("/api/v1/reports")
    assert "Fontanelle in piazza Vanchiglia" in page("/api/v1/proposals")
    assert "Orto condiviso di via Baltea" in page("/pacts.csv")
    features = page("/api/v1/map/features?bbox=7.58,45.00,7.78,45.15&zoom=17&layers=reports,proposals,help-calls")
    assert "Marciapiede sconnesso" in features and "Fontanelle in piazza Vanchiglia" in features
    # Neither do the receipt's words leak: the facilitator sees it, a visitor does not.
    assert visitor.get(f"/assist/sessions/{assisted.id}/receipt").status_code in (302, 403, 404)
