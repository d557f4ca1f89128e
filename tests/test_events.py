"""Houses and events, the rules: who may publish for which organiser, capacity under a lock,
one registration per person, Rome-time entry, the iCal feed, reminders once, the map layers."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app import geo
from app.admin.processes import local_to_utc
from app.extensions import db
from app.houses import services
from app.maps.services import MapQuery, feature_collection, get_layer
from app.models import AuditEvent, Notification
from app.models.base import DomainError, PermissionDenied, utcnow
from app.models.event import Event, EventKind, EventRegistration
from app.models.place import NeighbourhoodHouse
from app.models.user import Role
from app.seed.demo import seed_places
from tests.pact_builders import make_organisation, make_person

HOUR = timedelta(hours=1)


@pytest.fixture
def world(app_ctx):
    seed_places()
    db.session.commit()
    geo.clear_cache()
    house = db.session.scalar(select(NeighbourhoodHouse).where(NeighbourhoodHouse.slug == "san-salvario"))
    other = db.session.scalar(select(NeighbourhoodHouse).where(NeighbourhoodHouse.slug == "barrito"))
    facilitator = make_person(roles=(Role.facilitator,), name="Fabia Facilitatrice")
    house.facilitators.append(db.session.merge(facilitator))
    db.session.commit()
    return {"house": house, "other": other, "facilitator": facilitator,
            "official": make_person(roles=(Role.official, Role.citizen)), "citizen": make_person()}


def publish(user, house=None, organisation=None, capacity=None, starts_in=timedelta(days=2), **extra):
    starts = utcnow() + starts_in
    event = services.create_event(user, house=house, organisation=organisation, kind=EventKind.assembly,
                                  title=extra.pop("title", "Assemblea"), description="", starts_at=starts,
                                  ends_at=starts + 2 * HOUR, capacity=capacity, registration_open=True,
                                  address=extra.pop("address", ""), lat=extra.pop("lat", None),
                                  lon=extra.pop("lon", None))
    db.session.commit()
    return event


def test_a_facilitator_publishes_for_their_house_only(world):
    event = publish(world["facilitator"], house=world["house"])
    assert event.district_id == world["house"].district_id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "event.created")) is not None
    with pytest.raises(PermissionDenied):
        publish(world["facilitator"], house=world["other"])


def test_representatives_publish_for_their_organisation_and_officials_for_the_city(world):
    rep = make_person()
    organisation = make_organisation(representatives=[rep])
    assert publish(rep, organisation=organisation, address="Via Roma 1").organisation_id == organisation.id
    with pytest.raises(PermissionDenied):
        publish(world["citizen"], organisation=organisation, address="Via Roma 1")
    city = publish(world["official"], lat=45.0700, lon=7.7000)
    assert city.house_id is None and city.organisation_id is None and city.district_id is not None
    for user in (world["citizen"], world["facilitator"], rep):
        with pytest.raises(PermissionDenied):
            publish(user, address="Piazza Castello")


def test_a_city_event_needs_a_place_and_an_end_after_its_start(world):
    with pytest.raises(DomainError):
        publish(world["official"])
    starts = utcnow() + HOUR
    with pytest.raises(DomainError):
        services.create_event(world["official"], kind=EventKind.other, title="x", starts_at=starts, ends_at=starts,
                              address="Via Po 1", capacity=None, registration_open=True)


def test_capacity_is_enforced_and_registration_is_unique(world):
    event = publish(world["facilitator"], house=world["house"], capacity=2)
    a, b, c = make_person(), make_person(), make_person()
    services.register(a, event)
    db.session.commit()
    with pytest.raises(DomainError) as again:
        services.register(a, event)
    assert again.value.details["code"] == "already"
    db.session.rollback()
    services.register(b, event)
    db.session.commit()
    with pytest.raises(DomainError) as full:
        services.register(c, event)
    assert full.value.details["code"] == "full"
    db.session.rollback()
    assert services.registration_count(event) == 2 and services.is_full(event)
    services.cancel_registration(a, event)
    db.session.commit()
    services.register(c, event)
    db.session.commit()
    assert services.registration_count(event) == 2


def test_a_facilitator_may_register_someone_and_it_is_recorded(world):
    event = publish(world["facilitator"], house=world["house"])
    registration = services.register(world["citizen"], event, registered_by=world["facilitator"])
    db.session.commit()
    assert registration.registered_by_id == world["facilitator"].id


def test_no_registration_for_cancelled_closed_or_started_events(world):
    event = publish(world["facilitator"], house=world["house"])
    services.register(world["citizen"], event)
    db.session.commit()
    services.cancel_event(world["facilitator"], event)
    db.session.commit()
    assert db.session.scalar(select(Notification).where(Notification.kind == "events.cancelled")) is not None
    with pytest.raises(DomainError):
        services.register(make_person(), event)
    db.session.rollback()
    started = publish(world["facilitator"], house=world["house"], starts_in=-HOUR)
    with pytest.raises(DomainError):
        services.register(make_person(), started)
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        services.register(make_person(confirmed=False), publish(world["facilitator"], house=world["house"]))


def test_only_those_who_may_publish_may_cancel(world):
    event = publish(world["facilitator"], house=world["house"])
    with pytest.raises(PermissionDenied):
        services.cancel_event(world["official"], event)


def test_times_are_entered_in_rome_time_and_stored_in_utc(app_ctx):
    summer = local_to_utc(datetime(2027, 7, 1, 18, 0))
    winter = local_to_utc(datetime(2027, 1, 15, 18, 0))
    assert summer == datetime(2027, 7, 1, 16, 0, tzinfo=timezone.utc)
    assert winter == datetime(2027, 1, 15, 17, 0, tzinfo=timezone.utc)


def test_reminders_are_queued_once_per_registration_for_the_next_24_hours(world):
    soon = publish(world["facilitator"], house=world["house"], starts_in=5 * HOUR)
    later = publish(world["facilitator"], house=world["house"], starts_in=timedelta(days=3))
    for event in (soon, later):
        services.register(world["citizen"], event)
    db.session.commit()
    assert services.remind() == 1
    db.session.commit()
    assert services.remind() == 0
    notes = db.session.scalars(select(Notification).where(Notification.kind == "events.reminder")).all()
    assert len(notes) == 1 and notes[0].user_id == world["citizen"].id


def test_the_ical_feed_escapes_folds_and_marks_cancelled_events(world):
    event = publish(world["facilitator"], house=world["house"], title="Assemblea; bilancio, parte " + "x" * 80)
    services.cancel_event(world["facilitator"], event)
    db.session.commit()
    body = services.ical([event], "San Salvario", "http://piazza.test/", "piazza.test")
    lines = body.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = body.replace("\r\n ", "")
    assert "SUMMARY:Assemblea\\; bilancio\\, parte " in unfolded
    assert f"UID:event-{event.id}@piazza.test" in unfolded and "STATUS:CANCELLED" in unfolded
    assert "DTSTART:" + event.starts_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") in unfolded
    assert f"URL:http://piazza.test/events/{event.id}" in unfolded


def test_houses_and_upcoming_events_are_map_layers(world):
    publish(world["facilitator"], house=world["house"], title="Alla casa")
    cancelled = publish(world["facilitator"], house=world["house"], title="Annullato")
    services.cancel_event(world["facilitator"], cancelled)
    publish(world["facilitator"], house=world["house"], title="Passato", starts_in=-5 * HOUR)
    db.session.commit()
    bbox = geo.city_bounds()
    events = feature_collection(MapQuery(bbox, 18, (get_layer("events"),), {}))
    titles = [f["properties"]["title"] for f in events["features"]]
    assert titles == ["Alla casa"]
    houses = feature_collection(MapQuery(bbox, 18, (get_layer("houses"),), {}))
    assert len(houses["features"]) == db.session.scalar(select(func.count()).select_from(NeighbourhoodHouse))
    assert "facilitator" not in str(houses).lower()


def test_demo_events_seed_is_idempotent(app_ctx):
    from app.seed.demo import seed_accounts
    from app.seed.events import seed_events

    seed_places()
    seed_accounts()
    first = seed_events()
    db.session.commit()
    assert first["events"] >= 15 and first["opening hours"] > 0
    assert seed_events() == {"opening hours": 0, "events": 0}
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Event)) == first["events"]
    assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 0
