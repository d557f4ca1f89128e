"""Collaboration opportunities, the rules: who may post a call, what a call needs, when it is public and
open, one-click answers (idempotent, refused when full or closed, joining the pact), offers private to
their citizen, matching by district and skill, and the "help calls" map layer."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.maps.services import MapQuery, feature_collection, get_layer
from app.models import AuditEvent, Notification
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.opportunity import HelpAnswer, HelpCall, HelpOffer
from app.models.pact import Pact, PactStatus, PactVolunteer
from app.models.place import District
from app.opportunities import services
from app.opportunities.services import CallClosed, CallFull
from app.seed.demo import seed_places
from tests.pact_builders import advance, make_organisation, make_person, pact_world, step_to

S = PactStatus
DAY = timedelta(days=1)
#: Two places in Turin, in different districts, and one outside the city.
VANCHIGLIA = (45.0700, 7.7000)
BARRIERA = (45.0950, 7.6950)
OUTSIDE = (45.2000, 7.3000)


@pytest.fixture
def world(app_ctx):
    seed_places()
    db.session.commit()
    geo.clear_cache()
    world = pact_world()
    world.active_pact_id = advance(world, S.active, title="Giardino di via Baltea")
    world.users["neighbour"] = make_person(name="Nina Vicina")
    world.users["other"] = make_person(name="Oreste Altro")
    world.users["unconfirmed"] = make_person(confirmed=False, name="Ugo Nonconfermato")
    world.districts = {"vanchiglia": geo.district_for(*VANCHIGLIA), "barriera": geo.district_for(*BARRIERA)}
    assert None not in world.districts.values() and world.districts["vanchiglia"] != world.districts["barriera"]
    return world


def post(world, *, by="representative", pact=False, where=VANCHIGLIA, starts_in=DAY, hours=3,
         skills="gardening, carpentry", people=3, title="Pulizia d'autunno", now=None):
    """A call posted by ``by`` for the organisation (or for the active pact), committed."""
    now = now or utcnow()
    starts = now + starts_in
    call = services.create_call(
        world.user(by), pact_id=world.active_pact_id if pact else None,
        organisation_id=None if pact else world.organisation_id, title=title,
        description="Portate guanti.", lat=where[0], lon=where[1], starts_at=starts,
        ends_at=starts + timedelta(hours=hours), skills=skills, people_needed=people, now=now)
    db.session.commit()
    return call


def offer(world, who, skills="gardening", district=None):
    made = services.create_offer(world.user(who), skills=skills, availability="Sabato mattina",
                                 district_id=world.districts[district] if district else None)
    db.session.commit()
    return made


def answers_of(call):
    return db.session.scalar(select(func.count(HelpAnswer.id)).where(HelpAnswer.call_id == call.id))


# --- skills -------------------------------------------------------------------------------

def test_skills_are_lower_case_single_spaced_and_deduplicated_in_order():
    assert services.normalise_skills("Gardening,  carpentry , GARDENING,, First   Aid") == [
        "gardening", "carpentry", "first aid"]
    assert services.normalise_skills(["Cucina", "cucina "]) == ["cucina"]
    assert services.normalise_skills("") == []


def test_a_skill_too_long_or_too_many_skills_are_refused():
    with pytest.raises(DomainError):
        services.normalise_skills("x" * 41)
    with pytest.raises(DomainError):
        services.normalise_skills(",".join(f"skill {n}" for n in range(11)))


# --- who may post -------------------------------------------------------------------------

def test_a_representative_posts_for_the_organisation_with_district_skills_and_an_audit_event(world):
    call = post(world, skills="Gardening,carpentry,gardening")
    assert call.organisation_id == world.organisation_id and call.pact_id is None
    assert call.district_id == world.districts["vanchiglia"]
    assert call.skills == "gardening, carpentry"
    assert call.author_id == world.representative.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "help_call.created"))
    assert event.target_id == call.id and event.actor_id == world.representative.id


@pytest.mark.parametrize("who", ["author", "co_proponent", "representative"])
def test_the_proponents_of_an_active_pact_post_for_it(world, who):
    call = post(world, by=who, pact=True)
    assert call.pact_id == world.active_pact_id and call.organisation_id is None


@pytest.mark.parametrize("who", ["stranger", "neighbour", "official", "admin"])
def test_someone_who_is_not_a_representative_or_proponent_cannot_post(world, who):
    with pytest.raises(PermissionDenied):
        post(world, by=who)
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        post(world, by=who, pact=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(HelpCall.id))) == 0


def test_a_plain_member_of_the_organisation_cannot_post_for_it(world):
    organisation = make_organisation(representatives=[world.user("author")], members=[world.user("neighbour")])
    with pytest.raises(PermissionDenied):
        services.create_call(world.user("neighbour"), organisation_id=organisation.id, title="Aiuto",
                             lat=VANCHIGLIA[0], lon=VANCHIGLIA[1], starts_at=utcnow() + DAY,
                             ends_at=utcnow() + 2 * DAY, skills="cucina", people_needed=2)


def test_a_pact_that_is_not_active_takes_no_calls_even_from_its_author(world):
    pact_id = advance(world, S.co_design, title="Cortile in co-progettazione")
    with pytest.raises(PermissionDenied):
        services.create_call(world.user("author"), pact_id=pact_id, title="Aiuto", lat=VANCHIGLIA[0],
                             lon=VANCHIGLIA[1], starts_at=utcnow() + DAY, ends_at=utcnow() + 2 * DAY,
                             skills="cucina", people_needed=2)


def test_a_call_is_for_exactly_one_pact_or_organisation(world):
    with pytest.raises(DomainError) as exc:
        services.create_call(world.user("author"), pact_id=world.active_pact_id,
                             organisation_id=world.organisation_id, title="Aiuto", lat=VANCHIGLIA[0],
                             lon=VANCHIGLIA[1], starts_at=utcnow() + DAY, ends_at=utcnow() + 2 * DAY,
                             skills="cucina", people_needed=2)
    assert exc.value.details["field"] == "target"


def test_posting_targets_list_the_active_pacts_and_represented_organisations(world):
    pacts, organisations = services.posting_targets(world.user("representative"))
    assert [p.id for p in pacts] == [world.active_pact_id]
    assert [o.id for o in organisations] == [world.organisation_id]
    assert services.posting_targets(world.user("neighbour")) == ([], [])


@pytest.mark.parametrize("change, field", [
    ({"where": OUTSIDE}, "location"),
    ({"hours": -1}, "ends_at"),
    ({"hours": 0}, "ends_at"),
    ({"starts_in": -2 * DAY, "hours": 1}, "ends_at"),
    ({"skills": " , ,"}, "skills"),
    ({"people": 0}, "people_needed"),
    ({"people": 501}, "people_needed"),
    ({"title": "   "}, "title"),
])
def test_a_call_needs_a_place_in_the_city_an_end_after_its_start_skills_and_people(world, change, field):
    with pytest.raises(DomainError) as exc:
        post(world, **change)
    assert exc.value.details.get("field") == field


# --- public, open, listed -----------------------------------------------------------------

def test_open_calls_come_soonest_first_and_filter_by_district_and_whole_skill(world):
    later = post(world, title="Più tardi", starts_in=5 * DAY, skills="cooking")
    soon = post(world, title="Presto", starts_in=DAY, skills="gardening", where=BARRIERA)
    assert db.session.scalars(services.open_calls()).all() == [soon, later]
    assert db.session.scalars(services.open_calls(district_id=world.districts["barriera"])).all() == [soon]
    assert db.session.scalars(services.open_calls(skill="Cooking")).all() == [later]
    assert db.session.scalars(services.open_calls(skill="garden")).all() == []
    assert services.skill_choices() == ["cooking", "gardening"]


def test_a_closed_or_past_call_is_public_but_not_open(world):
    call = post(world)
    past = post(world, title="Passata", now=utcnow() - 10 * DAY)
    services.close_call(call, world.user("representative"))
    db.session.commit()
    assert services.is_public(call) and not services.is_open(call)
    assert services.is_public(past) and not services.is_open(past)
    assert db.session.scalars(services.open_calls()).all() == []


def test_a_hidden_call_or_a_hidden_organisation_makes_the_call_private(world):
    call = post(world)
    call.hidden_at = utcnow()
    db.session.commit()
    with pytest.raises(NotFound):
        services.get_public_call(call.id)
    other = post(world, title="Un'altra")
    world.organisation.hidden_at = utcnow()
    db.session.commit()
    with pytest.raises(NotFound):
        services.get_public_call(other.id)
    assert db.session.scalars(services.open_calls()).all() == []


def test_a_call_of_a_suspended_pact_stays_public_but_takes_no_answers(world):
    call = post(world, by="author", pact=True)
    step_to(world, db.session.get(Pact, world.active_pact_id), S.suspended)
    call = db.session.get(HelpCall, call.id)
    assert services.get_public_call(call.id) == call
    assert not services.is_open(call)
    with pytest.raises(CallClosed):
        services.answer(call, world.user("neighbour"), accept_rules=True)


def test_a_call_of_a_hidden_pact_is_private(world):
    call = post(world, by="author", pact=True)
    db.session.get(Pact, world.active_pact_id).hidden_at = utcnow()
    db.session.commit()
    with pytest.raises(NotFound):
        services.get_public_call(call.id)


# --- answering ----------------------------------------------------------------------------

def test_answering_twice_makes_one_answer_and_notifies_the_poster_once(world):
    call = post(world)
    first = services.answer(call, world.user("neighbour"))
    db.session.commit()
    again = services.answer(call, world.user("neighbour"))
    db.session.commit()
    assert first.id == again.id and answers_of(call) == 1
    notes = db.session.scalars(select(Notification).where(Notification.kind == "opportunities.answered")).all()
    assert [n.user_id for n in notes] == [world.representative.id]
    assert notes[0].params["name"] == "Nina Vicina" and notes[0].url == f"/opportunities/{call.id}"


def test_a_full_call_refuses_a_new_answer_but_not_the_same_one_again(world):
    call = post(world, people=1)
    services.answer(call, world.user("neighbour"))
    db.session.commit()
    with pytest.raises(CallFull):
        services.answer(call, world.user("other"))
    db.session.rollback()
    assert services.answer(call, world.user("neighbour")) is not None
    assert answers_of(call) == 1


def test_a_closed_call_refuses_answers(world):
    call = post(world)
    services.close_call(call, world.user("representative"))
    db.session.commit()
    with pytest.raises(CallClosed):
        services.answer(call, world.user("neighbour"))


def test_the_poster_does_not_answer_their_own_call_and_an_unconfirmed_account_cannot(world):
    call = post(world)
    with pytest.raises(DomainError):
        services.answer(call, world.user("representative"))
    with pytest.raises(PermissionDenied):
        services.answer(call, world.user("unconfirmed"))
    assert answers_of(call) == 0


def test_answering_a_pact_call_needs_the_rules_accepted_and_joins_the_pact(world):
    call = post(world, by="author", pact=True)
    neighbour = world.user("neighbour")
    with pytest.raises(DomainError) as exc:
        services.answer(call, neighbour, accept_rules=False)
    assert exc.value.details["field"] == "accept_rules"
    db.session.rollback()
    assert answers_of(call) == 0
    services.answer(call, neighbour, accept_rules=True)
    db.session.commit()
    volunteer = db.session.scalar(select(PactVolunteer).where(PactVolunteer.pact_id == world.active_pact_id,
                                                              PactVolunteer.user_id == neighbour.id))
    assert volunteer is not None and volunteer.left_at is None and volunteer.accepted_rules_at is not None
    assert answers_of(call) == 1


def test_withdrawing_an_answer_is_idempotent_and_keeps_the_pact_membership(world):
    call = post(world, by="author", pact=True)
    neighbour = world.user("neighbour")
    services.answer(call, neighbour, accept_rules=True)
    db.session.commit()
    assert services.withdraw_answer(call, neighbour) is True
    db.session.commit()
    assert services.withdraw_answer(call, neighbour) is False
    assert answers_of(call) == 0
    assert db.session.scalar(select(func.count(PactVolunteer.id)).where(PactVolunteer.user_id == neighbour.id)) == 1
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == world.author.id)).all()
    assert "opportunities.withdrawn" in kinds


def test_an_answer_cannot_be_withdrawn_once_the_call_is_over(world):
    then = utcnow() - 10 * DAY
    call = post(world, now=then)
    services.answer(call, world.user("neighbour"), now=then + timedelta(hours=1))
    db.session.commit()
    with pytest.raises(CallClosed):
        services.withdraw_answer(call, world.user("neighbour"))
    assert answers_of(call) == 1


def test_the_open_calls_of_a_pact_are_listed_for_its_page(world):
    pact_call = post(world, by="author", pact=True, title="Del patto")
    post(world, title="Dell'associazione")
    assert services.open_calls_of_pact(world.active_pact_id) == [pact_call]


def test_only_who_may_manage_the_call_sees_who_answered_and_closes_it(world):
    call = post(world)
    services.answer(call, world.user("neighbour"))
    db.session.commit()
    # The other representative of the organisation manages it too.
    assert [a.user_id for a in services.answerers(call, world.user("author"))] == [world.neighbour.id]
    with pytest.raises(PermissionDenied):
        services.answerers(call, world.user("other"))
    with pytest.raises(PermissionDenied):
        services.close_call(call, world.user("neighbour"))
    db.session.rollback()
    services.close_call(call, world.user("author"))
    db.session.commit()
    with pytest.raises(CallClosed):
        services.close_call(call, world.user("representative"))
    assert db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "help_call.closed")) \
        == world.author.id


# --- offers -------------------------------------------------------------------------------

def test_an_offer_is_normalised_and_private_to_its_citizen(world):
    made = offer(world, "neighbour", skills="Giardinaggio, giardinaggio,  Falegnameria", district="vanchiglia")
    assert made.skills == "giardinaggio, falegnameria" and made.is_active
    assert services.get_own_offer(made.id, world.user("neighbour")) == made
    for action in (lambda u: services.get_own_offer(made.id, u),
                   lambda u: services.update_offer(made, u, skills="x", availability="y"),
                   lambda u: services.delete_offer(made, u)):
        with pytest.raises(NotFound):
            action(world.user("other"))
    assert db.session.get(HelpOffer, made.id).skills == "giardinaggio, falegnameria"


def test_an_offer_needs_a_skill_a_time_and_a_real_district_and_a_confirmed_citizen(world):
    with pytest.raises(DomainError):
        services.create_offer(world.user("neighbour"), skills=" ", availability="Sabato")
    with pytest.raises(DomainError):
        services.create_offer(world.user("neighbour"), skills="cucina", availability=" ")
    with pytest.raises(DomainError):
        services.create_offer(world.user("neighbour"), skills="cucina", availability="Sabato", district_id=999999)
    with pytest.raises(PermissionDenied):
        services.create_offer(world.user("unconfirmed"), skills="cucina", availability="Sabato")


def test_an_offer_is_updated_paused_and_deleted_by_its_citizen(world):
    made = offer(world, "neighbour")
    services.update_offer(made, world.user("neighbour"), skills="Cucina", availability="Sera", is_active=False)
    db.session.commit()
    assert (made.skills, made.availability, made.is_active) == ("cucina", "Sera", False)
    services.delete_offer(made, world.user("neighbour"))
    db.session.commit()
    assert db.session.get(HelpOffer, made.id) is None


# --- matching -----------------------------------------------------------------------------

def test_calls_that_match_an_offer_share_a_skill_and_the_district_or_any(world):
    in_vanchiglia = post(world, title="Giardino", skills="gardening, carpentry")
    in_barriera = post(world, title="Barriera", skills="gardening", where=BARRIERA)
    post(world, title="Cucina", skills="cooking")
    offer(world, "neighbour", skills="Carpentry, painting", district="vanchiglia")
    assert services.matching_calls(world.user("neighbour")) == [in_vanchiglia]
    offer(world, "other", skills="gardening")  # no district: anywhere
    assert services.matching_calls(world.user("other")) == [in_vanchiglia, in_barriera]


def test_full_closed_own_calls_and_paused_offers_do_not_match(world):
    full = post(world, title="Piena", people=1)
    closed = post(world, title="Chiusa")
    services.close_call(closed, world.user("representative"))
    services.answer(full, world.user("other"))
    db.session.commit()
    made = offer(world, "neighbour", skills="gardening")
    assert services.matching_calls(world.user("neighbour")) == []
    services.create_offer(world.user("representative"), skills="gardening", availability="Sempre")
    db.session.commit()
    assert services.matching_calls(world.user("representative")) == []
    open_call = post(world, title="Aperta")
    assert services.matching_calls(world.user("neighbour")) == [open_call]
    services.update_offer(made, world.user("neighbour"), skills="gardening", availability="Sabato", is_active=False)
    db.session.commit()
    assert services.matching_calls(world.user("neighbour")) == []


def test_the_poster_gets_a_count_of_matching_offers_without_answered_or_own(world):
    call = post(world, skills="gardening, carpentry")
    offer(world, "neighbour", skills="gardening", district="vanchiglia")
    offer(world, "neighbour", skills="carpentry")  # the same citizen counts once
    offer(world, "other", skills="carpentry")
    offer(world, "verified", skills="gardening", district="barriera")  # another district
    offer(world, "stranger", skills="cooking")  # no shared skill
    offer(world, "representative", skills="gardening")  # the poster
    assert services.matching_offer_count(call) == 2
    services.answer(call, world.user("other"))
    db.session.commit()
    assert services.matching_offer_count(call) == 1
    world.user("neighbour").deleted_at = utcnow()  # a closed account no longer counts
    db.session.commit()
    assert services.matching_offer_count(call) == 0


# --- the map ------------------------------------------------------------------------------

def test_open_calls_are_on_the_help_calls_map_layer_and_closed_ones_are_not(world):
    open_call = post(world, title="Sulla mappa")
    closed = post(world, title="Chiusa")
    services.close_call(closed, world.user("representative"))
    db.session.commit()
    bbox = geo.BBox(7.5, 44.9, 7.8, 45.2)
    layer = get_layer("help-calls")
    result = feature_collection(MapQuery(bbox, 17, (layer,), {}))
    titles = [f["properties"]["title"] for f in result["features"]]
    assert titles == ["Sulla mappa"]
    assert result["features"][0]["properties"]["url"] == f"/opportunities/{open_call.id}"
    district = db.session.get(District, world.districts["barriera"])
    assert feature_collection(MapQuery(bbox, 17, (layer,), {"district": district}))["features"] == []
