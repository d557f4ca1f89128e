"""JSON API v1 proposals: listProposals (visibility, filters, keyset pagination), getProposal, and
supportProposal / withdrawSupport with bearer tokens (idempotence, refusals, the threshold)."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api.tokens import issue_token
from app.extensions import db
from app.models import Category, User
from app.models.base import utcnow
from app.models.place import District
from app.models.proposal import Proposal, ProposalAddendum, ProposalStatus, Support
from app.proposals import services
from app.seed.demo import seed_places
from tests.conftest import login
from tests.test_proposals import DAY, build_process, collecting_moment

P = ProposalStatus
PROPOSAL_FIELDS = {"id", "title", "body", "status", "process", "category", "district", "lat", "lon",
                   "support_count", "support_threshold", "published_at", "frozen_at", "url", "addenda"}
#: Collection is over and the support phase has not started yet.
BETWEEN_PHASES = {"collection": (-30 * DAY, -10 * DAY), "support": (5 * DAY, 20 * DAY)}


@pytest.fixture
def city(app):
    """Districts and categories of the demo."""
    with app.app_context():
        seed_places()
        db.session.commit()


@pytest.fixture
def author(make_user):
    return make_user(verified=True, display_name="Rosa Bianchi", email="rosa@example.org")


def make_process(app, **kwargs):
    """A committed process (see tests.test_proposals.build_process); returns its slug and id."""
    with app.app_context():
        process = build_process(**kwargs)
        return process.slug, process.id


def propose(app, process_id, author, status=None, hidden=False, publish=True, published_at=None,
            category=None, district=None, title="Più alberi in via Nizza", addendum=None):
    """A proposal of ``author`` in the process, published unless told otherwise; returns its id."""
    from app.models.proposal import Process

    with app.app_context():
        process = db.session.get(Process, process_id)
        user = db.session.get(User, author.id)
        category_id = db.session.scalar(select(Category.id).where(Category.slug == category)) if category else None
        district_id = (db.session.scalar(select(District.id).where(District.number == district))
                       if district else None)
        proposal = services.create_proposal(user, process, title=title, body="Piantare **dieci** tigli.",
                                            category_id=category_id, district_id=district_id,
                                            lat=45.045 if district else None, lon=7.678 if district else None)
        if publish:
            services.publish(proposal, user, now=collecting_moment(process))
        if published_at is not None:
            proposal.published_at = published_at
        if status is not None:
            proposal.status = status
        if hidden:
            proposal.hidden_at = utcnow()
        if addendum:
            db.session.add(ProposalAddendum(proposal_id=proposal.id, body=addendum))
        db.session.commit()
        return proposal.id


def token_for(app, user):
    """A bearer token of ``user``; returns the secret."""
    with app.app_context():
        _token, secret = issue_token(db.session.get(User, user.id), "test")
        db.session.commit()
    return secret


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def support(client, proposal_id, secret):
    return client.post(f"/api/v1/proposals/{proposal_id}/support", headers=bearer(secret))


def withdraw(client, proposal_id, secret):
    return client.delete(f"/api/v1/proposals/{proposal_id}/support", headers=bearer(secret))


def stored(app, proposal_id):
    """(support_count column, Support rows, status) of a proposal."""
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        rows = db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == proposal_id))
        return proposal.support_count, rows, proposal.status


def refused(response, status, code=None):
    """A JSON error with ``status`` (and ``code``)."""
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code


# --- getProposal ------------------------------------------------------------------------------

def test_a_proposal_shows_its_public_facts_and_no_personal_data(client, app, city, author, make_user):
    slug, process_id = make_process(app, threshold=7)
    proposal_id = propose(app, process_id, author, category="verde-alberi", district=8, addendum="Anche panchine.")
    supporter = make_user(verified=True, email="gianni@example.org", display_name="Gianni Neri")
    assert support(client, proposal_id, token_for(app, supporter)).status_code == 201
    response = client.get(f"/api/v1/proposals/{proposal_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PROPOSAL_FIELDS
    assert body["title"] == "Più alberi in via Nizza" and body["body"] == "Piantare **dieci** tigli."
    assert body["status"] == "published" and body["process"] == {"slug": slug, "title": "Bilancio partecipativo"}
    assert body["category"]["slug"] == "verde-alberi" and set(body["category"]) == {"slug", "name_it", "name_en"}
    assert body["district"]["number"] == 8 and (body["lat"], body["lon"]) == (45.045, 7.678)
    assert (body["support_count"], body["support_threshold"]) == (1, 7)
    assert body["published_at"].endswith("Z") and body["frozen_at"].endswith("Z")
    assert body["url"] == app.config["BASE_URL"].rstrip("/") + f"/proposals/{proposal_id}"
    assert [a["body"] for a in body["addenda"]] == ["Anche panchine."]
    assert body["addenda"][0]["created_at"].endswith("Z")
    text = json.dumps(body)
    for private in ("rosa@example.org", "gianni@example.org", "Gianni Neri", "supporters"):
        assert private not in text


def test_a_proposal_without_place_or_category_has_nulls(client, app, city, author):
    _slug, process_id = make_process(app)
    body = client.get(f"/api/v1/proposals/{propose(app, process_id, author)}").get_json()
    assert (body["category"], body["district"], body["lat"], body["lon"], body["frozen_at"]) == (None,) * 5
    assert body["addenda"] == [] and body["support_count"] == 0


@pytest.mark.parametrize("kind", ["missing", "draft", "hidden"])
def test_missing_draft_and_hidden_proposals_are_json_404s(client, app, city, author, kind):
    _slug, process_id = make_process(app)
    proposal_id = {"missing": lambda: 999999,
                   "draft": lambda: propose(app, process_id, author, publish=False),
                   "hidden": lambda: propose(app, process_id, author, hidden=True)}[kind]()
    refused(client.get(f"/api/v1/proposals/{proposal_id}"), 404, "not_found")
    assert proposal_id not in ids_of(client.get("/api/v1/proposals"))


# --- listProposals ------------------------------------------------------------------------------

def ids_of(response):
    """The sorted proposal ids of a successful listProposals page."""
    assert response.status_code == 200, response.data
    return sorted(item["id"] for item in response.get_json()["items"])


def test_the_list_shows_visible_proposals_only(client, app, city, author):
    _slug, process_id = make_process(app)
    shown = [propose(app, process_id, author), propose(app, process_id, author, status=P.expired)]
    propose(app, process_id, author, publish=False)
    propose(app, process_id, author, hidden=True)
    response = client.get("/api/v1/proposals")
    assert ids_of(response) == sorted(shown)
    assert all(set(item) == PROPOSAL_FIELDS for item in response.get_json()["items"])
    assert response.get_json()["next_cursor"] is None


def test_list_filters_by_process_status_district_and_category(client, app, city, author):
    first, first_id = make_process(app)
    second, second_id = make_process(app)
    trees = propose(app, first_id, author, category="verde-alberi", district=8)
    bikes = propose(app, first_id, author, category="ciclabili", district=1, status=P.threshold_reached)
    other = propose(app, second_id, author, category="verde-alberi", district=1)
    assert ids_of(client.get(f"/api/v1/proposals?process={first}")) == sorted([trees, bikes])
    assert ids_of(client.get(f"/api/v1/proposals?process={second}")) == [other]
    assert ids_of(client.get("/api/v1/proposals?status=threshold_reached")) == [bikes]
    assert ids_of(client.get("/api/v1/proposals?status=published")) == sorted([trees, other])
    assert ids_of(client.get("/api/v1/proposals?district=1")) == sorted([bikes, other])
    assert ids_of(client.get("/api/v1/proposals?category=verde-alberi")) == sorted([trees, other])
    assert ids_of(client.get(f"/api/v1/proposals?process={first}&category=verde-alberi&district=8")) == [trees]
    assert ids_of(client.get("/api/v1/proposals?status=expired")) == []


@pytest.mark.parametrize("query, field", [
    ("process=no-such-process", "process"),
    ("status=draft", "status"),
    ("status=open", "status"),
    ("district=99", "district"),
    ("district=first", "district"),
    ("category=no-such-category", "category"),
    ("limit=0", "limit"),
    ("cursor=not-a-cursor", "cursor"),
])
def test_bad_list_parameters_are_400s_naming_the_parameter(client, city, query, field):
    response = client.get(f"/api/v1/proposals?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["field"] == field and error["message"]


def test_keyset_pagination_visits_every_proposal_once_in_order(client, app, city, author):
    _slug, process_id = make_process(app)
    start = utcnow() - timedelta(days=20)
    # Several proposals published in the same instant: the id breaks the tie.
    moments = [start + timedelta(minutes=n % 4) for n in range(11)]
    ids = [propose(app, process_id, author, published_at=moment, title=f"Proposta {n}")
           for n, moment in enumerate(moments)]
    propose(app, process_id, author, publish=False)
    expected = [i for _m, i in sorted(zip(moments, ids, strict=True), reverse=True)]
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get("/api/v1/proposals", query_string={"limit": 4, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.data
        body = response.get_json()
        assert len(body["items"]) <= 4
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and len(set(seen)) == 11 and pages == 3


# --- supportProposal ------------------------------------------------------------------------------

def test_a_verified_citizen_supports_once_and_a_repeat_changes_nothing(client, app, city, author, make_user):
    _slug, process_id = make_process(app, threshold=5)
    proposal_id = propose(app, process_id, author)
    secret = token_for(app, make_user(verified=True))
    first = support(client, proposal_id, secret)
    assert first.status_code == 201, first.data
    assert first.get_json() == {"support_count": 1, "supported": True, "threshold_reached": False}
    again = support(client, proposal_id, secret)
    assert again.status_code == 200, again.data
    assert again.get_json() == {"support_count": 1, "supported": True, "threshold_reached": False}
    assert stored(app, proposal_id) == (1, 1, P.published)
    assert client.get(f"/api/v1/proposals/{proposal_id}").get_json()["support_count"] == 1


def test_an_unverified_citizens_token_is_refused_with_403(client, app, city, author, make_user):
    _slug, process_id = make_process(app)
    proposal_id = propose(app, process_id, author)
    refused(support(client, proposal_id, token_for(app, make_user(verified=False))), 403, "forbidden")
    assert stored(app, proposal_id)[:2] == (0, 0)


def test_supporting_without_a_token_is_a_401_with_a_bearer_challenge(client, app, city, author):
    _slug, process_id = make_process(app)
    proposal_id = propose(app, process_id, author)
    for response in (client.post(f"/api/v1/proposals/{proposal_id}/support"),
                     client.delete(f"/api/v1/proposals/{proposal_id}/support")):
        refused(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_does_not_authorise_supporting(client, app, city, author, make_user):
    _slug, process_id = make_process(app)
    proposal_id = propose(app, process_id, author)
    citizen = make_user(verified=True)
    login(client, citizen)
    assert client.get("/account/").status_code == 200  # signed in for the site...
    refused(client.post(f"/api/v1/proposals/{proposal_id}/support"), 401)  # ...but not for the API
    refused(client.delete(f"/api/v1/proposals/{proposal_id}/support"), 401)
    assert stored(app, proposal_id)[:2] == (0, 0)


@pytest.mark.parametrize("kind", ["missing", "draft", "hidden"])
def test_supporting_what_nobody_may_see_is_a_404(client, app, city, author, make_user, kind):
    _slug, process_id = make_process(app)
    proposal_id = {"missing": lambda: 999999,
                   "draft": lambda: propose(app, process_id, author, publish=False),
                   "hidden": lambda: propose(app, process_id, author, hidden=True)}[kind]()
    secret = token_for(app, make_user(verified=True))
    refused(support(client, proposal_id, secret), 404, "not_found")
    refused(withdraw(client, proposal_id, secret), 404, "not_found")


def test_outside_the_support_phase_is_a_409(client, app, city, author, make_user):
    _slug, process_id = make_process(app, phases=BETWEEN_PHASES)
    proposal_id = propose(app, process_id, author)
    secret = token_for(app, make_user(verified=True))
    refused(support(client, proposal_id, secret), 409, "support_closed")
    refused(withdraw(client, proposal_id, secret), 409, "support_closed")
    assert stored(app, proposal_id)[:2] == (0, 0)


def test_a_proposal_no_longer_collecting_is_a_409(client, app, city, author, make_user):
    _slug, process_id = make_process(app)
    proposal_id = propose(app, process_id, author, status=P.withdrawn)
    refused(support(client, proposal_id, token_for(app, make_user(verified=True))), 409, "support_closed")


def test_the_per_citizen_limit_is_a_409(client, app, city, author, make_user):
    _slug, process_id = make_process(app, per_citizen=1)
    first, second = propose(app, process_id, author), propose(app, process_id, author)
    secret = token_for(app, make_user(verified=True))
    assert support(client, first, secret).status_code == 201
    refused(support(client, second, secret), 409, "support_limit_reached")
    assert stored(app, second)[:2] == (0, 0)
    assert support(client, first, secret).status_code == 200  # the one already given is still fine


def test_crossing_the_threshold_is_reported_exactly_once(client, app, city, author, make_user):
    _slug, process_id = make_process(app, threshold=2)
    proposal_id = propose(app, process_id, author)
    secrets = [token_for(app, make_user(verified=True)) for _ in range(3)]
    answers = [support(client, proposal_id, secret) for secret in secrets]
    assert [r.status_code for r in answers] == [201, 201, 201]
    assert [r.get_json()["threshold_reached"] for r in answers] == [False, True, False]
    assert [r.get_json()["support_count"] for r in answers] == [1, 2, 3]
    assert support(client, proposal_id, secrets[1]).get_json()["threshold_reached"] is False
    assert stored(app, proposal_id) == (3, 3, P.threshold_reached)
    assert client.get(f"/api/v1/proposals/{proposal_id}").get_json()["status"] == "threshold_reached"


# --- withdrawSupport --------------------------------------------------------------------------------

def test_withdrawing_lowers_the_count_and_is_idempotent(client, app, city, author, make_user):
    _slug, process_id = make_process(app, threshold=5)
    proposal_id = propose(app, process_id, author)
    mine, theirs = token_for(app, make_user(verified=True)), token_for(app, make_user(verified=True))
    support(client, proposal_id, mine)
    support(client, proposal_id, theirs)
    response = withdraw(client, proposal_id, mine)
    assert response.status_code == 200, response.data
    assert response.get_json() == {"support_count": 1, "supported": False}
    again = withdraw(client, proposal_id, mine)
    assert again.status_code == 200 and again.get_json() == {"support_count": 1, "supported": False}
    assert stored(app, proposal_id)[:2] == (1, 1)
    assert support(client, proposal_id, mine).status_code == 201  # supporting again counts again
    assert stored(app, proposal_id)[:2] == (2, 2)


# --- the OpenAPI document -------------------------------------------------------------------------

def test_the_openapi_document_describes_the_proposal_operations(client):
    from tests.test_api_reports import refs_in

    doc = client.get("/api/v1/openapi.json").get_json()
    operations = {op["operationId"]: (path, method, op) for path, ops in doc["paths"].items()
                  for method, op in ops.items()}
    assert operations["listProposals"][:2] == ("/proposals", "get")
    assert operations["getProposal"][:2] == ("/proposals/{proposal_id}", "get")
    assert operations["supportProposal"][:2] == ("/proposals/{proposal_id}/support", "post")
    assert operations["withdrawSupport"][:2] == ("/proposals/{proposal_id}/support", "delete")

    def schema(op, status):
        return op["responses"][status]["content"]["application/json"]["schema"]["$ref"]

    listing = operations["listProposals"][2]
    assert listing["security"] == []
    assert {p["name"] for p in listing["parameters"]} == {"process", "status", "district", "category", "limit",
                                                          "cursor"}
    assert schema(listing, "200") == "#/components/schemas/ProposalList"
    assert schema(listing, "400") == "#/components/schemas/ValidationError"
    getting = operations["getProposal"][2]
    assert schema(getting, "200") == "#/components/schemas/Proposal"
    assert getting["responses"]["404"] == {"$ref": "#/components/responses/Error"}
    for operation_id, statuses in (("supportProposal", ("201", "200")), ("withdrawSupport", ("200",))):
        op = operations[operation_id][2]
        assert op["security"] == [{"bearerAuth": []}]
        assert [p["name"] for p in op["parameters"]] == ["proposal_id"]
        for status in statuses:
            assert schema(op, status) == "#/components/schemas/SupportState"
        assert schema(op, "409") == "#/components/schemas/Error"
        for status in ("401", "403", "404"):
            assert op["responses"][status] == {"$ref": "#/components/responses/Error"}
    schemas = doc["components"]["schemas"]
    for name in ("Proposal", "ProposalList", "ProposalAddendum", "SupportState"):
        assert name in schemas
    assert "draft" not in schemas["Proposal"]["properties"]["status"]["enum"]
    for private in ("email", "supporters", "author"):
        assert private not in json.dumps(schemas["Proposal"])
    for ref in refs_in(doc):
        _hash, _components, kind, name = ref.split("/")
        assert name in doc["components"][kind], f"{ref} does not resolve"


def test_the_api_records_expiry_when_the_support_window_has_closed(app, client, city, author):
    # No scheduler: like the pages, the first read after the window closed records the expiry.
    _slug, process_id = make_process(app, phases={"collection": (-40 * DAY, -20 * DAY),
                                                  "support": (-20 * DAY, -1 * DAY)})
    proposal_id = propose(app, process_id, author)
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == P.published

    assert client.get(f"/api/v1/proposals/{proposal_id}").get_json()["status"] == "expired"
    listed = client.get("/api/v1/proposals").get_json()["items"]
    assert [(p["id"], p["status"]) for p in listed] == [(proposal_id, "expired")]
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == P.expired
