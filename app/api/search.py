"""Search in the JSON API: searchAll, the search box of the site as data.

The same search as /search (app.search.services): every word must match, accents and capitals do
not matter, the most relevant first; hidden items, drafts and pacts outside the public registry are
never found. Results come in pages of PAGE_SIZE, at most MAX_RESULTS in all: a search that finds
more is narrowed with words or filters, not paged through.
"""
from flask import jsonify, request
from flask_babel import gettext as _

from app.api import bp
from app.api.auth import invalid
from app.api.openapi import add_operation, add_schema
from app.api.reports import _absolute, _json, _query, district_arg
from app.auth.access import public
from app.models.base import DomainError
from app.search import services
from app.search.text import MAX_QUERY_CHARS


def _choice(name, allowed):
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise DomainError(_("%(name)s must be one of: %(values)s.", name=name, values=", ".join(allowed)),
                          field=name)
    return value


def _page():
    value = request.args.get("page")
    if value in (None, ""):
        return 1
    try:
        page = int(value)
    except ValueError:
        page = 0
    if not 1 <= page <= services.MAX_PAGE:
        raise DomainError(_("page must be a whole number from 1 to %(max)d.", max=services.MAX_PAGE), field="page")
    return page


@bp.route("/search")
@public
def search_all():
    """Proposals, reports, debates, pacts and houses matching ``q``, the most relevant first."""
    try:
        kind = _choice("kind", services.KINDS)
        status = _choice("status", list(services.STATUS_FILTERS))
        if kind and status and services.STATUS_FILTERS[status][0] != kind:
            raise DomainError(_("The status %(status)s is not one of a %(kind)s.", status=status, kind=kind),
                              field="status")
        district_id = district_arg(request.args) if request.args.get("district") else None
        page = _page()
    except DomainError as exc:
        return invalid(exc.message, exc.details.get("field"), status=400)
    found = services.search_json(request.args.get("q", ""), kind=kind, district_id=district_id, status=status,
                                 page=page)
    for result in found["results"]:
        result["url"] = _absolute(result["url"])
        if result["district"] is not None:
            result["district"] = {"number": result["district"]["number"], "name": result["district"]["name"]}
    return jsonify(found)


# --- the OpenAPI document ---------------------------------------------------------------------

add_schema("SearchResult", {
    "type": "object",
    "required": ["kind", "id", "title", "title_html", "snippet", "snippet_html", "url", "status", "district"],
    "properties": {
        "kind": {"type": "string", "enum": list(services.KINDS)},
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "title_html": {"type": "string", "description": "The title, HTML-escaped, matched words in <mark>."},
        "snippet": {"type": "string", "description": "The passage of the text around the first match."},
        "snippet_html": {"type": "string", "description": "The snippet, HTML-escaped, matched words in <mark>."},
        "url": {"type": "string", "format": "uri", "description": "The item's public page."},
        "status": {"type": ["string", "null"]},
        "district": {"oneOf": [{"$ref": "#/components/schemas/DistrictRef"}, {"type": "null"}]},
    },
    "examples": [{"kind": "report", "id": 42, "title": "Lampione spento in via Nizza",
                  "title_html": "<mark>Lampione</mark> spento in via Nizza", "snippet": "Il lampione davanti al 120…",
                  "snippet_html": "Il <mark>lampione</mark> davanti al 120…", "url": "https://piazza.example/reports/42",
                  "status": "new", "district": {"number": 8, "name": "San Salvario – Lingotto"}}],
})
add_schema("SearchResults", {
    "type": "object",
    "required": ["query", "results", "page", "next_page"],
    "properties": {
        "query": {"type": "string", "description": "The words searched, as cleaned (one line, capped)."},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchResult"}},
        "page": {"type": "integer", "minimum": 1},
        "next_page": {"type": ["integer", "null"], "description": "null on the last page."},
    },
})
add_operation("/search", "get", {
    "operationId": "searchAll",
    "summary": "Search proposals, reports, debates, pacts and neighbourhood houses",
    "description": f"Every word must match; accents and capitals do not matter (citta finds città); words of four "
                   f"letters or more also match as prefixes. The most relevant first, {services.PAGE_SIZE} per page, "
                   f"at most {services.MAX_RESULTS} results. An empty q finds nothing.",
    "tags": ["search"],
    "security": [],
    "parameters": [
        _query("q", f"The words to look for (at most {MAX_QUERY_CHARS} characters are used).", {"type": "string"}),
        _query("kind", "Only this kind of item.", {"type": "string", "enum": list(services.KINDS)}),
        _query("district", "District number.", {"type": "integer"}),
        _query("status", "Only items in this status (implies its kind): report-open, report-fixed, report-closed, "
                         "proposal-<status>, pact-<status>.",
               {"type": "string", "enum": list(services.STATUS_FILTERS)}),
        _query("page", f"Page number, 1 to {services.MAX_PAGE}.",
               {"type": "integer", "minimum": 1, "maximum": services.MAX_PAGE, "default": 1}),
    ],
    "responses": {"200": {"description": "One page of results", "content": _json("SearchResults")},
                  "400": {"description": "A query parameter is invalid", "content": _json("ValidationError")}},
})
