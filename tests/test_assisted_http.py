"""Assisted sessions over HTTP: open, pick or create the citizen, act for them, end by the clock."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (AssistedAction, AssistedSession, AuditEvent, Category, Comment, NeighbourhoodHouse, Report,
                        Role, Support, User, user_houses)
from app.models.assisted import EndReason, IdentifiedBy
from app.models.base import utcnow
from app.seed.demo import seed_places
from tests.conftest import refetch
from tests.test_api_proposals import make_process, propose
from tests.test_verification import ROSSI

NIZZA = (45.0450, 7.6780)


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        from app import geo

        geo.clear_cache()
        house = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id)).first()
        return {"house_id": house.id, "house_name": house.name,
                "category_id": db.session.scalars(select(Category.id)).first()}


@pytest.fixture
def facilitator(app, make_user, city):
    user = make_user(roles=[Role.facilitator], display_name="Fabio Facilitatore")
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=user.id, house_id=city["house_id"]))
        db.session.commit()
    return user


def open_session(client, city):
    response = client.post("/assist/sessions", data={"o-house": str(city["house_id"])})
    assert response.status_code == 302 and response.headers["Location"].endswith("/assist/session")


def managed(client, name="Giovanna Senza Email", **extra):
    data = {"m-display_name": name, "m-locale": "it", "m-terms": "y", "m-privacy": "y", "m-document_type": "",
            "m-codice_fiscale": ""}
    data.update(extra)
    return client.post("/assist/session/managed", data=data)


def report_form(city, title="Buca in via Nizza"):
    return {"category_id": str(city["category_id"]), "title": title, "description": "Una buca profonda.",
            "lat": str(NIZZA[0]), "lon": str(NIZZA[1]), "district_id": "0", "address": "via Nizza 10"}


def the_session(app):
    with app.app_context():
        return db.session.scalar(select(AssistedSession).order_by(AssistedSession.id.desc()))


def test_a_facilitator_creates_a_managed_account_and_places_a_report_for_it(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    assert managed(client).status_code == 302
    assisted = the_session(app)
    with app.app_context():
        citizen = db.session.get(User, assisted.citizen_id)
        assert citizen.email is None and citizen.password_hash is None and citizen.is_managed
        assert citizen.terms_accepted_at and citizen.privacy_accepted_at and citizen.claim_code_hash
        assert assisted.identified_by == IdentifiedBy.managed
    page = client.get("/reports/new?lang=en")
    assert page.status_code == 200 and "You are acting for Giovanna Senza Email" in page.text
    assert "(15 minutes left)" in page.text and "assisted-banner.js" in page.text
    response = client.post("/reports/new", data=report_form(city))
    assert response.status_code == 302
    with app.app_context():
        report = db.session.scalar(select(Report))
        assert report.reporter_id == assisted.citizen_id  # the citizen's, never the facilitator's
        action = db.session.scalar(select(AssistedAction).where(AssistedAction.record_type == "reports"))
        assert (action.session_id, action.facilitator_id, action.house_id, action.citizen_id) == (
            assisted.id, facilitator.id, city["house_id"], assisted.citizen_id)
        events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("assisted.%"))).all()
        assert "assisted.report.created" in events and "assisted.account.created" in events
    public = client.get(f"/reports/{report.id}?lang=en")
    assert "Fabio Facilitatore" not in public.text


def test_the_session_ends_by_idle_time_without_any_job_and_a_late_form_saves_nothing(
        app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    assisted = the_session(app)
    with app.app_context():
        row = db.session.get(AssistedSession, assisted.id)
        row.last_seen_at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    response = client.post("/reports/new?lang=en", data=report_form(city))
    assert response.status_code == 409 and "was not saved" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 0
        row = db.session.get(AssistedSession, assisted.id)
        assert row.end_reason == EndReason.idle
        assert abs((row.ended_at - (utcnow() - timedelta(minutes=1))).total_seconds()) < 30
    # Back to being the facilitator: no banner.
    assert "You are acting for" not in client.get("/?lang=en").text


def test_the_session_ends_at_its_hard_limit(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    assisted = the_session(app)
    with app.app_context():
        row = db.session.get(AssistedSession, assisted.id)
        row.opened_at = utcnow() - timedelta(hours=3)
        row.hard_end_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    page = client.get("/assist/session?lang=en", follow_redirects=True)
    assert "No assisted session is open." in page.text or "ended at" in page.text
    with app.app_context():
        row = db.session.get(AssistedSession, assisted.id)
        assert row.end_reason == EndReason.hard_limit and row.ended_at == row.hard_end_at


def test_a_facilitator_cannot_act_for_themselves_or_for_staff(app, client, facilitator, make_user, login_as, city):
    from app.assisted import codes

    official = make_user(roles=[Role.official, Role.citizen])
    login_as(facilitator)
    open_session(client, city)
    with app.app_context():
        me_code = codes.issue_assist_code(db.session.get(User, facilitator.id))
        staff_code = codes.issue_assist_code(db.session.get(User, official.id))
        db.session.commit()
    for code in (me_code, staff_code):
        response = client.post("/assist/session/code?lang=en", data={"c-code": code})
        assert response.status_code == 400
    assert the_session(app).citizen_id is None


def test_a_citizen_code_picks_their_account_once(app, client, facilitator, make_user, login_as, city):
    from app.assisted import codes

    citizen = make_user(display_name="Carla Codice")
    with app.app_context():
        code = codes.issue_assist_code(db.session.get(User, citizen.id))
        db.session.commit()
    login_as(facilitator)
    open_session(client, city)
    assert client.post("/assist/session/code", data={"c-code": code}).status_code == 302
    assisted = the_session(app)
    assert assisted.citizen_id == citizen.id and assisted.identified_by == IdentifiedBy.code
    assert refetch(app, User, citizen.id).assist_code_hash is None


def test_a_verified_citizen_is_found_by_their_document(app, client, facilitator, make_user, login_as, city):
    from app.verification.services import identity_hmac

    with app.app_context():
        digest = identity_hmac(ROSSI)
    citizen = make_user(verified=True, identity_hmac=digest)
    login_as(facilitator)
    open_session(client, city)
    response = client.post("/assist/session/document", data={"d-codice_fiscale": ROSSI.lower()})
    assert response.status_code == 302
    assert the_session(app).citizen_id == citizen.id


def test_account_pages_and_staff_pages_are_out_of_reach_while_acting(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    for path in ("/account", "/account/password", "/admin", "/facilitator/verify", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/assist/session"), path


def test_acting_outside_a_session_is_refused(app, client, facilitator, login_as, city):
    login_as(facilitator)
    for path in ("/assist/session/managed", "/assist/session/code", "/assist/session/document"):
        response = client.post(path, data={"c-code": "123456", "d-codice_fiscale": ROSSI, "m-display_name": "X",
                                           "m-terms": "y", "m-privacy": "y"})
        assert response.status_code == 302 and response.headers["Location"].endswith("/assist")
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.managed_at.is_not(None))) == 0


def test_a_citizen_cannot_open_the_desk(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/assist").status_code == 403
    assert client.post("/assist/sessions", data={"o-house": "1"}).status_code == 403


def test_supports_and_comments_in_a_session_carry_provenance_and_the_receipt_lists_them(
        app, client, facilitator, make_user, login_as, city):
    author = make_user(verified=True)
    _, process_id = make_process(app)
    proposal_id = propose(app, process_id, author)
    login_as(facilitator)
    open_session(client, city)
    managed(client, **{"m-document_type": "identity_card", "m-codice_fiscale": ROSSI, "m-birth_date": "1970-05-01"})
    assert client.post(f"/proposals/{proposal_id}/support").status_code == 302
    assert client.post(f"/comments/proposal/{proposal_id}", data={"body": "Sono d'accordo."}).status_code == 302
    assisted = the_session(app)
    with app.app_context():
        support = db.session.scalar(select(Support).where(Support.user_id == assisted.citizen_id))
        comment = db.session.scalar(select(Comment))
        kinds = {(a.record_type, a.record_id) for a in db.session.scalars(select(AssistedAction))}
        assert ("supports", support.id) in kinds and ("comments", comment.id) in kinds
    end = client.post("/assist/session/end")
    assert end.status_code == 302 and end.headers["Location"].endswith(f"/assist/sessions/{assisted.id}/receipt")
    receipt = client.get(f"/assist/sessions/{assisted.id}/receipt?lang=en")
    assert "Proposal supported" in receipt.text and "Comment written" in receipt.text
    assert 'id="claim-code"' in receipt.text
    page = client.get(f"/proposals/{proposal_id}?lang=en")
    assert "Fabio Facilitatore" not in page.text


def test_a_managed_account_is_deleted_at_the_persons_request(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client, name="Da Cancellare", **{"m-phone": "011 1234567"})
    assert client.post("/reports/new", data=report_form(city)).status_code == 302
    assisted = the_session(app)
    response = client.post("/assist/session/delete-account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/assist")
    with app.app_context():
        gone = db.session.get(User, assisted.citizen_id)
        assert gone.deleted_at is not None and gone.display_name == "" and gone.phone is None
        assert gone.claim_code_hash is None and gone.role_rows == []
        assert db.session.scalar(select(Report)).reporter_id == gone.id  # the report stays, anonymous
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.deleted"))
        assert event.actor_id == facilitator.id
        assert db.session.get(AssistedSession, assisted.id).ended_at is not None
    assert "Da Cancellare" not in client.get("/reports?lang=en").text


def test_an_ordinary_account_cannot_be_deleted_from_a_session(app, client, facilitator, make_user, login_as, city):
    from app.assisted import codes

    citizen = make_user(display_name="Resto Qui")
    with app.app_context():
        code = codes.issue_assist_code(db.session.get(User, citizen.id))
        db.session.commit()
    login_as(facilitator)
    open_session(client, city)
    client.post("/assist/session/code", data={"c-code": code})
    response = client.post("/assist/session/delete-account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/assist/session")
    assert refetch(app, User, citizen.id).deleted_at is None


def test_claiming_a_managed_account_with_the_receipt_code(app, client, facilitator, login_as, city):
    from app.assisted import codes

    login_as(facilitator)
    open_session(client, city)
    managed(client, name="Rita Reclamo")
    client.post("/reports/new", data=report_form(city, title="Panchina rotta"))
    assisted = the_session(app)
    with app.app_context():
        code = codes.current_claim_code(db.session.get(User, assisted.citizen_id))
    client.post("/assist/session/end")
    client.post("/logout")
    wrong = client.post("/claim?lang=en", data={"code": "AAAA-AAAA-AAAA", "email": "rita@example.org",
                                                "password": "vaso di gerani blu sul balcone"})
    assert wrong.status_code == 400 and "not valid" in wrong.text
    response = client.post("/claim", data={"code": code.lower().replace("-", " "), "email": "Rita@Example.org",
                                           "password": "vaso di gerani blu sul balcone"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/contributions")
    page = client.get("/account/contributions?lang=en")
    assert "Panchina rotta" in page.text and "with help at " + city["house_name"] in page.text
    with app.app_context():
        user = db.session.get(User, assisted.citizen_id)
        assert user.email == "rita@example.org" and user.claimed_at and user.claim_code_hash is None
        assert not user.is_managed and user.email_confirmed_at is None  # the address is confirmed by link
    client.post("/logout")
    again = client.post("/claim?lang=en", data={"code": code, "email": "other@example.org",
                                                "password": "vaso di gerani blu sul balcone"})
    assert again.status_code == 400


def test_an_action_that_creates_no_record_still_has_its_audit_event(app, client, facilitator, make_user, login_as,
                                                                     city):
    """Withdrawing a support deletes a row: no provenance row to write, but the audit log has the action."""
    author = make_user(verified=True)
    _, process_id = make_process(app)
    proposal_id = propose(app, process_id, author)
    login_as(facilitator)
    open_session(client, city)
    managed(client, **{"m-document_type": "identity_card", "m-codice_fiscale": ROSSI, "m-birth_date": "1970-05-01"})
    client.post(f"/proposals/{proposal_id}/support")
    assert client.post(f"/proposals/{proposal_id}/withdraw-support").status_code == 302
    assisted = the_session(app)
    with app.app_context():
        assert db.session.scalar(select(func.count(Support.id))) == 0
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("assisted.%"))
                                    .order_by(AuditEvent.seq)).all()
        names = [e.action for e in events]
        assert names.count("assisted.support.cast") == 1 and names.count("assisted.request") == 1
        last = events[-1]
        assert last.action == "assisted.request" and last.actor_id == facilitator.id
        assert last.details["endpoint"] == "proposals.withdraw_support"
        assert last.details["session_id"] == assisted.id and last.details["citizen_id"] == assisted.citizen_id
    # A refused action (nothing committed) writes nothing.
    client.post(f"/proposals/{proposal_id}/withdraw-support")
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "assisted.request")) == 1


def test_a_support_withdrawn_and_cast_again_keeps_one_provenance_row(app, client, facilitator, make_user, login_as,
                                                                      city):
    """SQLite reuses the id of the deleted support: the new one must not collide with the old row."""
    author = make_user(verified=True)
    _, process_id = make_process(app)
    proposal_id = propose(app, process_id, author)
    login_as(facilitator)
    open_session(client, city)
    managed(client, **{"m-document_type": "identity_card", "m-codice_fiscale": ROSSI, "m-birth_date": "1970-05-01"})
    client.post(f"/proposals/{proposal_id}/support")
    client.post(f"/proposals/{proposal_id}/withdraw-support")
    assert client.post(f"/proposals/{proposal_id}/support").status_code == 302
    with app.app_context():
        support = db.session.scalar(select(Support))
        rows = db.session.scalars(select(AssistedAction).where(AssistedAction.record_type == "supports")).all()
        # One row names the support that exists; PostgreSQL never reuses ids, so there the row of the
        # withdrawn support may stay too (the receipt lists it as withdrawn).
        assert [r.action for r in rows if r.record_id == support.id] == ["support.cast"]
        assert len(rows) == (1 if db.engine.dialect.name == "sqlite" else 2)
        cast = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "assisted.support.cast"))
        assert cast == 2  # both casts stay in the audit log
