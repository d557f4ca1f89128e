"""The review office over HTTP: the queue (scoping, ordering, ageing, tabs), the review form
(draft → under review, publish → accepted/rejected, errors keep the values), the public partial."""
from collections import Counter
from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Notification, User
from app.models.base import utcnow
from app.models.proposal import Process, Proposal, ProposalReview, ProposalStatus
from app.proposals import services as proposal_services
from app.reviews import services
from tests.conftest import login, refetch
from tests.test_proposals import new_proposal
from tests.test_reviews import build_world, complete_input, make_people

P = ProposalStatus

FULL_FORM = {
    "technical": "feasible", "technical_notes": "Marciapiede largo abbastanza.",
    "legal": "feasible", "legal_notes": "", "economic": "with_changes", "economic_notes": "Con fondi 2027.",
    "estimated_cost": "12.500,50", "execution_starts_on": "2027-03-01", "execution_ends_on": "2027-09-30",
    "public_answer": "La proposta è **fattibile**.", "outcome": "accepted",
    "motivation": "Costo sostenibile nel bilancio del verde.",
}


@pytest.fixture
def world(app, make_user):
    ids = make_people(make_user)
    with app.app_context():
        built = build_world(ids)
    users = {name: refetch(app, User, i) for name, i in ids.items()}
    return {**built, **users, "ids": ids}


def panel_html(app, proposal_id, viewer=None, lang="en"):
    """The public partial (the lead includes it in the proposal page), as ``viewer`` sees it."""
    from flask_login import login_user

    with app.test_request_context(f"/?lang={lang}"):
        if viewer is not None:
            login_user(db.session.get(User, viewer.id))
        html = render_template_string('{% include "reviews/_on_proposal.html" %}',
                                      proposal=db.session.get(Proposal, proposal_id))
        db.session.remove()
        return html


def proposal_row(app, proposal_id):
    return refetch(app, Proposal, proposal_id)


# --- the queue ---------------------------------------------------------------------------------

@pytest.fixture
def queue_world(app, world):
    """Besides the parks proposal (threshold 10 days ago): a roads one, an unrouted one 70 days
    old, a parks one 40 days old, a published one below threshold and an accepted project."""
    with app.app_context():
        process = db.session.get(Process, world["process"])
        author = db.session.get(User, world["ids"]["author"])
        now = utcnow()

        def crossed(title, department, days):
            proposal = new_proposal(process, author, title=title)
            proposal_services._move(proposal, P.threshold_reached)
            proposal.department_id, proposal.threshold_reached_at = department, now - timedelta(days=days)
            return proposal

        main = db.session.get(Proposal, world["proposal"])
        main.threshold_reached_at = now - timedelta(days=10)
        crossed("Strada per Roads", world["roads"], 80)
        crossed("Senza ufficio", None, 70)
        crossed("Parco vecchio", world["parks"], 40)
        new_proposal(process, author, title="Sotto soglia")
        project = crossed("Progetto avviato", world["parks"], 90)
        proposal_services._move(project, P.under_review)
        proposal_services._move(project, P.accepted)
        db.session.commit()
    return world


def titles_in(page, titles):
    return [t for t in titles if t in page]


def test_the_queue_shows_the_officials_departments_and_unrouted_proposals_oldest_first(client, queue_world):
    login(client, queue_world["official_a"])
    page = client.get("/office/proposals?lang=en").text
    order = ["Senza ufficio", "Parco vecchio", "Più alberi in via Nizza"]
    assert titles_in(page, order + ["Strada per Roads", "Sotto soglia", "Progetto avviato"]) == order
    assert [page.index(t) for t in order] == sorted(page.index(t) for t in order)
    assert page.count('class="age-overdue"') == 1 and page.count('class="age-warn"') == 1


def test_an_official_without_departments_sees_only_unrouted_proposals(client, queue_world):
    login(client, queue_world["official_none"])
    page = client.get("/office/proposals?lang=en").text
    assert titles_in(page, ["Senza ufficio", "Parco vecchio", "Strada per Roads", "Più alberi in via Nizza"]) \
        == ["Senza ufficio"]


def test_the_queue_filters_by_status_and_process_and_has_a_projects_tab(client, queue_world):
    login(client, queue_world["official_a"])
    projects = client.get("/office/proposals?status=projects&lang=en").text
    assert "Progetto avviato" in projects and "Parco vecchio" not in projects
    under = client.get("/office/proposals?status=under_review").text
    assert "Parco vecchio" not in under and "Nothing waits" not in client.get("/office/proposals?status=x").text
    assert "Parco vecchio" not in client.get("/office/proposals?process=no-such&status=in_execution").text
    with client.application.app_context():
        slug = db.session.get(Process, queue_world["process"]).slug
    assert "Parco vecchio" in client.get(f"/office/proposals?process={slug}").text


def test_admins_are_not_officials(client, world):
    login(client, world["admin"])
    assert client.get("/office/proposals").status_code == 403
    assert client.get(f"/office/proposals/{world['proposal']}/review").status_code == 403


# --- the review form ----------------------------------------------------------------------------

def test_an_official_of_another_department_is_refused(client, world):
    login(client, world["official_b"])
    url = f"/office/proposals/{world['proposal']}/review"
    assert client.get(url).status_code == 403
    assert client.post(url, data={**FULL_FORM, "save": "1"}).status_code == 403


def test_a_proposal_below_its_threshold_has_no_review_form(app, client, world):
    with app.app_context():
        process = db.session.get(Process, world["process"])
        below = new_proposal(process, db.session.get(User, world["ids"]["author"]), title="Sotto soglia").id
    login(client, world["official_a"])
    response = client.get(f"/office/proposals/{below}/review")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/proposals/{below}")
    assert client.get("/office/proposals/999999/review").status_code == 404


def test_saving_a_draft_puts_the_proposal_under_review_and_shows_nothing_publicly(app, client, world):
    login(client, world["official_a"])
    url = f"/office/proposals/{world['proposal']}/review"
    form = client.get(url + "?lang=en")
    assert form.status_code == 200 and "<option selected value=\"%d\">" % world["parks"] in form.text
    response = client.post(url, data={**FULL_FORM, "save": "Save draft"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert proposal_row(app, world["proposal"]).status == P.under_review
    with app.app_context():
        review = db.session.scalar(select(ProposalReview))
        assert review.published_at is None and review.estimated_cost_cents == 1250050
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal_review.saved")) is not None
    page = client.get(url + "?lang=en").text
    assert "Draft last saved" in page and "Costo sostenibile nel bilancio del verde." in page
    assert "12,500.50" in page  # the saved cost, in the reader's format
    public = panel_html(app, world["proposal"])
    assert "Costo sostenibile" not in public and "fattibile" not in public
    assert "the City is studying its feasibility" in public and "Parks" in public
    assert "/review" not in public  # no office link for visitors
    assert f"/office/proposals/{world['proposal']}/review" in panel_html(app, world["proposal"], world["official_a"])


def test_publishing_accepts_tells_supporters_once_and_is_audited(app, client, world):
    login(client, world["official_a"])
    pid = world["proposal"]
    response = client.post(f"/office/proposals/{pid}/review", data={**FULL_FORM, "publish": "Publish"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/proposals/{pid}")
    assert proposal_row(app, pid).status == P.accepted
    with app.app_context():
        told = Counter(db.session.scalars(select(Notification.user_id).where(
            Notification.kind == "proposal.review_accepted")))
        assert told == Counter({world[n].id: 1 for n in ("author", "s1", "s2", "follower", "coauthor")})
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert {"proposal.under_review", "proposal.accepted", "proposal_review.published"} <= set(actions)
        review = db.session.scalar(select(ProposalReview))
        assert review.published_by_id == world["official_a"].id
    public = panel_html(app, pid)
    assert "<strong>fattibile</strong>" in public and "Costo sostenibile nel bilancio del verde." in public
    assert "€12,500.50" in public and "feasible with changes" in public and "Parks" in public
    assert "Progress: 0%" in public
    assert "12.500,50\xa0€" in panel_html(app, pid, lang="it")  # money in the reader's locale
    # Frozen: the office sees it read-only, and a new POST changes nothing.
    frozen = client.get(f"/office/proposals/{pid}/review?lang=en")
    assert "can no longer change" in frozen.text and "<form method=\"post\" class=\"review-form\"" not in frozen.text
    client.post(f"/office/proposals/{pid}/review", data={**FULL_FORM, "motivation": "Altro", "save": "1"})
    with app.app_context():
        assert db.session.scalar(select(ProposalReview.motivation)) == FULL_FORM["motivation"]


def test_a_rejection_shows_its_motivation_publicly(app, client, world):
    login(client, world["official_a"])
    data = {**FULL_FORM, "legal": "not_feasible", "outcome": "rejected",
            "motivation": "L'area è vincolata dalla Soprintendenza.", "publish": "1"}
    client.post(f"/office/proposals/{world['proposal']}/review", data=data)
    assert proposal_row(app, world["proposal"]).status == P.rejected
    public = panel_html(app, world["proposal"])
    assert "not accepted" in public and "area è vincolata dalla Soprintendenza." in public
    assert "The project" not in public


def test_publishing_an_incomplete_review_keeps_everything_typed(app, client, world):
    login(client, world["official_a"])
    data = {**FULL_FORM, "motivation": "", "technical": "", "publish": "1"}
    page = client.post(f"/office/proposals/{world['proposal']}/review?lang=en", data=data)
    assert page.status_code == 200
    assert "Explain the outcome." in page.text and "Choose the assessment." in page.text
    assert "Marciapiede largo abbastanza." in page.text and 'value="12.500,50"' in page.text
    assert proposal_row(app, world["proposal"]).status == P.threshold_reached


@pytest.mark.parametrize("cost, message", [("-300", "cannot be negative"), ("dodici", "for example 12.500,50")])
def test_a_bad_cost_is_explained(app, client, world, cost, message):
    login(client, world["official_a"])
    page = client.post(f"/office/proposals/{world['proposal']}/review?lang=en",
                       data={**FULL_FORM, "estimated_cost": cost, "save": "1"})
    assert page.status_code == 200 and message in page.text
    with app.app_context():
        assert db.session.scalar(select(ProposalReview)) is None


def test_an_end_before_the_start_is_explained(client, world):
    login(client, world["official_a"])
    page = client.post(f"/office/proposals/{world['proposal']}/review?lang=en",
                       data={**FULL_FORM, "execution_ends_on": "2027-01-01", "save": "1"})
    assert page.status_code == 200 and "must come after its start" in page.text


def test_handing_over_to_another_department_sends_the_official_back_to_the_queue(app, client, world):
    login(client, world["official_a"])
    response = client.post(f"/office/proposals/{world['proposal']}/review",
                           data={**FULL_FORM, "department_id": str(world["roads"]), "save": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/office/proposals")
    assert proposal_row(app, world["proposal"]).department_id == world["roads"]
    login(client, world["official_b"])
    assert client.get(f"/office/proposals/{world['proposal']}/review").status_code == 200


def test_services_and_http_agree_on_the_review_being_private_until_published(app, world):
    with app.app_context():
        services.save_draft(world["proposal"], db.session.get(User, world["ids"]["official_a"]), complete_input())
        db.session.commit()
    assert "Costo sostenibile" not in panel_html(app, world["proposal"], world["author"])
