"""The demo pacts: every status, coherent histories, verifiable signatures, a second run adds nothing,
and the public registry renders them."""
import json
import re
from collections import Counter

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.commons import Commons, CommonsCall, CommonsKind, Organisation, OrganisationKind
from app.models.discussion import Comment
from app.models.opportunity import HelpCall, HelpOffer
from app.models.pact import (
    DEFAULT_TIME_LIMITS,
    PACT_TRANSITIONS,
    Pact,
    PactDispute,
    PactMeeting,
    PactReport,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactVolunteer,
    PartyKind,
    ReportReview,
    text_sha256,
)
from app.models.place import District
from app.pacts.registry import verify_signatures
from app.pacts.services import office_queue
from app.seed.demo import seed_accounts, seed_places
from app.seed.pacts import DEPARTMENT_OF_KIND, PACTS, seed_pacts

S = PactStatus
SIGNED = {S.active, S.suspended, S.completed, S.renewed, S.revoked}
TABLES = (Commons, Organisation, Pact, PactStatusChange, PactSignature, PactVolunteer, PactReport, PactMeeting,
          HelpCall, HelpOffer, CommonsCall, Comment)


def _seed():
    """What the demo pacts stand on (places and accounts), then the pacts: faster than the whole demo."""
    seed_places()
    seed_accounts()
    db.session.commit()
    geo.clear_cache()
    counts = seed_pacts()
    db.session.commit()
    return counts


@pytest.fixture
def seeded(app):
    with app.app_context():
        _seed()
        pacts = {p.title: p.id for p in db.session.scalars(select(Pact))}
        by_status = {}
        for pact in db.session.scalars(select(Pact).order_by(Pact.id)):
            by_status.setdefault(pact.status, pact.id)
    return pacts, by_status


def test_the_demo_pacts_tell_a_consistent_story_and_run_twice(app_ctx):
    first = _seed()
    assert first["pacts"] == len(PACTS) and first["commons"] >= 25 and first["organisations"] >= 10
    pacts = db.session.scalars(select(Pact).order_by(Pact.id)).all()
    assert {p.status for p in pacts} == set(S)
    assert sum(p.status == S.active for p in pacts) >= 5

    years = Counter()
    for pact in pacts:
        history = pact.history
        # The history starts as a draft (a renewal starts in co-design) and follows the procedure in time order.
        assert history[0].from_status is None
        assert history[0].to_status == (S.co_design if pact.renewal_of_id else S.draft), pact.title
        for before, after in zip(history, history[1:]):
            assert before.at < after.at, pact.title
            assert after.from_status == before.to_status and after.to_status in PACT_TRANSITIONS[before.to_status]
        assert history[-1].to_status == pact.status and history[-1].at == pact.status_changed_at
        assert pact.created_at == history[0].at
        reached = {change.to_status for change in history}

        if S.submitted in reached:
            assert re.fullmatch(r"PC-\d{4}-\d{4}", pact.protocol_number), pact.title
            assert pact.submitted_at and pact.department_id == pact.commons.department_id
            years[pact.protocol_number[3:7]] += 1
        else:
            assert pact.protocol_number is None
        if S.admissible in reached or pact.renewal_of_id:
            assert pact.kind is not None and pact.official_id is not None
            city = [party for party in pact.parties if party.kind == PartyKind.city]
            assert len(city) == 1 and city[0].user_id == pact.official_id
            assert pact.department in pact.official.departments
        if S.public_consultation in reached:
            assert (pact.consultation_ends_at - pact.consultation_starts_at).days == 30
            following = [c.at for c in history if c.from_status == S.public_consultation and c.to_status == S.co_design]
            assert all(at >= pact.consultation_ends_at for at in following), pact.title
        if S.co_design in reached:
            assert 1 <= len(pact.versions) <= 3 and pact.meetings
            assert all(m.house is not None or m.place for m in pact.meetings)
        if S.approved in reached:
            approved = pact.approved_version
            assert approved is not None and pact.approved_text_sha256 == text_sha256(approved.text)
            if pact.kind.value == "complex":
                assert pact.approval_act_type and pact.approval_act_number and pact.approval_act_date
        # Every signature of the demo matches the published text, and the parties signed as they should.
        checks = verify_signatures(pact)
        assert all(ok for _sig, ok in checks), pact.title
        signed_parties = {sig.party_id for sig, _ok in checks}
        if pact.status in SIGNED:
            assert signed_parties == {party.id for party in pact.parties}, pact.title
            assert pact.starts_on and pact.ends_on > pact.starts_on
        elif pact.status == S.signing:
            assert 0 < len(signed_parties) < len(pact.parties)
        else:
            assert not checks
        if pact.status in (S.inadmissible, S.revoked, S.suspended, S.needs_integration) or (
                pact.status == S.withdrawn):
            assert history[-1].reason, pact.title
        assert all(item.quantity and item.description for item in pact.support_items)
    # Protocol numbers run from 1 in each year, without gaps.
    numbers = sorted(p.protocol_number for p in pacts if p.protocol_number)
    for year, count in years.items():
        assert [n for n in numbers if n[3:7] == year] == [f"PC-{year}-{i:04d}" for i in range(1, count + 1)]

    # The special stories: a renewal, a merge, a dispute, reports in each review state, volunteers.
    renewed = next(p for p in pacts if p.status == S.renewed)
    successor = next(p for p in pacts if p.renewal_of_id == renewed.id)
    assert successor.versions[0].text == renewed.approved_version.text and successor.status == S.active
    merged = next(p for p in pacts if p.merged_into_id)
    into = db.session.get(Pact, merged.merged_into_id)
    assert merged.status == S.withdrawn and into.status == S.public_consultation and into.commons_id == merged.commons_id
    assert {party.user_id for party in merged.parties if party.kind == PartyKind.proponent} <= {
        party.user_id for party in into.parties}
    dispute = db.session.scalar(select(PactDispute))
    assert dispute.committee_proposal and dispute.pact.status == S.suspended
    assert {r.review for r in db.session.scalars(select(PactReport))} == set(ReportReview)
    assert any(r.is_final for r in db.session.scalars(select(PactReport)))
    for pact in pacts:
        if pact.status == S.active:
            assert pact.volunteers, pact.title
        for report in pact.reports:
            assert pact.starts_on <= report.period_start <= report.period_end
    comments = db.session.scalars(select(Comment).where(Comment.target_type == "pact")).all()
    consultations = {p.id for p in pacts if p.status == S.public_consultation}
    assert consultations <= {c.target_id for c in comments}
    assert {r.status.value for p in pacts for r in p.join_requests} == {"pending", "accepted", "declined"}

    # The office of official@example.org has a full queue, some of it late.
    official = db.session.scalar(select(User).where(User.email == "official@example.org"))
    mine = [p for p in pacts if p.department in official.departments]
    assert len({p.status for p in mine}) >= 8
    late = [p for p in mine if p.status in DEFAULT_TIME_LIMITS
            and (utcnow() - p.status_changed_at).days > DEFAULT_TIME_LIMITS[p.status]]
    assert len(late) >= 3
    queue = office_queue(official)
    assert len(queue) >= 8 and sum(entry.overdue for entry in queue) >= 3
    assert any(entry.reports_waiting for entry in queue)
    assert {entry.pact.status for entry in queue} >= {S.submitted, S.admissible, S.public_consultation, S.co_design,
                                                      S.approved, S.signing}

    # Commons: every district, departments by kind, outlines inside their district, one immaterial, heritage.
    commons = db.session.scalars(select(Commons)).all()
    districts = {d.id: d for d in db.session.scalars(select(District))}
    assert {c.district_id for c in commons} == set(districts)
    assert {c.kind for c in commons} >= {CommonsKind.green_area, CommonsKind.square, CommonsKind.school_courtyard,
                                         CommonsKind.building, CommonsKind.immaterial}
    assert any(c.heritage_constraint for c in commons) and any(c.owner_consent for c in commons)
    outlined = [c for c in commons if c.geometry]
    assert len(outlined) >= 5
    for c in commons:
        assert c.department.slug == DEPARTMENT_OF_KIND[c.kind]
        if c.lat is not None:
            assert geo.district_for(c.lat, c.lon) == c.district_id
        if c.geometry:
            outline = shape(json.loads(c.geometry))
            assert outline.is_valid and outline.exterior.is_ccw
            assert shape(json.loads(districts[c.district_id].geometry)).contains(outline), c.name
            assert outline.contains(shape({"type": "Point", "coordinates": [c.lon, c.lat]}))

    # Civic subjects of every kind; citizen001 represents an association.
    organisations = db.session.scalars(select(Organisation)).all()
    assert {o.kind for o in organisations} == set(OrganisationKind)
    citizen001 = db.session.scalar(select(User).where(User.email == "citizen001@example.org"))
    assert any(o.kind == OrganisationKind.association and o.is_representative(citizen001) for o in organisations)
    assert all(o.representatives() and len(o.memberships) >= 2 for o in organisations)

    # Opportunities: calls with answers; answering a pact's call made the citizen one of its volunteers.
    calls = db.session.scalars(select(HelpCall)).all()
    assert len(calls) >= 10 and all(c.answers for c in calls)
    for call in calls:
        if call.pact_id:
            assert {a.user_id for a in call.answers} <= {v.user_id for v in call.pact.volunteers}
    assert db.session.scalar(select(func.count(HelpOffer.id))) >= 5
    assert any(c.is_open(utcnow()) for c in db.session.scalars(select(CommonsCall)))

    before = {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}
    second = seed_pacts()
    db.session.commit()
    assert all(v == 0 for v in second.values()), second
    assert before == {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def test_the_public_registry_renders_the_demo(seeded, client):
    pacts, by_status = seeded
    listing = client.get("/pacts")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "Aiuole e panchine di piazza Madama Cristina" in page
    assert "Stalli riservati ai clienti in via Di Nanni" not in page  # inadmissible: private
    for status in (S.active, S.co_design, S.public_consultation, S.signing, S.revoked, S.renewed, S.suspended):
        response = client.get(f"/pacts/{by_status[status]}")
        assert response.status_code == 200, status
    active = client.get(f"/pacts/{pacts['Orti in Comune a Mirafiori Sud']}").get_data(as_text=True)
    assert "Cascina Roccafranca" in active or "Casa nel Parco" in active  # a co-design meeting in a house
    assert "Associazione Orti in Comune Mirafiori" in active
    for status in (S.draft, S.submitted, S.needs_integration, S.inadmissible):
        assert client.get(f"/pacts/{by_status[status]}").status_code == 404
    statistics = client.get("/pacts/statistics")
    assert statistics.status_code == 200
    assert client.get("/pacts?status=active").status_code == 200
