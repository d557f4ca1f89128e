"""Feeds: Atom and RSS 2.0 of new proposals, resolved reports and new pacts, for the city and per
district — valid XML (parsed with defusedxml), absolute links on BASE_URL, timestamps, language,
and only what the public pages show (the privacy sweep over every feed is in tests/test_opendata.py)."""
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from defusedxml import ElementTree
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models.base import utcnow
from app.models.proposal import Proposal
from app.seed.demo import seed_places
from tests.test_opendata import BASE_URL, FEED_NAMES, build_world

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture
def city(app):
    """Districts, houses and categories only: empty feeds."""
    with app.app_context():
        seed_places()
        db.session.commit()
    geo.clear_cache()
    yield
    geo.clear_cache()


@pytest.fixture
def open_world(app, make_user, monkeypatch):
    """The city of tests/test_opendata.py: public items in districts 1 and 8, and private ones beside them."""
    monkeypatch.setitem(app.config, "BASE_URL", BASE_URL)
    world = build_world(app, make_user)
    geo.clear_cache()
    yield world
    geo.clear_cache()


def atom(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ElementTree.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    return root


def rss(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.find("channel")


def atom_titles(root):
    return [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]


def rss_titles(channel):
    return [item.findtext("title") for item in channel.findall("item")]


def _rfc3339(text):
    assert text.endswith("Z"), text
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.utcoffset() == timedelta(0)
    return moment


# --- well-formed feeds ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", FEED_NAMES)
@pytest.mark.parametrize("district", [None, 8])
def test_every_atom_feed_is_valid_with_absolute_links_and_timestamps(client, open_world, name, district):
    url = f"/feeds/{name}.atom" + (f"?district={district}" if district else "")
    root = atom(client, url)
    assert root.get(XML_LANG) == "it"
    assert root.findtext(f"{ATOM}id") == BASE_URL + url
    assert root.findtext(f"{ATOM}title").endswith("· Piazza")
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Piazza"
    assert "CC BY 4.0" in root.findtext(f"{ATOM}rights")
    links = {link.get("rel") + ":" + link.get("type"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self:application/atom+xml"] == BASE_URL + url
    assert links["alternate:application/rss+xml"] == BASE_URL + url.replace(".atom", ".rss")
    assert links["alternate:text/html"].startswith(BASE_URL + "/")
    entries = root.findall(f"{ATOM}entry")
    assert entries, "the world has items for every feed in district 8"
    updated = [_rfc3339(e.findtext(f"{ATOM}updated")) for e in entries]
    assert _rfc3339(root.findtext(f"{ATOM}updated")) == max(updated)
    for entry in entries:
        link = entry.find(f"{ATOM}link").get("href")
        assert link.startswith(BASE_URL + "/") and entry.findtext(f"{ATOM}id") == link
        assert _rfc3339(entry.findtext(f"{ATOM}published")) <= _rfc3339(entry.findtext(f"{ATOM}updated"))
        assert entry.findtext(f"{ATOM}title")


@pytest.mark.parametrize("name", FEED_NAMES)
def test_every_rss_feed_is_valid_with_absolute_links_and_dates(client, open_world, name):
    channel = rss(client, f"/feeds/{name}.rss?district=8")
    assert channel.findtext("language") == "it"
    assert channel.findtext("title") and channel.findtext("description")
    assert channel.findtext("link").startswith(BASE_URL + "/")
    self_link = channel.find(f"{ATOM}link")
    assert self_link.get("rel") == "self" and self_link.get("href") == f"{BASE_URL}/feeds/{name}.rss?district=8"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")).utcoffset() == timedelta(0)
    items = channel.findall("item")
    assert items
    for item in items:
        assert item.findtext("link").startswith(BASE_URL + "/")
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "true" and guid.text == item.findtext("link")
        assert parsedate_to_datetime(item.findtext("pubDate")).utcoffset() == timedelta(0)


def test_the_language_follows_the_request(client, open_world):
    assert atom(client, "/feeds/proposals.atom?lang=en").get(XML_LANG) == "en"
    assert rss(client, "/feeds/proposals.rss?lang=en").findtext("language") == "en"
    root = atom(client, "/feeds/proposals.atom?lang=en&district=8")
    assert root.findtext(f"{ATOM}id") == f"{BASE_URL}/feeds/proposals.atom?district=8&lang=en"


# --- the right items --------------------------------------------------------------------------------

def test_new_proposals_per_district_and_never_drafts_or_hidden(client, open_world):
    everywhere = atom_titles(atom(client, "/feeds/proposals.atom"))
    assert sorted(everywhere) == ["Alberi in piazza Castello", "Biblioteca diffusa senza luogo",
                                  "Panchine in via Nizza"]
    assert atom_titles(atom(client, "/feeds/proposals.atom?district=8")) == ["Panchine in via Nizza"]
    assert rss_titles(rss(client, "/feeds/proposals.rss?district=1")) == ["Alberi in piazza Castello"]
    assert atom_titles(atom(client, "/feeds/proposals.atom?district=5")) == []
    entry = atom(client, "/feeds/proposals.atom?district=8").find(f"{ATOM}entry")
    terms = {c.get("term"): c.get("label") for c in entry.findall(f"{ATOM}category")}
    assert terms["district-8"].startswith("8 – ")
    assert entry.findtext(f"{ATOM}summary") == "Il testo di Panchine in via Nizza."


def test_new_proposals_come_newest_first(client, app, open_world):
    with app.app_context():
        for days, title in ((3, "Alberi in piazza Castello"), (1, "Biblioteca diffusa senza luogo"),
                            (2, "Panchine in via Nizza")):
            proposal = db.session.scalar(select(Proposal).where(Proposal.title == title))
            proposal.published_at = utcnow() - timedelta(days=days)
        db.session.commit()
    assert atom_titles(atom(client, "/feeds/proposals.atom")) == [
        "Biblioteca diffusa senza luogo", "Panchine in via Nizza", "Alberi in piazza Castello"]


def test_resolved_reports_are_the_fixed_and_closed_ones_newest_fix_first(client, open_world):
    assert atom_titles(atom(client, "/feeds/resolved-reports.atom")) == [
        "Buca risolta in piazza Castello", "Cestino svuotato in via Nizza"]
    assert rss_titles(rss(client, "/feeds/resolved-reports.rss?district=8")) == ["Cestino svuotato in via Nizza"]
    assert atom_titles(atom(client, "/feeds/resolved-reports.atom?district=1")) == ["Buca risolta in piazza Castello"]


def test_new_pacts_are_the_public_ones_per_district(client, open_world):
    titles = atom_titles(atom(client, "/feeds/pacts.atom?district=8"))
    assert sorted(titles) == ["Patto attivo del giardino", "Patto in consultazione"]
    assert atom_titles(atom(client, "/feeds/pacts.atom?district=1")) == []
    assert sorted(rss_titles(rss(client, "/feeds/pacts.rss"))) == sorted(titles)


# --- refusals, escaping, caching --------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/feeds/dragons.atom", "/feeds/users.rss", "/feeds/proposals.atom?district=99",
                                 "/feeds/proposals.rss?district=abc", "/feeds/pacts.atom?district=-1",
                                 "/feeds/pacts.atom?district=1e3"])
def test_unknown_feeds_and_districts_are_404(client, city, url):
    assert client.get(url).status_code == 404


def test_markup_and_control_characters_cannot_break_a_feed(client, app, open_world):
    with app.app_context():
        proposal = db.session.scalar(select(Proposal).where(Proposal.title == "Panchine in via Nizza"))
        proposal.title = "Bici & <b>piste</b>\x07 ]]> \"sì\""
        proposal.body = "Testo con \x01 e \x1b[31m e <script>alert(1)</script>"
        db.session.commit()
    for fmt in ("atom", "rss"):
        body = client.get(f"/feeds/proposals.{fmt}?district=8").data
        assert b"<script>" not in body and b"<b>" not in body
    entry = atom(client, "/feeds/proposals.atom?district=8").find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Bici & <b>piste</b> ]]> \"sì\""
    assert entry.findtext(f"{ATOM}summary") == "Testo con e [31m e <script>alert(1)</script>"
    assert rss_titles(rss(client, "/feeds/proposals.rss?district=8")) == ["Bici & <b>piste</b> ]]> \"sì\""]


def test_an_empty_feed_is_still_valid(client, city):
    root = atom(client, "/feeds/pacts.atom")
    assert root.findall(f"{ATOM}entry") == [] and _rfc3339(root.findtext(f"{ATOM}updated"))
    channel = rss(client, "/feeds/pacts.rss?district=3")
    assert channel.findall("item") == [] and channel.findtext("lastBuildDate")


def test_feeds_are_cacheable_and_readable_cross_origin(client, city):
    response = client.get("/feeds/proposals.atom")
    assert response.headers["Cache-Control"] == "public, max-age=600"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_list_pages_announce_their_feed(client, city):
    for page, feed in (("/proposals", "proposals"), ("/reports", "resolved-reports"), ("/pacts", "pacts")):
        html = client.get(page).get_data(as_text=True)
        assert f'<link rel="alternate" type="application/atom+xml" href="/feeds/{feed}.atom"' in html, page
