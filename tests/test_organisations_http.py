"""Organisations over HTTP: creation, the public profile, "my organisations", invitations (the same
answer whether an address exists), members and representatives managed only by representatives."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.commons import Commons, CommonsKind, Organisation, OrganisationMember
from app.models.messaging import Notification
from app.models.pact import Pact, PactStatus
from app.models.user import Department, Role
from tests.conftest import login
from tests.http_helpers import assert_field_error, english, location_path, new_client, text_of

VALID_PIVA = "00514490010"


@pytest.fixture
def client(client):
    return english(client)


def org_data(**overrides):
    data = {"name": "Orti Alti", "kind": "association", "description": "Orti sui tetti di Torino.",
            "tax_code": VALID_PIVA, "email": "", "website": "https://ortialti.example.org", "district_id": "0"}
    data.update(overrides)
    return data


def make_org(app, rep, *members, name="Orti Alti"):
    """An organisation with ``rep`` as representative and ``members`` as plain members."""
    with app.app_context():
        org = Organisation(name=name, kind="association", tax_code=VALID_PIVA)
        org.memberships.append(OrganisationMember(user_id=rep.id, is_representative=True))
        for m in members:
            org.memberships.append(OrganisationMember(user_id=m.id))
        db.session.add(org)
        db.session.commit()
        return org.id


def memberships(app, org_id):
    with app.app_context():
        return {m.user_id: m.is_representative for m in db.session.scalars(
            select(OrganisationMember).where(OrganisationMember.organisation_id == org_id))}


def invitation_url(app, user):
    with app.app_context():
        return db.session.scalar(select(Notification.url).where(Notification.user_id == user.id,
                                                                Notification.kind.like("organisation.invited%"))
                                 .order_by(Notification.id.desc()))


# --- creation -----------------------------------------------------------------------------------

def test_a_citizen_creates_an_organisation_and_manages_it(app, client, make_user, login_as):
    rosa = login_as(make_user(display_name="Rosa Bianchi"))
    assert client.get("/organisations/new").status_code == 200
    response = client.post("/organisations/new", data=org_data())
    assert response.status_code == 302
    with app.app_context():
        org = db.session.scalar(select(Organisation))
        assert org.name == "Orti Alti" and org.created_by_id == rosa.id
        org_id = org.id
    assert location_path(response) == f"/organisations/{org_id}/manage"
    assert memberships(app, org_id) == {rosa.id: True}
    assert "Orti Alti" in text_of(client.get("/organisations/mine"))
    profile = text_of(client.get(f"/organisations/{org_id}"))
    assert "Rosa Bianchi" in profile and "association" in profile and "Edit the profile" in profile


def test_an_association_without_a_tax_code_is_refused(app, client, make_user, login_as):
    login_as(make_user())
    response = client.post("/organisations/new", data=org_data(tax_code=""))
    assert response.status_code == 200
    assert_field_error(response, "tax_code", "tax code")
    with app.app_context():
        assert db.session.scalar(select(Organisation.id)) is None


def test_an_informal_group_needs_no_tax_code(app, client, make_user, login_as):
    login_as(make_user())
    assert client.post("/organisations/new", data=org_data(kind="informal_group", tax_code="")).status_code == 302


def test_visitors_sign_in_first_and_unconfirmed_accounts_are_refused(client, make_user, login_as):
    response = client.get("/organisations/new")
    assert response.status_code == 302 and location_path(response) == "/login"
    login_as(make_user(confirmed=False))
    assert client.post("/organisations/new", data=org_data()).status_code == 403


# --- the public profile -----------------------------------------------------------------------

def test_the_profile_shows_representatives_and_public_pacts_only(app, client, make_user):
    rosa, gino = make_user(display_name="Rosa Bianchi"), make_user(display_name="Gino Rossi")
    org_id = make_org(app, rosa, gino)
    with app.app_context():
        commons = Commons(name="Giardino", kind=CommonsKind.green_area, lat=45.07, lon=7.68)
        department = Department(slug="verde", name_it="Verde", name_en="Green")
        db.session.add_all([commons, department])
        db.session.flush()
        db.session.add_all([
            Pact(title="Patto attivo", commons_id=commons.id, organisation_id=org_id, status=PactStatus.active,
                 department_id=department.id),
            Pact(title="Bozza segreta", commons_id=commons.id, organisation_id=org_id, status=PactStatus.draft)])
        db.session.commit()
    page = text_of(client.get(f"/organisations/{org_id}"))
    assert "Rosa Bianchi" in page and "Patto attivo" in page
    assert "Gino Rossi" not in page  # members are not listed publicly
    assert "Bozza segreta" not in page and "Edit the profile" not in page
    assert client.get("/organisations/999").status_code == 404


# --- only representatives manage --------------------------------------------------------------

def test_a_member_cannot_manage(app, client, make_user, login_as):
    rosa, gino, ada = make_user(), make_user(), make_user()
    org_id = make_org(app, rosa, gino, ada)
    login_as(gino)
    assert client.get(f"/organisations/{org_id}/manage").status_code == 403
    assert client.get(f"/organisations/{org_id}/edit").status_code == 403
    assert client.post(f"/organisations/{org_id}/edit", data=org_data(name="Presa")).status_code == 403
    client.post(f"/organisations/{org_id}/members/{ada.id}/remove")
    client.post(f"/organisations/{org_id}/members/{gino.id}/role", data={"answer": "representative"})
    client.post(f"/organisations/{org_id}/members", data={"in-email": ada.email, "in-role": "member"})
    assert memberships(app, org_id) == {rosa.id: True, gino.id: False, ada.id: False}
    with app.app_context():
        assert db.session.get(Organisation, org_id).name == "Orti Alti"
        assert db.session.scalar(select(Notification.id)) is None


def test_a_representative_edits_the_profile(app, client, make_user, login_as):
    rosa = make_user()
    org_id = make_org(app, rosa)
    login_as(rosa)
    response = client.post(f"/organisations/{org_id}/edit", data=org_data(name="Orti Altissimi"))
    assert response.status_code == 302 and location_path(response) == f"/organisations/{org_id}"
    with app.app_context():
        assert db.session.get(Organisation, org_id).name == "Orti Altissimi"


def test_the_invitation_answer_is_the_same_whether_the_address_exists(app, client, make_user, login_as):
    rosa, gino = make_user(), make_user()
    org_id = make_org(app, rosa)
    login_as(rosa)
    known = client.post(f"/organisations/{org_id}/members", data={"in-email": gino.email, "in-role": "member"},
                        follow_redirects=True)
    unknown = client.post(f"/organisations/{org_id}/members", data={"in-email": "nobody@example.org",
                                                                    "in-role": "member"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    message = "If this address belongs to a citizen registered on Piazza, they are invited."
    assert message in text_of(known) and message in text_of(unknown)
    # CSRF tokens carry the second they were made in: on a slow machine the two pages straddle one.
    def same(page, address):
        return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', text_of(page).replace(address, ""))

    assert same(known, gino.email) == same(unknown, "nobody@example.org")
    assert memberships(app, org_id) == {rosa.id: True}  # not until they accept


def test_an_invited_citizen_accepts_and_joins(app, client, make_user, login_as):
    rosa, gino = make_user(), make_user(display_name="Gino Rossi")
    org_id = make_org(app, rosa)
    login_as(rosa)
    client.post(f"/organisations/{org_id}/members", data={"in-email": gino.email, "in-role": "representative"})
    url = invitation_url(app, gino)
    assert url.startswith("/organisations/invitations/")

    other = new_client(app)
    login(other, make_user())
    assert other.get(url).status_code == 404  # someone else's invitation

    guest = new_client(app)
    login(guest, gino)
    page = text_of(guest.get(url))
    assert "as one of its representatives" in page
    response = guest.post(url, data={"answer": "accept"})
    assert response.status_code == 302 and location_path(response) == f"/organisations/{org_id}"
    assert memberships(app, org_id) == {rosa.id: True, gino.id: True}
    assert "Gino Rossi" in text_of(client.get(f"/organisations/{org_id}/manage"))
    again = guest.post(url, data={"answer": "accept"})
    assert location_path(again) == "/organisations/mine"  # used: refused with a message


def test_a_declined_invitation_changes_nothing(app, client, make_user, login_as):
    rosa, gino = make_user(), make_user()
    org_id = make_org(app, rosa)
    login_as(rosa)
    client.post(f"/organisations/{org_id}/members", data={"in-email": gino.email, "in-role": "member"})
    guest = new_client(app)
    login(guest, gino)
    response = guest.post(invitation_url(app, gino), data={"answer": "decline"})
    assert response.status_code == 302
    assert memberships(app, org_id) == {rosa.id: True}


def test_a_forged_invitation_is_refused(client, make_user, login_as):
    login_as(make_user())
    response = client.get("/organisations/invitations/not-a-real-token", follow_redirects=True)
    assert response.status_code == 200 and "not valid or has expired" in text_of(response)


def test_a_representative_removes_a_member_and_promotes_another(app, client, make_user, login_as):
    rosa, gino, ada = make_user(), make_user(), make_user()
    org_id = make_org(app, rosa, gino, ada)
    login_as(rosa)
    response = client.post(f"/organisations/{org_id}/members/{ada.id}/remove")
    assert response.status_code == 302 and location_path(response) == f"/organisations/{org_id}/manage"
    client.post(f"/organisations/{org_id}/members/{gino.id}/role", data={"answer": "representative"})
    assert memberships(app, org_id) == {rosa.id: True, gino.id: True}


def test_the_last_representative_cannot_leave_or_be_demoted(app, client, make_user, login_as):
    rosa, gino = make_user(), make_user()
    org_id = make_org(app, rosa, gino)
    login_as(rosa)
    left = client.post(f"/organisations/{org_id}/leave", follow_redirects=True)
    assert "only representative" in text_of(left)
    client.post(f"/organisations/{org_id}/members/{rosa.id}/role", data={"answer": "member"})
    client.post(f"/organisations/{org_id}/members/{rosa.id}/remove")
    assert memberships(app, org_id) == {rosa.id: True, gino.id: False}


def test_a_member_steps_down(app, client, make_user, login_as):
    rosa, gino = make_user(), make_user()
    org_id = make_org(app, rosa, gino)
    login_as(gino)
    response = client.post(f"/organisations/{org_id}/leave")
    assert response.status_code == 302 and location_path(response) == "/organisations/mine"
    assert memberships(app, org_id) == {rosa.id: True}


def test_my_organisations_shows_my_role(app, client, make_user, login_as):
    rosa, gino = make_user(), make_user()
    make_org(app, rosa, gino, name="Orti Alti")
    make_org(app, gino, name="Bocciofila")
    login_as(gino)
    page = text_of(client.get("/organisations/mine"))
    assert "Orti Alti" in page and "Bocciofila" in page
    assert "you are a member" in page and "you are a representative" in page


@pytest.mark.parametrize("roles", [[Role.official], [Role.admin]])
def test_staff_without_the_citizen_role_cannot_create_organisations(client, make_user, login_as, roles):
    login_as(make_user(roles=roles))
    assert client.post("/organisations/new", data=org_data()).status_code == 403
