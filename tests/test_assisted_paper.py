"""Paper supports: a facilitator enters the sheets of an event, one verified person per line, counted once."""
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (AssistedAction, AssistedSession, AuditEvent, Event, NeighbourhoodHouse, Notification, Role,
                        Support, User, user_houses)
from app.models.assisted import EndReason, SessionKind
from app.models.base import utcnow
from app.models.event import EventKind
from app.models.proposal import Proposal, ProposalStatus
from app.proposals import services as proposals
from app.proposals.services import ROME
from app.seed.demo import seed_places
from app.verification.services import identity_hmac
from tests.test_api_proposals import make_process, propose
from tests.test_verification import BIANCHI, ROSSI, cf

#: Born 10 December 1985 (RSSMRA85T10...) and 1 January 1990, a woman (BNCLRA90A41...).
ROSSI_BORN, BIANCHI_BORN = "1985-12-10", "1990-01-01"
#: Born 1 January 2012: too young for a process with the usual minimum age of 16.
YOUNG = cf("VRDLCU12A01L219")


def today():
    return utcnow().astimezone(ROME).date()


def digest(app, code):
    with app.app_context():
        return identity_hmac(code)


@pytest.fixture
def city(app):
    """Turin's houses; the first one is where the facilitator works."""
    with app.app_context():
        seed_places()
        db.session.commit()
        house = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id)).first()
        return {"house_id": house.id, "house_name": house.name}


@pytest.fixture
def facilitator(app, make_user, city):
    user = make_user(roles=[Role.facilitator], display_name="Fabio Facilitatore")
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=user.id, house_id=city["house_id"]))
        db.session.commit()
    return user


@pytest.fixture
def proposal_id(app, make_user):
    """A published proposal collecting supports now (threshold 3, past-threshold supports allowed)."""
    author = make_user(verified=True, display_name="Anna Autrice")
    _, process_id = make_process(app)
    return propose(app, process_id, author)


def open_paper(client, city, proposal_id, event_id=0, status=302):
    response = client.post("/assist/paper?lang=en", data={"p-house": str(city["house_id"]),
                                                          "p-proposal": str(proposal_id), "p-event": str(event_id)})
    assert response.status_code == status, response.text
    if status == 302:
        assert response.headers["Location"].endswith("/assist/paper/session")
    return response


def enter(client, code, name="Mario Rossi", born=ROSSI_BORN, on=None, document="identity_card", checked=True):
    data = {"e-name": name, "e-codice_fiscale": code, "e-document_type": document, "e-birth_date": born,
            "e-signed_on": (on or today()).isoformat()}
    if checked:
        data["e-sheet_checked"] = "y"
    return client.post("/assist/paper/session/entries?lang=en", data=data)


def supports_of(app, proposal_id):
    with app.app_context():
        count = db.session.get(Proposal, proposal_id).support_count
        rows = db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == proposal_id))
        assert count == rows  # the counter and the rows never drift apart
        return count


def paper_actions(app):
    with app.app_context():
        return db.session.scalars(select(AssistedAction).order_by(AssistedAction.id)).all()


def the_session(app):
    with app.app_context():
        return db.session.scalar(select(AssistedSession).order_by(AssistedSession.id.desc()))


def audit_text(app):
    with app.app_context():
        return json.dumps([[e.action, e.details, e.reason] for e in db.session.scalars(select(AuditEvent))],
                          default=str)


def test_a_paper_support_counts_for_the_verified_account_of_that_codice_fiscale(
        app, client, facilitator, make_user, login_as, city, proposal_id):
    person = make_user(verified=True, identity_hmac=digest(app, ROSSI), birth_date=date(1985, 12, 10),
                       display_name="Mario Rossi")
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    assisted = the_session(app)
    assert assisted.kind == SessionKind.paper and assisted.proposal_id == proposal_id
    response = enter(client, ROSSI.lower())
    assert response.status_code == 302, response.text
    page = client.get(response.headers["Location"])
    assert "Counted for M. R.: the proposal has 1 support of 3." in page.text and ROSSI not in page.text
    assert supports_of(app, proposal_id) == 1
    with app.app_context():
        support = db.session.scalar(select(Support))
        assert support.user_id == person.id
        assert db.session.scalar(select(func.count(User.id))) == 3  # no new account: author, facilitator, person
        # The person hears of it: nobody's support is entered unnoticed.
        note = db.session.scalar(select(Notification).where(Notification.user_id == person.id,
                                                            Notification.kind == "assisted.paper_support"))
        assert note.params["house"] == city["house_name"] and note.params["date"] == today().isoformat()
        assert note.url == f"/proposals/{proposal_id}"
    [action] = paper_actions(app)
    assert (action.action, action.record_type, action.record_id) == ("support.paper", "supports", support.id)
    assert (action.session_id, action.facilitator_id, action.house_id, action.citizen_id) == (
        assisted.id, facilitator.id, city["house_id"], person.id)


def test_a_new_person_gets_a_managed_account_verified_at_the_house_and_the_support_counts(
        app, client, facilitator, login_as, city, proposal_id):
    signed = today() - timedelta(days=2)
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    assisted = the_session(app)
    response = enter(client, BIANCHI, name="Laura  Bianchi", born=BIANCHI_BORN, on=signed, document="passport")
    assert response.status_code == 302, response.text
    assert supports_of(app, proposal_id) == 1
    with app.app_context():
        person = db.session.scalar(select(User).where(User.display_name == "Laura Bianchi"))
        assert person.is_managed and person.email is None and person.password_hash is None
        assert person.is_verified and person.identity_hmac == identity_hmac(BIANCHI)
        assert (person.identity_document_type, person.verified_house_id, person.verified_by_id) == (
            "passport", city["house_id"], facilitator.id)
        assert person.birth_date == date(1990, 1, 1) and person.has_role(Role.citizen)
        # Consent is the signed sheet: accepted on the day of the signature.
        for accepted in (person.terms_accepted_at, person.privacy_accepted_at):
            assert accepted.astimezone(ROME).date() == signed
        assert person.claim_code_hash is not None  # a house can print it when the person comes by
        support = db.session.scalar(select(Support))
        assert support.user_id == person.id
        events = {e.action: e for e in db.session.scalars(select(AuditEvent))}
        entry = events["assisted.paper_entry"]
        assert entry.details["signed_on"] == signed.isoformat() and entry.details["new_account"] is True
        assert "paper signature sheet" in entry.details["consent"]
        assert {"assisted.support.paper", "assisted.account.created", "verification.in_person"} <= set(events)
    actions = paper_actions(app)
    assert sorted(a.action for a in actions) == ["account.created", "support.paper"]
    for a in actions:
        assert (a.session_id, a.facilitator_id, a.house_id, a.citizen_id) == (
            assisted.id, facilitator.id, city["house_id"], person.id)
    page = client.get("/assist/paper/session?lang=en")
    assert "L. B." in page.text and "new account" in page.text and "Laura Bianchi" not in page.text
    assert "1 support entered in this session" in page.text
    text = audit_text(app)
    assert BIANCHI not in text and BIANCHI.lower() not in text and identity_hmac_of(app, BIANCHI) not in text


def identity_hmac_of(app, code):
    return digest(app, code)


def test_the_same_codice_fiscale_twice_is_already_counted_and_the_count_stays(
        app, client, facilitator, login_as, city, proposal_id):
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    assert enter(client, ROSSI).status_code == 302
    again = enter(client, " rss mra 85t10 l219" + ROSSI[-1].lower(), name="Mario R.")
    assert again.status_code == 409
    assert "Already counted" in again.text
    assert ROSSI not in again.text and ROSSI.lower() not in again.text
    assert 'value="Mario R."' in again.text and f'value="{ROSSI_BORN}"' in again.text  # the rest stays typed
    assert supports_of(app, proposal_id) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.managed_at.is_not(None))) == 1
        refused = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assisted.paper_refused"))
        assert refused.details["already_counted"] is True
    assert [a.action for a in paper_actions(app)] == ["account.created", "support.paper"]
    assert ROSSI not in audit_text(app)


def test_a_person_who_already_supported_online_is_refused(app, client, facilitator, make_user, login_as, city,
                                                          proposal_id):
    person = make_user(verified=True, identity_hmac=digest(app, ROSSI), birth_date=date(1985, 12, 10))
    with app.app_context():
        proposals.support(db.session.get(User, person.id), proposal_id)
        db.session.commit()
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    response = enter(client, ROSSI)
    assert response.status_code == 409 and "Already counted" in response.text
    assert supports_of(app, proposal_id) == 1
    assert paper_actions(app) == []


def test_someone_too_young_on_the_day_they_signed_is_refused_and_nothing_is_created(
        app, client, facilitator, login_as, city, proposal_id):
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    response = enter(client, YOUNG, name="Luca Verdi", born="2012-01-01")
    assert response.status_code == 400 and "aged 16 or more" in response.text
    assert YOUNG not in response.text and 'value="Luca Verdi"' in response.text
    assert supports_of(app, proposal_id) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.managed_at.is_not(None))) == 0
    assert paper_actions(app) == []


def test_the_support_rules_of_the_ordinary_service_apply(app, client, facilitator, make_user, login_as, city,
                                                          proposal_id):
    # An account holding the fingerprint without a (current) verification: the verified-only rule refuses it.
    make_user(verified=False, identity_hmac=digest(app, ROSSI), birth_date=date(1985, 12, 10))
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    response = enter(client, ROSSI)
    assert response.status_code == 400 and "needs a verified account" in response.text
    assert supports_of(app, proposal_id) == 0 and paper_actions(app) == []


def test_the_per_citizen_limit_applies_to_paper_supports(app, client, facilitator, make_user, login_as, city):
    author = make_user(verified=True)
    person = make_user(verified=True, identity_hmac=digest(app, ROSSI), birth_date=date(1985, 12, 10))
    _, process_id = make_process(app, per_citizen=1)
    first, second = propose(app, process_id, author), propose(app, process_id, author, title="Una panchina")
    with app.app_context():
        proposals.support(db.session.get(User, person.id), first)
        db.session.commit()
    login_as(facilitator)
    open_paper(client, city, second)
    response = enter(client, ROSSI)
    assert response.status_code == 409 and "used all 1 of your supports" in response.text
    assert supports_of(app, second) == 0


@pytest.mark.parametrize("change, message", [
    ({"on": "tomorrow"}, "cannot be in the future"),
    ({"on": "before the window"}, "during the support phase"),
    ({"born": "1985-12-11"}, "does not match the codice fiscale"),
    ({"checked": False}, "tick the box"),
    ({"document": ""}, "Choose the document"),
    ({"code": "RSSMRA85T10L219Z"}, "check character"),
])
def test_a_wrong_line_is_refused_with_its_reason_and_nothing_is_entered(
        app, client, facilitator, login_as, city, proposal_id, change, message):
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    kwargs = dict(change)
    code = kwargs.pop("code", ROSSI)
    if kwargs.get("on") == "tomorrow":
        kwargs["on"] = today() + timedelta(days=1)
    elif kwargs.get("on") == "before the window":
        kwargs["on"] = today() - timedelta(days=20)
    response = enter(client, code, **kwargs)
    assert response.status_code == 400 and message in response.text
    assert code not in response.text and ROSSI not in response.text
    assert supports_of(app, proposal_id) == 0 and paper_actions(app) == []


def test_a_facilitator_cannot_enter_themselves_or_a_staff_account(app, client, make_user, login_as, city,
                                                                   proposal_id):
    me = make_user(roles=[Role.facilitator, Role.citizen], verified=True, identity_hmac=digest(app, ROSSI),
                   birth_date=date(1985, 12, 10))
    make_user(roles=[Role.official, Role.citizen], verified=True, identity_hmac=digest(app, BIANCHI),
              birth_date=date(1990, 1, 1))
    with app.app_context():
        db.session.execute(user_houses.insert().values(user_id=me.id, house_id=city["house_id"]))
        db.session.commit()
    login_as(me)
    open_paper(client, city, proposal_id)
    assert "cannot enter your own support" in enter(client, ROSSI).text
    assert "Staff accounts cannot be entered" in enter(client, BIANCHI, born=BIANCHI_BORN).text
    assert supports_of(app, proposal_id) == 0 and paper_actions(app) == []


def test_entries_outside_a_paper_session_are_refused(app, client, facilitator, login_as, city, proposal_id):
    login_as(facilitator)
    for response in (enter(client, ROSSI), client.get("/assist/paper/session")):
        assert response.status_code == 302 and response.headers["Location"].endswith("/assist/paper")
    # An ordinary assisted session is not a paper session either.
    client.post("/assist/sessions", data={"o-house": str(city["house_id"])})
    response = enter(client, ROSSI)
    assert response.status_code == 302 and response.headers["Location"].endswith("/assist/paper")
    assert supports_of(app, proposal_id) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.managed_at.is_not(None))) == 0


def test_a_late_entry_after_the_session_ended_by_time_saves_nothing(app, client, facilitator, login_as, city,
                                                                   proposal_id):
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    assisted = the_session(app)
    with app.app_context():
        db.session.get(AssistedSession, assisted.id).last_seen_at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    response = enter(client, ROSSI)
    assert response.status_code == 302 and response.headers["Location"].endswith("/assist/paper")
    assert "nothing was entered" in client.get(response.headers["Location"]).text
    assert the_session(app).end_reason == EndReason.idle
    assert supports_of(app, proposal_id) == 0


def test_a_citizen_cannot_reach_the_paper_pages(client, make_user, login_as):
    login_as(make_user(verified=True))
    assert client.get("/assist/paper").status_code == 403
    assert client.post("/assist/paper", data={"p-house": "1", "p-proposal": "1"}).status_code == 403
    assert client.get("/assist/paper/session").status_code == 403
    assert enter(client, ROSSI).status_code == 403


def test_the_threshold_is_crossed_once_when_the_deciding_support_is_on_paper(
        app, client, facilitator, make_user, login_as, city):
    author = make_user(verified=True)
    online = make_user(verified=True)
    _, process_id = make_process(app, threshold=2)
    proposal_id = propose(app, process_id, author)
    with app.app_context():
        proposals.support(db.session.get(User, online.id), proposal_id)
        db.session.commit()
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    deciding = enter(client, ROSSI)
    assert deciding.status_code == 302
    assert "reached the threshold" in client.get(deciding.headers["Location"]).text
    assert enter(client, BIANCHI, name="Laura Bianchi", born=BIANCHI_BORN).status_code == 302  # past it: counted
    assert supports_of(app, proposal_id) == 3
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == ProposalStatus.threshold_reached and proposal.threshold_reached_at is not None
        crossings = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "proposal.threshold_reached",
                                                                AuditEvent.target_id == proposal_id)).all()
        assert len(crossings) == 1
        told = db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == author.id, Notification.kind == "proposal.threshold_reached"))
        assert told == 1
        entries = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assisted.paper_entry")
                                     .order_by(AuditEvent.seq)).all()
        assert [e.details["crossed_threshold"] for e in entries] == [True, False]


def test_the_proposal_page_says_how_many_supports_came_from_paper_and_never_who_entered_them(
        app, client, facilitator, login_as, city, proposal_id):
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    enter(client, ROSSI)
    enter(client, BIANCHI, name="Laura Bianchi", born=BIANCHI_BORN)
    client.post("/assist/session/end")
    client.post("/logout")
    page = client.get(f"/proposals/{proposal_id}?lang=en")
    assert "2 supports of 3" in page.text
    assert f"2 of these supports were collected on paper at {city['house_name']}." in page.text
    assert "Fabio Facilitatore" not in page.text and "Laura Bianchi" not in page.text


def test_a_session_holds_at_most_the_configured_number_of_entries(app, client, facilitator, login_as, city,
                                                                  proposal_id, monkeypatch):
    monkeypatch.setitem(app.config, "ASSISTED_MAX_ACTIONS", 1)
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    assert enter(client, ROSSI).status_code == 302
    response = enter(client, BIANCHI, name="Laura Bianchi", born=BIANCHI_BORN)
    assert response.status_code == 400 and "the most for one session" in response.text
    assert supports_of(app, proposal_id) == 1


def test_opening_needs_a_collecting_proposal_and_an_event_of_that_house(app, client, facilitator, make_user,
                                                                        login_as, city):
    author = make_user(verified=True)
    _, process_id = make_process(app)
    collecting = propose(app, process_id, author, title="Alberi in piazza")
    draft = propose(app, process_id, author, publish=False, title="Bozza segreta")
    with app.app_context():
        other = NeighbourhoodHouse(slug="altra-casa", name="Altra Casa", neighbourhood="Centro", address="Via Po 1",
                                   lat=45.07, lon=7.69)
        db.session.add(other)
        db.session.flush()
        start = utcnow() - timedelta(days=1)
        mine = Event(house_id=city["house_id"], kind=EventKind.assembly, title="Assemblea di quartiere",
                     starts_at=start, ends_at=start + timedelta(hours=2))
        theirs = Event(house_id=other.id, kind=EventKind.assembly, title="Altra assemblea", starts_at=start,
                       ends_at=start + timedelta(hours=2))
        db.session.add_all([mine, theirs])
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    login_as(facilitator)
    search = client.get("/assist/paper?lang=en&q=alberi")
    assert "Alberi in piazza" in search.text and "Bozza segreta" not in search.text
    assert "Assemblea di quartiere" in search.text and "Altra assemblea" not in search.text
    for number in (draft, 99999):
        assert "no proposal with this number" in open_paper(client, city, number, status=400).text
    assert "Not a valid choice" in open_paper(client, city, collecting, event_id=theirs_id, status=400).text
    open_paper(client, city, collecting, event_id=mine_id)
    assisted = the_session(app)
    assert (assisted.kind, assisted.proposal_id, assisted.event_id) == (SessionKind.paper, collecting, mine_id)
    page = client.get("/assist/paper/session?lang=en")
    assert "Assemblea di quartiere" in page.text
    assert f'value="{(start.astimezone(ROME).date()).isoformat()}"' in page.text  # the event's day proposed
    # The banner's "Session page" leads to the entry page.
    assert client.get("/assist/session").headers["Location"].endswith("/assist/paper/session")


def test_the_desk_links_to_paper_supports(client, facilitator, login_as):
    login_as(facilitator)
    page = client.get("/assist?lang=en")
    assert 'href="/assist/paper"' in page.text and "Record paper supports" in page.text


def test_accounts_from_paper_sheets_have_a_daily_limit_per_facilitator(
        app, client, facilitator, login_as, city, proposal_id):
    app.config["PAPER_ACCOUNTS_PER_DAY"] = 1
    try:
        login_as(facilitator)
        open_paper(client, city, proposal_id)
        assert enter(client, BIANCHI, name="Laura Bianchi", born=BIANCHI_BORN).status_code == 302
        refused = enter(client, ROSSI)
        assert refused.status_code == 400 and "accounts from paper sheets" in refused.text
        assert supports_of(app, proposal_id) == 1
    finally:
        app.config["PAPER_ACCOUNTS_PER_DAY"] = 300


def test_ending_a_paper_session_goes_back_to_the_desk_with_the_count(
        app, client, facilitator, login_as, city, proposal_id):
    login_as(facilitator)
    open_paper(client, city, proposal_id)
    enter(client, BIANCHI, name="Laura Bianchi", born=BIANCHI_BORN)
    response = client.post("/assist/session/end?lang=en")
    assert response.status_code == 302 and response.headers["Location"].endswith("/assist")
    assert "1 paper support entered" in client.get("/assist?lang=en").text
