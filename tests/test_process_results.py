"""Public pages of the processes: the list with the current phase, and a process's results counted
against the database (drafts and hidden proposals never count)."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal, ProposalReview, ProposalStatus
from app.proposals import services as proposal_services
from app.reviews import services
from tests.test_proposals import build_process, new_proposal
from tests.test_reviews import build_world, complete_input, make_people

P = ProposalStatus
DAY = timedelta(days=1)


@pytest.fixture
def results_world(app, make_user):
    """One proposal in every state, a hidden one and a draft, supports and two published reviews."""
    ids = make_people(make_user)
    with app.app_context():
        built = build_world(ids)  # "Più alberi in via Nizza": threshold reached, 2 supports
        official = db.session.get(User, ids["official_a"])
        author = db.session.get(User, ids["author"])
        process = db.session.get(Process, built["process"])

        def moved(title, *steps, supports=0, progress=0):
            proposal = new_proposal(process, author, title=title)
            for step in steps:
                proposal_services._move(proposal, step)
            proposal.support_count, proposal.progress = supports, progress
            return proposal

        crossed = (P.threshold_reached, P.under_review)
        moved("Rifiutata", *crossed, P.rejected, supports=5)
        moved("Accettata", *crossed, P.accepted, supports=7)
        moved("In corso", *crossed, P.accepted, P.in_execution, supports=9, progress=40)
        moved("Completata", *crossed, P.accepted, P.in_execution, P.completed, supports=11, progress=100)
        moved("In raccolta", supports=1)
        moved("Scaduta", P.expired)
        moved("Ritirata", P.withdrawn)
        new_proposal(process, author, publish=False, title="Bozza")
        hidden = moved("Oscurata", *crossed, P.accepted, supports=50)
        hidden.hidden_at = utcnow()
        db.session.commit()
        # Two published reviews (one draft does not count): the parks proposal and a second crossed one.
        services.publish_review(built["proposal"], official, complete_input())
        second = moved("Seconda valutata", P.threshold_reached, supports=3)
        second.department_id = built["parks"]
        db.session.commit()
        services.publish_review(second.id, official, complete_input(outcome="rejected"))
        third = moved("Bozza di valutazione", P.threshold_reached, supports=4)
        db.session.commit()
        services.save_draft(third.id, official, complete_input())
        db.session.commit()
        other = build_process(threshold=2)  # another process: nothing of it counts here
        new_proposal(other, author, title="Altro processo")
        return {"slug": process.slug, "process": process.id}


def test_results_match_the_database(app, results_world):
    with app.app_context():
        process = db.session.get(Process, results_world["process"])
        results = services.process_results(process)
        visible = (Proposal.process_id == process.id, Proposal.status != P.draft, Proposal.hidden_at.is_(None))
        assert results.published == db.session.scalar(select(func.count(Proposal.id)).where(*visible)) == 10
        assert results.supports == db.session.scalar(select(func.sum(Proposal.support_count)).where(*visible))
        assert results.past_threshold == 7
        assert results.reviewed == db.session.scalar(select(func.count(ProposalReview.id)).where(
            ProposalReview.published_at.is_not(None))) == 2
        assert (results.accepted, results.rejected, results.in_execution, results.completed) == (4, 2, 1, 1)
        assert [p.title for p in results.projects] == ["Completata", "In corso", "Accettata",
                                                       "Più alberi in via Nizza"]


def test_the_process_page_shows_rules_phases_results_and_projects(client, results_world):
    page = client.get(f"/processes/{results_world['slug']}?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "Bilancio partecipativo" in text and "The whole city" in text and "all categories" in text
    assert "2 supports" in text and "unlimited" in text and "verified citizens" in text
    assert 'aria-current="step"' in text and "Now: Support collection." in text
    assert f"/proposals?process={results_world['slug']}" in text
    assert "<dt>proposals published</dt><dd>10</dd>" in text and "<dt>reviews published</dt><dd>2</dd>" in text
    assert 'value="40"' in text and "Completata" in text and "Oscurata" not in text and "Rifiutata" not in text


def test_an_unknown_process_is_404(client):
    assert client.get("/processes/no-such-process").status_code == 404


def test_the_process_list_marks_the_current_phase_or_closed(app, client):
    with app.app_context():
        now = utcnow()
        build_process()  # support phase now
        closed = Process(slug=f"chiuso-{uuid.uuid4().hex[:6]}", title="Round chiuso", support_threshold=100)
        closed.phases.append(ProcessPhase(kind=PhaseKind.collection, starts_at=now - 90 * DAY,
                                          ends_at=now - 60 * DAY))
        db.session.add(closed)
        db.session.commit()
    page = client.get("/processes?lang=en").text
    assert "Now: Support collection" in page and "Round chiuso" in page and "Closed" in page
    assert page.count('aria-current="step"') == 1


def test_no_processes_is_said_plainly(client):
    assert "There are no participatory processes yet." in client.get("/processes?lang=en").text
