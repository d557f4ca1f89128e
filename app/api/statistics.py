"""Participation statistics in the JSON API: getStatistics (every chart of /statistics) and
getStatisticsChart (one of them). The same figures as the dashboard and its CSV downloads, from
app.statistics.services: counts only, nobody named. Officials and administrators may pass
``department`` with their token; anyone else's is ignored, as on the page.
"""
from flask import current_app, jsonify, request
from flask_babel import get_locale

from app.api import bp
from app.api.auth import ERROR
from app.api.openapi import add_operation, add_schema
from app.api.reports import _json, _query
from app.auth.access import api_user, public
from app.errors import error_response
from app.http import db_id
from app.statistics import names


def _services():
    from app.statistics import services

    return services


def _scope():
    """(scope, what the answer covers: the department filtered by, or null) of the request."""
    services = _services()
    department = services.department_filter(api_user(), request.args.get("department", type=db_id))
    locale = "en" if str(get_locale()).startswith("en") else "it"
    s = services.scope(department.id if department else None, locale=locale)
    covers = ({"id": department.id, "slug": department.slug, "name": department.name(locale)}
              if department is not None else None)
    return s, covers


@bp.route("/statistics")
@public
def get_statistics():
    """Every chart's figures, keyed by chart name."""
    s, department = _scope()
    return jsonify({"department": department, "licence": current_app.config["OPEN_DATA_LICENCE"],
                    "charts": _services().dashboard(s)})


@bp.route("/statistics/<chart>")
@public
def get_statistics_chart(chart):
    """One chart's figures."""
    if chart not in names.CHARTS:
        return error_response(404, None, code="not_found")
    s, department = _scope()
    return jsonify({"chart": chart, "department": department, "licence": current_app.config["OPEN_DATA_LICENCE"],
                    "data": _services().chart(chart, s)})


# --- the OpenAPI document ---------------------------------------------------------------------

def _obj(properties, description=None):
    schema = {"type": "object", "required": list(properties), "properties": properties}
    if description:
        schema["description"] = description
    return schema


COUNT = {"type": "integer", "minimum": 0}
PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
MONTHS = {"type": "array", "items": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
          "description": "The twelve calendar months of the window (Europe/Rome), oldest first, this one last."}
WINDOW = {"months": MONTHS, "timezone": {"type": "string", "examples": ["Europe/Rome"]}}
KIND_COUNTS = _obj({k: COUNT for k in names.KINDS})
SHARE = _obj({"through_houses": COUNT, "all": COUNT, "share_percent": PERCENT})
MEDIAN = {"type": ["number", "null"], "minimum": 0, "description": "Median days from creation to resolution."}
NAMED = {"id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"}}
DISTRICT = {"id": {"type": "integer"}, "number": {"type": "integer"}, "name": {"type": "string"}}

CHART_SCHEMAS = {
    "participation": _obj({**WINDOW, "series": _obj({k: {"type": "array", "items": COUNT} for k in names.KINDS}),
                           "totals": KIND_COUNTS}, "New reports, published proposals, supports, comments and pact "
                                                   "signatures per month."),
    "districts": _obj({**WINDOW, "districts": {"type": "array", "items": _obj({**DISTRICT, **{
        k: COUNT for k in names.KINDS}, "total": COUNT})},
        "outside_districts": _obj({**{k: COUNT for k in names.KINDS}, "total": COUNT})},
        "The same counts per district, over the window."),
    "categories": _obj({**WINDOW, "categories": {"type": "array", "items": _obj({**NAMED, "reports": COUNT,
                                                                                 "proposals": COUNT})},
                        "without_category": _obj({"reports": COUNT, "proposals": COUNT})}),
    "funnel": _obj({"steps": {"type": "array", "items": _obj({"step": {"type": "string", "enum": [
        "published", "threshold_reached", "accepted", "completed"]}, "proposals": COUNT,
        "share_of_published_percent": PERCENT})},
        "by_status": {"type": "object", "additionalProperties": COUNT}},
        "Every proposal published since the start and how many ever reached each step."),
    "resolution": _obj({**WINDOW, "overall": _obj({"median_days": MEDIAN, "resolved": COUNT}),
                        "departments": {"type": "array", "items": _obj({**NAMED, "median_days": MEDIAN,
                                                                         "resolved": COUNT})},
                        "without_department": _obj({"median_days": MEDIAN, "resolved": COUNT})}),
    "pacts": _obj({"districts": {"type": "array", "items": _obj({**DISTRICT, "active": COUNT})},
                   "outside_districts": COUNT, "total": COUNT}, "Pacts active today, per district."),
    "houses": _obj({**WINDOW, "filtered_by_department": {"type": "boolean"},
                    "kinds": {"type": "object", "additionalProperties": SHARE},
                    "city": SHARE,
                    "districts": {"type": "array", "items": _obj({"number": {"type": "integer"},
                                                                  "name": {"type": "string"},
                                                                  "through_houses": COUNT, "all": COUNT,
                                                                  "share_percent": PERCENT})}},
                   "The share of participation done with a facilitator at a neighbourhood house."),
    "assisted_sessions": _obj({**WINDOW, "filtered_by_department": {"type": "boolean"},
                               "sessions": {"type": "array", "items": COUNT},
                               "totals": _obj({"sessions": COUNT, "people_helped": COUNT,
                                               "managed_accounts_created": COUNT, "supports_at_the_desk": COUNT,
                                               "supports_on_paper": COUNT})}),
}
for _name, _schema in CHART_SCHEMAS.items():
    add_schema(f"Statistics_{_name}", _schema)
COVERS = {"oneOf": [_obj({"id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"}}),
                   {"type": "null"}], "description": "The department the figures are limited to; null: the whole city."}
LICENCE = {"type": "string", "examples": ["CC BY 4.0"]}
add_schema("Statistics", _obj({
    "department": COVERS, "licence": LICENCE,
    "charts": _obj({name: {"$ref": f"#/components/schemas/Statistics_{name}"} for name in names.CHARTS})}))
add_schema("StatisticsChart", _obj({
    "chart": {"type": "string", "enum": list(names.CHARTS)}, "department": COVERS, "licence": LICENCE,
    "data": {"anyOf": [{"$ref": f"#/components/schemas/Statistics_{name}"} for name in names.CHARTS]}}))

DEPARTMENT = _query("department", "Department id: only with the token of an official or an administrator "
                                  "(ignored otherwise).", {"type": "integer"})
add_operation("/statistics", "get", {
    "operationId": "getStatistics",
    "summary": "Participation in numbers: every chart of the statistics page",
    "tags": ["statistics"],
    "security": [],
    "parameters": [DEPARTMENT],
    "responses": {"200": {"description": "Every chart's figures", "content": _json("Statistics")}},
})
add_operation("/statistics/{chart}", "get", {
    "operationId": "getStatisticsChart",
    "summary": "One chart of the statistics page",
    "tags": ["statistics"],
    "security": [],
    "parameters": [{"name": "chart", "in": "path", "required": True,
                    "schema": {"type": "string", "enum": list(names.CHARTS)}}, DEPARTMENT],
    "responses": {"200": {"description": "The chart's figures", "content": _json("StatisticsChart")},
                  "404": ERROR},
})
