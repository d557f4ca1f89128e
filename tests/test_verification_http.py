"""The facilitator's verification page and the admin's revocation, over HTTP."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, NeighbourhoodHouse, Role, User, user_houses
from tests.conftest import refetch
from tests.test_verification import BIANCHI, ROSSI


@pytest.fixture
def house_id(app):
    with app.app_context():
        house = NeighbourhoodHouse(slug="casa-http", name="Casa del Quartiere HTTP", neighbourhood="Centro",
                                   address="Via Po 1", lat=45.07, lon=7.69)
        db.session.add(house)
        db.session.commit()
        return house.id


@pytest.fixture
def make_facilitator(app, make_user, house_id):
    """A facilitator attached to the test house."""
    def build(**kwargs):
        user = make_user(roles=[Role.facilitator], **kwargs)
        with app.app_context():
            db.session.execute(user_houses.insert().values(user_id=user.id, house_id=house_id))
            db.session.commit()
        return user
    return build


def form(house_id, code=ROSSI, document="identity_card", residency=True):
    data = {"v-document_type": document, "v-codice_fiscale": code, "v-house": str(house_id)}
    if residency:
        data["v-residency"] = "y"
    return data


def test_the_page_finds_a_citizen_by_email_and_shows_the_form(client, make_user, make_facilitator, login_as, house_id):
    login_as(make_facilitator())
    citizen = make_user(display_name="Anna Citizen")
    page = client.get("/facilitator/verify?lang=en")
    assert page.status_code == 200 and "Verify a citizen in person" in page.text
    assert 'name="v-codice_fiscale"' not in page.text
    page = client.get(f"/facilitator/verify?email={citizen.email.upper()}&lang=en")
    assert page.status_code == 200 and "Anna Citizen" in page.text
    assert 'name="v-codice_fiscale"' in page.text and 'autocomplete="off"' in page.text
    assert "Casa del Quartiere HTTP" in page.text
    missing = client.get("/facilitator/verify?email=nobody@example.org&lang=en")
    assert "No account has this email address." in missing.text


def test_a_facilitator_verifies_over_http(app, client, make_user, make_facilitator, login_as, house_id):
    facilitator = login_as(make_facilitator())
    citizen = make_user()
    response = client.post(f"/facilitator/verify/{citizen.id}", data=form(house_id, ROSSI.lower()))
    assert response.status_code == 302 and response.headers["Location"].endswith("/facilitator/verify")
    fresh = refetch(app, User, citizen.id)
    assert fresh.is_verified and fresh.verified_by_id == facilitator.id and fresh.verified_house_id == house_id
    assert ROSSI not in client.get("/facilitator/verify").text


def test_a_wrong_code_is_not_echoed_back_and_nothing_is_stored(app, client, make_user, make_facilitator, login_as, house_id):
    login_as(make_facilitator())
    citizen = make_user()
    wrong = ROSSI[:-1] + ("A" if ROSSI[-1] != "A" else "B")
    response = client.post(f"/facilitator/verify/{citizen.id}?lang=en", data=form(house_id, wrong))
    assert response.status_code == 400
    assert wrong not in response.text and wrong.lower() not in response.text
    assert "check character" in response.text and "the field was emptied" in response.text
    assert not refetch(app, User, citizen.id).is_verified


def test_a_missing_residency_keeps_the_code_out_of_the_page(client, make_user, make_facilitator, login_as, house_id):
    login_as(make_facilitator())
    citizen = make_user()
    response = client.post(f"/facilitator/verify/{citizen.id}?lang=en", data=form(house_id, residency=False))
    assert response.status_code == 400 and ROSSI not in response.text
    assert "residency in Turin" in response.text


def test_a_second_account_of_the_same_person_is_refused_without_naming_the_first(
        app, client, make_user, make_facilitator, login_as, house_id):
    login_as(make_facilitator())
    first = make_user(display_name="Primo Account")
    second = make_user(display_name="Secondo Account")
    assert client.post(f"/facilitator/verify/{first.id}", data=form(house_id)).status_code == 302
    client.get("/facilitator/verify")  # shows (and consumes) the flash naming the first account
    response = client.post(f"/facilitator/verify/{second.id}?lang=en", data=form(house_id, f" {ROSSI} "))
    assert response.status_code == 409
    assert "already belongs to another verified account" in response.text
    assert ROSSI not in response.text and "Primo Account" not in response.text and first.email not in response.text
    assert not refetch(app, User, second.id).is_verified
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "verification.duplicate_refused"))
        assert event.details["holder_id"] == first.id and event.details["citizen_id"] == second.id


def test_staff_and_self_are_refused(app, client, make_user, make_facilitator, login_as, house_id):
    facilitator = login_as(make_facilitator())
    official = make_user(roles=[Role.citizen, Role.official])
    page = client.get(f"/facilitator/verify?email={official.email}&lang=en")
    assert "Staff accounts cannot be verified" in page.text and 'name="v-codice_fiscale"' not in page.text
    assert client.post(f"/facilitator/verify/{official.id}", data=form(house_id)).status_code == 403
    assert client.post(f"/facilitator/verify/{facilitator.id}", data=form(house_id, BIANCHI)).status_code == 403
    assert not refetch(app, User, official.id).is_verified


@pytest.mark.parametrize("role", ["citizen", "verified", "official", "moderator"])
def test_others_cannot_open_or_post(client, user_for, login_as, make_user, house_id, role):
    login_as(user_for(role))
    citizen = make_user()
    assert client.get("/facilitator/verify").status_code == 403
    assert client.post(f"/facilitator/verify/{citizen.id}", data=form(house_id)).status_code == 403


def test_unknown_citizen_is_404(client, make_user, make_facilitator, login_as, house_id):
    login_as(make_facilitator())
    assert client.post("/facilitator/verify/999999", data=form(house_id)).status_code == 404


def test_admin_page_shows_how_and_where_and_revokes(app, client, make_user, make_facilitator, login_as, house_id):
    facilitator = make_facilitator(display_name="Fede Facilitatrice")
    citizen = make_user()
    login_as(facilitator)
    client.post(f"/facilitator/verify/{citizen.id}", data=form(house_id, document="passport"))
    login_as(make_user(roles=[Role.admin]))
    page = client.get(f"/admin/users/{citizen.id}?lang=en")
    assert "Casa del Quartiere HTTP" in page.text and "Passport" in page.text and "Fede Facilitatrice" in page.text
    assert 'id="revoke-verification"' in page.text
    with app.app_context():
        digest = db.session.get(User, citizen.id).identity_hmac
    assert digest not in page.text and ROSSI not in page.text
    # No reason: refused, still verified.
    client.post(f"/admin/users/{citizen.id}/verification/revoke", data={"rev-reason": ""})
    assert refetch(app, User, citizen.id).is_verified
    response = client.post(f"/admin/users/{citizen.id}/verification/revoke", data={"rev-reason": "doppio account"})
    assert response.status_code == 302
    fresh = refetch(app, User, citizen.id)
    assert not fresh.is_verified and fresh.identity_hmac is None
    page = client.get(f"/admin/users/{citizen.id}?lang=en")
    assert "Verification revoked on" in page.text


def test_the_old_admin_unverify_action_needs_a_reason_now(app, client, make_user, login_as):
    login_as(make_user(roles=[Role.admin]))
    citizen = make_user(verified=True)
    client.post(f"/admin/users/{citizen.id}/verify", data={"ver-action": "unverify", "ver-reason": ""})
    assert refetch(app, User, citizen.id).is_verified
    client.post(f"/admin/users/{citizen.id}/verify", data={"ver-action": "unverify", "ver-reason": "errore"})
    assert not refetch(app, User, citizen.id).is_verified


def test_the_revoke_form_is_for_admins_only(client, make_user, login_as):
    login_as(make_user(roles=[Role.facilitator]))
    citizen = make_user(verified=True)
    assert client.post(f"/admin/users/{citizen.id}/verification/revoke",
                       data={"rev-reason": "x"}).status_code == 403


def test_facilitators_find_the_page_in_the_staff_bar(client, make_user, login_as):
    login_as(make_user(roles=[Role.facilitator]))
    assert 'href="/facilitator/verify"' in client.get("/?lang=en").text
    login_as(make_user())
    assert 'href="/facilitator/verify"' not in client.get("/?lang=en").text


def test_an_empty_code_is_not_said_to_have_been_emptied(client, make_user, make_facilitator, login_as, house_id):
    login_as(make_facilitator())
    citizen = make_user()
    response = client.post(f"/facilitator/verify/{citizen.id}?lang=en", data=form(house_id, code=""))
    assert response.status_code == 400
    assert "Type the codice fiscale printed on the document." in response.text
    assert "the field was emptied" not in response.text


def test_a_facilitator_without_a_house_is_told_to_ask_an_admin(client, make_user, login_as, house_id):
    login_as(make_user(roles=[Role.facilitator]))
    citizen = make_user()
    page = client.get(f"/facilitator/verify?email={citizen.email}&lang=en")
    assert "not attached to any Casa del Quartiere" in page.text and 'name="v-codice_fiscale"' not in page.text
    assert client.post(f"/facilitator/verify/{citizen.id}", data=form(house_id)).status_code == 400
