"""The houses in numbers (/houses/statistics): public counts of assisted sessions, never names."""
import csv
import io
import json

from flask import Response, render_template, url_for

from app.assisted import bp
from app.assisted.records import ACTION_LABELS, action_label
from app.assisted import statistics as stats
from app.auth.access import public
from app.models.base import utcnow

CSV_COLUMNS = ["house_slug", "house", "month", "sessions", "people_helped", "managed_accounts_created",
               "managed_accounts_claimed", "actions"] + [f"actions_{key}" for key in ACTION_LABELS]


def _numbers():
    now = utcnow()
    window, houses, overall = stats.house_statistics(now)
    _window, districts, city = stats.district_shares(now)
    return {"window": window, "houses": houses, "overall": overall, "districts": districts, "city": city}


@bp.route("/houses/statistics")
@public
def house_statistics():
    """Sessions, people helped, managed accounts and actions per house and month; the houses' share per district."""
    return render_template("houses/statistics.html", kinds=stats.KINDS, **_numbers())


def _csv_rows(houses):
    for house in houses:
        for m in reversed(house.months):  # oldest first in the file
            row = {"house_slug": house.slug, "house": house.name, "month": m.month.strftime("%Y-%m"),
                   "sessions": m.sessions, "people_helped": m.people, "managed_accounts_created": m.managed,
                   "managed_accounts_claimed": m.claimed, "actions": m.actions}
            for key in ACTION_LABELS:
                row[f"actions_{key}"] = house.actions_by_month.get((m.month, key), 0)
            yield row


@bp.route("/houses/statistics.csv")
@public
def house_statistics_csv():
    """Open data: one row per house and month of the last twelve (Europe/Rome months), counts only."""
    _window, houses, _overall = stats.house_statistics()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(_csv_rows(houses))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="case-del-quartiere-statistiche.csv"'})


def _month_json(m, house):
    return {"month": m.month.strftime("%Y-%m"), "sessions": m.sessions, "people_helped": m.people,
            "managed_accounts_created": m.managed, "managed_accounts_claimed": m.claimed, "actions": m.actions,
            "actions_by_type": {key: n for (month, key), n in sorted(house.actions_by_month.items())
                                if month == m.month}}


def _share_json(share):
    return {kind: {"through_houses": share.counts[kind][0], "all": share.counts[kind][1]} for kind in stats.KINDS} | {
        "through_houses": share.assisted, "all": share.total, "share_percent": share.share}


@bp.route("/houses/statistics.json")
@public
def house_statistics_json():
    """Open data: the same numbers as the page, as JSON."""
    numbers = _numbers()
    window = numbers["window"]
    body = {
        "months": [m.strftime("%Y-%m") for m in window.months],
        "timezone": "Europe/Rome",
        "action_types": {key: str(action_label(key)) for key in ACTION_LABELS},
        "houses": [{
            "slug": h.slug, "name": h.name, "url": url_for("houses.detail", slug=h.slug, _external=True),
            "months": [_month_json(m, h) for m in reversed(h.months)],
            "total": {"sessions": h.total.sessions, "people_helped": h.total.people,
                      "managed_accounts_created": h.total.managed, "managed_accounts_claimed": h.total.claimed,
                      "actions": h.total.actions, "actions_by_type": dict(h.actions)},
        } for h in numbers["houses"]],
        "districts": [{"number": d.number, "name": d.name} | _share_json(d) for d in numbers["districts"]],
        "city": _share_json(numbers["city"]),
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
