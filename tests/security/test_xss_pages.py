"""XSS through every text column: the demo city with every free-text column overwritten by the payload
corpus (tests/security/payloads.py), then every GET endpoint rendered for every role that may see it.

A page passes when nothing users wrote comes out as markup a browser would run or load (a real
``onerror`` attribute, a ``<script>`` element, a ``javascript:`` link, an image from input), ``{{7*7}}``
does not render 49, CSV cells do not start a formula, feeds stay well-formed with no HTML in their
descriptions, calendars get no injected lines, and no page fails (no 500).

The world is built once for the module (seeding the demo takes seconds), so this module replaces the
per-test clean-up with its own at the end; its tests only read.
"""
import secrets
import time
from dataclasses import dataclass, field

import pytest
from flask import url_for
from sqlalchemy import String, cast, func, literal, select, update

from app import geo
from app.extensions import db
from app.models import (
    AssistedSession,
    CommonsCall,
    Debate,
    Document,
    Event,
    HelpOffer,
    ModerationCase,
    ModerationDecision,
    NeighbourhoodHouse,
    Notification,
    Organisation,
    Pact,
    PactVersion,
    Photo,
    Process,
    Proposal,
    Report,
    User,
)
from app.models.commons import Commons
from app.models.proposal import ProposalStatus
from app.search import index as search_index
from app.seed.demo import seed_demo
from tests.conftest import _truncate_all
from tests.security.payloads import payload_for, response_problems
from tests.test_access_matrix import ACCESS, _may

#: Free-text columns, by table: everything people (citizens, staff, admins) type that a page may show.
TEXT_COLUMNS = {
    "departments": ["name_it", "name_en", "email"],
    "districts": ["name"],
    "categories": ["name_it", "name_en"],
    "neighbourhood_houses": ["name", "neighbourhood", "address", "email"],
    "processes": ["title", "description"],
    "house_hours": ["hours"],
    "users": ["display_name", "bio", "block_reason"],
    "api_tokens": ["name"],
    "audit_events": ["reason"],
    "comments": ["body"],
    "commons": ["name", "description", "address", "owner_name", "owner_consent"],
    "documents": ["filename"],
    "flags": ["text"],
    "help_offers": ["skills", "availability"],
    "moderation_words": ["word"],
    "organisations": ["name", "description", "email"],
    "proposals": ["title", "body"],
    "reports": ["title", "description", "address"],
    "commons_calls": ["title", "description", "requirements", "criteria"],
    "debates": ["title", "body"],
    "events": ["title", "description", "address"],
    "moderation_decisions": ["reason"],
    "pacts": ["title", "objectives", "activities", "beneficiaries", "own_resources", "approval_act_type"],
    "project_milestones": ["title"],
    "project_updates": ["body"],
    "proposal_addenda": ["body"],
    "proposal_reviews": ["technical_notes", "legal_notes", "economic_notes", "public_answer", "motivation"],
    "report_updates": ["note"],
    "help_calls": ["title", "description", "skills"],
    "moderation_appeals": ["text", "answer"],
    "pact_disputes": ["description", "committee_proposal", "outcome"],
    "pact_join_requests": ["message"],
    "pact_meetings": ["place", "participants", "minutes"],
    "pact_reports": ["activities", "events", "resources_proponents", "resources_city", "results", "problems",
                     "review_note"],
    "pact_status_changes": ["reason"],
    "pact_support_items": ["description"],
    "pact_versions": ["text", "note"],
    "pact_volunteers": ["removal_reason"],
    "pact_signatures": ["capacity"],
}
#: Text columns that are not free text (keys, hashes, codes, enums kept as text, machine-made values), or
#: too short for any payload (checked by their forms' validation instead).
NOT_FREE_TEXT = {
    "audit_chain_head": ["last_hash"], "departments": ["slug"], "districts": ["geometry"], "categories": ["slug"],
    "processes": ["slug"],
    "neighbourhood_houses": ["slug", "phone"], "search_documents": ["kind", "status", "title", "body"],
    "users": ["email", "password_hash", "identity_hmac", "identity_document_type", "locale", "phone", "claim_nonce",
              "claim_code_hash", "assist_code_hash"],
    "api_keys": ["name", "key_hash", "prefix"], "api_tokens": ["token_hash", "prefix"],
    "audit_events": ["action", "target_type", "prev_hash", "hash"], "comments": ["target_type"],
    "commons": ["geometry"], "documents": ["owner_type", "storage_key", "content_type"],
    "flags": ["target_type", "reason"], "follows": ["target_type"], "moderation_cases": ["target_type"],
    "notifications": ["kind", "url"], "organisations": ["tax_code"],
    "outbox_emails": ["to_address", "subject", "body_text", "kind", "last_error"],
    "photos": ["owner_type", "storage_key", "thumb_key", "content_type"], "reports": ["source"],
    "moderation_decisions": ["rule"], "pacts": ["protocol_number", "approval_act_number", "approved_text_sha256"],
    "report_updates": ["kind"], "pact_support_items": ["unit"], "assisted_actions": ["action", "record_type"],
    "pact_signatures": ["text_sha256"], "ended_logins": ["login_id"],
}
#: Optional columns that are empty in the demo: filled for every row, so that the pages show them.
FILL_EMPTY = {("users", "bio"), ("reports", "address"), ("organisations", "description")}
#: Web addresses people type: a javascript: URL must never become a link.
URL_COLUMNS = {"neighbourhood_houses": ["website"], "organisations": ["website"]}


@dataclass
class World:
    #: role -> the session id ("<id>:<version>") to sign in with (None: visitor)
    logins: dict = field(default_factory=dict)
    #: URL argument name -> sample values
    args: dict = field(default_factory=dict)
    #: endpoint -> explicit list of URL argument dicts
    explicit: dict = field(default_factory=dict)


def _column_length(column):
    return column.type.length if isinstance(column.type, String) and column.type.length else None


def _poison():
    tables = db.metadata.tables
    for kind, columns_by_table in (("text", TEXT_COLUMNS), ("url", URL_COLUMNS)):
        for table_name, names in columns_by_table.items():
            table = tables[table_name]
            for name in names:
                column = table.c[name]
                payload = payload_for(_column_length(column), kind)
                assert payload is not None, f"{table_name}.{name} is too short for any payload"
                # " #<id>" keeps values of unique columns apart
                stmt = update(table).values({name: literal(payload + " #").concat(cast(table.c.id, String))})
                if (table_name, name) not in FILL_EMPTY and kind == "text":
                    stmt = stmt.where(column.is_not(None))
                db.session.execute(stmt)


def _one_per(model, column, *where):
    """The smallest id of ``model`` for each value of ``column``."""
    rows = db.session.execute(select(column, func.min(model.id)).where(*where).group_by(column)).all()
    return sorted(r[1] for r in rows)


def _build_world():
    seed_demo()
    db.session.commit()
    by_email = {u.email: u for u in db.session.scalars(select(User).where(User.email.like("%@example.org")))}
    draft_pact = db.session.scalar(select(Pact).where(Pact.status == "draft").order_by(Pact.id))
    citizen = draft_pact.created_by
    # The citizen also has a draft proposal, a notification and an offer of help: their own pages show them.
    draft = db.session.scalar(select(Proposal).where(Proposal.status == ProposalStatus.draft).order_by(Proposal.id))
    draft.author_id = citizen.id
    db.session.add(Notification(user_id=citizen.id, kind="comment.reply", url="/proposals"))
    db.session.add(HelpOffer(user_id=citizen.id, skills="x", availability="y"))
    public_pact = db.session.scalar(select(Pact).where(Pact.status == "active").order_by(Pact.id))
    public_report = db.session.scalar(select(Report).where(Report.hidden_at.is_(None)).order_by(Report.id))
    db.session.add(Document(owner_type="pact", owner_id=public_pact.id, storage_key=secrets.token_hex(16),
                            filename="x.pdf", size_bytes=1000, page_count=1, uploaded_by_id=citizen.id))
    for owner_type, owner_id in (("report", public_report.id), ("pact", public_pact.id)):
        db.session.add(Photo(owner_type=owner_type, owner_id=owner_id, storage_key=secrets.token_hex(16),
                             thumb_key=secrets.token_hex(16), width=10, height=10, thumb_width=10, thumb_height=10,
                             size_bytes=100, content_type="image/jpeg", uploaded_by_id=citizen.id))
    db.session.flush()
    _poison()
    db.session.commit()
    for kind in search_index.sources():
        search_index.reindex(kind)
    db.session.commit()
    geo.clear_cache()

    def login_of(email):
        user = by_email[email]
        return f"{user.id}:{user.session_version}"

    world = World(logins={
        "visitor": None,
        "citizen": f"{citizen.id}:{citizen.session_version}",
        "official": login_of("official@example.org"),
        "moderator": login_of("moderator@example.org"),
        "admin": login_of("admin@example.org"),
        "facilitator": login_of("facilitator@example.org"),
    })
    facilitator_id = by_email["facilitator@example.org"].id
    process = db.session.scalar(select(Process).order_by(Process.id))
    house = db.session.scalar(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id))
    first = lambda model: db.session.scalar(select(func.min(model.id)))  # noqa: E731
    world.args = {
        "report_id": _one_per(Report, Report.status),
        "proposal_id": _one_per(Proposal, Proposal.status) + [draft.id],
        "pact_id": _one_per(Pact, Pact.status),
        "debate_id": [first(Debate)],
        "event_id": [first(Event)],
        "commons_id": [first(Commons)],
        "call_id": [first(CommonsCall)],
        "organisation_id": [draft_pact.organisation_id or first(Organisation)],
        "offer_id": [db.session.scalar(select(HelpOffer.id).where(HelpOffer.user_id == citizen.id))],
        "case_id": [first(ModerationCase)],
        "decision_id": [first(ModerationDecision)],
        "photo_id": [first(Photo)],
        # a session of the facilitator in which a managed account was made (it has a consent form)
        "session_id": [db.session.scalar(
            select(func.min(AssistedSession.id)).join(User, User.id == AssistedSession.citizen_id)
            .where(AssistedSession.facilitator_id == facilitator_id, User.managed_at.is_not(None)))],
        "process_id": [process.id],
        "user_id": [citizen.id],
        "chart": ["participation", "districts", "categories", "funnel", "resolution", "pacts", "houses",
                  "assisted_sessions"],
        "dataset": ["reports", "proposals", "pacts", "commons", "houses", "events"],
        "feed": ["proposals", "resolved-reports", "pacts"],
        "fmt": ["json", "xml"],
    }
    open_report = db.session.scalar(select(Report).where(Report.status == "new", Report.hidden_at.is_(None))
                                    .order_by(Report.id))
    versions = db.session.execute(select(PactVersion.pact_id, PactVersion.number)
                                  .where(PactVersion.number > 1).order_by(PactVersion.id).limit(1)).first()
    comment_target = ("proposal", world.args["proposal_id"][0])
    world.explicit = {
        "houses.detail": [{"slug": house.slug}],
        "houses.house_calendar": [{"slug": house.slug}],
        "api.get_house": [{"slug": house.slug}],
        "api.get_process": [{"slug": process.slug}],
        "reviews.process": [{"slug": process.slug}],
        "opendata.process_csv": [{"slug": process.slug}],
        "opendata.process_geojson": [{"slug": process.slug}],
        "houses.district_calendar": [{"number": 1}],
        "pacts.version": [{"pact_id": versions.pact_id, "number": n} for n in (1, versions.number)],
        "pacts.version_diff": [{"pact_id": versions.pact_id, "number": versions.number}],
        "api.list_comments": [{"target_type": comment_target[0], "target_id": comment_target[1]}],
        "open311.service_definition": [{"service_code": "illuminazione", "fmt": f} for f in ("json", "xml")],
        "open311.request_detail": [{"report_id": world.args["report_id"][0], "fmt": f} for f in ("json", "xml")],
        "search.index": [{"q": q} for q in ("zqx1", "img", "script")],
        "api.search_all": [{"q": "zqx1"}],
        "proposals.similar": [{"q": "zqx1"}],
        "admin.users": [{}, {"q": "zqx1"}],
        "maps.features": [{"bbox": "7.55,44.98,7.78,45.15", "zoom": zoom} for zoom in (17, 12)],
        "reports.nearby": [{"lat": open_report.lat, "lon": open_report.lon, "category": open_report.category_id}],
        # a PDF takes long to make and shows no markup: one pact is enough
        "pacts.pdf": [{"pact_id": public_pact.id}],
    }
    return world


#: Endpoints with nothing users wrote (or with only bytes): not crawled.
NOT_CRAWLED = {
    "static", "main.healthz", "media.photo", "media.document", "api.openapi", "api.docs",
    # one-time links: a made-up token is just a "bad link" page
    "auth.confirm_email", "auth.reset_password", "account.confirm_email_change", "commons.organisation_invitation",
    "open311.not_found",
    "moderation.photo",  # the bytes of a hidden photo
    "admin.index",  # a redirect to the users
    # the pages of an open assisted session (test_xss_forms.py opens one)
    "assisted.current", "assisted.paper_session",
}

#: What each crawling role stands for in the access table.
ROLE_LEVELS = {"visitor": "visitor", "citizen": "verified", "official": "official", "moderator": "moderator",
               "admin": "admin", "facilitator": "facilitator"}


def _crawled(role):
    endpoints = []
    for endpoint, (level, method) in sorted(ACCESS.items()):
        if method != "GET" or endpoint in NOT_CRAWLED or level == "token":
            continue
        if not _may(level, ROLE_LEVELS[role]):
            continue
        # Signed in, a role reads the pages only it may see, and the detail pages (they show more to staff).
        if role != "visitor" and level == "public" and not _has_id_argument(endpoint):
            continue
        endpoints.append(endpoint)
    return endpoints


def _has_id_argument(endpoint):
    return endpoint.split(".", 1)[1] in {"detail", "person", "event_detail", "office_pact", "case_detail",
                                         "session_detail", "user_detail", "organisation_detail", "review",
                                         "project", "receipt", "consent", "version", "version_diff",
                                         "statement", "get_report", "get_proposal", "get_pact"}


#: Roles whose extra tools on a page do not depend on the item's status: one item per endpoint is enough.
QUICK_ROLES = {"moderator", "admin", "facilitator"}

#: The URLs the visitor tests were shown (they run first): signed-in roles skip most of them.
SHOWN_TO_VISITORS = set()

CASES = [(role, endpoint) for role in ROLE_LEVELS for endpoint in _crawled(role)]


def test_every_text_column_is_poisoned_or_known_not_to_be_free_text():
    """A new text column must join TEXT_COLUMNS (people type it) or NOT_FREE_TEXT (they don't)."""
    from sqlalchemy import Text

    listed = {(t, c) for table in (TEXT_COLUMNS, URL_COLUMNS, NOT_FREE_TEXT) for t, cs in table.items() for c in cs}
    found = {(table.name, column.name) for table in db.metadata.sorted_tables for column in table.columns
             if isinstance(column.type, (String, Text)) and not hasattr(column.type, "enums")}
    assert found - listed == set(), "new text columns: add them to TEXT_COLUMNS or NOT_FREE_TEXT"
    assert listed - found == set(), "columns that no longer exist"


@pytest.fixture(autouse=True)
def clean_db():
    """Replaces the conftest clean-up: the world below is shared by the whole module, which only reads."""
    yield


@pytest.fixture(scope="module")
def world(app):
    with app.app_context():
        built = _build_world()
        db.session.remove()
    yield built
    with app.app_context():
        db.session.remove()
        _truncate_all()
        db.session.remove()
    geo.clear_cache()


def _urls(app, world, endpoint):
    rule = next(app.url_map.iter_rules(endpoint))
    if endpoint in world.explicit:
        combos = world.explicit[endpoint]
    else:
        combos = [{}]
        for name in sorted(rule.arguments):
            if name not in world.args:
                pytest.fail(f"{endpoint}: give sample values of <{name}> in World.args or World.explicit")
            combos = [{**combo, name: value} for combo in combos for value in world.args[name]]
    with app.test_request_context():
        return [url_for(endpoint, **combo) for combo in combos]


@pytest.mark.parametrize("role, endpoint", CASES, ids=[f"{r}-{e}" for r, e in CASES])
def test_nothing_users_wrote_becomes_markup(app, world, role, endpoint):
    client = app.test_client()
    session_id = world.logins[role]
    if session_id is not None:
        with client.session_transaction() as sess:
            sess.update({"_user_id": session_id, "_fresh": True, "login_at": time.time(), "seen_at": time.time()})
    urls = _urls(app, world, endpoint)
    if role in QUICK_ROLES:
        urls = urls[:1]
    elif role != "visitor" and any(url in SHOWN_TO_VISITORS for url in urls):
        # What visitors were shown was checked as a visitor: signed in, one such page (for the tools
        # around the texts) and every page visitors could not see (drafts, the office's side).
        public = [url for url in urls if url in SHOWN_TO_VISITORS]
        urls = public[:1] + [url for url in urls if url not in SHOWN_TO_VISITORS]
    problems, shown = [], 0
    for n, url in enumerate(urls):
        # The labels change with the language, not the way texts are escaped: English once per endpoint.
        for lang in ("it", "en") if role == "visitor" and n == 0 else ("it",):
            response = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
            assert response.status_code < 500, f"{url} as {role}: {response.status_code}"
            if response.status_code != 200:
                continue  # not for this role (a draft, another department's pact): nothing shown
            shown += 1
            if role == "visitor":
                SHOWN_TO_VISITORS.add(url)
            problems += [f"{url} ({lang}): {p}" for p in response_problems(response)]
            if response.mimetype != "text/html":
                break  # data formats do not change with the language
    assert shown, f"no page of {endpoint} was shown to {role}: {urls}"
    assert problems == []
