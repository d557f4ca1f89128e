"""JSON API v1: listDebates / getDebate and listEvents / getEvent."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.discussion import Debate
from app.models.event import Event, EventKind, EventRegistration
from app.models.place import District, NeighbourhoodHouse
from app.seed.demo import seed_places


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()


def test_debates_list_public_ones_newest_first_with_their_author_name(app, client, city, make_user):
    author = make_user(display_name="Lucia Verdi", email="lucia.privata@example.org")
    with app.app_context():
        district = db.session.scalar(select(District).where(District.number == 3))
        now = utcnow()
        for n, hidden in ((1, False), (2, True), (3, False)):
            db.session.add(Debate(author_id=author.id, title=f"Dibattito {n}", body="Testo",
                                  district_id=district.id if n == 3 else None,
                                  created_at=now - timedelta(days=10 - n), hidden_at=now if hidden else None))
        db.session.commit()
    response = client.get("/api/v1/debates")
    items = response.get_json()["items"]
    assert [d["title"] for d in items] == ["Dibattito 3", "Dibattito 1"]
    assert items[0]["author_name"] == "Lucia Verdi" and b"lucia.privata" not in response.data
    assert items[0]["comments_url"].endswith(f"/api/v1/comments/debate/{items[0]['id']}")
    assert [d["title"] for d in client.get("/api/v1/debates?district=3").get_json()["items"]] == ["Dibattito 3"]
    first = client.get("/api/v1/debates?limit=1").get_json()
    second = client.get(f"/api/v1/debates?limit=1&cursor={first['next_cursor']}").get_json()
    assert [d["title"] for d in second["items"]] == ["Dibattito 1"] and second["next_cursor"] is None
    with app.app_context():
        hidden_id = db.session.scalar(select(Debate.id).where(Debate.title == "Dibattito 2"))
    assert client.get(f"/api/v1/debates/{hidden_id}").status_code == 404
    assert client.get(f"/api/v1/debates/{items[0]['id']}").get_json()["title"] == "Dibattito 3"
    assert client.get("/api/v1/debates?category=nothing").status_code == 400
    assert client.get("/api/v1/debates?district=99").status_code == 400


def test_events_come_soonest_first_with_places_left_but_never_who_registered(app, client, city, make_user):
    person = make_user(display_name="Giorgio Iscritto", email="giorgio.iscritto@example.org")
    with app.app_context():
        house = db.session.scalar(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.slug))
        now = utcnow()
        past = Event(house=house, kind=EventKind.assembly, title="Passato", starts_at=now - timedelta(days=3),
                     ends_at=now - timedelta(days=3, hours=-2))
        later = Event(house=house, kind=EventKind.co_design, title="Più tardi", starts_at=now + timedelta(days=9),
                      ends_at=now + timedelta(days=9, hours=2), capacity=10)
        soon = Event(house=house, kind=EventKind.assembly, title="Presto", starts_at=now + timedelta(days=2),
                     ends_at=now + timedelta(days=2, hours=2), cancelled_at=now, district_id=house.district_id)
        db.session.add_all([past, later, soon])
        db.session.flush()
        db.session.add(EventRegistration(event_id=later.id, user_id=person.id))
        db.session.commit()
        slug, past_id = house.slug, past.id
    response = client.get("/api/v1/events")
    items = response.get_json()["items"]
    assert [e["title"] for e in items] == ["Presto", "Più tardi"]
    assert items[0]["cancelled"] is True and items[0]["takes_registrations"] is False
    assert items[1]["capacity"] == 10 and items[1]["places_left"] == 9
    assert items[1]["house"]["slug"] == slug and items[1]["lat"] is not None
    assert b"Giorgio" not in response.data and b"iscritto@" not in response.data
    assert [e["title"] for e in client.get("/api/v1/events?kind=co_design").get_json()["items"]] == ["Più tardi"]
    assert len(client.get(f"/api/v1/events?house={slug}").get_json()["items"]) == 2
    first = client.get("/api/v1/events?limit=1").get_json()
    assert [e["title"] for e in client.get(f"/api/v1/events?limit=1&cursor={first['next_cursor']}")
            .get_json()["items"]] == ["Più tardi"]
    assert client.get(f"/api/v1/events/{past_id}").get_json()["title"] == "Passato"
    assert client.get("/api/v1/events/999999").status_code == 404
    for bad in ("kind=party", "house=nowhere", "district=0", "cursor=xyz"):
        refused = client.get(f"/api/v1/events?{bad}")
        assert refused.status_code == 400 and refused.get_json()["error"]["field"] == bad.split("=")[0]


def test_a_debate_names_only_a_public_proposal_and_an_event_only_a_visible_organisation(app, client, city,
                                                                                         make_user):
    from app.models.commons import Organisation, OrganisationKind
    from app.models.proposal import Proposal, ProposalStatus
    from tests.test_proposals import build_process

    author = make_user()
    with app.app_context():
        process = build_process()
        draft = Proposal(process_id=process.id, title="Bozza", body="x", status=ProposalStatus.draft,
                         author_id=author.id)
        db.session.add(draft)
        db.session.flush()
        db.session.add(Debate(author_id=author.id, title="Diventata bozza", body="x", proposal_id=draft.id))
        organisation = Organisation(name="Associazione Nascosta", kind=OrganisationKind.association,
                                    hidden_at=utcnow())
        db.session.add(organisation)
        db.session.flush()
        now = utcnow()
        db.session.add(Event(organisation_id=organisation.id, kind=EventKind.assembly, title="Assemblea",
                             starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=1)))
        db.session.commit()
    assert client.get("/api/v1/debates").get_json()["items"][0]["proposal_id"] is None
    events = client.get("/api/v1/events")
    assert events.get_json()["items"][0]["organisation"] is None and b"Nascosta" not in events.data
