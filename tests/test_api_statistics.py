"""JSON API v1: getStatistics and getStatisticsChart — the dashboard's figures, the department
filter for officials' and admins' tokens only."""
import pytest

from app.models import Role
from app.models.base import utcnow
from app.statistics import services
from tests.test_api_proposals import bearer, token_for
from tests.test_statistics_services import NOW, build_world


@pytest.fixture
def world(app, make_user):
    return build_world(app, make_user, shift=utcnow() - NOW)


def _figures(app, name, department=None, locale="it"):
    with app.app_context():
        return services.chart(name, services.scope(department, locale=locale))


def test_every_chart_of_the_page_is_in_the_api(client, app, world):
    body = client.get("/api/v1/statistics").get_json()
    assert body["department"] is None and body["licence"] == "CC BY 4.0"
    assert set(body["charts"]) == set(services.CHARTS)
    for name in services.CHARTS:
        assert body["charts"][name] == _figures(app, name)
        one = client.get(f"/api/v1/statistics/{name}").get_json()
        assert one["chart"] == name and one["data"] == _figures(app, name)
    assert client.get("/api/v1/statistics/supporters").status_code == 404


def test_names_follow_the_language_asked_for(client, app, world):
    english = client.get("/api/v1/statistics/categories", headers={"Accept-Language": "en"}).get_json()
    assert english["data"] == _figures(app, "categories", locale="en")


def test_an_officials_token_filters_by_department_and_nobody_elses_does(client, app, world, make_user):
    official = make_user(roles=[Role.official])
    citizen = make_user()
    url = f"/api/v1/statistics/participation?department={world.dept_a}"
    filtered = client.get(url, headers=bearer(token_for(app, official))).get_json()
    assert filtered["department"]["id"] == world.dept_a
    assert filtered["data"] == _figures(app, "participation", department=world.dept_a)
    assert filtered["data"]["totals"]["reports"] == 4
    whole = _figures(app, "participation")
    for headers in ({}, bearer(token_for(app, citizen))):
        ignored = client.get(url, headers=headers).get_json()
        assert ignored["department"] is None and ignored["data"] == whole
