"""Debate rules: opening one, editing until someone else answers, the list, flags, and the turn into a
draft proposal (only by its author, only into a process collecting proposals, only once, audited)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.debates import services
from app.extensions import db
from app.models import AuditEvent, User
from app.models.base import DomainError, IllegalTransition, PermissionDenied, utcnow
from app.models.discussion import Comment, Debate
from app.models.place import Category, District
from app.models.proposal import Proposal, ProposalStatus
from app.models.report import Flag
from tests.test_proposals import build_process

DAY = timedelta(days=1)
COLLECTING = {"collection": (-DAY, 10 * DAY), "support": (10 * DAY, 20 * DAY)}
SUPPORTING = {"collection": (-20 * DAY, -DAY), "support": (-DAY, 20 * DAY)}


@pytest.fixture
def people(app_ctx, make_user):
    built = {key: make_user(display_name=key.title()) for key in ("anna", "bea")}
    return {key: db.session.get(User, u.id) for key, u in built.items()}


@pytest.fixture
def places(people):
    districts = [District(number=n, name=f"Circoscrizione {n}", geometry="{}") for n in (1, 2)]
    category = Category(slug="verde", name_it="Verde", name_en="Greenery")
    db.session.add_all([*districts, category])
    db.session.commit()
    return {"districts": [d.id for d in districts], "category": category.id}


def open_debate(author, places=None, **kwargs):
    fields = {"title": "Più alberi in corso Francia?", "body": "Che ne dite?"}
    if places:
        fields.update(category_id=places["category"], district_id=places["districts"][0])
    fields.update(kwargs)
    debate = services.create_debate(author, **fields)
    db.session.commit()
    return debate


def test_a_citizen_opens_a_debate_with_optional_category_and_district(people, places):
    plain = open_debate(people["anna"])
    placed = open_debate(people["anna"], places)
    assert (plain.category_id, plain.district_id, plain.comment_count) == (None, None, 0)
    assert (placed.category_id, placed.district_id) == (places["category"], places["districts"][0])
    assert placed.author_id == people["anna"].id


@pytest.mark.parametrize("fields, field", [
    ({"title": "  "}, "title"), ({"body": ""}, "body"), ({"title": "x" * 141}, "title"),
    ({"category_id": 9999}, "category_id"), ({"district_id": 9999}, "district_id")])
def test_bad_input_names_its_field(people, fields, field):
    with pytest.raises(DomainError) as caught:
        open_debate(people["anna"], **fields)
    assert caught.value.details["field"] == field


def test_the_author_edits_until_someone_else_answers(people):
    debate = open_debate(people["anna"])
    db.session.add(Comment(target_type="debate", target_id=debate.id, author_id=people["anna"].id, body="Nota"))
    db.session.commit()
    services.edit_debate(debate, people["anna"], title="Nuovo titolo", body="Nuovo testo")
    db.session.commit()
    assert debate.title == "Nuovo titolo" and debate.edited_at is not None
    with pytest.raises(PermissionDenied):
        services.edit_debate(debate, people["bea"], title="Mio", body="Mio")
    db.session.add(Comment(target_type="debate", target_id=debate.id, author_id=people["bea"].id, body="Ciao"))
    db.session.commit()
    assert not services.can_edit(debate, people["anna"])
    with pytest.raises(IllegalTransition):
        services.edit_debate(debate, people["anna"], title="Troppo tardi", body="Troppo tardi")


def test_the_list_hides_hidden_debates_filters_and_sorts(people, places):
    quiet = open_debate(people["anna"], places, title="Silenziosa")
    lively = open_debate(people["anna"], title="Vivace")
    hidden = open_debate(people["anna"], title="Nascosta")
    lively.comment_count, hidden.hidden_at = 5, utcnow()
    db.session.commit()
    titles = lambda query: [d.title for d in db.session.scalars(query)]  # noqa: E731
    assert titles(services.public_debates()) == ["Vivace", "Silenziosa"]
    assert titles(services.public_debates("comments")) == ["Vivace", "Silenziosa"]
    lively.comment_count = 0
    quiet.comment_count = 2
    db.session.commit()
    assert titles(services.public_debates("comments")) == ["Silenziosa", "Vivace"]
    assert titles(services.public_debates(category_id=places["category"])) == ["Silenziosa"]
    assert titles(services.public_debates(district_id=places["districts"][1])) == []


def test_flags_on_a_debate_but_not_ones_own(people):
    debate = open_debate(people["anna"])
    services.flag_debate(debate, people["bea"], "off_topic")
    with pytest.raises(DomainError):
        services.flag_debate(debate, people["anna"], "spam")
    db.session.commit()
    assert [(f.target_type, f.user_id) for f in db.session.scalars(select(Flag))] == [("debate", people["bea"].id)]


def test_turning_into_a_proposal_makes_a_draft_once_and_audits_it(people, places):
    process = build_process(phases=COLLECTING)
    debate = open_debate(people["anna"], places)
    proposal = services.convert_to_proposal(debate, people["anna"], process.id)
    db.session.commit()
    assert (proposal.status, proposal.process_id, proposal.author_id) == (
        ProposalStatus.draft, process.id, people["anna"].id)
    assert (proposal.title, proposal.body, proposal.category_id, proposal.district_id) == (
        debate.title, debate.body, places["category"], places["districts"][0])
    assert db.session.get(Debate, debate.id).proposal_id == proposal.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "debate.converted"))
    assert (event.target_type, event.target_id, event.details["proposal"]) == ("debate", debate.id, proposal.id)
    with pytest.raises(IllegalTransition):
        services.convert_to_proposal(debate, people["anna"], process.id)
    assert len(db.session.scalars(select(Proposal)).all()) == 1
    assert services.origin_of(proposal.id).id == debate.id


def test_only_the_author_converts_and_only_into_a_collecting_process(people):
    collecting, supporting = build_process(phases=COLLECTING), build_process(phases=SUPPORTING)
    debate = open_debate(people["anna"])
    with pytest.raises(PermissionDenied):
        services.convert_to_proposal(debate, people["bea"], collecting.id)
    for process_id in (supporting.id, None, 424242):
        with pytest.raises(DomainError) as caught:
            services.convert_to_proposal(debate, people["anna"], process_id)
        assert caught.value.details["field"] == "process_id"
    assert [p.id for p in services.open_processes()] == [collecting.id]
    assert debate.proposal_id is None and db.session.scalars(select(Proposal)).all() == []


def test_a_district_process_refuses_a_debate_about_another_district(people, places):
    process = build_process(phases=COLLECTING)
    process.district_id = places["districts"][1]
    db.session.commit()
    debate = open_debate(people["anna"], places)
    with pytest.raises(DomainError) as caught:
        services.convert_to_proposal(debate, people["anna"], process.id)
    assert caught.value.details["field"] == "process_id"


def test_a_category_the_process_does_not_take_is_left_for_the_author_to_choose(people, places):
    process = build_process(phases=COLLECTING)
    other = Category(slug="mobilita", name_it="Mobilità", name_en="Mobility")
    db.session.add(other)
    process.categories = [other]
    db.session.commit()
    proposal = services.convert_to_proposal(open_debate(people["anna"], places), people["anna"], process.id)
    assert proposal.category_id is None
