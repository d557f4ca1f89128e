"""Collaboration opportunities over HTTP: the list and a call's page, posting (and who may not), the
one-click answer (idempotent, full, closed, joining the pact), withdrawing, closing, and the privacy of
offers and of who answered."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.models import Notification, User
from app.models.base import utcnow
from app.models.opportunity import HelpAnswer, HelpCall, HelpOffer
from app.models.pact import PactStatus, PactVolunteer
from app.opportunities import services
from app.seed.demo import seed_places
from tests.http_helpers import assert_field_error, english, location_path, text_of
from tests.pact_builders import advance, make_person, pact_world, reload_user

ROME = ZoneInfo("Europe/Rome")
DAY = timedelta(days=1)
VANCHIGLIA = (45.0700, 7.7000)
BARRIERA = (45.0950, 7.6950)


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def world(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        world = pact_world()
        world.active_pact_id = advance(world, PactStatus.active, title="Giardino di via Baltea")
        world.users["neighbour"] = make_person(name="Nina Vicina")
        world.users["other"] = make_person(name="Oreste Altro")
        world.districts = {"vanchiglia": geo.district_for(*VANCHIGLIA), "barriera": geo.district_for(*BARRIERA)}
        # Loaded afresh and detached, so that their columns stay readable after this context.
        world.users = {role: reload_user(user.id) for role, user in world.users.items()}
        db.session.expunge_all()
    return world


def make_call(app, world, *, by="representative", pact=False, title="Pulizia d'autunno", people=3,
              skills="gardening, carpentry", where=VANCHIGLIA, starts_in=DAY):
    with app.app_context():
        starts = utcnow() + starts_in
        call = services.create_call(
            world.user(by), pact_id=world.active_pact_id if pact else None,
            organisation_id=None if pact else world.organisation_id, title=title, lat=where[0], lon=where[1],
            starts_at=starts, ends_at=starts + timedelta(hours=3), skills=skills, people_needed=people)
        db.session.commit()
        return call.id


def rows(app, model, **where):
    with app.app_context():
        stmt = select(func.count(model.id))
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return db.session.scalar(stmt)


def local(moment):
    return moment.astimezone(ROME).strftime("%Y-%m-%dT%H:%M")


def call_form(world, **changes):
    starts = (utcnow() + 10 * DAY).replace(second=0, microsecond=0)
    data = {"target": f"organisation-{world.organisation_id}", "title": "Festa di quartiere",
            "description": "Montare i gazebo.", "lat": str(VANCHIGLIA[0]), "lon": str(VANCHIGLIA[1]),
            "starts_at": local(starts), "ends_at": local(starts + timedelta(hours=4)),
            "skills": "Cooking, first  aid, cooking", "people_needed": "4"}
    data.update(changes)
    return data


# --- the list and a call's page -------------------------------------------------------------

def test_the_list_shows_open_calls_soonest_first_with_filters(app, client, world):
    make_call(app, world, title="Tra cinque giorni", starts_in=5 * DAY, skills="cooking")
    make_call(app, world, title="Domani in Barriera", starts_in=DAY, where=BARRIERA)
    closed = make_call(app, world, title="Già chiusa")
    with app.app_context():
        services.close_call(db.session.get(HelpCall, closed), world.user("representative"))
        db.session.commit()
    page = text_of(client.get("/opportunities"))
    assert page.index("Domani in Barriera") < page.index("Tra cinque giorni")
    assert "Già chiusa" not in page and "2 open calls match your filters." in page
    by_skill = text_of(client.get("/opportunities?skill=Cooking"))
    assert "Tra cinque giorni" in by_skill and "Domani in Barriera" not in by_skill
    by_district = text_of(client.get(f"/opportunities?district={world.districts['barriera']}"))
    assert "Domani in Barriera" in by_district and "Tra cinque giorni" not in by_district
    assert client.get("/opportunities?district=abc&skill=" + "x" * 300).status_code == 200


def test_the_list_is_paginated_and_pages_keep_the_skill_filter(app, client, world):
    for n in range(21):
        make_call(app, world, title=f"Chiamata {n:02d}", starts_in=DAY + n * timedelta(hours=1), skills="cooking")
    first = text_of(client.get("/opportunities?skill=cooking"))
    assert "Chiamata 19" in first and "Chiamata 20" not in first
    assert "skill=cooking" in first and "page=2" in first
    second = text_of(client.get("/opportunities?skill=cooking&page=2"))
    assert "Chiamata 20" in second and "Chiamata 00" not in second


def test_a_calls_page_shows_what_where_when_skills_answers_map_and_organisation(app, client, world):
    call_id = make_call(app, world, people=3)
    response = client.get(f"/opportunities/{call_id}")
    page = text_of(response)
    assert response.status_code == 200
    assert "Pulizia d'autunno" in page and "0 of 3 people have answered" in page
    assert 'id="report-map"' in page and "gardening" in page and "carpentry" in page
    with app.app_context():
        assert world.organisation.name in page
    assert "Sign in to answer" in page


def test_a_pact_calls_page_links_the_pact(app, client, world):
    call_id = make_call(app, world, by="author", pact=True)
    page = text_of(client.get(f"/opportunities/{call_id}"))
    assert f"/pacts/{world.active_pact_id}" in page and "Giardino di via Baltea" in page


def test_a_hidden_call_leaves_the_list_and_its_page_says_so(app, client, world):
    call_id = make_call(app, world)
    with app.app_context():
        db.session.get(HelpCall, call_id).hidden_at = utcnow()
        db.session.commit()
    page = client.get(f"/opportunities/{call_id}")
    assert page.status_code == 200 and "data-moderation-notice" in page.text and "Pulizia" not in text_of(page)
    assert "Pulizia" not in text_of(client.get("/opportunities"))


# --- posting --------------------------------------------------------------------------------

def test_a_representative_posts_a_call_in_rome_time(app, client, login_as, world):
    login_as(world.representative)
    form = text_of(client.get("/opportunities/new"))
    assert f'value="organisation-{world.organisation_id}"' in form
    assert f'value="pact-{world.active_pact_id}"' in form and "help-call-picker" in form
    data = call_form(world)
    response = client.post("/opportunities/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        call = db.session.scalar(select(HelpCall))
        assert location_path(response) == f"/opportunities/{call.id}"
        assert call.skills == "cooking, first aid" and call.people_needed == 4
        assert call.district_id == world.districts["vanchiglia"] and call.author_id == world.representative.id
        expected = datetime.strptime(data["starts_at"], "%Y-%m-%dT%H:%M").replace(tzinfo=ROME)
        assert call.starts_at == expected.astimezone(timezone.utc)


def test_a_proponent_posts_a_call_for_the_active_pact(app, client, login_as, world):
    login_as(world.co_proponent)
    response = client.post("/opportunities/new", data=call_form(world, target=f"pact-{world.active_pact_id}"))
    assert response.status_code == 302
    assert rows(app, HelpCall, pact_id=world.active_pact_id) == 1


@pytest.mark.parametrize("target", ["organisation", "pact"])
def test_a_citizen_who_is_not_a_representative_cannot_post(app, client, login_as, world, target):
    login_as(world.neighbour)
    page = text_of(client.get("/opportunities/new"))
    assert "Calls for help are posted by pacts and organisations" in page
    ident = world.organisation_id if target == "organisation" else world.active_pact_id
    response = client.post("/opportunities/new", data=call_form(world, target=f"{target}-{ident}"))
    assert response.status_code in (200, 403)
    assert rows(app, HelpCall) == 0
    # Even with a pact or an organisation of their own, the others stay out of reach.
    with app.app_context():
        from tests.pact_builders import make_organisation

        make_organisation(representatives=[world.user("neighbour")], name="Comitato Vanchiglia")
    response = client.post("/opportunities/new", data=call_form(world, target=f"{target}-{ident}"))
    assert response.status_code == 403
    assert rows(app, HelpCall) == 0


def test_the_form_refuses_an_end_before_the_start_and_a_point_outside_the_city(app, client, login_as, world):
    login_as(world.representative)
    data = call_form(world)
    response = client.post("/opportunities/new", data={**data, "ends_at": data["starts_at"]})
    assert response.status_code == 200
    assert_field_error(response, "ends_at", "The end must come after the start.")
    outside = client.post("/opportunities/new", data={**data, "lat": "45.2", "lon": "7.3"})
    assert "This place is outside the city of Turin." in text_of(outside)
    missing = client.post("/opportunities/new", data={**data, "lat": "", "lon": ""})
    assert missing.status_code == 200
    assert rows(app, HelpCall) == 0


# --- answering ------------------------------------------------------------------------------

def test_one_post_answers_and_answering_twice_makes_one_answer(app, client, login_as, world):
    call_id = make_call(app, world)
    login_as(world.neighbour)
    for _attempt in range(2):
        response = client.post(f"/opportunities/{call_id}/answer")
        assert response.status_code == 302 and location_path(response) == f"/opportunities/{call_id}"
    assert rows(app, HelpAnswer, call_id=call_id) == 1
    assert rows(app, Notification, user_id=world.representative.id, kind="opportunities.answered") == 1
    page = text_of(client.get(f"/opportunities/{call_id}"))
    assert "You answered this call" in page and "1 of 3 people have answered" in page


def test_a_full_call_refuses_an_answer(app, client, login_as, world):
    call_id = make_call(app, world, people=1)
    login_as(world.other)
    client.post(f"/opportunities/{call_id}/answer")
    login_as(world.neighbour)
    response = client.post(f"/opportunities/{call_id}/answer", follow_redirects=True)
    assert "This call already has all the people it needs." in text_of(response)
    assert rows(app, HelpAnswer, call_id=call_id) == 1
    assert rows(app, HelpAnswer, user_id=world.neighbour.id) == 0


def test_a_closed_call_refuses_an_answer(app, client, login_as, world):
    call_id = make_call(app, world)
    login_as(world.representative)
    assert client.post(f"/opportunities/{call_id}/close").status_code == 302
    login_as(world.neighbour)
    response = client.post(f"/opportunities/{call_id}/answer", follow_redirects=True)
    assert "This call is closed" in text_of(response)
    assert rows(app, HelpAnswer) == 0


def test_answering_a_pact_call_needs_the_rules_ticked_and_makes_a_volunteer(app, client, login_as, world):
    call_id = make_call(app, world, by="author", pact=True)
    login_as(world.neighbour)
    page = text_of(client.get(f"/opportunities/{call_id}"))
    assert "I accept the pact's rules" in page
    refused = client.post(f"/opportunities/{call_id}/answer")
    assert refused.status_code == 200
    assert_field_error(refused, "accept_rules", "tick that you accept its rules")
    assert rows(app, HelpAnswer) == 0 and rows(app, PactVolunteer, user_id=world.neighbour.id) == 0
    response = client.post(f"/opportunities/{call_id}/answer", data={"accept_rules": "y"})
    assert response.status_code == 302
    assert rows(app, HelpAnswer, call_id=call_id, user_id=world.neighbour.id) == 1
    assert rows(app, PactVolunteer, pact_id=world.active_pact_id, user_id=world.neighbour.id) == 1
    assert client.get(f"/opportunities/{call_id}/answer").status_code == 200


def test_concurrent_answers_never_overfill_a_call(app, world):
    from tests.test_supports_concurrency import run_together

    call_id = make_call(app, world, people=3)
    with app.app_context():
        ids = [make_person(name=f"Volontario {n}").id for n in range(6)]

    def job(user_id):
        def run():
            return services.answer(db.session.get(HelpCall, call_id), db.session.get(User, user_id)).id
        return run

    results, errors = run_together(app, [job(i) for i in ids], len(ids))
    assert len(results) == 3 and len(errors) == 3
    assert all(isinstance(e, services.CallFull) for e in errors), errors
    assert rows(app, HelpAnswer, call_id=call_id) == 3


def test_withdrawing_an_answer_removes_it(app, client, login_as, world):
    call_id = make_call(app, world)
    login_as(world.neighbour)
    client.post(f"/opportunities/{call_id}/answer")
    response = client.post(f"/opportunities/{call_id}/withdraw")
    assert response.status_code == 302
    assert rows(app, HelpAnswer) == 0
    assert client.post(f"/opportunities/{call_id}/withdraw").status_code == 302


def test_only_the_poster_closes_the_call(app, client, login_as, world):
    call_id = make_call(app, world)
    login_as(world.neighbour)
    assert client.post(f"/opportunities/{call_id}/close").status_code == 403
    with app.app_context():
        assert db.session.get(HelpCall, call_id).closed_at is None
    login_as(world.representative)
    assert client.post(f"/opportunities/{call_id}/close").status_code == 302
    with app.app_context():
        assert db.session.get(HelpCall, call_id).closed_at is not None
    assert "Pulizia" not in text_of(client.get("/opportunities"))


# --- privacy --------------------------------------------------------------------------------

def test_the_poster_sees_who_answered_and_a_count_of_offers_others_see_neither(app, client, login_as, world):
    call_id = make_call(app, world, skills="gardening")
    login_as(world.other)
    client.post("/opportunities/offers/new", data={"skills": "Gardening", "availability": "Sabato",
                                                   "district_id": "0"})
    login_as(world.neighbour)
    client.post(f"/opportunities/{call_id}/answer")
    login_as(world.representative)
    poster_page = text_of(client.get(f"/opportunities/{call_id}"))
    assert "Nina Vicina" in poster_page
    assert "1 citizen offers matching skills in this district." in poster_page
    assert "Oreste Altro" not in poster_page  # an offer, not an answer: the name stays private
    login_as(world.other)
    other_page = text_of(client.get(f"/opportunities/{call_id}"))
    assert "Nina Vicina" not in other_page and "matching skills" not in other_page


def test_an_offer_is_seen_changed_and_deleted_only_by_its_citizen(app, client, login_as, world):
    call_id = make_call(app, world, skills="carpentry")
    login_as(world.neighbour)
    response = client.post("/opportunities/offers/new", data={
        "skills": "Carpentry, painting", "availability": "Sabato mattina",
        "district_id": str(world.districts["vanchiglia"])})
    assert response.status_code == 302 and location_path(response) == "/opportunities/mine"
    with app.app_context():
        offer = db.session.scalar(select(HelpOffer))
        assert offer.user_id == world.neighbour.id and offer.skills == "carpentry, painting"
        offer_id = offer.id
    mine = text_of(client.get("/opportunities/mine"))
    assert "Sabato mattina" in mine and f"/opportunities/{call_id}" in mine  # the matching call
    login_as(world.other)
    assert client.get(f"/opportunities/offers/{offer_id}/edit").status_code == 404
    assert client.post(f"/opportunities/offers/{offer_id}/edit", data={"skills": "x", "availability": "y",
                                                                       "district_id": "0"}).status_code == 404
    assert client.post(f"/opportunities/offers/{offer_id}/delete").status_code == 404
    assert "Sabato mattina" not in text_of(client.get("/opportunities/mine"))
    login_as(world.neighbour)
    edit = client.post(f"/opportunities/offers/{offer_id}/edit", data={
        "skills": "Cooking", "availability": "Sera", "district_id": "0"})
    assert edit.status_code == 302
    with app.app_context():
        offer = db.session.get(HelpOffer, offer_id)
        assert (offer.skills, offer.district_id, offer.is_active) == ("cooking", None, False)
    assert client.post(f"/opportunities/offers/{offer_id}/delete").status_code == 302
    assert rows(app, HelpOffer) == 0


def test_an_offer_form_with_errors_shows_them(app, client, login_as, world):
    login_as(world.neighbour)
    response = client.post("/opportunities/offers/new", data={"skills": "", "availability": "",
                                                              "district_id": "0"})
    assert response.status_code == 200
    assert_field_error(response, "skills", "Give at least one skill")
    assert rows(app, HelpOffer) == 0


def test_the_help_calls_layer_is_on_the_shared_map(app, client, world):
    make_call(app, world, title="Sulla mappa")
    response = client.get("/api/v1/map/features?layers=help-calls&bbox=7.6,45.0,7.8,45.2&zoom=17")
    assert response.status_code == 200
    assert [f["properties"]["title"] for f in response.get_json()["features"]] == ["Sulla mappa"]
