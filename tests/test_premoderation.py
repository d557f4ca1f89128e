"""Pre-moderation where content is created: comments, reports (web form, JSON API, Open311), debates,
proposals when published, calls for help. A held item is hidden, waits in a pending case, is counted
nowhere and tells nobody but its author, who still sees it with a notice; a moderator's approval
publishes it, brings its counters back and only then tells the people its posting would have told.

Service tests run in an app context (Italian by default: they check the database); HTTP tests ask for
English pages.
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import geo
from app.api.tokens import issue_token
from app.comments import services as comments
from app.debates import services as debates
from app.extensions import db
from app.models import Category, Notification, Role, User
from app.models.base import DomainError, utcnow
from app.models.discussion import Comment, Debate
from app.models.moderation import CaseStatus, Hold
from app.models.opportunity import HelpCall
from app.models.proposal import Proposal, ProposalStatus
from app.models.report import Report
from app.moderation import holds
from app.moderation import services as moderation
from app.proposals import authoring
from app.proposals import services as proposals
from app.reports import services as reports
from app.seed.demo import seed_places
from tests.conftest import login
from tests.http_helpers import english, location_path, text_of
from tests.test_proposals import build_process, collecting_moment

NIZZA = (45.0450, 7.6780)
DAY = timedelta(days=1)
ROME = ZoneInfo("Europe/Rome")
#: A process collecting proposals now.
COLLECTING = {"collection": (-DAY, 10 * DAY), "support": (10 * DAY, 20 * DAY)}
LINK = "Tutto qui: https://offerte.example.com/sconti"
HELD_COMMENT = "Your comment will be published once a moderator has looked at it. Until then only you can see it."
HELD_REPORT = "Your report will be published once a moderator has looked at it. Until then only you can see it."


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def links_held(app, monkeypatch):
    monkeypatch.setitem(app.config, "MODERATION_HOLD_LINKS", True)


@pytest.fixture
def first_held(app, monkeypatch):
    """The first contribution of every account waits for a moderator."""
    monkeypatch.setitem(app.config, "MODERATION_HOLD_FIRST", 1)


@pytest.fixture
def city(app):
    """Districts and categories of the demo: {slug: category id}."""
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        return {c.slug: c.id for c in db.session.scalars(select(Category))}


@pytest.fixture
def cast(make_user):
    """Detached users: an author, a neighbour, a moderator, an official."""
    return {"anna": make_user(display_name="Anna Rossi"), "bea": make_user(display_name="Bea Verdi"),
            "mod": make_user(roles=(Role.citizen, Role.moderator), display_name="Mod One"),
            "official": make_user(roles=(Role.citizen, Role.official), display_name="Uff Ici")}


def _user(user):
    return db.session.get(User, user.id)


def _listed(app, moderator, word="truffa"):
    with app.app_context():
        moderation.add_word(_user(moderator), word)
        db.session.commit()


def _debate(app, author, body="Parliamone insieme."):
    """A debate of ``author`` written straight to the database (not screened); returns its id."""
    with app.app_context():
        debate = Debate(author_id=author.id, title="Più panchine in piazza?", body=body)
        db.session.add(debate)
        db.session.commit()
        return debate.id


def _restore(app, moderator, target_type, target_id):
    with app.app_context():
        moderation.decide(moderation.case_for(target_type, target_id), _user(moderator), "restore")
        db.session.commit()


def _case(app, target_type, target_id):
    with app.app_context():
        case = moderation.case_for(target_type, target_id)
        return (case.status, case.hold) if case is not None else None


def _notes(app, user, kind=None):
    with app.app_context():
        query = select(Notification.kind).where(Notification.user_id == user.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return db.session.scalars(query.order_by(Notification.id)).all()


def _hidden(app, model, item_id):
    with app.app_context():
        return db.session.get(model, item_id).hidden_at is not None


# --- services ---------------------------------------------------------------------------------

def test_a_held_comment_tells_nobody_until_a_moderator_publishes_it(app, app_ctx, cast, links_held):
    debate_id = _debate(app, cast["anna"])
    comment = comments.post_comment(_user(cast["bea"]), "debate", debate_id, f"@Anna Rossi guarda qui. {LINK}")
    db.session.commit()

    assert comment.hidden_at is not None
    assert holds.is_held("comment", comment)
    assert db.session.get(Debate, debate_id).comment_count == 0
    assert _notes(app, cast["anna"]) == []  # neither the mention nor "new comment on your debate"
    assert _notes(app, cast["bea"]) == ["moderation.held"]

    _restore(app, cast["mod"], "comment", comment.id)

    db.session.expire_all()
    assert db.session.get(Comment, comment.id).hidden_at is None
    assert db.session.get(Debate, debate_id).comment_count == 1
    assert _notes(app, cast["anna"]) == ["comment.mention"]  # told once, now
    assert not holds.is_held("comment", db.session.get(Comment, comment.id))


def test_a_comment_hidden_by_a_decision_is_not_released_to_followers(app, app_ctx, cast, links_held):
    debate_id = _debate(app, cast["anna"])
    comment = comments.post_comment(_user(cast["bea"]), "debate", debate_id, LINK)
    db.session.commit()
    moderation.decide(moderation.case_for("comment", comment.id), _user(cast["mod"]), "hide", rule="spam",
                      reason="Pubblicità.")
    db.session.commit()
    assert db.session.get(Comment, comment.id).hidden_at is not None
    assert not holds.is_held("comment", db.session.get(Comment, comment.id))
    assert _notes(app, cast["anna"]) == []


def test_a_held_proposal_is_published_for_its_authors_only(app, app_ctx, cast, links_held):
    process = build_process(verified_only=False)
    author, other = _user(cast["anna"]), _user(cast["bea"])
    draft = proposals.create_proposal(author, process, title="Panchine", body=f"Vedi il progetto: {LINK}")
    db.session.commit()
    # A draft is not screened: nobody else sees it anyway.
    assert draft.hidden_at is None and moderation.case_for("proposal", draft.id) is None

    proposals.publish(draft, author, now=collecting_moment(process))
    db.session.commit()

    proposal = db.session.get(Proposal, draft.id)
    assert proposal.status == ProposalStatus.published and proposal.hidden_at is not None
    assert _case(app, "proposal", proposal.id) == (CaseStatus.pending, Hold.links)
    assert authoring.can_view(proposal, author) and not authoring.can_view(proposal, other)
    with pytest.raises(DomainError):
        proposals.support(other, proposal.id)  # the support phase is open, but not for a held proposal
    db.session.rollback()

    _restore(app, cast["mod"], "proposal", proposal.id)
    db.session.expire_all()
    assert authoring.can_view(db.session.get(Proposal, proposal.id), other)
    assert proposals.support(other, proposal.id).created


def test_a_listed_word_holds_a_report_and_the_reporter_still_follows_it(app, app_ctx, cast, city):
    _listed(app, cast["mod"])
    report = reports.create_report(_user(cast["anna"]), title="Lampione", description="Una truffa del Comune!",
                                   category_id=city["illuminazione"], lat=NIZZA[0], lon=NIZZA[1])
    db.session.commit()
    assert report.hidden_at is not None and not report.is_public
    assert _case(app, "report", report.id) == (CaseStatus.pending, Hold.words)
    assert holds.own_held("report", report.id, _user(cast["anna"])) is not None
    assert holds.own_held("report", report.id, _user(cast["bea"])) is None
    # The reporter is told, with a link to the report's page (which they may still open).
    note = db.session.scalar(select(Notification).where(Notification.user_id == cast["anna"].id))
    assert (note.kind, note.url) == ("moderation.held", f"/reports/{report.id}")


def test_the_first_contributions_of_an_account_are_held(app, app_ctx, cast, first_held):
    first = debates.create_debate(_user(cast["anna"]), title="Primo", body="Il mio primo dibattito.")
    second = debates.create_debate(_user(cast["anna"]), title="Secondo", body="Il secondo.")
    db.session.commit()
    assert first.hidden_at is not None and _case(app, "debate", first.id) == (CaseStatus.pending, Hold.new_account)
    assert second.hidden_at is None and _case(app, "debate", second.id) is None


def test_staff_are_never_held(app, app_ctx, cast, links_held, first_held):
    _listed(app, cast["mod"])
    debate_id = _debate(app, cast["anna"])
    for who in ("mod", "official"):
        comment = comments.post_comment(_user(cast[who]), "debate", debate_id, f"Una truffa? Leggete {LINK}")
        db.session.commit()
        assert comment.hidden_at is None
    assert db.session.get(Debate, debate_id).comment_count == 2


# --- comments over HTTP -------------------------------------------------------------------------

def test_a_held_comment_is_shown_to_its_author_only_and_not_counted(app, client, cast, links_held):
    debate_id = _debate(app, cast["anna"])
    login(client, cast["bea"])

    response = client.post(f"/comments/debate/{debate_id}", data={"body": f"Guardate qui. {LINK}"})

    assert response.status_code == 302 and location_path(response) == f"/debates/{debate_id}"
    with app.app_context():
        comment = db.session.scalar(select(Comment))
        comment_id, hidden = comment.id, comment.hidden_at is not None
        assert db.session.get(Debate, debate_id).comment_count == 0
    assert hidden and _case(app, "comment", comment_id) == (CaseStatus.pending, Hold.links)
    page = text_of(client.get(response.headers["Location"]))
    assert HELD_COMMENT in page and "Your comment is online." not in page
    assert "Guardate qui." in page and "Only you can see this comment until a moderator has looked at it." in page

    for viewer in (None, cast["anna"]):
        other = english(app.test_client())
        if viewer is not None:
            login(other, viewer)
        page = text_of(other.get(f"/debates/{debate_id}"))
        assert "Guardate qui." not in page and f'id="comment-{comment_id}"' not in page
        assert "Comment hidden by moderation." not in page  # never published: no trace at all
        assert "0 comments" in page

    _restore(app, cast["mod"], "comment", comment_id)
    page = text_of(english(app.test_client()).get(f"/debates/{debate_id}"))
    assert "Guardate qui." in page and "1 comment" in page
    with app.app_context():
        assert db.session.get(Debate, debate_id).comment_count == 1


def test_a_comment_without_a_link_is_online_at_once(app, client, cast, links_held):
    debate_id = _debate(app, cast["anna"])
    login(client, cast["bea"])
    response = client.post(f"/comments/debate/{debate_id}", data={"body": "Sono d'accordo."},
                           follow_redirects=True)
    assert "Your comment is online." in response.text
    assert not _hidden(app, Comment, _only_id(app, Comment))


def _only_id(app, model):
    with app.app_context():
        return db.session.scalar(select(model.id))


# --- reports: web form, JSON API, Open311 --------------------------------------------------------

def _report_form(city, description):
    return {"category_id": str(city["illuminazione"]), "title": "Lampione spento", "description": description,
            "lat": str(NIZZA[0]), "lon": str(NIZZA[1]), "district_id": "0", "confirmed_new": "1"}


def test_a_listed_word_holds_a_report_sent_with_the_form(app, client, cast, city):
    _listed(app, cast["mod"])
    login(client, cast["anna"])

    response = client.post("/reports/new", data=_report_form(city, "È una truffa, spento da mesi."))

    assert response.status_code == 302
    report_id = _only_id(app, Report)
    assert location_path(response) == f"/reports/{report_id}"
    assert _hidden(app, Report, report_id)
    assert _case(app, "report", report_id) == (CaseStatus.pending, Hold.words)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert text_of(page).count(HELD_REPORT) == 1  # said once, not by both the form and the page
    assert "Your report is number" not in text_of(page)
    # Its page shows the notice again later; for everyone else the report does not exist.
    assert HELD_REPORT in text_of(client.get(f"/reports/{report_id}"))
    stranger = english(app.test_client())
    assert stranger.get(f"/reports/{report_id}").status_code == 404
    login(stranger, cast["bea"])
    assert stranger.get(f"/reports/{report_id}").status_code == 404
    assert "Lampione spento" not in stranger.get("/reports").text

    _restore(app, cast["mod"], "report", report_id)
    assert stranger.get(f"/reports/{report_id}").status_code == 200
    assert HELD_REPORT not in text_of(client.get(f"/reports/{report_id}"))


def test_a_listed_word_holds_a_report_sent_through_the_json_api(app, client, cast, city):
    _listed(app, cast["mod"])
    with app.app_context():
        _token, secret = issue_token(_user(cast["anna"]), "test")
        db.session.commit()
    body = {"title": "Lampione", "description": "Una truffa!", "category": "illuminazione",
            "lat": NIZZA[0], "lon": NIZZA[1]}

    response = client.post("/api/v1/reports", json=body, headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 201, response.data
    created = response.get_json()
    assert created["held"] is True
    assert _hidden(app, Report, created["id"])
    assert _case(app, "report", created["id"]) == (CaseStatus.pending, Hold.words)
    assert client.get(f"/api/v1/reports/{created['id']}").status_code == 404
    assert created["id"] not in [r["id"] for r in client.get("/api/v1/reports").get_json()["items"]]

    plain = client.post("/api/v1/reports", json={**body, "description": "Spento da giorni."},
                        headers={"Authorization": f"Bearer {secret}"})
    assert plain.status_code == 201 and plain.get_json()["held"] is False


def test_a_listed_word_holds_an_open311_request(app, client, cast, city):
    from app.open311 import services as open311

    _listed(app, cast["mod"])
    with app.app_context():
        _key, secret = open311.create_api_key("App del quartiere")
        db.session.commit()

    response = client.post("/open311/v2/requests.json", data={
        "api_key": secret, "service_code": "illuminazione", "lat": str(NIZZA[0]), "long": str(NIZZA[1]),
        "description": "Una truffa: il lampione è spento."})

    assert response.status_code == 201, response.data
    answer = response.get_json()[0]
    # Open311 answers in the city's language (Italian) unless the client asks for another.
    assert "Sarà pubblicata dopo che un moderatore l'avrà esaminata." in answer["service_notice"]
    assert _hidden(app, Report, answer["service_request_id"])
    assert client.get(f"/open311/v2/requests/{answer['service_request_id']}.json").status_code == 404


# --- debates, proposals, calls for help ------------------------------------------------------------

def test_a_first_debate_is_held_and_its_page_is_its_authors(app, client, cast, first_held):
    login(client, cast["anna"])
    data = {"title": "Un mercato in piazza?", "body": "Ogni sabato.", "category_id": "0", "district_id": "0"}

    response = client.post("/debates/new", data=data, follow_redirects=True)

    debate_id = _only_id(app, Debate)
    assert response.status_code == 200
    assert "Your debate will be published once a moderator has looked at it." in response.text
    assert "Everyone can now read it" not in response.text
    assert _case(app, "debate", debate_id) == (CaseStatus.pending, Hold.new_account)
    assert english(app.test_client()).get(f"/debates/{debate_id}").status_code == 404
    assert "Un mercato in piazza?" not in english(app.test_client()).get("/debates").text

    # The second one is not a first contribution any more.
    second = client.post("/debates/new", data={**data, "title": "Un secondo dibattito"}, follow_redirects=True)
    assert "Your debate is open." in second.text


def test_a_proposal_with_a_link_is_held_when_published(app, client, cast, links_held):
    with app.app_context():
        process = build_process(phases=COLLECTING)
        draft = proposals.create_proposal(_user(cast["anna"]), process, title="Panchine in piazza",
                                          body=f"Il progetto: {LINK}")
        db.session.commit()
        proposal_id = draft.id
    login(client, cast["anna"])

    response = client.post(f"/proposals/{proposal_id}/publish", follow_redirects=True)

    assert response.status_code == 200
    page = text_of(response)
    assert page.count("Your proposal will be published once a moderator has looked at it.") == 1
    assert "Your proposal is published" not in page
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == ProposalStatus.published and proposal.hidden_at is not None
    neighbour = english(app.test_client())
    login(neighbour, cast["bea"])
    assert neighbour.get(f"/proposals/{proposal_id}").status_code == 404
    assert "Panchine in piazza" not in neighbour.get("/proposals").text

    _restore(app, cast["mod"], "proposal", proposal_id)
    assert neighbour.get(f"/proposals/{proposal_id}").status_code == 200


def test_a_call_for_help_with_a_listed_word_is_held(app, client, cast, city):
    from tests.pact_builders import pact_world

    _listed(app, cast["mod"])
    with app.app_context():
        world = pact_world()
        poster, organisation_id = world.user("representative"), world.organisation_id
    starts = (utcnow() + 10 * DAY).astimezone(ROME).replace(second=0, microsecond=0)
    login(client, poster)
    data = {"target": f"organisation-{organisation_id}", "title": "Festa di quartiere",
            "description": "Niente truffa: solo gazebo.", "lat": "45.0700", "lon": "7.7000",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            "skills": "cooking", "people_needed": "4"}

    response = client.post("/opportunities/new", data=data, follow_redirects=True)

    assert response.status_code == 200, response.text
    assert "Your call for help will be published once a moderator has looked at it." in text_of(response)
    call_id = _only_id(app, HelpCall)
    assert _hidden(app, HelpCall, call_id)
    assert _case(app, "help_call", call_id) == (CaseStatus.pending, Hold.words)
    assert english(app.test_client()).get(f"/opportunities/{call_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HelpCall).where(HelpCall.hidden_at.is_(None))) == 0
