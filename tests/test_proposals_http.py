"""Proposal pages over HTTP: the public list and page, supporting and withdrawing through the forms."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.place import Category, District
from app.models.proposal import Proposal, ProposalAddendum, Support
from app.proposals import services
from app.seed.demo import seed_places
from tests.test_proposals import build_process, new_proposal

DAY = timedelta(days=1)


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        return {"districts": [d.id for d in db.session.scalars(select(District).order_by(District.number))],
                "categories": [c.id for c in db.session.scalars(select(Category).order_by(Category.id))]}


@pytest.fixture
def world(app, make_user, city):
    """A process in its support phase, with a published, a draft and a hidden proposal."""
    author = make_user(verified=True, display_name="Autrice Segreta")
    with app.app_context():
        process = build_process(threshold=5)
        author_row = db.session.get(User, author.id)
        published = new_proposal(process, author_row, title="Più alberi in via Nizza")
        published.body = "Primo paragrafo.\n\nSecondo paragrafo."
        published.district_id = city["districts"][0]
        published.category_id = city["categories"][0]
        db.session.add(ProposalAddendum(proposal_id=published.id, body="Una nota aggiunta."))
        draft = new_proposal(process, author_row, publish=False, title="Bozza nascosta")
        hidden = new_proposal(process, author_row, title="Proposta oscurata")
        hidden.hidden_at = utcnow()
        db.session.commit()
        return {"process": process.slug, "published": published.id, "draft": draft.id, "hidden": hidden.id,
                "district": city["districts"][0], "other_district": city["districts"][1],
                "category": city["categories"][0]}


def _count(app, proposal_id):
    with app.app_context():
        return db.session.get(Proposal, proposal_id).support_count


def test_list_shows_only_visible_proposals(client, world):
    page = client.get("/proposals?lang=en")
    assert page.status_code == 200
    assert "Più alberi in via Nizza" in page.text
    assert "Bozza nascosta" not in page.text and "Proposta oscurata" not in page.text
    assert "0 supports of 5" in page.text and "Bilancio partecipativo" in page.text
    assert "collecting supports" in page.text


def test_list_filters(client, world):
    def titles(query):
        return "Più alberi in via Nizza" in client.get(f"/proposals?lang=en&{query}").text

    assert titles(f"process={world['process']}")
    assert titles("process=nothing-else")  # unknown slugs are ignored, not errors
    assert titles("status=published") and not titles("status=expired")
    assert titles(f"district={world['district']}") and not titles(f"district={world['other_district']}")
    assert titles(f"category={world['category']}") and not titles(f"category={world['category'] + 1000}")
    assert client.get("/proposals?status=draft&district=abc&category=99999999999&page=x").status_code == 200
    assert "Bozza nascosta" not in client.get("/proposals?status=draft").text


def test_detail_shows_text_addenda_and_the_support_bar(client, world):
    page = client.get(f"/proposals/{world['published']}?lang=en")
    assert page.status_code == 200
    assert "<p>Primo paragrafo.</p>\n<p>Secondo paragrafo.</p>" in page.text  # Markdown, sanitised
    assert "Una nota aggiunta." in page.text
    assert "<progress" in page.text and 'aria-label="Supports collected"' in page.text
    assert "0 supports of 5" in page.text
    assert "Sign in to support" in page.text


def test_drafts_and_missing_proposals_are_not_found_hidden_ones_show_a_notice(client, world):
    assert client.get(f"/proposals/{world['draft']}").status_code == 404
    assert client.get("/proposals/999999").status_code == 404
    hidden = client.get(f"/proposals/{world['hidden']}")
    assert hidden.status_code == 200 and "data-moderation-notice" in hidden.text


def test_support_through_the_form_then_withdraw(app, client, make_user, login_as, world):
    login_as(make_user(verified=True))
    pid = world["published"]
    assert ">Support</button>" in client.get(f"/proposals/{pid}?lang=en").text
    response = client.post(f"/proposals/{pid}/support?lang=en", follow_redirects=True)
    assert "Thank you for your support." in response.text
    assert _count(app, pid) == 1
    assert "Withdraw my support" in response.text and ">Support</button>" not in response.text
    assert "1 support of 5" in response.text
    # Supporting again changes nothing.
    client.post(f"/proposals/{pid}/support")
    assert _count(app, pid) == 1
    response = client.post(f"/proposals/{pid}/withdraw-support?lang=en", follow_redirects=True)
    assert "Your support was withdrawn." in response.text
    assert _count(app, pid) == 0
    assert ">Support</button>" in response.text


def test_unverified_citizen_gets_an_explanation_and_is_refused(app, client, make_user, login_as, world):
    login_as(make_user(verified=False))
    pid = world["published"]
    page = client.get(f"/proposals/{pid}?lang=en").text
    assert "Casa del Quartiere" in page and ">Support</button>" not in page
    response = client.post(f"/proposals/{pid}/support?lang=en", follow_redirects=True)
    assert "flash-error" in response.text and "verified account" in response.text
    assert _count(app, pid) == 0


def test_outside_the_support_phase_there_is_no_button_and_posts_are_refused(app, client, make_user, login_as,
                                                                              city):
    author = make_user(verified=True)
    with app.app_context():
        process = build_process(threshold=5, phases={"collection": (-40 * DAY, -30 * DAY),
                                                     "support": (-1 * DAY, 30 * DAY)})
        proposal = new_proposal(process, db.session.get(User, author.id))
        # Then the support phase closes (the review starts).
        for phase in process.phases:
            if phase.kind.value == "support":
                phase.starts_at, phase.ends_at = utcnow() - 30 * DAY, utcnow() - DAY
        db.session.commit()
        pid = proposal.id
    login_as(make_user(verified=True))
    page = client.get(f"/proposals/{pid}?lang=en").text
    assert ">Support</button>" not in page
    # Reading the page after the window closed expired it (below its threshold): no scheduler needed.
    assert "status-expired" in page
    response = client.post(f"/proposals/{pid}/support?lang=en", follow_redirects=True)
    assert "flash-error" in response.text and "not collecting supports" in response.text
    assert _count(app, pid) == 0
    response = client.post(f"/proposals/{pid}/withdraw-support?lang=en", follow_redirects=True)
    assert "flash-error" in response.text


def test_visitors_are_sent_to_sign_in(app, client, world):
    pid = world["published"]
    for path in (f"/proposals/{pid}/support", f"/proposals/{pid}/withdraw-support"):
        response = client.post(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _count(app, pid) == 0


def test_posts_for_drafts_and_hidden_proposals_are_not_found(app, client, make_user, login_as, world):
    login_as(make_user(verified=True))
    for key in ("draft", "hidden"):
        assert client.post(f"/proposals/{world[key]}/support").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Support.id)) is None


def test_the_page_never_lists_supporters(app, client, make_user, login_as, world):
    pid = world["published"]
    fan = make_user(verified=True, display_name="Sostenitore Riservato")
    with app.app_context():
        services.support(db.session.get(User, fan.id), pid)
        db.session.commit()
    for viewer in (None, make_user(verified=True)):
        login_as(viewer)
        page = client.get(f"/proposals/{pid}?lang=en").text
        assert "1 support of 5" in page
        assert "Sostenitore Riservato" not in page and fan.email not in page
        assert "You support this proposal." not in page
    assert "Sostenitore Riservato" not in client.get("/proposals?lang=en").text


def test_published_proposals_with_a_point_are_on_the_map_drafts_and_hidden_are_not(app, client, make_user):
    from datetime import timedelta

    from app.models.base import utcnow
    from app.models.proposal import Proposal, ProposalStatus
    from app.models.user import User
    from tests.test_proposals import build_process

    author = make_user()
    now = utcnow()
    with app.app_context():
        process = build_process(phases={"support": (now - timedelta(days=1), now + timedelta(days=9))})
        rows = {}
        for name, status, hidden in (("visible", ProposalStatus.published, None),
                                     ("draft", ProposalStatus.draft, None),
                                     ("hidden", ProposalStatus.published, now)):
            proposal = Proposal(process_id=process.id, author_id=db.session.get(User, author.id).id,
                                title=f"Proposta {name}", body="Testo.", status=status, lat=45.045, lon=7.678,
                                hidden_at=hidden)
            db.session.add(proposal)
            db.session.flush()
            rows[name] = proposal.id
        db.session.commit()
    data = client.get("/api/v1/map/features?bbox=7.67,45.04,7.69,45.05&zoom=17&layers=proposals").get_json()
    titles = [f["properties"]["title"] for f in data["features"]]
    assert titles == ["Proposta visible"]
    feature = data["features"][0]
    assert feature["geometry"]["coordinates"] == [7.678, 45.045]
    assert feature["properties"]["url"] == f"/proposals/{rows['visible']}"
