"""Writing proposals over HTTP: the new and edit pages, drafts, publishing, addenda, withdrawing,
co-author invitations, flags, "my proposals", similar titles and the list's sorts and filters."""
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.models import User
from app.models.photo import Photo
from app.models.place import Category, District
from app.models.proposal import Proposal, ProposalAddendum, ProposalCoauthor, ProposalStatus, Support
from app.models.report import Flag
from app.proposals import authoring, services
from app.seed.demo import seed_places
from tests.conftest import refetch
from tests.test_proposals import build_process, new_proposal

P = ProposalStatus
DAY = timedelta(days=1)
#: Collection open now, supports afterwards.
COLLECTING = {"collection": (-DAY, DAY), "support": (DAY, 10 * DAY)}


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        district = db.session.scalar(select(District).where(District.number == 1))
        point = next(s for s in geo.districts() if s.id == district.id).shape.representative_point()
        return {"district": district.id, "point": (round(point.y, 6), round(point.x, 6)),
                "category": db.session.scalar(select(Category.id).order_by(Category.id))}


@pytest.fixture
def collecting(app, city):
    with app.app_context():
        return build_process(phases=COLLECTING).slug


def _process_id(app, slug):
    from app.models.proposal import Process

    with app.app_context():
        return db.session.scalar(select(Process.id).where(Process.slug == slug))


def _jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 30)).save(buf, "JPEG")
    return buf.getvalue()


def _form(app, city, slug, **overrides):
    data = {"process_id": _process_id(app, slug), "title": "Panchine in piazza", "body": "Tre **panchine**.",
            "category_id": city["category"], "district_id": 0, "lat": "", "lon": "", "coauthors": ""}
    data.update(overrides)
    return data


def _draft(app, author, process_slug=None, title="Una bozza", phases=None):
    """A draft of ``author`` in a new process (collecting now unless told); returns its id."""
    with app.app_context():
        process = build_process(phases=phases or COLLECTING)
        proposal = new_proposal(process, db.session.get(User, author.id), publish=False, title=title)
        return proposal.id


def _published(app, author, title="Più alberi", threshold=3):
    """A published proposal in a process collecting supports now; returns its id."""
    with app.app_context():
        return new_proposal(build_process(threshold=threshold), db.session.get(User, author.id), title=title).id


def _get(app, proposal_id):
    return refetch(app, Proposal, proposal_id)


# --- writing ----------------------------------------------------------------------------------

def test_create_a_draft_with_a_photo_and_a_point(app, client, make_user, login_as, city, collecting):
    author = login_as(make_user())
    page = client.get(f"/proposals/new?lang=en&process={collecting}")
    assert page.status_code == 200 and 'id="proposal-picker"' in page.text and "Images and HTML" in page.text
    lat, lon = city["point"]
    response = client.post("/proposals/new?lang=en", data={
        **_form(app, city, collecting, lat=str(lat), lon=str(lon)),
        "photos": [(io.BytesIO(_jpeg()), "panchina.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    proposal_id = int(re.search(r"/proposals/(\d+)$", response.headers["Location"]).group(1))
    proposal = _get(app, proposal_id)
    assert (proposal.status, proposal.author_id, proposal.lat, proposal.lon) == (P.draft, author.id, lat, lon)
    assert proposal.district_id == city["district"] and proposal.category_id == city["category"]
    with app.app_context():
        photo = db.session.scalar(select(Photo).where(Photo.owner_type == "proposal", Photo.owner_id == proposal_id))
    page = client.get(f"/proposals/{proposal_id}?lang=en")
    assert "This is a draft" in page.text and "<strong>panchine</strong>" in page.text
    assert 'id="report-map"' in page.text and photo.thumb_key in page.text
    assert client.get(f"/media/{photo.thumb_key}").status_code == 200  # the author sees their draft's photos
    login_as(make_user())
    assert client.get(f"/media/{photo.thumb_key}").status_code == 404  # nobody else does


@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "Give your proposal a title."),
    ({"body": "  "}, "Describe your proposal."),
    ({"category_id": 0}, "Choose a category."),
    ({"lat": "45.5", "lon": "8.2"}, "outside the city of Turin"),
    ({"coauthors": "ann@, bob@example.org"}, "is not an email address"),
])
def test_validation_errors_keep_what_was_typed(app, client, make_user, login_as, city, collecting, overrides,
                                               message):
    login_as(make_user())
    data = _form(app, city, collecting, title="Panchine in piazza Vittorio", body="Il mio testo lungo.")
    data.update(overrides)
    response = client.post("/proposals/new?lang=en", data=data)
    assert response.status_code == 200
    assert message in response.text and "error-summary" in response.text
    for key in ("title", "body"):
        if data[key].strip():
            assert data[key] in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_without_a_collecting_process_the_page_says_so(app, client, make_user, login_as, city):
    with app.app_context():
        build_process()  # its collection phase is over
    login_as(make_user())
    page = client.get("/proposals/new?lang=en")
    assert page.status_code == 200 and "No process is collecting proposals right now" in page.text
    assert "<form method=\"post\" enctype" not in page.text


def test_others_get_404_on_a_draft_the_author_and_invited_co_author_see_it(app, client, make_user, login_as):
    author, invitee, stranger = make_user(), make_user(email="ann@example.org"), make_user()
    draft_id = _draft(app, author)
    with app.app_context():
        authoring.invite(db.session.get(Proposal, draft_id), db.session.get(User, author.id), "ann@example.org")
        db.session.commit()
    assert client.get(f"/proposals/{draft_id}").status_code == 404  # visitor
    login_as(stranger)
    assert client.get(f"/proposals/{draft_id}").status_code == 404
    assert client.get(f"/proposals/{draft_id}/edit").status_code == 404
    assert client.post(f"/proposals/{draft_id}/publish").status_code == 404
    assert client.post(f"/proposals/{draft_id}/support").status_code == 404
    login_as(invitee)
    page = client.get(f"/proposals/{draft_id}?lang=en")
    assert page.status_code == 200 and "You are invited to co-author this proposal" in page.text
    login_as(author)
    assert "Delete the draft" in client.get(f"/proposals/{draft_id}?lang=en").text


def test_publish_in_the_collection_phase_and_refused_outside_it(app, client, make_user, login_as):
    author = login_as(make_user())
    open_id = _draft(app, author)
    closed_id = _draft(app, author, phases={"collection": (-20 * DAY, -10 * DAY), "support": (-10 * DAY, DAY)})
    response = client.post(f"/proposals/{open_id}/publish?lang=en", follow_redirects=True)
    assert "Your proposal is published" in response.text
    assert _get(app, open_id).status == P.published
    assert "Publish</button>" not in client.get(f"/proposals/{closed_id}?lang=en").text
    response = client.post(f"/proposals/{closed_id}/publish?lang=en", follow_redirects=True)
    assert "flash-error" in response.text and "collects them" in response.text
    assert _get(app, closed_id).status == P.draft


def test_edit_until_the_first_support_then_the_addendum_form(app, client, make_user, login_as, city):
    author, fan = make_user(), make_user(verified=True)
    proposal_id = _published(app, author)
    login_as(author)
    page = client.get(f"/proposals/{proposal_id}/edit?lang=en")
    assert page.status_code == 200 and 'value="Più alberi"' in page.text
    response = client.post(f"/proposals/{proposal_id}/edit?lang=en",
                           data={"title": "Più alberi e panchine", "body": "Nuovo testo.",
                                 "category_id": city["category"], "district_id": city["district"]})
    assert response.status_code == 302
    proposal = _get(app, proposal_id)
    assert (proposal.title, proposal.body, proposal.district_id) == ("Più alberi e panchine", "Nuovo testo.",
                                                                     city["district"])
    with app.app_context():
        services.support(db.session.get(User, fan.id), proposal_id)
        db.session.commit()
    page = client.get(f"/proposals/{proposal_id}/edit?lang=en")
    assert "Add an addendum" in page.text and 'name="title"' not in page.text
    client.post(f"/proposals/{proposal_id}/edit", data={"title": "Cambiato", "body": "Cambiato",
                                                        "category_id": city["category"]})
    assert _get(app, proposal_id).title == "Più alberi e panchine"
    response = client.post(f"/proposals/{proposal_id}/addenda?lang=en", data={"ad-body": "Anche *fontanelle*."},
                           follow_redirects=True)
    assert "Your addendum is published." in response.text and "<em>fontanelle</em>" in response.text
    with app.app_context():
        assert db.session.scalars(select(ProposalAddendum.body)).all() == ["Anche *fontanelle*."]


def test_strangers_cannot_edit_or_add_addenda(app, client, make_user, login_as):
    proposal_id = _published(app, make_user())
    login_as(make_user())
    assert client.get(f"/proposals/{proposal_id}/edit").status_code == 403
    response = client.post(f"/proposals/{proposal_id}/addenda?lang=en", data={"ad-body": "Non mia."},
                           follow_redirects=True)
    assert "flash-error" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(ProposalAddendum.id))) == 0


def test_withdraw_with_a_reason_and_delete_a_draft(app, client, make_user, login_as):
    author = login_as(make_user())
    proposal_id, draft_id = _published(app, author), _draft(app, author)
    response = client.post(f"/proposals/{proposal_id}/withdraw?lang=en",
                           data={"wd-reason": "Unita alla proposta 12."}, follow_redirects=True)
    assert "Your proposal was withdrawn." in response.text and "Unita alla proposta 12." in response.text
    assert _get(app, proposal_id).status == P.withdrawn
    response = client.post(f"/proposals/{proposal_id}/withdraw?lang=en", follow_redirects=True)
    assert "flash-error" in response.text
    response = client.post(f"/proposals/{draft_id}/delete?lang=en", follow_redirects=True)
    assert "The draft was deleted." in response.text and _get(app, draft_id) is None
    # A published proposal is withdrawn, never deleted.
    assert "flash-error" in client.post(f"/proposals/{proposal_id}/delete", follow_redirects=True).text


# --- co-authors -----------------------------------------------------------------------------------

def test_invitations_say_the_same_then_accept_and_decline_on_my_proposals(app, client, make_user, login_as):
    author, ann, bob = make_user(), make_user(email="ann@example.org", display_name="Ann Rossi"), \
        make_user(email="bob@example.org")
    proposal_id = _published(app, author)
    login_as(author)
    answers = [client.post(f"/proposals/{proposal_id}/coauthors?lang=en", data={"in-email": email},
                           follow_redirects=True).text for email in ("nobody@example.org", "ann@example.org",
                                                                    "bob@example.org")]
    assert all("If this address belongs to a citizen registered on Piazza" in a for a in answers)
    assert "Ann Rossi" not in answers[1]  # pending invitations are not shown to the author
    login_as(ann)
    mine = client.get("/proposals/mine?lang=en").text
    assert "Invitations to co-author" in mine and "Più alberi" in mine
    response = client.post(f"/proposals/{proposal_id}/invitation?lang=en",
                           data={"answer": "accept", "next": "/proposals/mine"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/proposals/mine")
    login_as(bob)
    client.post(f"/proposals/{proposal_id}/invitation", data={"answer": "decline"})
    assert client.post(f"/proposals/{proposal_id}/invitation", data={"answer": "maybe"}).status_code == 400
    page = client.get(f"/proposals/{proposal_id}?lang=en").text
    assert "with Ann Rossi" in page
    with app.app_context():
        rows = db.session.scalars(select(ProposalCoauthor)).all()
        assert [(r.user_id, r.accepted_at is not None) for r in rows] == [(ann.id, True)]
    login_as(author)
    client.post(f"/proposals/{proposal_id}/coauthors/{ann.id}/remove")
    with app.app_context():
        assert db.session.scalar(select(func.count(ProposalCoauthor.id))) == 0


# --- reading --------------------------------------------------------------------------------------

def test_flag_a_proposal(app, client, make_user, login_as):
    proposal_id = _published(app, make_user())
    flagger = login_as(make_user())
    response = client.post(f"/proposals/{proposal_id}/flag?lang=en",
                           data={"fl-reason": "spam", "fl-text": "Pubblicità."}, follow_redirects=True)
    assert "the moderators will look at it" in response.text
    with app.app_context():
        flag = db.session.scalar(select(Flag))
        assert (flag.target_type, flag.target_id, flag.user_id, flag.reason) == ("proposal", proposal_id,
                                                                                 flagger.id, "spam")
    response = client.post(f"/proposals/{proposal_id}/flag?lang=en", data={}, follow_redirects=True)
    assert "flash-error" in response.text


def test_my_proposals_shows_only_my_own_supports_with_withdraw_buttons(app, client, make_user, login_as):
    me, other = make_user(verified=True), make_user(verified=True)
    draft_id = _draft(app, me, title="La mia bozza")
    mine_id, supported_id = _published(app, me, title="La mia proposta"), _published(app, other, title="Sua")
    other_supported = _published(app, other, title="Sostenuta da altri")
    with app.app_context():
        services.support(db.session.get(User, me.id), supported_id)
        services.support(db.session.get(User, other.id), other_supported)
        db.session.commit()
    login_as(me)
    page = client.get("/proposals/mine?lang=en").text
    assert "La mia bozza" in page and "La mia proposta" in page and "Sua" in page
    assert "Sostenuta da altri" not in page
    assert page.count("Withdraw my support") == 1
    response = client.post(f"/proposals/{supported_id}/withdraw-support",
                           data={"next": "/proposals/mine"})
    assert response.headers["Location"].endswith("/proposals/mine")
    with app.app_context():
        assert db.session.scalar(select(Support.id).where(Support.user_id == me.id)) is None
    assert draft_id and mine_id


def test_similar_titles_as_json(app, client, make_user):
    author = make_user()
    trees = _published(app, author, title="Più alberi in via Nizza")
    _published(app, author, title="Pista ciclabile")
    data = client.get("/proposals/similar?q=Alberi+nuovi").get_json()
    assert [p["id"] for p in data["proposals"]] == [trees]
    assert data["proposals"][0]["url"] == f"/proposals/{trees}"
    assert client.get("/proposals/similar").get_json() == {"proposals": []}


def test_random_order_is_stable_per_visitor_and_pages_keep_the_sort(app, client, make_user):
    author = make_user()
    with app.app_context():
        process = build_process(threshold=100)
        for n in range(30):
            new_proposal(process, db.session.get(User, author.id), title=f"Proposta numero {n}")

    def titles(url):
        return re.findall(r"Proposta numero \d+", client.get(url).text)

    first = titles("/proposals?sort=random")
    assert len(first) == 25 and titles("/proposals?sort=random") == first
    page = client.get("/proposals?sort=random&close=1&lang=en").text
    assert "0 proposals match" in page
    page = client.get("/proposals?sort=random&lang=en").text
    assert "sort=random" in re.search(r'<nav class="pagination".*?</nav>', page, re.S).group(0)
    rest = titles("/proposals?sort=random&page=2")
    assert len(rest) == 5 and not set(rest) & set(first)


def test_reading_the_list_expires_what_missed_its_support_window(app, client, make_user):
    author = make_user()
    with app.app_context():
        process = build_process(phases={"collection": (-40 * DAY, -30 * DAY), "support": (-30 * DAY, -DAY)})
        stale = new_proposal(process, db.session.get(User, author.id), title="Scaduta").id
    page = client.get("/proposals?status=expired&lang=en").text
    assert "Scaduta" in page
    assert _get(app, stale).status == P.expired


def test_editing_removes_and_adds_photos_up_to_three(app, client, make_user, login_as, city, collecting):
    login_as(make_user())
    client.post("/proposals/new", data={**_form(app, city, collecting), "photos": [
        (io.BytesIO(_jpeg()), f"{n}.jpg") for n in range(3)]}, content_type="multipart/form-data")
    with app.app_context():
        proposal_id = db.session.scalar(select(Proposal.id))
        first = db.session.scalar(select(Photo.id).order_by(Photo.position))
    edit = {"title": "Panchine in piazza", "body": "Tre panchine.", "category_id": city["category"]}
    response = client.post(f"/proposals/{proposal_id}/edit?lang=en", data={
        **edit, "remove_photo": str(first), "photos": [(io.BytesIO(_jpeg()), f"{n}.jpg") for n in range(2)]},
        content_type="multipart/form-data")
    assert response.status_code == 200 and "at most 3 photos" in response.text
    with app.app_context():
        kept = db.session.get(Photo, first)
    assert client.get(f"/media/{kept.storage_key}").status_code == 200  # refused: nothing was removed
    response = client.post(f"/proposals/{proposal_id}/edit", data={
        **edit, "remove_photo": str(first), "photos": [(io.BytesIO(_jpeg()), "quarta.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        ids = db.session.scalars(select(Photo.id).where(Photo.owner_id == proposal_id)).all()
    assert len(ids) == 3 and first not in ids
