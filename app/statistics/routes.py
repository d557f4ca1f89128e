"""Participation in numbers: /statistics, and every chart's data as /statistics/<chart>.csv and .json.

Officials and administrators may add ``?department=<id>``; anyone else's is ignored (they get the
city-wide figures, the same bytes as without it: nothing about a department's work leaks, and a link
an official shares still opens).
"""
import csv
import io
import json
from datetime import date

from flask import Response, current_app, render_template, request, url_for
from flask_babel import format_date, format_decimal, get_locale
from flask_login import current_user

from app import geo
from app.auth.access import public
from app.http import db_id
from app.opendata.formats import csv_cell
from app.statistics import bp, charts, services

CHART_NAMES = ",".join(services.CHARTS)
#: The page section of a chart, where it is not named after it.
SECTION = {"assisted_sessions": "houses"}
#: What the district map may be coloured by (?measure=), the first being the default.
MEASURES = ("total", *services.KINDS)


def _scope():
    """(scope, the Department filtered by or None) of this request."""
    department = services.department_filter(current_user, request.args.get("department", type=db_id))
    locale = str(get_locale())
    return services.scope(department.id if department else None, locale=locale), department


def _number(value):
    return format_decimal(value, format="#,##0.#")


def _share(value):
    """A houses' share (through_houses, all, share_percent) as text: one that rounds to 0 but is not
    nothing reads "< 0.1", not "0"."""
    if value["through_houses"] and not value["share_percent"]:
        return "< " + _number(0.1)
    return _number(value["share_percent"])


def _month_axis(s):
    """Short month names, and the year under January and under the first month."""
    labels = [format_date(m, "LLL") for m in s.window.months]
    years = [str(m.year) if i == 0 or m.month == 1 else "" for i, m in enumerate(s.window.months)]
    return labels, years


def _choropleths(districts):
    """measure -> {"legend": [(palette index, low, high)], "classes": {district number: palette index}}."""
    result = {}
    for measure in MEASURES:
        legend, class_of = charts.classify([d[measure] for d in districts])
        result[measure] = {"legend": legend, "classes": {d["number"]: class_of(d[measure]) for d in districts}}
    return result


def _areas(districts, measure, classes):
    shapes = {d.id: d.geojson for d in geo.districts()}
    return [{"geometry": shapes[d["id"]], "class": classes[d["number"]], "label": str(d["number"]), "name": d["name"],
             "value_label": _number(d[measure])} for d in districts if d["id"] in shapes]


@bp.route("/statistics")
@public
def index():
    """The dashboard: every chart with its data table and downloads; officials may filter by department."""
    s, department = _scope()
    data = services.dashboard(s)
    measure = request.args.get("measure") if request.args.get("measure") in MEASURES else MEASURES[0]
    choropleths = _choropleths(data["districts"]["districts"])
    labels, years = _month_axis(s)
    return render_template(
        "statistics/index.html", data=data, charts=charts, fmt=_number, share_text=_share, months=s.window.months,
        month_labels=labels, month_years=years, department=department, can_filter=services.may_filter(current_user),
        departments=services.departments(s.locale) if services.may_filter(current_user) else [],
        measure=measure, measures=MEASURES, choropleths=choropleths,
        areas=_areas(data["districts"]["districts"], measure, choropleths[measure]["classes"]),
        kinds=services.KINDS, chart_names=services.CHARTS, today=date.today())


#: Visitors' downloads may be kept this long by browsers and shared caches (the figures are cached
#: that long on the server anyway; signed-in answers are never shared: app.http.security_headers).
DOWNLOAD_MAX_AGE = 300


def _download(body, mimetype, headers=None):
    response = Response(body, mimetype=mimetype, headers=headers or {})
    if not current_user.is_authenticated:
        response.headers["Cache-Control"] = f"public, max-age={DOWNLOAD_MAX_AGE}"
        response.vary.add("Accept-Language")  # names of categories and departments
    return response


def _filename(chart, department, ext):
    suffix = f"-{department.slug}" if department is not None else ""
    return f"piazza-statistiche-{chart}{suffix}.{ext}"


@bp.route(f"/statistics/<any({CHART_NAMES}):chart>.csv")
@public
def chart_csv(chart):
    """Open data: one chart's numbers as CSV (the rows of its table on the page)."""
    s, department = _scope()
    columns, rows = services.table(chart, services.chart(chart, s))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    # The same cell conventions as the open data (formula characters defused, ISO timestamps).
    writer.writerows([[csv_cell(v) for v in row] for row in rows])
    return _download(out.getvalue(), "text/csv", {
        "Content-Disposition": f'attachment; filename="{_filename(chart, department, "csv")}"'})


@bp.route(f"/statistics/<any({CHART_NAMES}):chart>.json")
@public
def chart_json(chart):
    """Open data: one chart's numbers as JSON, with what they cover."""
    s, department = _scope()
    body = {
        "chart": chart,
        "months": {"from": s.months[0], "to": s.months[-1], "timezone": services.TIMEZONE},
        "department": ({"id": department.id, "slug": department.slug, "name": department.name(s.locale)}
                       if department is not None else None),
        "licence": current_app.config.get("OPEN_DATA_LICENCE", "CC BY 4.0"),
        # On BASE_URL, never on the request's Host header: this answer may be kept by shared caches.
        "page": current_app.config["BASE_URL"].rstrip("/") + url_for("statistics.index",
                                                                     _anchor=SECTION.get(chart, chart)),
        "data": services.chart(chart, s),
    }
    return _download(json.dumps(body, ensure_ascii=False), "application/json")
