"""The administrators' report of assisted sessions: the list and its filters, one session, the CSV, and the
unusual patterns (each threshold flags exactly who reaches it, nobody one below, nothing older than 30 days)."""
import csv
import io
import re
from datetime import timedelta

import pytest

from app.assisted.statistics import month_starts, utc_start
from app.extensions import db
from app.models import Role
from app.models.assisted import EndReason, SessionKind
from app.models.base import utcnow
from tests import assisted_builders as b


def _ids(html, container_id=None, attr="data-session"):
    if container_id is not None:
        found = re.search(rf'id="{container_id}"[^>]*>(.*?)</(?:ul|table)>', html, re.S)
        if found is None:
            return set()
        html = found.group(1)
    return {int(v) for v in re.findall(rf'{attr}="(\d+)"', html)}


@pytest.fixture
def staff(app, make_user):
    where = b.places(app)
    return {
        "places": where,
        "admin": make_user(roles=[Role.admin], display_name="Ada Amministratrice"),
        "f1": make_user(roles=[Role.facilitator], display_name="Fabio Facilitatore"),
        "f2": make_user(roles=[Role.facilitator], display_name="Franca Facilitatrice"),
        "carla": make_user(roles=[Role.citizen], verified=True, display_name="Carla Cittadina"),
    }


@pytest.fixture
def sessions(app, staff):
    """A few sessions at two houses, by two facilitators, this month and last month."""
    where = staff["places"]
    (house_a, _, name_a), (house_b, _, name_b) = where.houses[0], where.houses[1]
    this_month, last_month = month_starts()[-1], month_starts()[-2]
    with app.app_context():
        giovanna = b.person("Giovanna Senza Email", utc_start(this_month))
        proc = b.process()
        p1 = b.proposal(where, proc, 1, utcnow() - timedelta(days=20), title="Alberi in via Nizza")
        s1 = b.session(house_a, staff["f1"].id, utc_start(this_month) + timedelta(hours=9), citizen=giovanna,
                       minutes=42)
        b.account_created(s1)
        r1 = b.report(where, 1, s1.opened_at + timedelta(minutes=5), author=giovanna, title="Lampione spento")
        b.action(s1, "report.created", "reports", r1.id)
        sp = b.support(p1, giovanna, s1.opened_at + timedelta(minutes=9))
        b.action(s1, "support.cast", "supports", sp.id)
        s2 = b.session(house_b, staff["f2"].id, utc_start(this_month) + timedelta(hours=10),
                       kind=SessionKind.paper, proposal_id=p1.id, minutes=120, end_reason=EndReason.hard_limit)
        s3 = b.session(house_a, staff["f2"].id, utc_start(last_month) + timedelta(days=2), citizen=staff_citizen(staff),
                       minutes=15, end_reason=EndReason.idle)
        s4 = b.session(house_b, staff["f1"].id, utc_start(last_month) + timedelta(days=3), citizen=giovanna,
                       end_reason=None)
        db.session.commit()
        return {"s1": s1.id, "s2": s2.id, "s3": s3.id, "s4": s4.id, "house_a": house_a, "house_b": house_b,
                "name_a": name_a, "name_b": name_b, "this": this_month, "last": last_month, "p1": p1.id,
                "r1": r1.id}


def staff_citizen(staff):
    from app.models import User

    return db.session.get(User, staff["carla"].id)


def test_the_report_lists_every_session_with_house_facilitator_person_duration_end_and_actions(
        client, login_as, staff, sessions):
    login_as(staff["admin"])
    page = client.get("/admin/assisted?lang=en")
    assert page.status_code == 200
    html = page.text
    assert _ids(html, "sessions") == {sessions[k] for k in ("s1", "s2", "s3", "s4")}
    row = re.search(rf'<tr data-session="{sessions["s1"]}">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[1:] == [sessions["name_a"], "Fabio Facilitatore", "Giovanna Senza Email", "At the desk", "42 min",
                         "Ended by the facilitator", "3"]
    paper = re.search(rf'<tr data-session="{sessions["s2"]}">(.*?)</tr>', html, re.S).group(1)
    assert "Paper supports for “Alberi in via Nizza”" in paper and "Time limit reached" in paper
    # Never recorded as ended, but its idle end has passed: the report reads the clock, as sessions do.
    unrecorded = re.search(rf'<tr data-session="{sessions["s4"]}">(.*?)</tr>', html, re.S).group(1)
    assert "Left idle" in unrecorded and "45 min" in unrecorded
    assert "4 sessions · 3 actions" in html
    # Newest first.
    order = [int(v) for v in re.findall(r'<tr data-session="(\d+)"', html)]
    assert order == [sessions["s2"], sessions["s1"], sessions["s4"], sessions["s3"]]


@pytest.mark.parametrize("query, expected", [
    ("house={house_a}", {"s1", "s3"}),
    ("facilitator={f1}", {"s1", "s4"}),
    ("month={this}", {"s1", "s2"}),
    ("month={last}&house={house_b}", {"s4"}),
    ("house={house_b}&facilitator={f2}&month={this}", {"s2"}),
    ("house=nonsense&month=2026-13", {"s1", "s2", "s3", "s4"}),
])
def test_the_filters_narrow_the_list_and_the_csv(client, login_as, staff, sessions, query, expected):
    login_as(staff["admin"])
    query = query.format(house_a=sessions["house_a"], house_b=sessions["house_b"], f1=staff["f1"].id,
                         f2=staff["f2"].id, this=sessions["this"].strftime("%Y-%m"),
                         last=sessions["last"].strftime("%Y-%m"))
    wanted = {sessions[k] for k in expected}
    assert _ids(client.get(f"/admin/assisted?{query}").text, "sessions") == wanted
    rows = list(csv.DictReader(io.StringIO(client.get(f"/admin/assisted/sessions.csv?{query}").get_data(as_text=True))))
    assert {int(r["session_id"]) for r in rows} == wanted


def test_the_month_filter_uses_rome_months(client, login_as, staff, app):
    """A session at 00:30 on the 1st in Rome is still the previous day in UTC: it belongs to the new month."""
    this_month = month_starts()[-1]
    with app.app_context():
        early = b.session(staff["places"].houses[0][0], staff["f1"].id, utc_start(this_month) + timedelta(minutes=30))
        late = b.session(staff["places"].houses[0][0], staff["f1"].id, utc_start(this_month) - timedelta(minutes=30))
        db.session.commit()
        early_id, late_id = early.id, late.id
    login_as(staff["admin"])
    assert _ids(client.get(f"/admin/assisted?month={this_month:%Y-%m}").text, "sessions") == {early_id}
    previous = month_starts()[-2]
    assert _ids(client.get(f"/admin/assisted?month={previous:%Y-%m}").text, "sessions") == {late_id}


def test_the_csv_has_the_columns_and_names_and_defuses_formulas(client, login_as, staff, sessions, app):
    with app.app_context():
        sneaky = b.person("=HYPERLINK(\"http://evil\")", utcnow())
        s = b.session(sessions["house_a"], staff["f1"].id, utcnow() - timedelta(hours=1), citizen=sneaky)
        db.session.commit()
        sneaky_session = s.id
    login_as(staff["admin"])
    response = client.get("/admin/assisted/sessions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
    rows = {int(r["session_id"]): r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    first = rows[sessions["s1"]]
    assert (first["house"], first["facilitator"], first["person_helped"], first["kind"], first["duration_minutes"],
            first["end_reason"], first["actions"]) == (sessions["name_a"], "Fabio Facilitatore",
                                                       "Giovanna Senza Email", "assist", "42", "closed", "3")
    assert rows[sessions["s2"]]["proposal"] == "Alberi in via Nizza"
    assert (rows[sessions["s4"]]["end_reason"], rows[sessions["s4"]]["duration_minutes"]) == ("idle", "45")
    assert rows[sneaky_session]["person_helped"].startswith("'=HYPERLINK")


def test_a_session_still_open_is_shown_open(client, login_as, staff, app):
    with app.app_context():
        s = b.session(staff["places"].houses[0][0], staff["f1"].id, utcnow() - timedelta(minutes=10), minutes=8,
                      end_reason=None)
        db.session.commit()
        open_id = s.id
    login_as(staff["admin"])
    row = re.search(rf'<tr data-session="{open_id}">(.*?)</tr>', client.get("/admin/assisted?lang=en").text,
                    re.S).group(1)
    assert "Still open" in row and "10 min" in row
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/assisted/sessions.csv").get_data(as_text=True))))
    assert [r["end_reason"] for r in rows if int(r["session_id"]) == open_id] == ["open"]


def test_a_session_page_lists_its_actions_with_labels_and_links(client, login_as, staff, sessions):
    login_as(staff["admin"])
    page = client.get(f"/admin/assisted/sessions/{sessions['s1']}?lang=en")
    assert page.status_code == 200
    html = page.text
    assert "Giovanna Senza Email" in html and "Fabio Facilitatore" in html and sessions["name_a"] in html
    assert [a for a in re.findall(r'<tr data-action="([^"]+)"', html)] == ["account.created", "report.created",
                                                                           "support.cast"]
    assert "Account created" in html and "Report placed" in html and "Proposal supported" in html
    assert f'href="/reports/{sessions["r1"]}"' in html and "Lampione spento" in html
    assert f'href="/proposals/{sessions["p1"]}"' in html
    assert "42 min" in html
    assert f'href="/assist/sessions/{sessions["s1"]}/receipt"' in html
    receipt = client.get(f"/assist/sessions/{sessions['s1']}/receipt")
    assert receipt.status_code == 200 and 'id="claim-code"' not in receipt.text  # the code is not for admins
    paper = client.get(f"/admin/assisted/sessions/{sessions['s2']}?lang=en").text
    assert "Alberi in via Nizza" in paper and "Nothing was done in this session." in paper
    assert client.get("/admin/assisted/sessions/999999").status_code == 404


def test_an_admin_who_is_also_a_facilitator_gets_the_receipt_link_too(client, login_as, make_user, sessions):
    both = make_user(roles=[Role.admin, Role.facilitator])
    login_as(both)
    html = client.get(f"/admin/assisted/sessions/{sessions['s1']}").text
    assert f'href="/assist/sessions/{sessions["s1"]}/receipt"' in html


@pytest.mark.parametrize("role", ["facilitator", "official", "moderator", "citizen", "verified"])
def test_only_administrators_see_the_report(client, login_as, user_for, sessions, role):
    login_as(user_for(role))
    for url in ("/admin/assisted", f"/admin/assisted/sessions/{sessions['s1']}", "/admin/assisted/sessions.csv"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Giovanna Senza Email" not in response.get_data(as_text=True)


def test_visitors_are_sent_to_sign_in(client, sessions):
    response = client.get("/admin/assisted")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_admin_pages_link_to_the_report(client, login_as, staff):
    login_as(staff["admin"])
    assert 'href="/admin/assisted"' in client.get("/admin/users").text


def test_the_list_is_paginated_and_pages_keep_the_filters(client, login_as, staff, app):
    house = staff["places"].houses[0][0]
    start = utcnow() - timedelta(days=3)
    with app.app_context():
        ids = [b.session(house, staff["f1"].id, start + timedelta(minutes=i)).id for i in range(55)]
        db.session.commit()
    login_as(staff["admin"])
    first = client.get(f"/admin/assisted?house={house}").text
    assert _ids(first, "sessions") == set(ids[5:])
    assert f"/admin/assisted?page=2&amp;house={house}" in first or f"house={house}&amp;page=2" in first
    second = client.get(f"/admin/assisted?house={house}&page=2").text
    assert _ids(second, "sessions") == set(ids[:5])


# --- unusual patterns ---------------------------------------------------------------------------

@pytest.fixture
def thresholds(app, monkeypatch):
    monkeypatch.setitem(app.config, "ASSISTED_ALERT_MANAGED", 3)
    monkeypatch.setitem(app.config, "ASSISTED_ALERT_SUPPORTS", 3)
    monkeypatch.setitem(app.config, "ASSISTED_MAX_ACTIONS", 5)


@pytest.fixture
def patterns(app, staff, thresholds):
    """f1 reaches every threshold exactly; f2 stays one below, or reached them only before the 30 days."""
    where = staff["places"]
    house = where.houses[0][0]
    now = utcnow()
    recent, old = now - timedelta(days=5), now - timedelta(days=40)
    with app.app_context():
        proc = b.process()
        p1 = b.proposal(where, proc, 1, old, title="Alberi in via Nizza")
        p2 = b.proposal(where, proc, 1, old, title="Una panchina")

        def managed_sessions(facilitator, n, at):
            made = []
            for i in range(n):
                s = b.session(house, facilitator.id, at + timedelta(minutes=i), citizen=b.person(f"P{i}", at))
                b.account_created(s)
                made.append(s)
            return made

        f1_sessions = managed_sessions(staff["f1"], 3, recent)         # at the threshold
        f2_sessions = managed_sessions(staff["f2"], 2, recent)         # one below
        managed_sessions(staff["f2"], 4, old)                          # many, but before the 30 days

        def supports(session_, proposal_, n, kind="support.cast"):
            for i in range(n):
                sp = b.support(proposal_, b.person(f"S{i}", session_.opened_at), session_.opened_at)
                b.action(session_, kind, "supports", sp.id)

        supports(f1_sessions[0], p1, 2)
        supports(f1_sessions[1], p1, 1, kind="support.paper")          # f1 × p1: 3, at the threshold
        supports(f1_sessions[2], p2, 2)                                 # f1 × p2: 2
        supports(f2_sessions[0], p1, 2)                                 # f2 × p1: 2
        old_f2 = b.session(house, staff["f2"].id, old)
        supports(old_f2, p2, 5)                                         # f2 × p2: 5, but 40 days ago

        capped = b.session(house, staff["f2"].id, recent + timedelta(hours=1))
        for i in range(5):                                              # 5 actions: the cap
            b.action(capped, "comment.created", "comments", 10_000 + i)
        below = b.session(house, staff["f2"].id, recent + timedelta(hours=2))
        for i in range(4):
            b.action(below, "comment.created", "comments", 20_000 + i)
        old_capped = b.session(house, staff["f2"].id, old)
        for i in range(6):
            b.action(old_capped, "comment.created", "comments", 30_000 + i)

        for i in range(3):                                              # f2: three hard-limit ends
            b.session(house, staff["f2"].id, recent + timedelta(days=1, hours=i), minutes=120,
                      end_reason=EndReason.hard_limit)
        for i in range(2):                                              # f1: two
            b.session(house, staff["f1"].id, recent + timedelta(days=1, hours=i), minutes=120,
                      end_reason=EndReason.hard_limit)
        b.session(house, staff["f1"].id, old, minutes=120, end_reason=EndReason.hard_limit)
        db.session.commit()
        return {"p1": p1.id, "p2": p2.id, "capped": capped.id, "below": below.id, "old_capped": old_capped.id}


def test_a_facilitator_with_as_many_managed_accounts_as_the_threshold_is_flagged(client, login_as, staff, patterns):
    login_as(staff["admin"])
    html = client.get("/admin/assisted?lang=en").text
    assert _ids(html, "patterns-managed", "data-facilitator") == {staff["f1"].id}
    assert "3 managed accounts" in html


def test_facilitator_and_proposal_pairs_at_the_support_threshold_are_flagged(client, login_as, staff, patterns):
    login_as(staff["admin"])
    html = client.get("/admin/assisted?lang=en").text
    block = re.search(r'id="patterns-supports"[^>]*>(.*?)</ul>', html, re.S).group(1)
    pairs = set(re.findall(r'data-facilitator="(\d+)" data-proposal="(\d+)"', block))
    assert pairs == {(str(staff["f1"].id), str(patterns["p1"]))}
    assert "Alberi in via Nizza" in block and "3 supports" in block


def test_sessions_that_reached_the_action_limit_are_flagged(client, login_as, staff, patterns):
    login_as(staff["admin"])
    html = client.get("/admin/assisted?lang=en").text
    assert _ids(html, "patterns-capped") == {patterns["capped"]}
    assert f'href="/admin/assisted/sessions/{patterns["capped"]}"' in html


def test_facilitators_who_often_run_into_the_time_limit_are_flagged(client, login_as, staff, patterns):
    login_as(staff["admin"])
    html = client.get("/admin/assisted?lang=en").text
    assert _ids(html, "patterns-hard-limits", "data-facilitator") == {staff["f2"].id}


def test_nothing_unusual_says_so(client, login_as, staff, sessions):
    login_as(staff["admin"])
    html = client.get("/admin/assisted?lang=en").text
    assert 'id="patterns-none"' in html and 'id="patterns-managed"' not in html
