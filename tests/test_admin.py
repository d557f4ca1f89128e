"""Admin screens and services: roles, verification, departments — every change audited."""
import pytest
from sqlalchemy import select

from app.admin import services
from app.audit.services import verify_chain
from app.extensions import db
from app.models import AuditEvent, Department, DomainError, Notification, Role, User
from tests.conftest import refetch


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_grant_and_revoke_write_audit_events_and_notify(app_ctx, make_user):
    admin = db.session.get(User, make_user(roles=[Role.admin]).id)
    user = db.session.get(User, make_user().id)
    assert services.grant_role(admin, user, "moderator", "new team member")
    assert not services.grant_role(admin, user, "moderator")  # already held: no event
    assert services.revoke_role(admin, user, "moderator", "left the team")
    db.session.commit()
    granted, = _events("user.role_granted")
    assert (granted.actor_id, granted.target_id, granted.reason, granted.details) == \
        (admin.id, user.id, "new team member", {"role": "moderator"})
    assert len(_events("user.role_revoked")) == 1
    kinds = [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]
    assert kinds == ["account.role_granted", "account.role_revoked"]
    assert verify_chain().ok


def test_the_last_admin_cannot_lose_the_role(app_ctx, make_user):
    admin = db.session.get(User, make_user(roles=[Role.admin]).id)
    with pytest.raises(DomainError):
        services.revoke_role(admin, admin, "admin")
    other = db.session.get(User, make_user(roles=[Role.admin]).id)
    assert services.revoke_role(other, admin, "admin")


def test_verification_needs_a_confirmed_email(app_ctx, make_user):
    admin = db.session.get(User, make_user(roles=[Role.admin]).id)
    unconfirmed = db.session.get(User, make_user(confirmed=False).id)
    with pytest.raises(DomainError):
        services.set_verified(admin, unconfirmed, True)
    confirmed = db.session.get(User, make_user().id)
    assert services.set_verified(admin, confirmed, True, "documento visto")
    assert confirmed.is_verified and confirmed.verified_by_id == admin.id
    assert services.set_verified(admin, confirmed, False)
    assert not confirmed.is_verified
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))] == \
        ["user.verified", "user.verification_revoked"]


def test_only_officials_get_departments_and_revoking_official_clears_them(app_ctx, make_user):
    admin = db.session.get(User, make_user(roles=[Role.admin]).id)
    dep = Department(slug="verde", name_it="Verde", name_en="Parks")
    db.session.add(dep)
    db.session.commit()  # make_user writes from its own connection
    citizen = db.session.get(User, make_user().id)
    with pytest.raises(DomainError):
        services.set_departments(admin, citizen, [dep.id])
    official = db.session.get(User, make_user(roles=[Role.official]).id)
    assert services.set_departments(admin, official, [dep.id])
    assert [d.slug for d in official.departments] == ["verde"]
    services.revoke_role(admin, official, "official")
    assert official.departments == []


def test_admin_grants_a_role_over_http(app, client, make_user, login_as):
    login_as(make_user(roles=[Role.admin]))
    user = make_user()
    response = client.post(f"/admin/users/{user.id}/roles",
                           data={"role-role": "official", "role-action": "grant", "role-reason": "hired"})
    assert response.status_code == 302
    assert Role.official in refetch(app, User, user.id).roles
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_granted"))
        assert event.reason == "hired"


def test_admin_role_form_rejects_unknown_action_or_role(client, make_user, login_as):
    login_as(make_user(roles=[Role.admin]))
    user = make_user()
    assert client.post(f"/admin/users/{user.id}/roles",
                       data={"role-role": "official", "role-action": "explode"}).status_code == 400
    assert client.post(f"/admin/users/{user.id}/roles",
                       data={"role-role": "emperor", "role-action": "grant"}).status_code == 400


def test_admin_verifies_over_http(app, client, make_user, login_as):
    login_as(make_user(roles=[Role.admin]))
    user = make_user()
    client.post(f"/admin/users/{user.id}/verify", data={"ver-action": "verify", "ver-reason": "in person"})
    assert refetch(app, User, user.id).is_verified


def test_admin_sets_departments_over_http(app, client, make_user, login_as):
    login_as(make_user(roles=[Role.admin]))
    official = make_user(roles=[Role.official])
    with app.app_context():
        dep = Department(slug="mobilita", name_it="Mobilità", name_en="Mobility")
        db.session.add(dep)
        db.session.commit()
        dep_id = dep.id
    response = client.post(f"/admin/users/{official.id}/departments", data={"dep-departments": [str(dep_id)]})
    assert response.status_code == 302
    assert [d.id for d in refetch(app, User, official.id).departments] == [dep_id]


def test_admin_user_pages_and_search(client, make_user, login_as):
    login_as(make_user(roles=[Role.admin]))
    make_user(display_name="Giulia Rossi", email="giulia@example.org")
    make_user(display_name="Marco Bianchi", roles=[Role.moderator])
    page = client.get("/admin/users?q=giulia")
    assert "Giulia Rossi" in page.text and "Marco Bianchi" not in page.text
    page = client.get("/admin/users?role=moderator")
    assert "Marco Bianchi" in page.text and "Giulia Rossi" not in page.text
    assert client.get("/admin/users/999999").status_code == 404


def test_audit_page_lists_events_and_verifies_the_chain(app, client, make_user, login_as):
    admin = login_as(make_user(roles=[Role.admin]))
    user = make_user()
    client.post(f"/admin/users/{user.id}/roles", data={"role-role": "moderator", "role-action": "grant"})
    page = client.get("/admin/audit?verify=1&lang=en")
    assert "user.role_granted" in page.text
    assert "Chain intact: 1 events verified." in page.text
    del admin


def test_admin_sees_a_clear_message_when_removing_the_last_admin(client, make_user, login_as):
    admin = login_as(make_user(roles=[Role.admin]))
    response = client.post(f"/admin/users/{admin.id}/roles", data={"role-role": "admin", "role-action": "revoke"},
                           follow_redirects=True, headers={"Accept-Language": "en"})
    assert "There must always be at least one administrator." in response.text
