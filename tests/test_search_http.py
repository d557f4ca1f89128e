"""The search page over HTTP: the empty form, results with marked words and links, both languages,
visibility, escaping, hostile query strings and parameters, "more results", and the header box."""
import re

import pytest

from app.models.base import utcnow
from app.models.pact import PactStatus
from app.models.proposal import ProposalStatus
from app.models.report import ReportStatus
from app.search.services import PAGE_SIZE
from app.search.text import MAX_QUERY_CHARS
from tests.http_helpers import english
from tests.test_search import HOSTILE, a_debate, a_house, a_pact, a_proposal, a_report


@pytest.fixture
def place(app):
    from app.extensions import db
    from app.models.place import Category, District

    with app.app_context():
        districts = [District(number=n, name=f"Circoscrizione {n}", geometry="{}") for n in (1, 2)]
        category = Category(slug="illuminazione", name_it="Illuminazione", name_en="Lighting")
        db.session.add_all([*districts, category])
        db.session.commit()
        return {"d1": districts[0].id, "d2": districts[1].id, "category": category.id}


def build(app, builder, *args, **kwargs):
    """Run a builder in a short application context; returns the new row's id."""
    with app.app_context():
        return builder(*args, **kwargs).id


def results_of(response):
    """The result links of a search page, in order."""
    block = response.text.split('class="search-results"', 1)
    if len(block) < 2:
        return []
    return re.findall(r'<h2 class="item-title"><a href="([^"]+)">', block[1].split("</ol>", 1)[0])


def test_an_empty_query_shows_the_empty_form(client, place):
    response = client.get("/search")
    assert response.status_code == 200
    assert 'id="s-q"' in response.text and 'role="search"' in response.text
    assert "search-results" not in response.text and 'role="status"' not in response.text


def test_results_link_to_their_pages_with_the_matched_words_marked_in_italian(app, client, place):
    report_id = build(app, a_report, place, title="Lampione spento in città")
    debate_id = build(app, a_debate, title="La città di notte")
    house_id = build(app, a_house, name="Casa di Quartiere Vallette")
    response = client.get("/search", query_string={"q": "citta"})
    assert response.status_code == 200 and 'lang="it"' in response.text
    assert "<h1>Cerca</h1>" in response.text
    assert set(results_of(response)) == {f"/reports/{report_id}", f"/debates/{debate_id}"}
    assert "<mark>città</mark>" in response.text  # the original spelling, marked
    assert "search-kind-report" in response.text and "search-kind-debate" in response.text
    assert house_id  # a house does not match "citta"


def test_the_page_speaks_english_with_lang_en(app, client, place):
    build(app, a_report, place, title="Lampione spento")
    response = client.get("/search?q=lampione&lang=en")
    assert 'lang="en"' in response.text and "<h1>Search</h1>" in response.text
    assert ">Report</span>" in response.text and "most relevant first" in response.text


def test_hidden_draft_and_private_items_are_not_on_the_page(app, client, place):
    public_id = build(app, a_report, place, title="Fontanella guasta")
    build(app, a_report, place, title="Fontanella guasta nascosta", hidden_at=utcnow())
    build(app, a_proposal, title="Fontanella in bozza", status=ProposalStatus.draft)
    build(app, a_pact, title="Fontanella del patto in esame", status=PactStatus.submitted)
    response = english(client).get("/search?q=fontanella")
    assert results_of(response) == [f"/reports/{public_id}"]
    for private in ("nascosta", "bozza", "in esame"):
        assert private not in response.text


def test_titles_and_snippets_are_escaped(app, client, place):
    build(app, a_report, place, title="<script>alert(1)</script> lampione",
          description="<img src=x onerror=alert(2)> lampione rotto")
    response = client.get("/search?q=lampione")
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>lampione</mark>" in response.text
    assert "&lt;img src=x onerror=alert(2)&gt; <mark>lampione</mark> rotto" in response.text


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_strings_never_fail(app, client, place, query):
    if query == HOSTILE[0]:
        build(app, a_report, place, title="Lampione spento in città")
    response = client.get("/search", query_string={"q": query})
    # A NUL character is refused by the whole app (app/http.py) with a 400; nothing is ever a 500.
    assert response.status_code == (400 if "\x00" in query else 200)


def test_a_very_long_query_is_capped(client, place):
    response = client.get("/search", query_string={"q": "lampione " * 1000})
    assert response.status_code == 200
    value = re.search(r'id="s-q" name="q" value="([^"]*)"', response.text).group(1)
    assert 0 < len(value) <= MAX_QUERY_CHARS


@pytest.mark.parametrize("args", [
    {"kind": "nothing"}, {"kind": "user"}, {"district": "abc"}, {"district": "99999999999999999999"},
    {"district": "-1"}, {"status": "draft"}, {"status": "proposal-draft"}, {"status": "report-open", "kind": "house"},
    {"page": "abc"}, {"page": "-5"}, {"page": "99999999999999999999"}, {"q": ["a", "b"]}])
def test_bad_parameters_are_ignored(client, place, args):
    query = {"q": "lampione", **args}
    assert client.get("/search", query_string=query).status_code == 200


def test_filters_narrow_the_results(app, client, place):
    open_id = build(app, a_report, place, title="Marciapiede rotto", district_id=place["d1"])
    fixed_id = build(app, a_report, place, title="Marciapiede sistemato", district_id=place["d2"],
                     status=ReportStatus.resolved)
    debate_id = build(app, a_debate, title="Marciapiede largo?", district_id=place["d2"])

    def links(**args):
        return set(results_of(client.get("/search", query_string={"q": "marciapiede", **args})))

    assert links(kind="report") == {f"/reports/{open_id}", f"/reports/{fixed_id}"}
    assert links(district=place["d2"]) == {f"/reports/{fixed_id}", f"/debates/{debate_id}"}
    assert links(status="report-fixed") == {f"/reports/{fixed_id}"}
    assert links(status="report-open", district=place["d2"]) == set()
    page = client.get("/search", query_string={"q": "marciapiede", "status": "report-fixed"}).text
    assert '<option value="report-fixed" selected>' in page and '<option value="report" selected>' in page


def test_more_results_keep_the_query_and_filters(app, client, place):
    with app.app_context():
        for i in range(PAGE_SIZE + 3):
            a_debate(title=f"Lampioni spenti {i}", district_id=place["d1"])
    first = english(client).get("/search", query_string={"q": "lampioni", "district": place["d1"]})
    assert len(results_of(first)) == PAGE_SIZE
    more = re.search(r'<a class="button button-secondary" href="([^"]+)" rel="next">More results</a>', first.text)
    assert more, first.text
    url = more.group(1).replace("&amp;", "&")
    assert "q=lampioni" in url and f"district={place['d1']}" in url and "page=2" in url
    second = client.get(url)
    assert len(results_of(second)) == 3 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert 'start="21"' in second.text


def test_nothing_found_says_so(client, place):
    response = english(client).get("/search?q=zanzibar")
    assert "Nothing public matches “zanzibar”." in response.text and results_of(response) == []
    punctuation = client.get("/search?q=%21%3F")
    assert "Write at least one word" in punctuation.text


def test_every_page_has_the_search_box_in_its_header_but_the_search_page(client, place):
    home = client.get("/")
    box = re.search(r'<form class="header-search" role="search" method="get" action="/search">(.*?)</form>',
                    home.text, re.S)
    assert box and 'name="q"' in box.group(1) and '<label for="header-q"' in box.group(1)
    assert 'id="header-q"' in client.get("/reports").text
    assert 'id="header-q"' not in client.get("/search?q=x").text
