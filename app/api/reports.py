"""Reports in the JSON API: listReports (keyset pagination), getReport, createReport.

A report's JSON never carries personal data beyond the reporter's public display name:
no emails, and no names of the officials who wrote its updates.
"""
import base64
import binascii
import json
from datetime import datetime, timezone

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app import geo
from app.api import bp
from app.api.auth import ERROR, VALIDATION_ERROR, invalid, iso_utc, json_body
from app.api.openapi import add_operation, add_schema
from app.auth.access import api_user, public, token_required
from app.errors import error_response
from app.extensions import db
from app.models.base import DomainError, NotFound, PermissionDenied
from app.models.place import Category, District
from app.models.report import STATUS_GROUPS, Report
from app.moderation import holds
from app.moderation.limits import content_limits
from app.reports import services

DEFAULT_LIMIT = 20
#: The largest page; a bigger ``limit`` is lowered to this.
MAX_LIMIT = 100


# --- JSON -----------------------------------------------------------------------------------

def _absolute(path):
    """An absolute URL on BASE_URL (never on the request's Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def _status_group(status):
    """open, fixed or closed: the public group of a status."""
    return next(group for group, statuses in STATUS_GROUPS.items() if status in statuses)


def _reporter_name(report):
    """The reporter's public display name; None once the account is deleted."""
    reporter = report.reporter
    if reporter is None or reporter.deleted_at is not None:
        return None
    return reporter.display_name


def report_json(report):
    """A report as the API shows it."""
    department = report.department
    district = report.district
    return {
        "id": report.id,
        "title": report.title,
        "description": report.description,
        "status": report.status.value,
        "status_group": _status_group(report.status),
        "category": {"slug": report.category.slug, "name_it": report.category.name_it,
                     "name_en": report.category.name_en},
        "district": {"number": district.number, "name": district.name} if district else None,
        "department": ({"slug": department.slug, "name_it": department.name_it, "name_en": department.name_en}
                       if department else None),
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "reporter_name": _reporter_name(report),
        "source": report.source,
        "created_at": iso_utc(report.created_at),
        "updated_at": iso_utc(report.updated_at),
        "url": _absolute(url_for("reports.detail", report_id=report.id)),
        # The public timeline, without its authors: officials act for their department.
        "updates": [{"kind": u.kind, "from_status": u.from_status.value if u.from_status else None,
                     "to_status": u.to_status.value if u.to_status else None, "note": u.note,
                     "created_at": iso_utc(u.created_at)} for u in report.updates],
    }


# --- listing ----------------------------------------------------------------------------------

def encode_cursor(report):
    """An opaque cursor pointing just after ``report`` in the (created_at, id) descending order."""
    raw = json.dumps([report.created_at.isoformat(), report.id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


#: No cursor this API makes is longer; a longer one is refused before it is decoded.
MAX_CURSOR_LENGTH = 200


def decode_cursor(cursor):
    """(created_at, id) from a cursor; DomainError if it was not made by :func:`encode_cursor`.

    Whatever a client sends, the answer is that error, never a 500: the id must fit an integer
    column and the moment a timestamp column (both engines refuse anything else).
    """
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, report_id = json.loads(raw)
        created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None or not isinstance(report_id, int) or isinstance(report_id, bool):
            raise ValueError
        if not 0 < report_id < 2**31:
            raise ValueError
        created_at = created_at.astimezone(timezone.utc)
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise DomainError(_("The cursor is not valid: use next_cursor from the previous page."),
                          field="cursor") from None
    return created_at, report_id


def _limit(value):
    """The page size asked for (default 20, at most MAX_LIMIT); DomainError below 1 or not a number."""
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise DomainError(_("limit must be a whole number from 1 to %(max)d.", max=MAX_LIMIT), field="limit")
    return min(limit, MAX_LIMIT)


def district_arg(args):
    """The id of the district numbered ``district`` in the query string; DomainError if there is none.

    The number is looked up only within an integer column's range: a longer number is no district.
    """
    number = args.get("district", type=int)
    district_id = None
    if number is not None and 0 < number < 2**31:
        district_id = db.session.scalar(select(District.id).where(District.number == number))
    if district_id is None:
        raise DomainError(_("There is no district %(number)s.", number=args["district"]), field="district")
    return district_id


def list_query(args):
    """(query, limit) for listReports from the query string; DomainError naming a bad parameter."""
    status = args.get("status") or None
    if status is not None and status not in STATUS_GROUPS:
        raise DomainError(_("status must be open, fixed or closed."), field="status")
    category_id = district_id = None
    if args.get("category"):
        category_id = db.session.scalar(select(Category.id).where(Category.slug == args["category"]))
        if category_id is None:
            raise DomainError(_("There is no category %(slug)s.", slug=args["category"]), field="category")
    if args.get("district"):
        district_id = district_arg(args)
    query = services.public_reports(status_group=status, category_id=category_id, district_id=district_id)
    if args.get("bbox"):
        try:
            bbox = geo.parse_bbox(args["bbox"])
        except DomainError as exc:
            raise DomainError(exc.message, field="bbox") from None
        query = query.where(geo.within_bbox(Report.lat, Report.lon, bbox))
    if args.get("cursor"):
        # Keyset pagination on the list's own order (created_at, id descending): no OFFSET,
        # so pages stay stable and cheap however far a client goes.
        created_at, report_id = decode_cursor(args["cursor"])
        query = query.where(or_(Report.created_at < created_at,
                                and_(Report.created_at == created_at, Report.id < report_id)))
    return query, _limit(args.get("limit"))


@bp.route("/reports")
@public
def list_reports():
    """Public reports, newest first, filtered, one page at a time."""
    try:
        query, limit = list_query(request.args)
    except DomainError as exc:
        return invalid(exc.message, exc.details.get("field"), status=400)
    rows = db.session.scalars(query.options(selectinload(Report.updates), selectinload(Report.reporter))
                              .limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
    return jsonify({"items": [report_json(r) for r in page], "next_cursor": next_cursor})


@bp.route("/reports/<int:report_id>")
@public
def get_report(report_id):
    """One public report (404 for missing and hidden alike)."""
    try:
        report = services.get_public(report_id)
    except NotFound as exc:
        return error_response(404, exc.message, code="not_found")
    return jsonify(report_json(report))


# --- creating ---------------------------------------------------------------------------------

def _error_field(exc):
    """The request property a domain error of create_report is about (the service's field names)."""
    raw = exc.details.get("field")
    return {"category_id": "category"}.get(raw, raw)


def _text(data, name, required=True):
    """A string property of the body (None when optional and absent); DomainError otherwise."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise DomainError(_("%(field)s must be a string.", field=name), field=name)
    return value


def _number(data, name):
    """A JSON number property of the body; DomainError otherwise (numbers in strings are refused)."""
    value = data.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise DomainError(_("%(field)s must be a number.", field=name), field=name)
    return value


def report_fields(data):
    """create_report's arguments from the JSON body; DomainError naming the property at fault."""
    fields = {"title": _text(data, "title"), "description": _text(data, "description")}
    slug = _text(data, "category")
    fields["category_id"] = db.session.scalar(select(Category.id).where(Category.slug == slug))
    if fields["category_id"] is None:
        raise DomainError(_("There is no category %(slug)s.", slug=slug), field="category")
    fields["lat"], fields["lon"] = _number(data, "lat"), _number(data, "lon")
    fields["address"] = _text(data, "address", required=False)
    return fields


@bp.route("/reports", methods=["POST"])
@token_required
@content_limits(success=(201,))
def create_report():
    """Place a report as the token's user (no photos through the JSON API yet).

    A report that pre-moderation holds is created all the same (201) with ``"held": true``: it is
    published once a moderator approves it, and until then getReport answers 404 like for any
    report that is not public.
    """
    data = json_body()
    if data is None:
        return error_response(400, _("Send the report as a JSON object."), code="bad_request")
    try:
        report = services.create_report(api_user(), source="api", **report_fields(data))
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        return invalid(exc.message, _error_field(exc))
    held = holds.is_held("report", report)
    db.session.commit()
    response = jsonify({**report_json(report), "held": held})
    response.headers["Location"] = _absolute(url_for("api.get_report", report_id=report.id))
    return response, 201


# --- the OpenAPI document ---------------------------------------------------------------------

NAMES = {"type": "object", "required": ["slug", "name_it", "name_en"],
         "properties": {"slug": {"type": "string"}, "name_it": {"type": "string"}, "name_en": {"type": "string"}}}
STATUS = {"type": "string", "enum": ["new", "acknowledged", "in_progress", "resolved", "closed", "duplicate",
                                     "not_responsible", "rejected"]}

add_schema("ReportUpdate", {
    "type": "object",
    "description": "A public entry of the report's timeline.",
    "required": ["kind", "created_at"],
    "properties": {
        "kind": {"type": "string", "enum": ["created", "status", "note", "assigned", "merged"]},
        "from_status": {"oneOf": [STATUS, {"type": "null"}]},
        "to_status": {"oneOf": [STATUS, {"type": "null"}]},
        "note": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
    },
})
add_schema("Report", {
    "type": "object",
    "required": ["id", "title", "description", "status", "status_group", "category", "lat", "lon", "created_at",
                 "updated_at", "url", "updates"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "status": STATUS,
        "status_group": {"type": "string", "enum": ["open", "fixed", "closed"]},
        "category": NAMES,
        "district": {"oneOf": [{"type": "object", "required": ["number", "name"],
                                "properties": {"number": {"type": "integer"}, "name": {"type": "string"}}},
                               {"type": "null"}]},
        "department": {"oneOf": [NAMES, {"type": "null"}], "description": "The city department handling it."},
        "lat": {"type": "number"},
        "lon": {"type": "number"},
        "address": {"type": ["string", "null"]},
        "reporter_name": {"type": ["string", "null"],
                          "description": "The reporter's public display name; null for deleted accounts."},
        "source": {"type": "string", "enum": ["web", "api", "open311"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "format": "uri", "description": "The report's public page."},
        "updates": {"type": "array", "items": {"$ref": "#/components/schemas/ReportUpdate"}},
        "held": {"type": "boolean",
                 "description": "Only in createReport's answer: true when pre-moderation holds the report until a "
                                "moderator approves it (getReport answers 404 until then)."},
    },
})
add_schema("ReportList", {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Report"}},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null on the last page."},
    },
})
add_schema("NewReport", {
    "type": "object",
    "required": ["title", "description", "category", "lat", "lon"],
    "properties": {
        "title": {"type": "string", "maxLength": 140},
        "description": {"type": "string", "maxLength": 5000},
        "category": {"type": "string", "description": "A category slug."},
        "lat": {"type": "number"},
        "lon": {"type": "number"},
        "address": {"type": "string", "maxLength": 200, "description": "Street or landmark, as people say it."},
    },
})


def _query(name, description, schema):
    """An optional query parameter of the OpenAPI document."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _json(schema):
    """A JSON content entry referring to a component schema."""
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


add_operation("/reports", "get", {
    "operationId": "listReports",
    "summary": "List public reports, newest first",
    "tags": ["reports"],
    "security": [],
    "parameters": [
        _query("status", "Status group.", {"type": "string", "enum": ["open", "fixed", "closed"]}),
        _query("category", "Category slug.", {"type": "string"}),
        _query("district", "District number.", {"type": "integer"}),
        _query("bbox", "minLon,minLat,maxLon,maxLat (WGS 84).", {"type": "string", "pattern": geo.BBOX_PATTERN}),
        _query("limit", f"Page size, at most {MAX_LIMIT} (larger values are lowered).",
               {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT}),
        _query("cursor", "next_cursor of the previous page.", {"type": "string"}),
    ],
    "responses": {"200": {"description": "One page of reports", "content": _json("ReportList")},
                  "400": {"description": "A query parameter is invalid", "content": _json("ValidationError")}},
})
add_operation("/reports", "post", {
    "operationId": "createReport",
    "summary": "Place a report as the token's user",
    "description": "Needs a bearer token of a citizen with a confirmed email address; session cookies "
                   "are not accepted.",
    "tags": ["reports"],
    "security": [{"bearerAuth": []}],
    "requestBody": {"required": True, "content": _json("NewReport")},
    "responses": {
        "201": {"description": "The new report", "content": _json("Report"),
                "headers": {"Location": {"description": "The report in the API",
                                         "schema": {"type": "string", "format": "uri"}}}},
        "400": ERROR,
        "401": ERROR,
        "403": ERROR,
        "422": VALIDATION_ERROR,
    },
})
add_operation("/reports/{report_id}", "get", {
    "operationId": "getReport",
    "summary": "One public report",
    "tags": ["reports"],
    "security": [],
    "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "The report", "content": _json("Report")}, "404": ERROR},
})
