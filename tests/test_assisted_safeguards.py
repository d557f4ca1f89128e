"""Safeguards of assisted sessions found in review: a re-login never turns help into the facilitator's own
post, claimed accounts confirm their address, codes are the citizen's own, deletion unlinks provenance, the
claim code is shown to its facilitator only, the person is told, a detached facilitator stops."""
import time
from datetime import timedelta

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import AssistedAction, AssistedSession, AuditEvent, Notification, Report, Role, User, user_houses
from app.models.assisted import EndReason
from app.models.base import utcnow
from tests.conftest import TEST_PASSWORD, refetch
from tests.http_helpers import sign_in
from tests import test_assisted_http as base
from tests.test_assisted_http import managed, open_session, report_form, the_session

city, facilitator = base.city, base.facilitator  # the fixtures of the assisted HTTP tests


def test_a_login_timeout_with_remember_me_does_not_save_the_citizens_form_as_the_facilitators(
        app, client, make_user, city):
    helper = make_user(roles=[Role.facilitator, Role.citizen], display_name="Fede Doppio")
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=helper.id, house_id=city["house_id"]))
        db.session.commit()
    assert sign_in(client, helper.email, TEST_PASSWORD, remember=True).status_code == 302
    open_session(client, city)
    managed(client)
    assisted = the_session(app)
    with client.session_transaction() as sess:  # the sign-in session expired (12 h in all)
        sess["login_at"] = time.time() - 13 * 3600
    # The remember-me cookie signs the facilitator back in; the assisted session goes on: the citizen's.
    assert client.post("/reports/new?lang=en", data=report_form(city, title="Prima")).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Report)).reporter_id == assisted.citizen_id
        row = db.session.get(AssistedSession, assisted.id)
        row.last_seen_at = utcnow() - timedelta(minutes=61)  # and now the help is idle too long
        db.session.commit()
    with client.session_transaction() as sess:  # the sign-in session is 61 minutes idle
        sess["seen_at"] = time.time() - 61 * 60
    response = client.post("/reports/new?lang=en", data=report_form(city, title="Seconda"))
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 1
        assert db.session.scalar(select(func.count(Report.id)).where(Report.reporter_id == helper.id)) == 0
        assisted = db.session.scalar(select(AssistedSession))
        assert assisted.ended_at is not None and assisted.end_reason == EndReason.idle


def test_a_session_ended_in_another_tab_refuses_a_late_form(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    assisted = the_session(app)
    with app.app_context():
        row = db.session.get(AssistedSession, assisted.id)
        row.ended_at, row.end_reason = utcnow(), EndReason.closed
        db.session.commit()
    assert client.post("/reports/new", data=report_form(city)).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 0


def test_a_facilitator_detached_from_the_house_stops_acting(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    with app.app_context():
        db.session.execute(delete(user_houses).where(user_houses.c.user_id == facilitator.id))
        db.session.commit()
    assert client.post("/reports/new", data=report_form(city)).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 0
        assert db.session.scalar(select(AssistedSession)).end_reason == EndReason.closed


def test_a_claimed_account_takes_part_once_its_address_is_confirmed(app, client, facilitator, login_as, city):
    from app.assisted import codes

    login_as(facilitator)
    open_session(client, city)
    managed(client, name="Clara Reclamo")
    assisted = the_session(app)
    with app.app_context():
        code = codes.current_claim_code(db.session.get(User, assisted.citizen_id))
    client.post("/assist/session/end")
    client.post("/logout")
    client.post("/claim", data={"code": code, "email": "clara@example.org", "password": "vaso di gerani blu sul balcone"})
    with app.app_context():
        user = db.session.get(User, assisted.citizen_id)
        assert not user.is_confirmed and not user.is_citizen
    client.post("/logout")
    client.post("/password/forgot", data={"email": "clara@example.org"})
    with app.app_context():
        from app.models import OutboxEmail

        kinds = set(db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.to_address == "clara@example.org")))
        assert "password_reset" not in kinds and "confirm_email" in kinds


def test_no_one_time_code_is_minted_for_the_citizen_while_acting(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    assisted = the_session(app)
    response = client.post("/account/assist-code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/assist/session")
    assert refetch(app, User, assisted.citizen_id).assist_code_hash is None


def test_deleting_a_managed_account_unlinks_its_provenance(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    client.post("/reports/new", data=report_form(city))
    assisted = the_session(app)
    client.post("/assist/session/delete-account")
    with app.app_context():
        assert db.session.scalar(select(func.count(AssistedAction.id))
                                 .where(AssistedAction.citizen_id == assisted.citizen_id)) == 0
        assert db.session.get(AssistedSession, assisted.id).citizen_id is None
        assert db.session.scalar(select(func.count(AssistedAction.id))) == 2  # the rows stay, unlinked


def test_the_claim_code_is_shown_to_the_sessions_facilitator_for_a_day_and_audited(
        app, client, facilitator, make_user, login_as, city):
    colleague = make_user(roles=[Role.facilitator])
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=colleague.id, house_id=city["house_id"]))
        db.session.commit()
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    assisted = the_session(app)
    client.post("/assist/session/end")
    url = f"/assist/sessions/{assisted.id}/receipt"
    assert 'id="claim-code"' in client.get(url).text
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))
                                 .where(AuditEvent.action == "assisted.claim_code_shown")) == 1
    login_as(colleague)
    page = client.get(url)
    assert page.status_code == 200 and 'id="claim-code"' not in page.text
    login_as(facilitator)
    with app.app_context():
        row = db.session.get(AssistedSession, assisted.id)
        row.ended_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    assert 'id="claim-code"' not in client.get(url).text


def test_the_person_is_told_when_a_session_acts_for_their_account(
        app, client, facilitator, make_user, login_as, city):
    from app.assisted import codes

    citizen = make_user()
    with app.app_context():
        code = codes.issue_assist_code(db.session.get(User, citizen.id))
        db.session.commit()
    login_as(facilitator)
    open_session(client, city)
    client.post("/assist/session/code", data={"c-code": code})
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.user_id == citizen.id))
        assert note is not None and note.kind == "assisted.session_opened"


def test_the_desks_own_steps_are_not_logged_as_done_for_the_citizen(app, client, facilitator, login_as, city):
    login_as(facilitator)
    open_session(client, city)
    managed(client)
    client.post("/assist/session/end")
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "assisted.request")) == 0
