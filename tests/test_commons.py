"""The commons registry's rules: who manages it, where a commons may be (point, outline), owners and
consent, what the public sees (proposed, registered, hidden, with a public pact), calls for care."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import geo
from app.commons import services
from app.extensions import db
from app.models import User
from app.models.audit import AuditEvent
from app.models.base import DomainError, PermissionDenied, utcnow
from app.models.commons import Commons, CommonsCall, CommonsKind, CommonsOwner
from app.models.pact import Pact, PactStatus
from app.models.place import District
from app.models.user import Department, Role
from app.seed.demo import seed_places

HOUR = timedelta(hours=1)
#: Giardino Cavour, in district 1 (Centro).
GARDEN = {"lat": 45.0637, "lon": 7.6853}
#: A small square around it, lon/lat.
OUTLINE = {"type": "Polygon", "coordinates": [[[7.6848, 45.0633], [7.6858, 45.0633], [7.6858, 45.0641],
                                               [7.6848, 45.0641], [7.6848, 45.0633]]]}


@pytest.fixture(autouse=True)
def english(app_ctx):
    """Messages in English, so that the tests can read them."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def places(app_ctx):
    seed_places()
    db.session.commit()
    geo.clear_cache()
    yield
    geo.clear_cache()


@pytest.fixture
def official(make_user, app_ctx):
    user = make_user(roles=[Role.official])
    return db.session.get(User, user.id)


@pytest.fixture
def citizen(make_user, app_ctx):
    user = make_user()
    return db.session.get(User, user.id)


def _create(official, **overrides):
    fields = {"name": "Giardino Cavour", "kind": CommonsKind.green_area.value, **GARDEN, "address": "Via Cavour"}
    fields.update(overrides)
    return services.create_commons(official, **fields)


def _actions(target_type, target_id):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == target_type, AuditEvent.target_id == target_id).order_by(AuditEvent.seq))]


# --- who manages the registry -------------------------------------------------------------------

def test_an_official_adds_a_registered_commons_with_its_district_and_an_audit_event(places, official):
    department = db.session.scalar(select(Department).limit(1))
    commons = _create(official, department_id=department.id, heritage_constraint=True)
    db.session.commit()
    assert commons.registered_at is not None and commons.proposed_by_id is None
    assert db.session.get(District, commons.district_id).number == 1
    assert commons.department_id == department.id and commons.heritage_constraint is True
    assert commons.owner == CommonsOwner.city and commons.owner_name is None
    assert _actions("commons", commons.id) == ["commons.created"]


@pytest.mark.parametrize("roles", [[Role.citizen], [Role.admin], [Role.moderator], [Role.facilitator]])
def test_only_officials_manage_the_registry(places, make_user, roles):
    user = db.session.get(User, make_user(roles=roles).id)
    with pytest.raises(PermissionDenied):
        _create(user)
    assert db.session.scalar(select(Commons.id)) is None


def test_a_point_outside_turin_is_refused(places, official):
    with pytest.raises(DomainError) as refused:
        _create(official, lat=45.4642, lon=9.1900)  # Milan
    assert refused.value.details["field"] == "lat"
    assert "outside the city" in refused.value.message


def test_a_commons_needs_a_point_unless_it_is_immaterial(places, official):
    with pytest.raises(DomainError) as refused:
        _create(official, lat=None, lon=None)
    assert refused.value.details["field"] == "lat"
    district = db.session.scalar(select(District).where(District.number == 8))
    memory = _create(official, name="La memoria del Lingotto", kind="immaterial", lat=None, lon=None,
                     district_id=district.id)
    assert memory.lat is None and memory.district_id == district.id


def test_the_district_follows_from_the_point_not_from_the_list(places, official):
    other = db.session.scalar(select(District).where(District.number == 8))
    commons = _create(official, district_id=other.id)
    assert db.session.get(District, commons.district_id).number == 1


def test_a_third_party_owner_needs_a_name_and_a_recorded_consent(places, official):
    with pytest.raises(DomainError) as no_name:
        _create(official, owner="third_party", owner_consent="Lettera del 3/2/2026")
    assert no_name.value.details["field"] == "owner_name"
    with pytest.raises(DomainError) as no_consent:
        _create(official, owner="third_party", owner_name="Parrocchia San Secondo")
    assert no_consent.value.details["field"] == "owner_consent"
    commons = _create(official, owner="third_party", owner_name="Parrocchia San Secondo",
                      owner_consent="Lettera prot. 123 del 3/2/2026")
    assert commons.owner == CommonsOwner.third_party and commons.owner_consent.startswith("Lettera")


def test_a_city_owned_commons_keeps_no_third_party_details(places, official):
    commons = _create(official, owner="city", owner_name="Nobody", owner_consent="none")
    assert commons.owner_name is None and commons.owner_consent is None


# --- outlines ---------------------------------------------------------------------------------

def test_a_valid_outline_is_stored_as_geojson_lon_lat(places, official):
    commons = _create(official, geometry=json.dumps(OUTLINE))
    stored = json.loads(commons.geometry)
    assert stored["type"] == "Polygon"
    assert stored["coordinates"][0][0] == [7.6848, 45.0633]


def test_a_feature_wrapping_a_multipolygon_is_accepted(places, official):
    feature = {"type": "Feature", "properties": {}, "geometry": {
        "type": "MultiPolygon", "coordinates": [OUTLINE["coordinates"]]}}
    commons = _create(official, geometry=json.dumps(feature))
    assert json.loads(commons.geometry)["type"] == "MultiPolygon"


def test_without_a_point_the_outline_gives_it(places, official):
    commons = _create(official, lat=None, lon=None, geometry=json.dumps(OUTLINE))
    assert 45.0633 <= commons.lat <= 45.0641 and 7.6848 <= commons.lon <= 7.6858


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid GeoJSON"),
    (json.dumps({"type": "Point", "coordinates": [7.68, 45.06]}), "Polygon or MultiPolygon"),
    (json.dumps({"type": "Polygon", "coordinates": [[[7.68, 45.06], [7.69, 45.06]]]}), "at least four"),
    # A bow tie: its edges cross.
    (json.dumps({"type": "Polygon", "coordinates": [[[7.684, 45.063], [7.686, 45.065], [7.686, 45.063],
                                                     [7.684, 45.065], [7.684, 45.063]]]}), "not a valid polygon"),
    # Latitude first.
    (json.dumps({"type": "Polygon", "coordinates": [[[45.0633, 7.6848], [45.0633, 7.6858], [45.0641, 7.6858],
                                                     [45.0633, 7.6848]]]}), "latitude, longitude order"),
    # Around Milan.
    (json.dumps({"type": "Polygon", "coordinates": [[[9.18, 45.46], [9.19, 45.46], [9.19, 45.47],
                                                     [9.18, 45.46]]]}), "outside Turin"),
])
def test_a_bad_outline_is_refused_with_a_clear_message(places, official, text, message):
    with pytest.raises(DomainError) as refused:
        _create(official, geometry=text)
    assert refused.value.details["field"] == "geometry"
    assert message in refused.value.message


def test_a_point_far_from_its_outline_is_refused(places, official):
    with pytest.raises(DomainError) as refused:
        _create(official, lat=45.0703, lon=7.6869, geometry=json.dumps(OUTLINE))  # Piazza Castello, ~800 m away
    assert "far from the outline" in refused.value.message


# --- what the public sees ---------------------------------------------------------------------

def _visible_ids():
    return set(db.session.scalars(select(Commons.id).where(services.visible_condition())))


def test_a_commons_proposed_by_a_citizen_is_unseen_until_registered(places, official, citizen):
    proposed = services.create_proposed_commons(citizen, name="Aiuola di via Nizza", kind="green_area",
                                                lat=45.0560, lon=7.6780)
    db.session.commit()
    assert proposed.proposed_by_id == citizen.id and proposed.registered_at is None
    assert proposed.id not in _visible_ids() and not services.is_visible(proposed)
    assert services.can_view(proposed, citizen) and services.can_view(proposed, official)
    services.register_commons(proposed, official)
    db.session.commit()
    assert proposed.id in _visible_ids() and services.is_visible(proposed)
    assert _actions("commons", proposed.id) == ["commons.registered"]


def test_a_commons_proposed_by_a_citizen_shows_once_its_pact_is_public(places, citizen, make_user):
    proposed = services.create_proposed_commons(citizen, name="Cortile di via Nizza", kind="school_courtyard",
                                                lat=45.0560, lon=7.6780)
    pact = Pact(title="Curare il cortile", commons_id=proposed.id, status=PactStatus.submitted)
    db.session.add(pact)
    db.session.commit()
    stranger = db.session.get(User, make_user().id)
    assert proposed.id not in _visible_ids() and not services.can_view(proposed, stranger)
    pact.status = PactStatus.public_consultation
    pact.department_id = db.session.scalar(select(Department.id).limit(1))
    db.session.commit()
    assert proposed.id in _visible_ids() and services.can_view(proposed, stranger)


def test_a_citizen_cannot_propose_a_commons_outside_the_city(places, citizen):
    with pytest.raises(DomainError) as refused:
        services.create_proposed_commons(citizen, name="Altrove", kind="square", lat=45.4642, lon=9.19)
    assert refused.value.details["field"] == "commons_lat"


def test_hiding_needs_a_reason_and_takes_the_commons_out_of_sight(places, official):
    commons = _create(official)
    with pytest.raises(DomainError):
        services.hide_commons(commons, official, "  ")
    services.hide_commons(commons, official, "Doppione di un altro bene")
    db.session.commit()
    assert commons.id not in _visible_ids()
    services.restore_commons(commons, official)
    db.session.commit()
    assert commons.id in _visible_ids()
    assert _actions("commons", commons.id) == ["commons.created", "commons.hidden", "commons.restored"]
    hidden = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "commons.hidden"))
    assert hidden.reason == "Doppione di un altro bene"


def test_registering_a_hidden_commons_is_refused(places, official, citizen):
    proposed = services.create_proposed_commons(citizen, name="Aiuola", kind="green_area", lat=45.0560, lon=7.6780)
    services.hide_commons(proposed, official, "Non è un bene comune")
    with pytest.raises(DomainError):
        services.register_commons(proposed, official)


def test_the_registry_filters_by_kind_district_name_and_open_call(places, official):
    garden = _create(official)
    square = _create(official, name="Piazza Bengasi", kind="square", lat=45.0196, lon=7.6517)
    now = utcnow()
    services.open_call(garden, official, title="Cura delle aiuole", opens_at=now - HOUR, closes_at=now + 48 * HOUR)
    db.session.commit()

    def names(now=None, **filters):
        return [c.name for c in db.session.scalars(services.public_commons(filters, now=now))]

    assert names() == ["Giardino Cavour", "Piazza Bengasi"]
    assert names(kind=CommonsKind.square) == ["Piazza Bengasi"]
    assert names(district_id=garden.district_id) == ["Giardino Cavour"]
    assert names(q="bENGa") == ["Piazza Bengasi"]
    assert names(q="%") == []  # a LIKE wildcard is a character, not "anything"
    assert names(offered=True) == ["Giardino Cavour"]
    assert names(offered=True, now=now + 72 * HOUR) == []
    assert square.id not in services.offered_ids([garden.id, square.id])


# --- calls for care ---------------------------------------------------------------------------

def test_an_official_opens_a_dated_call_with_an_audit_event(places, official):
    commons = _create(official)
    now = utcnow()
    call = services.open_call(commons, official, title="Adotta il giardino", requirements="Almeno 5 volontari",
                              criteria="Continuità", opens_at=now + HOUR, closes_at=now + 30 * 24 * HOUR)
    db.session.commit()
    assert db.session.get(CommonsCall, call.id).created_by_id == official.id
    open_calls, upcoming, past = services.calls_of(commons)
    assert (open_calls, upcoming, past) == ([], [call], [])
    assert _actions("commons_call", call.id) == ["commons_call.opened"]


@pytest.mark.parametrize("opens, closes, field", [(2, 1, "closes_at"), (2, 2, "closes_at"), (-5, -1, "closes_at")])
def test_a_call_must_close_after_it_opens_and_in_the_future(places, official, opens, closes, field):
    commons = _create(official)
    now = utcnow()
    with pytest.raises(DomainError) as refused:
        services.open_call(commons, official, title="Bando", opens_at=now + opens * HOUR, closes_at=now + closes * HOUR)
    assert refused.value.details["field"] == field


def test_only_a_registered_visible_commons_is_offered_for_care(places, official, citizen):
    proposed = services.create_proposed_commons(citizen, name="Aiuola", kind="green_area", lat=45.0560, lon=7.6780)
    now = utcnow()
    with pytest.raises(DomainError):
        services.open_call(proposed, official, title="Bando", opens_at=now, closes_at=now + HOUR)


def test_a_citizen_cannot_open_a_call(places, official, citizen):
    commons = _create(official)
    now = utcnow()
    with pytest.raises(PermissionDenied):
        services.open_call(commons, citizen, title="Bando", opens_at=now, closes_at=now + HOUR)


def test_closing_a_call_early_ends_it_now(places, official):
    commons = _create(official)
    now = utcnow()
    call = services.open_call(commons, official, title="Bando", opens_at=now - HOUR, closes_at=now + 10 * HOUR)
    services.close_call(call, official, now=now)
    db.session.commit()
    assert not call.is_open(now) and call.closes_at == now
    with pytest.raises(DomainError):
        services.close_call(call, official, now=now + HOUR)
