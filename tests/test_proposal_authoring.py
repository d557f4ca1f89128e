"""Writing proposals, as rules: places and categories, co-authors, editors, drafts, similar titles,
the list's sorts and "close to the threshold" filter, the timeline, "my proposals", expiry on read."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.models import Notification, User
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.place import Category, District
from app.models.proposal import Proposal, ProposalCoauthor, ProposalStatus
from app.proposals import authoring, queries, services
from app.seed.demo import seed_places
from tests.test_proposals import build_process, collecting_moment, new_proposal

P = ProposalStatus
DAY = timedelta(days=1)
OUTSIDE_TURIN = (45.5, 8.2)


@pytest.fixture(autouse=True)
def english(app_ctx):
    """Messages in English, so that the tests can read them."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def people(app_ctx, make_user):
    """Everybody this module needs, built before the test writes (make_user has its own connection)."""
    spec = {"author": {}, "ann": {}, "bob": {}, "cat": {}, "dan": {}, "eve": {}, "fay": {}, "gus": {},
            "unconfirmed": {"confirmed": False}}
    ids = {name: make_user(verified=True, email=f"{name}@example.org", display_name=name.title(), **kw).id
           for name, kw in spec.items()}
    return {name: db.session.get(User, i) for name, i in ids.items()}


@pytest.fixture
def places(app_ctx):
    seed_places()
    db.session.commit()
    geo.clear_cache()
    districts = db.session.scalars(select(District).order_by(District.number)).all()
    inside = {d.id: _point_in(d) for d in districts}
    return {"districts": districts, "inside": inside,
            "categories": db.session.scalars(select(Category).order_by(Category.id)).all()}


def _point_in(district):
    shape = next(s for s in geo.districts() if s.id == district.id).shape.representative_point()
    return shape.y, shape.x


# --- places and categories ------------------------------------------------------------------------

def test_a_point_gives_the_district_and_must_be_inside_the_city(people, places):
    process = build_process()
    first = places["districts"][0]
    lat, lon = places["inside"][first.id]
    proposal = services.create_proposal(people["author"], process, title="Panchine", body="Tre panchine.",
                                        lat=lat, lon=lon)
    assert (proposal.lat, proposal.lon, proposal.district_id) == (lat, lon, first.id)
    with pytest.raises(DomainError) as refused:
        services.create_proposal(people["author"], process, title="Fuori", body="Fuori città.",
                                 lat=OUTSIDE_TURIN[0], lon=OUTSIDE_TURIN[1])
    assert refused.value.details["field"] == "location" and "outside the city" in refused.value.message


def test_a_district_process_takes_points_and_districts_of_its_district_only(people, places):
    first, second = places["districts"][:2]
    process = build_process()
    process.district_id = first.id
    db.session.commit()
    inside, elsewhere = places["inside"][first.id], places["inside"][second.id]
    ok = services.create_proposal(people["author"], process, title="Qui", body="Nel quartiere.",
                                  lat=inside[0], lon=inside[1])
    assert ok.district_id == first.id
    assert services.create_proposal(people["author"], process, title="Senza punto", body="x").district_id == first.id
    with pytest.raises(DomainError) as refused:
        services.create_proposal(people["author"], process, title="Là", body="Altrove.",
                                 lat=elsewhere[0], lon=elsewhere[1])
    assert refused.value.details["field"] == "location"
    with pytest.raises(DomainError) as refused:
        services.create_proposal(people["author"], process, title="Là", body="Altrove.", district_id=second.id)
    assert refused.value.details["field"] == "district_id"


def test_the_category_must_be_one_of_the_process(people, places):
    allowed, other = places["categories"][:2]
    process = build_process()
    process.categories = [allowed]
    db.session.commit()
    assert services.create_proposal(people["author"], process, title="Ok", body="Ok.",
                                    category_id=allowed.id).category_id == allowed.id
    with pytest.raises(DomainError) as refused:
        services.create_proposal(people["author"], process, title="No", body="No.", category_id=other.id)
    assert refused.value.details["field"] == "category_id"
    # A process listing no categories takes every one.
    assert services.create_proposal(people["author"], build_process(), title="Ok", body="Ok.",
                                    category_id=other.id).category_id == other.id


def test_on_the_form_the_point_wins_over_the_district_list(people, places):
    first, second = places["districts"][:2]
    lat, lon = places["inside"][second.id]
    proposal = authoring.draft(people["author"], build_process(), title="Punto", body="Testo.",
                               district_id=first.id, lat=str(lat), lon=str(lon))
    assert proposal.district_id == second.id


# --- drafts, editors, publishing ---------------------------------------------------------------------

def test_only_the_author_and_co_authors_see_a_draft(people):
    process = build_process()
    proposal = new_proposal(process, people["author"], publish=False)
    authoring.invite(proposal, people["author"], "ann@example.org")
    assert authoring.can_view(proposal, people["author"]) and authoring.can_view(proposal, people["ann"])
    assert not authoring.can_view(proposal, people["bob"]) and not authoring.can_view(proposal, None)
    with pytest.raises(NotFound):
        authoring.get_viewable(proposal.id, people["bob"])
    services.publish(proposal, people["author"], now=collecting_moment(process))
    assert authoring.can_view(proposal, people["bob"]) and authoring.can_view(proposal, None)
    proposal.hidden_at = utcnow()
    assert not authoring.can_view(proposal, people["author"])


def test_publish_outside_the_collection_phase_is_refused_and_publishing_follows(people):
    process = build_process()  # collection ended ten days ago
    proposal = new_proposal(process, people["author"], publish=False)
    with pytest.raises(DomainError, match="collects"):
        services.publish(proposal, people["author"])
    assert proposal.status == P.draft
    services.publish(proposal, people["author"], now=collecting_moment(process))
    from app.notifications.services import is_following

    assert is_following(people["author"], "proposal", proposal.id)


def test_edit_after_the_first_support_is_refused_even_with_new_places_or_photos(people, places):
    proposal = new_proposal(build_process(), people["author"])
    services.support(people["ann"], proposal.id)
    db.session.commit()
    lat, lon = places["inside"][places["districts"][0].id]
    with pytest.raises(DomainError, match="frozen"):
        authoring.update(proposal, people["author"], title="Nuovo", body="Nuovo.", category_id=None,
                         district_id=None, lat=lat, lon=lon)
    db.session.rollback()
    assert proposal.title == "Più alberi in via Nizza" and proposal.lat is None


def test_accepted_co_authors_edit_and_add_addenda_pending_ones_do_not(people):
    proposal = new_proposal(build_process(), people["author"])
    authoring.invite(proposal, people["author"], "ann@example.org")
    with pytest.raises(PermissionDenied):
        services.edit(proposal, people["ann"], title="Di Ann", body="Testo di Ann.")
    authoring.answer_invitation(proposal, people["ann"], accept=True)
    services.edit(proposal, people["ann"], title="Di Ann", body="Testo di Ann.")
    services.support(people["bob"], proposal.id)
    services.add_addendum(proposal, people["ann"], "Una nota di Ann.")
    db.session.commit()
    assert proposal.title == "Di Ann" and [a.body for a in proposal.addenda] == ["Una nota di Ann."]
    # Publishing, withdrawing and inviting stay the author's.
    with pytest.raises(PermissionDenied):
        services.withdraw(proposal, people["ann"])
    with pytest.raises(PermissionDenied):
        authoring.invite(proposal, people["ann"], "bob@example.org")


def test_withdraw_keeps_the_reason_and_only_a_collecting_proposal_can_go(people):
    proposal = new_proposal(build_process(), people["author"])
    services.withdraw(proposal, people["author"], reason="  Unita a un'altra proposta.  ")
    db.session.commit()
    assert proposal.status == P.withdrawn
    assert queries.withdrawal_reason(proposal) == "Unita a un'altra proposta."
    with pytest.raises(IllegalTransition):
        services.withdraw(proposal, people["author"])


def test_only_the_author_deletes_and_only_drafts(people):
    process = build_process()
    draft = new_proposal(process, people["author"], publish=False)
    authoring.invite(draft, people["author"], "ann@example.org")
    authoring.answer_invitation(draft, people["ann"], accept=True)
    with pytest.raises(PermissionDenied):
        authoring.delete_draft(draft, people["ann"])
    authoring.delete_draft(draft, people["author"])
    db.session.commit()
    assert db.session.get(Proposal, draft.id) is None
    assert db.session.scalar(select(func.count(ProposalCoauthor.id))) == 0
    published = new_proposal(process, people["author"])
    with pytest.raises(DomainError, match="Only a draft"):
        authoring.delete_draft(published, people["author"])


# --- co-authors -----------------------------------------------------------------------------------

def _invitations():
    return db.session.scalars(select(Notification).where(Notification.kind == "proposal.coauthor_invited")).all()


def test_inviting_answers_the_same_whether_or_not_the_address_exists(people):
    proposal = new_proposal(build_process(), people["author"], publish=False)
    for email in ("nobody@example.org", "unconfirmed@example.org", "author@example.org", "ANN@example.org",
                  "ann@example.org"):
        authoring.invite(proposal, people["author"], email)  # never an error, whatever the address
    db.session.commit()
    assert [c.user_id for c in proposal.coauthors] == [people["ann"].id]
    assert [(n.user_id, n.url) for n in _invitations()] == [(people["ann"].id, "/proposals/mine")]
    with pytest.raises(DomainError):
        authoring.invite(proposal, people["author"], "not an address")


def test_accepting_declining_removing_and_stepping_down(people):
    proposal = new_proposal(build_process(), people["author"], publish=False)
    for name in ("ann", "bob", "cat"):
        authoring.invite(proposal, people["author"], f"{name}@example.org")
    authoring.answer_invitation(proposal, people["ann"], accept=True)
    authoring.answer_invitation(proposal, people["bob"], accept=False)
    authoring.answer_invitation(proposal, people["cat"], accept=True)
    db.session.commit()
    assert [c.user.display_name for c in authoring.accepted_coauthors(proposal)] == ["Ann", "Cat"]
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.kind == "proposal.coauthor_accepted", Notification.user_id == people["author"].id)) == 2
    with pytest.raises(NotFound):
        authoring.answer_invitation(proposal, people["bob"], accept=True)  # declined: gone
    with pytest.raises(PermissionDenied):
        authoring.remove_coauthor(proposal, people["cat"], people["ann"].id)
    authoring.remove_coauthor(proposal, people["cat"], people["cat"].id)  # stepping down
    authoring.remove_coauthor(proposal, people["author"], people["ann"].id)
    db.session.commit()
    assert proposal.coauthors == []


def test_at_most_five_co_authors(people):
    proposal = new_proposal(build_process(), people["author"], publish=False)
    five = ["ann", "bob", "cat", "dan", "eve"]
    for name in five + ["fay"]:
        authoring.invite(proposal, people["author"], f"{name}@example.org")
    for name in five:
        authoring.answer_invitation(proposal, people[name], accept=True)
    with pytest.raises(DomainError, match="5 co-authors"):
        authoring.answer_invitation(proposal, people["fay"], accept=True)
    with pytest.raises(DomainError, match="at most 5"):
        authoring.invite(proposal, people["author"], "gus@example.org")
    assert len(authoring.accepted_coauthors(proposal)) == 5
    with pytest.raises(DomainError):
        authoring.parse_emails(", ".join(f"{n}@example.org" for n in five + ["fay"]))
    assert authoring.parse_emails("A@example.org; b@example.org\na@example.org") == ["a@example.org",
                                                                                    "b@example.org"]


def test_a_draft_with_co_author_emails_invites_them(people):
    proposal = authoring.draft(people["author"], build_process(), title="Insieme", body="Testo.",
                               coauthor_emails="ann@example.org, nobody@example.org")
    db.session.commit()
    assert [c.user_id for c in proposal.coauthors] == [people["ann"].id]
    with pytest.raises(DomainError) as refused:
        authoring.draft(people["author"], build_process(), title="x", body="y", coauthor_emails="ann@")
    assert refused.value.details["field"] == "coauthors"


# --- similar titles ------------------------------------------------------------------------------

def test_similar_titles_ignore_accents_case_plurals_and_small_words(people):
    process, other = build_process(), build_process()
    trees = new_proposal(process, people["author"], title="Più ALBERI in via Nizza")
    square = new_proposal(process, people["author"], title="Una piazza per la città")
    new_proposal(process, people["author"], publish=False, title="Alberi in bozza")
    hidden = new_proposal(process, people["author"], title="Alberi nascosti")
    hidden.hidden_at = utcnow()
    elsewhere = new_proposal(other, people["author"], title="Alberi altrove")
    db.session.commit()
    assert [p.id for p in queries.similar("un albero per via nizza", process)] == [trees.id]
    assert [p.id for p in queries.similar("Citta e piazze", process)] == [square.id]
    assert {p.id for p in queries.similar("albero")} == {trees.id, elsewhere.id}
    assert queries.similar("per la di un", process) == [] and queries.similar("", process) == []


def test_similar_titles_rank_by_shared_words_and_stop_at_five(people):
    process = build_process()
    best = new_proposal(process, people["author"], title="Panchine ombra fontanella")
    for n in range(6):
        new_proposal(process, people["author"], title=f"Panchine numero {n}")
    found = queries.similar("panchine con ombra e fontanella", process)
    assert len(found) == 5 and found[0].id == best.id


# --- the public list --------------------------------------------------------------------------

def _ids(query):
    return [p.id for p in db.session.scalars(query)]


def test_random_order_is_stable_for_a_seed_and_differs_for_another(people):
    process = build_process()
    ids = {new_proposal(process, people["author"], title=f"Proposta {n}").id for n in range(12)}
    first = _ids(queries.public_list(sort="random", seed=123456789))
    assert first == _ids(queries.public_list(sort="random", seed=123456789))
    assert set(first) == ids
    others = {tuple(_ids(queries.public_list(sort="random", seed=seed))) for seed in (1, 987654321, 2**61 + 7)}
    assert len(others | {tuple(first)}) >= 3


def test_sorts_newest_and_most_supported(people):
    process = build_process(threshold=10)
    older, newer = new_proposal(process, people["author"]), new_proposal(process, people["author"])
    older.published_at, newer.published_at = utcnow() - DAY, utcnow()
    services.support(people["ann"], older.id)
    db.session.commit()
    assert _ids(queries.public_list(sort="newest"))[:2] == [newer.id, older.id]
    assert _ids(queries.public_list(sort="supported"))[:2] == [older.id, newer.id]


def test_close_to_threshold_means_collecting_and_at_least_three_quarters(people):
    process = build_process(threshold=4)
    close, far, crossed = (new_proposal(process, people["author"]) for _ in range(3))
    for name in ("ann", "bob", "cat"):
        services.support(people[name], close.id)
    for name in ("ann", "bob"):
        services.support(people[name], far.id)
    for name in ("ann", "bob", "cat", "dan"):
        services.support(people[name], crossed.id)
    db.session.commit()
    assert _ids(queries.public_list(close=True)) == [close.id]
    # Once the support phase is over, nothing is "close" any more.
    assert _ids(queries.public_list(close=True, now=utcnow() + 20 * DAY)) == []


# --- timeline, "my proposals", expiry -------------------------------------------------------------

def test_the_timeline_tells_the_story_in_order(people):
    process = build_process(threshold=1)
    proposal = new_proposal(process, people["author"])
    services.support(people["ann"], proposal.id)
    services.add_addendum(proposal, people["author"], "Nota.")
    services._move(proposal, P.under_review)
    db.session.commit()
    moments = queries.timeline(proposal)
    assert {m.kind for m in moments} == {"created", "published", "frozen", "threshold", "addendum", "status"}
    assert [m.when for m in moments] == sorted(m.when for m in moments)
    assert [m.status for m in queries.timeline(proposal) if m.kind == "status"] == [P.under_review]


def test_my_proposals_drafts_invitations_and_own_supports(people):
    process = build_process()
    draft = new_proposal(process, people["author"], publish=False)
    published = new_proposal(process, people["author"])
    theirs = new_proposal(process, people["bob"])
    authoring.invite(theirs, people["bob"], "author@example.org")
    services.support(people["author"], theirs.id)
    services.support(people["ann"], published.id)
    db.session.commit()
    mine = queries.mine(people["author"])
    assert mine["drafts"] == [draft] and mine["published"] == [published]
    assert mine["invitations"] == [theirs]
    assert [(p.id, still_open) for p, _, still_open in mine["supports"]] == [(theirs.id, True)]
    assert queries.mine(people["ann"])["supports"][0][0] == published  # each sees only their own


def test_expiry_on_read_closes_only_processes_whose_support_window_ended(people):
    ended = build_process(phases={"collection": (-40 * DAY, -30 * DAY), "support": (-30 * DAY, -DAY)})
    running = build_process()
    stale = new_proposal(ended, people["author"])
    crossed = new_proposal(ended, people["author"])
    crossed.status, crossed.support_count = P.threshold_reached, 3
    alive = new_proposal(running, people["author"])
    db.session.commit()
    assert queries.expire_on_read() == 1
    db.session.commit()
    assert (stale.status, crossed.status, alive.status) == (P.expired, P.threshold_reached, P.published)
    assert queries.expire_on_read() == 0
