"""Houses and events over HTTP: the pages, registering and cancelling, publishing, the iCal feeds,
and that public pages never name a house's facilitators."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.houses import services
from app.models.base import utcnow
from app.models.event import Event, EventKind, EventRegistration
from app.models.place import District, NeighbourhoodHouse
from app.models.user import Role, User
from app.seed.demo import seed_places
from app.seed.events import seed_events


@pytest.fixture
def world(app, make_user):
    facilitator = make_user(roles=[Role.facilitator], display_name="Fabia Nascosta")
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        house = db.session.scalar(select(NeighbourhoodHouse).where(NeighbourhoodHouse.slug == "san-salvario"))
        house.facilitators.append(db.session.get(User, facilitator.id))
        seed_events()
        starts = utcnow() + timedelta(days=1)
        event = Event(house=house, kind=EventKind.assembly, title="Assemblea, San Salvario", starts_at=starts,
                      ends_at=starts + timedelta(hours=2), capacity=1, district_id=house.district_id,
                      created_by_id=facilitator.id)
        db.session.add(event)
        db.session.commit()
        district = db.session.get(District, house.district_id)
        yield {"facilitator": facilitator, "event_id": event.id, "slug": house.slug, "district": district.number}
        geo.clear_cache()


def test_the_house_page_shows_hours_contacts_and_events_but_never_the_facilitator(client, world):
    page = client.get(f"/houses/{world['slug']}")
    assert page.status_code == 200
    for text in ("Via Oddino Morgari 14", "Assemblea, San Salvario", "14:30", "events.ics", "info@"):
        assert text in page.text
    assert "Fabia Nascosta" not in page.text
    listing = client.get("/houses")
    assert listing.status_code == 200 and "Casa del Quartiere di San Salvario" in listing.text
    assert "Fabia Nascosta" not in listing.text


def test_the_events_list_filters_by_kind_and_district(client, world, app):
    everything = client.get("/events")
    assert "Assemblea, San Salvario" in everything.text and "Sportello digitale" in everything.text
    assisted = client.get("/events?kind=assisted_hours")
    assert "Assemblea, San Salvario" not in assisted.text and "Sportello digitale" in assisted.text
    with app.app_context():
        other = db.session.scalar(select(District).where(District.number != world["district"]))
        other_id = other.id
    assert "Assemblea, San Salvario" not in client.get(f"/events?district={other_id}").text
    assert client.get("/events?kind=nonsense&district=abc").status_code == 200


def test_register_then_full_then_cancel(client, world, make_user, login_as, app):
    url = f"/events/{world['event_id']}"
    first = login_as(make_user())
    assert client.post(url + "/register?lang=en").status_code == 302  # the message is written in English
    assert "You are registered." in client.get(url + "?lang=en").text
    login_as(make_user())
    page = client.get(url).text
    assert "status-threshold_reached" in page and f'action="{url}/register"' not in page
    client.post(url + "/register")
    with app.app_context():
        assert db.session.query(EventRegistration).count() == 1
    login_as(first)
    client.post(url + "/unregister")
    with app.app_context():
        assert db.session.query(EventRegistration).count() == 0


def test_a_facilitator_publishes_edits_and_cancels_an_event_for_their_house(client, world, login_as, app):
    login_as(world["facilitator"])
    with app.app_context():
        house_id = db.session.scalar(select(NeighbourhoodHouse.id).where(NeighbourhoodHouse.slug == world["slug"]))
    form = {"target": f"house-{house_id}", "kind": "co_design", "title": "Tavolo del giardino",
            "starts_at": "2030-07-01T18:00", "ends_at": "2030-07-01T20:00", "capacity": "20",
            "registration_open": "y"}
    response = client.post("/events/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.title == "Tavolo del giardino"))
        assert event.starts_at.hour == 16  # 18:00 in Rome in summer
        event_id = event.id
    form.update(title="Tavolo del giardino (rinviato)")
    assert client.post(f"/events/{event_id}/edit", data=form).status_code == 302
    assert client.post(f"/events/{event_id}/cancel").status_code == 302
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.title.endswith("(rinviato)") and event.cancelled_at is not None


def test_a_citizen_cannot_publish_nor_manage_a_house_event(client, world, make_user, login_as, app):
    login_as(make_user())
    with app.app_context():
        house_id = db.session.scalar(select(NeighbourhoodHouse.id).where(NeighbourhoodHouse.slug == world["slug"]))
    page = client.post("/events/new", data={"target": f"house-{house_id}", "kind": "other", "title": "x",
                                             "starts_at": "2030-07-01T18:00", "ends_at": "2030-07-01T20:00"})
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Event).where(Event.title == "x")) is None
    assert client.post(f"/events/{world['event_id']}/cancel").status_code == 403
    assert client.get(f"/events/{world['event_id']}/edit").status_code == 403


def test_ical_feeds_per_house_and_district(client, world):
    for url in (f"/houses/{world['slug']}/events.ics", f"/districts/{world['district']}/events.ics"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"
        body = response.get_data(as_text=True)
        assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
        assert body.count("BEGIN:VEVENT") == body.count("END:VEVENT") >= 1
        assert "SUMMARY:Assemblea\\, San Salvario" in body.replace("\r\n ", "")
        for line in body.split("\r\n"):
            assert len(line.encode()) <= 75
    assert client.get("/houses/nowhere/events.ics").status_code == 404
    assert client.get("/districts/99/events.ics").status_code == 404


def test_the_event_page_names_the_house_not_the_facilitator(client, world):
    page = client.get(f"/events/{world['event_id']}?lang=en")
    assert page.status_code == 200 and "Casa del Quartiere di San Salvario" in page.text
    assert "Sign in to register" in page.text
    assert "Fabia Nascosta" not in page.text


def test_map_features_include_houses_and_events(client, world):
    bbox = geo.city_bounds()
    response = client.get("/api/v1/map/features", query_string={
        "bbox": f"{bbox.min_lon},{bbox.min_lat},{bbox.max_lon},{bbox.max_lat}", "zoom": 17,
        "layers": "houses,events"})
    assert response.status_code == 200, response.text
    kinds = {f["properties"].get("layer") for f in response.json["features"]}
    assert response.json["features"] and kinds


def test_reminder_command(runner, world, make_user, app):
    with app.app_context():
        services.register(db.session.get(User, make_user().id), db.session.get(Event, world["event_id"]))
        db.session.commit()
    result = runner.invoke(args=["events", "remind"])
    assert "Queued 1 reminder(s)." in result.output
    assert "Queued 0 reminder(s)." in runner.invoke(args=["events", "remind"]).output


def test_an_admin_attaches_and_detaches_a_facilitator_with_an_audit_event(client, world, make_user, login_as, app):
    from app.models import AuditEvent

    login_as(make_user(roles=[Role.admin]))
    with app.app_context():
        ids = db.session.scalars(select(NeighbourhoodHouse.id).order_by(NeighbourhoodHouse.id).limit(2)).all()
    user_id = world["facilitator"].id
    assert 'action="/admin/users/%d/houses"' % user_id in client.get(f"/admin/users/{user_id}").text
    client.post(f"/admin/users/{user_id}/houses", data={"hou-houses": [str(i) for i in ids], "hou-reason": "turni"})
    with app.app_context():
        assert sorted(h.id for h in db.session.get(User, user_id).houses) == sorted(ids)
    client.post(f"/admin/users/{user_id}/houses", data={})
    with app.app_context():
        assert db.session.get(User, user_id).houses == []
        assert db.session.query(AuditEvent).filter_by(action="user.houses_set").count() == 2
    citizen = make_user()
    client.post(f"/admin/users/{citizen.id}/houses", data={"hou-houses": [str(ids[0])]})
    with app.app_context():
        assert db.session.get(User, citizen.id).houses == []
