"""Debates and events in the JSON API: listDebates, getDebate, listEvents, getEvent.

A debate carries its author's public display name (as its page does) and its comment count; its
conversation is listComments. Events are the public calendar of the houses, associations and
the City: the list shows the ones not over yet, the soonest first; cancelled ones stay, marked.
Who registered for an event is never shown, only how many places are left.
"""
import base64
import json

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api.auth import ERROR, invalid, iso_utc
from app.api.catalogue import DISTRICT_REF, _district
from app.api.openapi import add_operation, add_schema
from app.api.reports import DEFAULT_LIMIT, MAX_LIMIT, NAMES, _absolute, _json, _limit, _query, decode_cursor, district_arg
from app.auth.access import public
from app.debates import services as debates
from app.errors import error_response
from app.extensions import db
from app.houses import services as houses
from app.models.base import DomainError, NotFound
from app.models.discussion import Debate
from app.models.event import Event, EventKind, EventRegistration
from app.models.place import Category, NeighbourhoodHouse

KINDS = [k.value for k in EventKind]


def _cursor(moment, ident):
    raw = json.dumps([moment.isoformat(), ident]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _category(category):
    return ({"slug": category.slug, "name_it": category.name_it, "name_en": category.name_en}
            if category is not None else None)


# --- debates ----------------------------------------------------------------------------------

def debate_json(debate):
    author = debate.author
    return {
        "id": debate.id,
        "title": debate.title,
        "body": debate.body,
        "author_name": author.display_name if author is not None and author.deleted_at is None else None,
        "category": _category(debate.category),
        "district": _district(debate.district),
        "comment_count": debate.comment_count,
        "created_at": iso_utc(debate.created_at),
        "edited_at": iso_utc(debate.edited_at),
        # Only when that proposal is public: a draft or hidden one is nobody else's business.
        "proposal_id": debate.proposal_id if debate.proposal is not None and debate.proposal.is_public else None,
        "url": _absolute(url_for("debates.detail", debate_id=debate.id)),
        "comments_url": _absolute(url_for("api.list_comments", target_type="debate", target_id=debate.id)),
    }


@bp.route("/debates")
@public
def list_debates():
    """Public debates, newest first, filtered by category and district, one page at a time."""
    try:
        category_id = None
        if request.args.get("category"):
            category_id = db.session.scalar(select(Category.id).where(Category.slug == request.args["category"]))
            if category_id is None:
                raise DomainError(_("There is no category %(slug)s.", slug=request.args["category"]),
                                  field="category")
        district_id = district_arg(request.args) if request.args.get("district") else None
        query = debates.public_debates(category_id=category_id, district_id=district_id)
        if request.args.get("cursor"):
            created_at, debate_id = decode_cursor(request.args["cursor"])
            query = query.where(or_(Debate.created_at < created_at,
                                    and_(Debate.created_at == created_at, Debate.id < debate_id)))
        limit = _limit(request.args.get("limit"))
    except DomainError as exc:
        return invalid(exc.message, exc.details.get("field"), status=400)
    rows = db.session.scalars(query.limit(limit + 1)).all()
    page = rows[:limit]
    return jsonify({"items": [debate_json(d) for d in page],
                    "next_cursor": _cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None})


@bp.route("/debates/<int:debate_id>")
@public
def get_debate(debate_id):
    """One public debate (404 for missing and hidden alike)."""
    try:
        debate = debates.get_public(debate_id)
    except NotFound as exc:
        return error_response(404, exc.message, code="not_found")
    return jsonify(debate_json(debate))


# --- events ------------------------------------------------------------------------------------

def _registrations(event_ids):
    """event id -> registrations (one query for a page)."""
    if not event_ids:
        return {}
    return dict(db.session.execute(select(EventRegistration.event_id, func.count(EventRegistration.id))
                                   .where(EventRegistration.event_id.in_(event_ids))
                                   .group_by(EventRegistration.event_id)).all())


def event_json(event, registered):
    house = event.house
    lat, lon = (event.lat, event.lon) if event.lat is not None else ((house.lat, house.lon) if house else (None, None))
    return {
        "id": event.id,
        "kind": event.kind.value,
        "title": event.title,
        "description": event.description,
        "starts_at": iso_utc(event.starts_at),
        "ends_at": iso_utc(event.ends_at),
        "address": event.address or (house.address if house else None) or None,
        "lat": lat,
        "lon": lon,
        "district": _district(event.district),
        "house": {"slug": house.slug, "name": house.name} if house is not None else None,
        "organisation": (event.organisation.name if event.organisation is not None
                         and event.organisation.hidden_at is None else None),
        "capacity": event.capacity,
        "places_left": max(event.capacity - registered, 0) if event.capacity is not None else None,
        "takes_registrations": houses.takes_registrations(event),
        "cancelled": event.cancelled_at is not None,
        "url": _absolute(url_for("houses.event_detail", event_id=event.id)),
    }


def _events():
    return (selectinload(Event.house), selectinload(Event.organisation), selectinload(Event.district))


@bp.route("/events")
@public
def list_events():
    """Events not over yet, the soonest first; filtered by district, kind and house."""
    try:
        district_id = district_arg(request.args) if request.args.get("district") else None
        kind = request.args.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise DomainError(_("%(name)s must be one of: %(values)s.", name="kind", values=", ".join(KINDS)),
                              field="kind")
        house_id = None
        if request.args.get("house"):
            house_id = db.session.scalar(select(NeighbourhoodHouse.id)
                                         .where(NeighbourhoodHouse.slug == request.args["house"]))
            if house_id is None:
                raise DomainError(_("There is no such house."), field="house")
        query = houses.upcoming(district_id=district_id, kind=EventKind(kind) if kind else None, house_id=house_id)
        if request.args.get("cursor"):
            starts_at, event_id = decode_cursor(request.args["cursor"])
            query = query.where(or_(Event.starts_at > starts_at,
                                    and_(Event.starts_at == starts_at, Event.id > event_id)))
        limit = _limit(request.args.get("limit"))
    except DomainError as exc:
        return invalid(exc.message, exc.details.get("field"), status=400)
    rows = db.session.scalars(query.options(*_events()).limit(limit + 1)).all()
    page = rows[:limit]
    counts = _registrations([e.id for e in page])
    return jsonify({"items": [event_json(e, counts.get(e.id, 0)) for e in page],
                    "next_cursor": _cursor(page[-1].starts_at, page[-1].id) if len(rows) > limit else None})


@bp.route("/events/<int:event_id>")
@public
def get_event(event_id):
    """One event, past or future."""
    event = db.session.scalar(select(Event).options(*_events()).where(Event.id == event_id))
    if event is None:
        return error_response(404, _("No such event."), code="not_found")
    return jsonify(event_json(event, _registrations([event.id]).get(event.id, 0)))


# --- the OpenAPI document ---------------------------------------------------------------------

NULLABLE_NAMES = {"oneOf": [NAMES, {"type": "null"}]}
add_schema("Debate", {
    "type": "object",
    "required": ["id", "title", "body", "author_name", "category", "district", "comment_count", "created_at",
                 "edited_at", "proposal_id", "url", "comments_url"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "body": {"type": "string", "description": "Markdown source."},
        "author_name": {"type": ["string", "null"], "description": "Public display name; null once deleted."},
        "category": NULLABLE_NAMES,
        "district": DISTRICT_REF,
        "comment_count": {"type": "integer", "minimum": 0},
        "created_at": {"type": "string", "format": "date-time"},
        "edited_at": {"type": ["string", "null"], "format": "date-time"},
        "proposal_id": {"type": ["integer", "null"], "description": "The proposal the author turned it into."},
        "url": {"type": "string", "format": "uri"},
        "comments_url": {"type": "string", "format": "uri", "description": "listComments of this debate."},
    },
})
add_schema("DebateList", {"type": "object", "required": ["items", "next_cursor"],
                          "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Debate"}},
                                         "next_cursor": {"type": ["string", "null"]}}})
add_schema("Event", {
    "type": "object",
    "required": ["id", "kind", "title", "description", "starts_at", "ends_at", "address", "lat", "lon", "district",
                 "house", "organisation", "capacity", "places_left", "takes_registrations", "cancelled", "url"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": KINDS},
        "title": {"type": "string", "examples": ["Assemblea di quartiere sul verde"]},
        "description": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "address": {"type": ["string", "null"]},
        "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]},
        "district": DISTRICT_REF,
        "house": {"oneOf": [{"type": "object", "required": ["slug", "name"],
                             "properties": {"slug": {"type": "string"}, "name": {"type": "string"}}},
                            {"type": "null"}], "description": "The organising house, if any."},
        "organisation": {"type": ["string", "null"], "description": "The organising association, if any."},
        "capacity": {"type": ["integer", "null"], "description": "Places; null: no limit."},
        "places_left": {"type": ["integer", "null"], "minimum": 0},
        "takes_registrations": {"type": "boolean"},
        "cancelled": {"type": "boolean"},
        "url": {"type": "string", "format": "uri"},
    },
})
add_schema("EventList", {"type": "object", "required": ["items", "next_cursor"],
                         "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                                        "next_cursor": {"type": ["string", "null"]}}})
PAGING = [_query("limit", f"Page size, at most {MAX_LIMIT}.", {"type": "integer", "minimum": 1,
                                                              "default": DEFAULT_LIMIT}),
          _query("cursor", "next_cursor of the previous page.", {"type": "string"})]
BAD_QUERY = {"description": "A query parameter is invalid", "content": _json("ValidationError")}
add_operation("/debates", "get", {
    "operationId": "listDebates", "summary": "List public debates, newest first", "tags": ["debates"],
    "security": [],
    "parameters": [_query("category", "Category slug.", {"type": "string"}),
                   _query("district", "District number.", {"type": "integer"})] + PAGING,
    "responses": {"200": {"description": "One page of debates", "content": _json("DebateList")}, "400": BAD_QUERY},
})
add_operation("/debates/{debate_id}", "get", {
    "operationId": "getDebate", "summary": "One public debate", "tags": ["debates"], "security": [],
    "parameters": [{"name": "debate_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "The debate", "content": _json("Debate")}, "404": ERROR},
})
add_operation("/events", "get", {
    "operationId": "listEvents", "summary": "Events not over yet, the soonest first", "tags": ["houses"],
    "security": [],
    "parameters": [_query("district", "District number.", {"type": "integer"}),
                   _query("kind", "Kind of event.", {"type": "string", "enum": KINDS}),
                   _query("house", "Slug of the organising house.", {"type": "string"})] + PAGING,
    "responses": {"200": {"description": "One page of events", "content": _json("EventList")}, "400": BAD_QUERY},
})
add_operation("/events/{event_id}", "get", {
    "operationId": "getEvent", "summary": "One event", "tags": ["houses"], "security": [],
    "parameters": [{"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "The event", "content": _json("Event")}, "404": ERROR},
})
