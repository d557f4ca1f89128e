"""/statistics over HTTP: the page in both languages with its charts and tables, the CSV and JSON downloads
(equal to the services' figures), and the department filter — officials' and admins' only; anyone else's
``?department=`` is ignored and changes nothing."""
import csv
import io
import re

import pytest
from defusedxml import ElementTree as SafeET

from app.models import Role
from app.models.base import utcnow
from app.statistics import services
from tests.test_statistics_services import NOW, build_world

SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.S)


@pytest.fixture
def world(app, make_user):
    # The known world, moved next to the real clock (everything stays in the past).
    return build_world(app, make_user, shift=utcnow() - NOW)


def _figures(app, name, department=None, locale="it"):
    with app.app_context():
        return services.chart(name, services.scope(department, locale=locale))


def _main(html):
    return re.search(r"<main\b.*?</main>", html, re.S).group(0)


@pytest.mark.parametrize("lang,heading", [("it", "<h1>"), ("en", "Participation in numbers")])
def test_the_page_shows_every_chart_as_svg_with_a_table(client, world, lang, heading):
    response = client.get(f"/statistics?lang={lang}")
    assert response.status_code == 200
    html = response.text
    assert heading in html
    assert f'<html lang="{lang}"' in html
    for section in ("participation", "districts", "categories", "funnel", "resolution", "pacts", "houses"):
        assert f'id="{section}"' in html
    svgs = SVG_BLOCK.findall(html)
    assert len(svgs) >= 11  # five months charts, the map, categories, funnel, resolution, pacts, houses ×2
    for svg in svgs:
        root = SafeET.fromstring(svg)
        assert root.get("role") == "img" and root.get("aria-labelledby")
    # A table twin (or a folded table) for every chart, captioned.
    assert html.count("<caption>") == len(services.CHARTS)
    for name in services.CHARTS:
        assert f"/statistics/{name}.csv" in html and f"/statistics/{name}.json" in html


def test_the_page_keeps_to_the_content_security_policy(client, world):
    response = client.get("/statistics")
    html = response.text
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert " style=" not in html
    assert all('src="' in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "unpkg.com" not in html or "integrity=" in html


def test_the_numbers_on_the_page_are_the_services_figures(client, app, world):
    html = client.get("/statistics?lang=en").text
    figures = _figures(app, "districts", locale="en")
    one = next(d for d in figures["districts"] if d["number"] == 1)
    row = re.search(r'<tr id="district-1">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells == [str(one[k]) for k in (*services.KINDS, "total")]
    funnel = re.search(r'id="funnel-data">(.*?)</details>', html, re.S).group(1)
    assert re.search(r'data-step="published">.*?<td[^>]*>11</td>', funnel, re.S)
    assert re.search(r'data-step="completed">.*?<td[^>]*>2</td>.*?18.2%', funnel, re.S)


@pytest.mark.parametrize("name", services.CHARTS)
def test_csv_downloads_parse_and_match_the_services(client, app, world, name):
    response = client.get(f"/statistics/{name}.csv?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f'filename="piazza-statistiche-{name}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    columns, expected = services.table(name, _figures(app, name, locale="en"))
    assert rows[0] == columns
    assert rows[1:] == [["" if v is None else str(v) for v in row] for row in expected]


@pytest.mark.parametrize("name", services.CHARTS)
def test_json_downloads_parse_and_match_the_services(client, app, world, name):
    response = client.get(f"/statistics/{name}.json")
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    assert body["chart"] == name and body["department"] is None
    assert body["months"]["timezone"] == "Europe/Rome"
    assert body["data"] == _figures(app, name)


def test_visitors_downloads_may_be_cached_signed_in_ones_not(client, world, make_user, login_as):
    response = client.get("/statistics/participation.csv")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]
    login_as(make_user(roles=[Role.official]))
    assert client.get("/statistics/participation.json").headers["Cache-Control"] == "private, no-store"


def test_an_unknown_chart_is_not_found(client):
    assert client.get("/statistics/supporters.csv").status_code == 404
    assert client.get("/statistics/participation.xml").status_code == 404


def test_officials_filter_by_department(client, app, world, make_user, login_as):
    login_as(make_user(roles=[Role.official]))
    html = client.get(f"/statistics?lang=en&department={world.dept_a}").text
    assert 'id="stats-filter"' in html and 'id="stats-filtered"' in html
    assert re.search(rf'<option value="{world.dept_a}" selected>', html)
    assert f"/statistics/participation.csv?department={world.dept_a}" in html
    assert "not filtered by department" in html
    body = client.get(f"/statistics/participation.json?department={world.dept_a}").get_json()
    assert body["department"]["id"] == world.dept_a
    assert body["data"] == _figures(app, "participation", department=world.dept_a)
    assert body["data"]["totals"]["reports"] == 4  # department A's four reports of the twelve months
    response = client.get(f"/statistics/funnel.csv?department={world.dept_a}")
    assert "-" in response.headers["Content-Disposition"].split("funnel", 1)[1]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1] == ["published", "2", "100.0"]


def test_admins_filter_too_and_an_unknown_department_means_the_whole_city(client, app, world, make_user, login_as):
    login_as(make_user(roles=[Role.admin]))
    filtered = client.get(f"/statistics/funnel.json?department={world.dept_b}").get_json()
    assert filtered["data"]["steps"][0]["proposals"] == 9
    unknown = client.get("/statistics/funnel.json?department=99999").get_json()
    assert unknown["department"] is None and unknown["data"]["steps"][0]["proposals"] == 11
    assert client.get("/statistics?department=not-a-number").status_code == 200


@pytest.mark.parametrize("role", ["visitor", "citizen", "verified", "facilitator", "moderator"])
def test_anyone_elses_department_parameter_is_ignored(client, app, world, user_for, login_as, role):
    login_as(user_for(role))
    for name in services.CHARTS:
        plain = client.get(f"/statistics/{name}.csv").data
        asked = client.get(f"/statistics/{name}.csv?department={world.dept_a}").data
        assert plain == asked, name
        body = client.get(f"/statistics/{name}.json?department={world.dept_a}").get_json()
        assert body["department"] is None and body["data"] == _figures(app, name)
    page = client.get(f"/statistics?department={world.dept_a}").text
    assert 'id="stats-filter"' not in page and 'id="stats-filtered"' not in page
    assert _main(page) == _main(client.get("/statistics").text)


def test_the_map_can_be_coloured_by_another_measure(client, world):
    html = client.get("/statistics?lang=en&measure=supports").text
    assert re.search(r'id="measure-supports" value="supports" checked', html)
    assert 'data-measure="supports"' in html
    assert "Districts coloured by supports" in html
    fallback = client.get("/statistics?lang=en&measure=who-supported").text
    assert re.search(r'id="measure-total" value="total" checked', fallback)


def test_no_name_or_address_of_anyone_appears(client, app, world, make_user):
    person = make_user(roles=[Role.citizen], verified=True, display_name="Ottavia Riservatissima",
                       email="ottavia.riservata@example.org")
    outputs = [client.get("/statistics").text, client.get("/statistics?lang=en").text]
    outputs += [client.get(f"/statistics/{n}.{ext}").text for n in services.CHARTS for ext in ("csv", "json")]
    for text in outputs:
        assert person.display_name not in text and person.email not in text
        assert "@example.org" not in text


def test_an_empty_database_shows_no_data_pictures(client):
    html = client.get("/statistics?lang=en").text
    assert "chart-no-data" in html
    for svg in SVG_BLOCK.findall(html):
        SafeET.fromstring(svg)
    assert client.get("/statistics/resolution.csv").status_code == 200


def test_the_footer_links_to_the_dashboard(client):
    assert 'href="/statistics"' in client.get("/").text


def test_the_monthly_table_shows_each_months_own_figures(client, app, world):
    page = client.get("/statistics?lang=en").text
    html = page[page.index('id="participation"'):page.index('id="districts"')]
    figures = _figures(app, "participation", locale="en")
    rows = dict(re.findall(r'<tr data-month="([0-9-]+)">(.*?)</tr>', html, re.S))
    assert list(rows) == figures["months"]
    for i, month in enumerate(figures["months"]):
        cells = [c.replace(",", "") for c in re.findall(r"<td [^>]*>([^<]*)</td>", rows[month])]
        assert cells == [str(figures["series"][kind][i]) for kind in services.KINDS], month
    assert len({tuple(re.findall(r"<td [^>]*>([^<]*)</td>", r)) for r in rows.values()}) > 1
