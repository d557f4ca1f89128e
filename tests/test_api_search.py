"""JSON API v1: searchAll — accents, visibility, filters, escaping, paging and bad parameters."""
import pytest

from app.extensions import db
from app.models.base import utcnow
from app.models.pact import PactStatus
from app.models.place import District
from app.models.proposal import ProposalStatus
from app.models.report import ReportStatus
from tests.test_search import HOSTILE, a_debate, a_pact, a_proposal, a_report
from tests.test_search_http import build, place  # noqa: F401  (fixture)


def _kinds_and_ids(body):
    return {(r["kind"], r["id"]) for r in body["results"]}


def test_search_finds_italian_words_with_or_without_accents(app, client, place):  # noqa: F811
    report_id = build(app, a_report, place, title="Lampione spento in città")
    debate_id = build(app, a_debate, title="Perché il mercato chiude presto?")
    for words in ("citta", "città", "CITTÀ"):
        body = client.get("/api/v1/search", query_string={"q": words}).get_json()
        assert _kinds_and_ids(body) == {("report", report_id)}
        assert body["results"][0]["url"].endswith(f"/reports/{report_id}")
        assert "<mark>città</mark>" in body["results"][0]["title_html"]
    assert _kinds_and_ids(client.get("/api/v1/search?q=perche").get_json()) == {("debate", debate_id)}


def test_search_never_finds_hidden_draft_or_private_items(app, client, place):  # noqa: F811
    public_id = build(app, a_report, place, title="Fontanella guasta")
    build(app, a_report, place, title="Fontanella nascosta", hidden_at=utcnow())
    build(app, a_proposal, title="Fontanella in bozza", status=ProposalStatus.draft)
    build(app, a_pact, title="Fontanella del patto in esame", status=PactStatus.submitted)
    response = client.get("/api/v1/search?q=fontanella")
    assert _kinds_and_ids(response.get_json()) == {("report", public_id)}
    for private in (b"nascosta", b"bozza", b"in esame"):
        assert private not in response.data


def test_filters_by_kind_status_and_district_number(app, client, place):  # noqa: F811
    open_id = build(app, a_report, place, title="Panchina rotta")
    fixed_id = build(app, a_report, place, title="Panchina riparata", status=ReportStatus.resolved,
                     district_id=place["d2"])
    debate_id = build(app, a_debate, title="Panchine per tutti")
    assert _kinds_and_ids(client.get("/api/v1/search?q=panchin&kind=debate").get_json()) == {("debate", debate_id)}
    assert _kinds_and_ids(client.get("/api/v1/search?q=panchina&status=report-fixed").get_json()) == \
        {("report", fixed_id)}
    with app.app_context():
        number = db.session.get(District, place["d1"]).number
    body = client.get(f"/api/v1/search?q=panchina&district={number}").get_json()
    assert _kinds_and_ids(body) == {("report", open_id)}
    assert body["results"][0]["district"] == {"number": number, "name": f"Circoscrizione {number}"}


def test_titles_are_escaped_in_the_html_forms(app, client, place):  # noqa: F811
    build(app, a_report, place, title="<script>alert(1)</script> lampione")
    result = client.get("/api/v1/search?q=lampione").get_json()["results"][0]
    assert result["title"].startswith("<script>")
    assert "<script>" not in result["title_html"] and "&lt;script&gt;" in result["title_html"]


def test_pages_of_results(app, client, place):  # noqa: F811
    for n in range(23):
        build(app, a_report, place, title=f"Buca numero {n}")
    first = client.get("/api/v1/search?q=buca").get_json()
    assert len(first["results"]) == 20 and first["next_page"] == 2
    second = client.get("/api/v1/search?q=buca&page=2").get_json()
    assert len(second["results"]) == 3 and second["next_page"] is None
    assert not _kinds_and_ids(first) & _kinds_and_ids(second)


@pytest.mark.parametrize("args, field", [("kind=photo", "kind"), ("status=proposal-draft", "status"),
                                         ("kind=debate&status=report-open", "status"), ("district=99", "district"),
                                         ("page=0", "page"), ("page=11", "page"), ("page=x", "page")])
def test_bad_parameters_are_validation_errors(client, place, args, field):  # noqa: F811
    response = client.get(f"/api/v1/search?q=x&{args}")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


@pytest.mark.parametrize("query", [q for q in HOSTILE if "\x00" not in q])
def test_hostile_query_strings_never_fail(client, place, query):  # noqa: F811
    response = client.get("/api/v1/search", query_string={"q": query})
    assert response.status_code == 200 and isinstance(response.get_json()["results"], list)


def test_an_empty_query_finds_nothing(client, place):  # noqa: F811
    assert client.get("/api/v1/search").get_json() == {"query": "", "results": [], "page": 1, "next_page": None}
