"""Execution tracking: an accepted proposal becomes a project with milestones and public updates
(photos included) until it is completed; the transitions, the progress bounds, who is told."""
import io
from collections import Counter
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Notification, User
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied
from app.models.photo import Photo
from app.models.proposal import ProjectMilestone, Proposal, ProposalStatus
from app.reviews import services
from tests.conftest import login
from tests.test_reviews import build_world, complete_input, kinds_by_user, make_people

P = ProposalStatus


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 160, 60)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def accepted(app_ctx, make_user):
    """A proposal accepted by official_a (parks); returns the world with users loaded."""
    ids = make_people(make_user)
    built = build_world(ids)
    people = {name: db.session.get(User, i) for name, i in ids.items()}
    services.publish_review(built["proposal"], people["official_a"], complete_input())
    db.session.commit()
    return {**built, **people}


def proposal_of(world):
    return db.session.get(Proposal, world["proposal"])


# --- updates and transitions ------------------------------------------------------------------

def test_the_first_update_starts_the_execution_and_later_ones_do_not_move_it(accepted):
    official = accepted["official_a"]
    services.add_update(accepted["proposal"], official, "Gara d'appalto pubblicata.", 10)
    db.session.commit()
    assert proposal_of(accepted).status == P.in_execution and proposal_of(accepted).progress == 10
    services.add_update(accepted["proposal"], official, "Lavori iniziati.", 40)
    db.session.commit()
    proposal = proposal_of(accepted)
    assert proposal.status == P.in_execution and proposal.progress == 40
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions.count("proposal.in_execution") == 1 and actions.count("project_update.published") == 2


def test_each_update_tells_supporters_followers_and_authors_once(accepted):
    services.add_update(accepted["proposal"], accepted["official_a"], "Lavori iniziati.", 30)
    db.session.commit()
    told = {accepted[n].id for n in ("author", "s1", "s2", "follower", "coauthor")}
    assert kinds_by_user("proposal.project_update") == Counter({uid: 1 for uid in told})
    note = db.session.scalar(select(Notification).where(Notification.kind == "proposal.project_update"))
    assert note.params == {"title": proposal_of(accepted).title, "progress": 30}
    from flask_babel import force_locale

    from app.notifications.services import message_for

    with force_locale("en"):
        assert message_for(note) == f"News on the proposal “{note.params['title']}”: the project is at 30%."


def test_completing_sets_full_progress_and_freezes_the_project(accepted):
    official = accepted["official_a"]
    services.add_update(accepted["proposal"], official, "Lavori iniziati.", 50)
    services.complete(accepted["proposal"], official, "Alberi piantati.")
    db.session.commit()
    proposal = proposal_of(accepted)
    assert proposal.status == P.completed and proposal.progress == 100
    assert proposal.project_updates[-1].progress == 100
    assert len(kinds_by_user("proposal.project_completed")) == 5
    for action in (lambda: services.add_update(proposal.id, official, "Ancora", 100),
                   lambda: services.complete(proposal.id, official, "Di nuovo"),
                   lambda: services.add_milestone(proposal.id, official, "Tardi")):
        with pytest.raises(IllegalTransition):
            action()
        db.session.rollback()


def test_an_accepted_proposal_can_be_completed_in_one_step(accepted):
    services.complete(accepted["proposal"], accepted["official_a"], "Fatto in una settimana.")
    db.session.commit()
    assert proposal_of(accepted).status == P.completed


def test_only_accepted_proposals_have_a_project(app_ctx, make_user):
    ids = make_people(make_user)
    built = build_world(ids)
    official = db.session.get(User, ids["official_a"])
    with pytest.raises(IllegalTransition):
        services.add_update(built["proposal"], official, "Troppo presto", 10)
    db.session.rollback()
    services.publish_review(built["proposal"], official, complete_input(outcome="rejected"))
    db.session.commit()
    with pytest.raises(IllegalTransition):
        services.add_update(built["proposal"], official, "Respinta", 10)


@pytest.mark.parametrize("progress", [-1, 101, None, "50"])
def test_progress_is_a_percentage(accepted, progress):
    with pytest.raises(DomainError) as refused:
        services.add_update(accepted["proposal"], accepted["official_a"], "Testo", progress)
    assert refused.value.details["field"] == "progress"


def test_an_update_needs_a_text(accepted):
    with pytest.raises(DomainError) as refused:
        services.add_update(accepted["proposal"], accepted["official_a"], "   ", 20)
    assert refused.value.details["field"] == "body"


def test_progress_may_go_back_and_the_step_back_is_kept(accepted):
    official = accepted["official_a"]
    services.add_update(accepted["proposal"], official, "Quasi finito.", 80)
    services.add_update(accepted["proposal"], official, "Un lotto va rifatto.", 60)
    db.session.commit()
    newest, older = services.updates_of(proposal_of(accepted))
    assert (newest.update.progress, newest.previous) == (60, 80)
    assert (older.update.progress, older.previous) == (80, 0)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "project_update.published")
                               .order_by(AuditEvent.seq)).all()[-1]
    assert event.details["previous"] == 80 and event.details["progress"] == 60


def test_other_departments_cannot_touch_the_project(accepted):
    for name in ("official_b", "official_none", "admin", "author"):
        with pytest.raises(PermissionDenied):
            services.add_update(accepted["proposal"], accepted[name], "Non mio", 10)
        db.session.rollback()
        with pytest.raises(PermissionDenied):
            services.add_milestone(accepted["proposal"], accepted[name], "Non mio")
        db.session.rollback()


def test_photos_of_an_update_are_stored_and_bad_ones_refuse_the_whole_update(accepted):
    update = services.add_update(accepted["proposal"], accepted["official_a"], "Foto del cantiere.", 20,
                                 photos=[io.BytesIO(jpeg())])
    db.session.commit()
    assert [p.owner_id for p in db.session.scalars(select(Photo).where(Photo.owner_type == "project_update"))] \
        == [update.id]
    with pytest.raises(DomainError):
        services.add_update(accepted["proposal"], accepted["official_a"], "Un file sbagliato.", 30,
                            photos=[io.BytesIO(b"not an image at all")])
    db.session.rollback()
    assert len(proposal_of(accepted).project_updates) == 1


# --- milestones ---------------------------------------------------------------------------------

def test_milestones_are_added_in_order_done_with_a_date_and_removed_while_open(accepted):
    official = accepted["official_a"]
    first = services.add_milestone(accepted["proposal"], official, "Progetto esecutivo")
    second = services.add_milestone(accepted["proposal"], official, "Cantiere", due_on=services.today())
    db.session.commit()
    assert [m.title for m in proposal_of(accepted).milestones] == ["Progetto esecutivo", "Cantiere"]
    yesterday = services.today() - timedelta(days=1)
    services.mark_milestone_done(accepted["proposal"], first.id, official, yesterday)
    db.session.commit()
    assert first.done_on == yesterday
    with pytest.raises(DomainError):
        services.remove_milestone(accepted["proposal"], first.id, official)
    with pytest.raises(DomainError):
        services.mark_milestone_done(accepted["proposal"], first.id, official)
    services.remove_milestone(accepted["proposal"], second.id, official)
    db.session.commit()
    assert [m.id for m in db.session.scalars(select(ProjectMilestone))] == [first.id]
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == "project_milestone").order_by(AuditEvent.seq))]
    assert actions == ["project_milestone.added", "project_milestone.added", "project_milestone.done",
                       "project_milestone.removed"]


def test_a_milestone_cannot_be_done_in_the_future_or_belong_to_another_proposal(accepted):
    official = accepted["official_a"]
    milestone = services.add_milestone(accepted["proposal"], official, "Collaudo")
    db.session.commit()
    with pytest.raises(DomainError):
        services.mark_milestone_done(accepted["proposal"], milestone.id, official,
                                     services.today() + timedelta(days=1))
    with pytest.raises(NotFound):
        services.mark_milestone_done(accepted["proposal"], milestone.id + 1000, official)
    with pytest.raises(DomainError) as refused:
        services.add_milestone(accepted["proposal"], official, "  ")
    assert refused.value.details["field"] == "title"


# --- over HTTP ----------------------------------------------------------------------------------

@pytest.fixture
def accepted_http(app, make_user):
    ids = make_people(make_user)
    with app.app_context():
        built = build_world(ids)
        services.publish_review(built["proposal"], db.session.get(User, ids["official_a"]), complete_input())
        db.session.commit()
    officials = {name: _detached(app, ids[name]) for name in ("official_a", "official_b")}
    return {**built, **officials, "ids": ids}


def _detached(app, user_id):
    from tests.conftest import refetch

    return refetch(app, User, user_id)


def _panel_html(app, proposal_id):
    """The public partial as a visitor sees it (the lead includes it in the proposal page)."""
    from flask import render_template_string

    with app.test_request_context("/"):
        proposal = db.session.get(Proposal, proposal_id)
        html = render_template_string('{% include "reviews/_on_proposal.html" %}', proposal=proposal)
        db.session.remove()
        return html


def test_the_project_page_is_for_the_departments_officials(app, client, accepted_http):
    url = f"/office/proposals/{accepted_http['proposal']}/project?lang=en"
    login(client, accepted_http["official_b"])
    assert client.get(url).status_code == 403
    login(client, accepted_http["official_a"])
    page = client.get(url)
    assert page.status_code == 200 and "Publish an update" in page.text and "Progress: 0%" in page.text


def test_an_update_with_a_photo_over_http_shows_on_the_public_partial(app, client, accepted_http):
    login(client, accepted_http["official_a"])
    pid = accepted_http["proposal"]
    response = client.post(f"/office/proposals/{pid}/project/updates", data={
        "up-body": "Primi **dieci** alberi piantati.", "up-progress": "35",
        "up-photos": [(io.BytesIO(jpeg()), "cantiere.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/office/proposals/{pid}/project")
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        assert proposal.status == P.in_execution and proposal.progress == 35
        photo = db.session.scalar(select(Photo).where(Photo.owner_type == "project_update"))
        thumb = photo.thumb_key
    html = _panel_html(app, pid)
    assert "<strong>dieci</strong>" in html and thumb in html
    assert 'max="100" value="35"' in html
    client.post("/logout")
    assert client.get(f"/media/{thumb}").status_code == 200  # public, like the proposal


def test_a_bad_update_keeps_what_was_typed(app, client, accepted_http):
    login(client, accepted_http["official_a"])
    pid = accepted_http["proposal"]
    page = client.post(f"/office/proposals/{pid}/project/updates?lang=en",
                       data={"up-body": "Testo da non perdere", "up-progress": "140"})
    assert page.status_code == 200 and "Testo da non perdere" in page.text
    assert "Number must be between 0 and 100" in page.text
    with app.app_context():
        assert db.session.get(Proposal, pid).status == P.accepted


def test_milestones_and_completion_over_http(app, client, accepted_http):
    login(client, accepted_http["official_a"])
    pid = accepted_http["proposal"]
    base = f"/office/proposals/{pid}/project"
    assert client.post(f"{base}/milestones", data={"ms-title": "Progetto", "ms-due_on": "2027-01-31"}
                       ).status_code == 302
    with app.app_context():
        milestone_id = db.session.scalar(select(ProjectMilestone.id))
    assert client.post(f"{base}/milestones/{milestone_id}/done", data={"done_on": ""}).status_code == 302
    assert client.post(f"{base}/milestones/{milestone_id + 99}/done", data={}).status_code == 404
    assert client.post(f"{base}/complete", data={"co-body": "Tutto fatto."}).status_code == 302
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        assert proposal.status == P.completed and proposal.progress == 100
        assert proposal.milestones[0].done_on is not None
    html = _panel_html(app, pid)
    assert "Progetto" in html and "Tutto fatto." in html
    page = client.get(base + "?lang=en")
    assert "The project is completed" in page.text and "Publish an update" not in page.text
