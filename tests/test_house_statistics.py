"""The houses in numbers (/houses/statistics): exact counts per house and Rome month, the share per district,
the same numbers as CSV and JSON, and never a name."""
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.assisted import statistics
from app.assisted.statistics import Window, month_starts, utc_start
from app.extensions import db
from app.models import Role
from app.models.base import utcnow
from app.models.assisted import SessionKind
from tests import assisted_builders as b

NAMES = ("Giovanna Senza Email", "Salvatore Senza Email", "Carla Cittadina", "Fabio Facilitatore",
         "Pietro Carta", "Anna Carta")


def _months(now=None):
    months = month_starts(now)
    return months[-1], months[-2]


@pytest.fixture
def world(app, make_user):
    """Two houses, two districts; sessions on both sides of a Rome month boundary; assisted and other participation."""
    where = b.places(app)
    facilitator = make_user(roles=[Role.facilitator], display_name="Fabio Facilitatore")
    carla = make_user(roles=[Role.citizen], verified=True, display_name="Carla Cittadina")
    (house_a, slug_a, _), (house_b, slug_b, _) = where.houses[0], where.houses[1]
    this_month, last_month = _months()
    boundary = utc_start(this_month)  # Rome midnight: still the previous day (and month) in UTC
    now = utcnow()
    with app.app_context():
        m1 = b.person("Giovanna Senza Email", boundary, claimed_after=timedelta(days=3))
        m2 = b.person("Salvatore Senza Email", boundary - timedelta(minutes=30))
        paper1 = b.person("Pietro Carta", boundary)
        paper2 = b.person("Anna Carta", boundary)
        proc = b.process()
        p1 = b.proposal(where, proc, 1, now - timedelta(days=40), author=carla)
        # House A, this month (30 minutes after Rome's midnight of the 1st): a new managed account...
        s1 = b.session(house_a, facilitator.id, boundary + timedelta(minutes=30), citizen=m1)
        b.account_created(s1)
        r1 = b.report(where, 1, s1.opened_at + timedelta(minutes=5), author=m1)
        b.action(s1, "report.created", "reports", r1.id)
        sp1 = b.support(p1, m1, s1.opened_at + timedelta(minutes=8))
        b.action(s1, "support.cast", "supports", sp1.id)
        # ... who comes back the same month (one person helped, two sessions).
        s2 = b.session(house_a, facilitator.id, boundary + timedelta(hours=2), citizen=m1)
        c1 = b.comment("report", r1.id, m1, s2.opened_at + timedelta(minutes=5))
        b.action(s2, "comment.created", "comments", c1.id)
        # House A, last month in Rome (30 minutes before midnight): another managed account.
        s3 = b.session(house_a, facilitator.id, boundary - timedelta(minutes=30), citizen=m2)
        b.account_created(s3)
        # House A, thirteen months ago: outside the window.
        old_at = utc_start(month_starts()[0]) - timedelta(days=20)
        s_old = b.session(house_a, facilitator.id, old_at, citizen=m2)
        r_old = b.report(where, 1, old_at)
        b.action(s_old, "report.created", "reports", r_old.id)
        # House B, last month: a verified citizen writes a proposal in district 2.
        s4 = b.session(house_b, facilitator.id, utc_start(last_month) + timedelta(days=1), citizen=carla)
        p2 = b.proposal(where, proc, 2, s4.opened_at + timedelta(minutes=10), author=carla, title="Una panchina")
        b.action(s4, "proposal.created", "proposals", p2.id)
        # House B, this month: a paper session enters two supports for p1.
        s5 = b.session(house_b, facilitator.id, boundary + timedelta(hours=3), kind=SessionKind.paper,
                       proposal_id=p1.id)
        for who in (paper1, paper2):
            sp = b.support(p1, who, s5.opened_at + timedelta(minutes=2))
            b.action(s5, "support.paper", "supports", sp.id)
        # Participation without help: district 1 ...
        b.report(where, 1, now - timedelta(days=3), author=carla)
        b.support(p1, carla, now - timedelta(days=2))
        b.comment("proposal", p1.id, carla, now - timedelta(days=2))
        # ... district 2, one report hidden by moderation (not counted), and a comment on a pact (no district).
        b.report(where, 2, now - timedelta(days=3), author=carla)
        b.report(where, 2, now - timedelta(days=3), author=carla, hidden=True)
        b.comment("pact", 999, carla, now - timedelta(days=1))
        db.session.commit()
    return {"places": where, "a": slug_a, "b": slug_b, "this": this_month, "last": last_month}


def _cells(html, row_id):
    found = re.search(rf'<tr id="{re.escape(row_id)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {row_id}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def _month_cells(html, slug, month):
    block = re.search(rf'<details class="district-counts" id="months-{slug}">(.*?)</details>', html, re.S).group(1)
    found = re.search(rf'<tr data-month="{month:%Y-%m}">(.*?)</tr>', block, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def test_the_page_counts_sessions_people_accounts_and_actions_per_house(client, world):
    page = client.get("/houses/statistics?lang=en")
    assert page.status_code == 200
    html = page.text
    # sessions, people helped, accounts made, claimed, actions
    assert _cells(html, f"house-{world['a']}") == ["3", "2", "2", "1", "5"]
    assert _cells(html, f"house-{world['b']}") == ["2", "1", "0", "0", "3"]
    assert _cells(html, "house-all") == ["5", "3", "2", "1", "8"]
    # Month by month, in Turin's months: 00:30 on the 1st in Rome belongs to the new month.
    assert _month_cells(html, world["a"], world["this"]) == ["2", "1", "1", "1", "4"]
    assert _month_cells(html, world["a"], world["last"]) == ["1", "1", "1", "0", "1"]
    assert _month_cells(html, world["b"], world["last"]) == ["1", "1", "0", "0", "1"]
    assert _month_cells(html, world["b"], world["this"]) == ["1", "0", "0", "0", "2"]
    assert "Paper support entered" in html and "Account created" in html
    # A house without sessions gets no row of zeros, only a mention.
    _id, quiet_slug, quiet_name = world["places"].houses[2]
    assert f'id="house-{quiet_slug}"' not in html
    assert quiet_name in re.search(r'id="stats-quiet">(.*?)</p>', html, re.S).group(1)


def test_the_share_per_district_counts_reports_proposals_supports_and_comments_made_with_help(client, world):
    html = client.get("/houses/statistics?lang=en").text
    # reports, proposals, supports, comments, share
    assert _cells(html, "district-1") == ["1 of 2", "0 of 1", "3 of 4", "1 of 2", "55.6%"]
    assert _cells(html, "district-2") == ["0 of 1", "1 of 1", "0 of 0", "0 of 0", "50%"]
    assert _cells(html, "district-3")[-1] == "—"
    assert _cells(html, "district-city") == ["1 of 3", "1 of 2", "3 of 4", "1 of 2", "54.5%"]
    assert 'id="stats-comments-rule"' in html


def test_the_statistics_never_show_a_name(client, world):
    responses = [client.get("/houses/statistics?lang=en"), client.get("/houses/statistics"),
                 client.get("/houses/statistics.csv"), client.get("/houses/statistics.json")]
    for response in responses:
        assert response.status_code == 200
        for name in NAMES:
            assert name not in response.get_data(as_text=True)


def test_the_csv_has_one_row_per_house_and_month_with_the_same_numbers(client, world):
    response = client.get("/houses/statistics.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(world["places"].houses) * 12
    by_key = {(r["house_slug"], r["month"]): r for r in rows}
    row = by_key[(world["a"], world["this"].strftime("%Y-%m"))]
    assert (row["sessions"], row["people_helped"], row["managed_accounts_created"], row["managed_accounts_claimed"],
            row["actions"]) == ("2", "1", "1", "1", "4")
    assert (row["actions_account.created"], row["actions_report.created"], row["actions_support.cast"],
            row["actions_comment.created"], row["actions_support.paper"]) == ("1", "1", "1", "1", "0")
    assert by_key[(world["b"], world["this"].strftime("%Y-%m"))]["actions_support.paper"] == "2"
    assert sum(int(r["sessions"]) for r in rows) == 5  # the session thirteen months ago is out


def test_the_json_carries_the_months_the_houses_and_the_districts(client, world):
    body = client.get("/houses/statistics.json").get_json()
    assert body["timezone"] == "Europe/Rome" and len(body["months"]) == 12
    assert body["months"][-1] == world["this"].strftime("%Y-%m")
    house = next(h for h in body["houses"] if h["slug"] == world["a"])
    assert house["total"] == {"sessions": 3, "people_helped": 2, "managed_accounts_created": 2,
                              "managed_accounts_claimed": 1, "actions": 5,
                              "actions_by_type": {"account.created": 2, "report.created": 1, "support.cast": 1,
                                                  "comment.created": 1}}
    this = next(m for m in house["months"] if m["month"] == world["this"].strftime("%Y-%m"))
    assert this["actions_by_type"] == {"account.created": 1, "comment.created": 1, "report.created": 1,
                                       "support.cast": 1}
    one = next(d for d in body["districts"] if d["number"] == 1)
    assert one["supports"] == {"through_houses": 3, "all": 4}
    assert (one["through_houses"], one["all"], one["share_percent"]) == (5, 9, 55.6)
    assert body["city"]["share_percent"] == 54.5


def test_the_houses_page_links_to_the_numbers(client, world):
    assert 'href="/houses/statistics"' in client.get("/houses").text


def test_an_empty_city_says_there_were_no_sessions(client, app):
    b.places(app)
    page = client.get("/houses/statistics?lang=en")
    assert page.status_code == 200 and "No assisted session in the last twelve months." in page.text
    assert _cells(page.text, "district-city")[-1] == "—"


# --- Rome months, daylight saving time, the window's edges ------------------------------------------

def test_months_are_rome_months_across_daylight_saving_time():
    # 22:30 UTC on 31 March 2026 is already 00:30 on 1 April in Rome (summer time, UTC+2).
    window = Window.last(datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    assert window.months[-1] == date(2026, 4, 1) and window.months[0] == date(2025, 5, 1)
    assert window.bounds[-2] == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # 1 April, CEST
    assert window.bounds[-3] == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # 1 March, CET
    assert window.bounds[0] == datetime(2025, 4, 30, 22, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
    assert len(window.bounds) == 13
    assert month_starts(datetime(2026, 1, 10, tzinfo=UTC), 3) == [date(2025, 11, 1), date(2025, 12, 1),
                                                                   date(2026, 1, 1)]


def test_the_database_sorts_sessions_into_rome_months_at_the_edges(app_ctx):
    now = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
    from app.models import NeighbourhoodHouse, User

    house = NeighbourhoodHouse(slug="casa-prova", name="Casa di prova", neighbourhood="Centro", address="via Roma 1",
                               lat=45.07, lon=7.68)
    facilitator = User(display_name="F", email="f-edges@example.org", terms_accepted_at=now)
    db.session.add_all([house, facilitator])
    db.session.flush()
    for moment in (datetime(2026, 3, 31, 22, 30, tzinfo=UTC),   # 1 April 00:30 in Rome
                   datetime(2026, 3, 31, 21, 30, tzinfo=UTC),   # 31 March 23:30 in Rome
                   datetime(2025, 10, 31, 23, 30, tzinfo=UTC),  # 1 November 00:30 in Rome (winter time)
                   datetime(2025, 4, 30, 22, 0, tzinfo=UTC),    # 1 May 2025 00:00: the window's first instant
                   datetime(2025, 4, 30, 21, 59, tzinfo=UTC),   # just before the window
                   datetime(2026, 4, 30, 22, 0, tzinfo=UTC)):   # 1 May 2026: after the window
        b.session(house.id, facilitator.id, moment)
    db.session.flush()
    _window, houses, overall = statistics.house_statistics(now)
    counts = {m.month: m.sessions for m in houses[0].months if m.sessions}
    assert counts == {date(2026, 4, 1): 1, date(2026, 3, 1): 1, date(2025, 11, 1): 1, date(2025, 5, 1): 1}
    assert overall.sessions == 4
