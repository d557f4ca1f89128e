"""The city's public structure in the JSON API: districts, categories, processes, neighbourhood houses.

These are short lists (8 districts, a few dozen categories, two processes a year, nine houses), so
they come whole, without pages. Houses carry only their public contacts (the ones printed on the
house page); the facilitators who work there are never named.
"""
from flask import jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api.auth import ERROR, iso_utc
from app.api.openapi import add_operation, add_schema
from app.api.reports import NAMES, _absolute, _json
from app.auth.access import public
from app.errors import error_response
from app.extensions import db
from app.houses import services as houses
from app.models.base import utcnow
from app.models.event import EventKind
from app.models.place import Category, District, NeighbourhoodHouse
from app.models.proposal import PhaseKind, Process, Proposal, ProposalStatus

DISTRICT_REF = {"oneOf": [{"$ref": "#/components/schemas/DistrictRef"}, {"type": "null"}]}
#: Upcoming events listed with a house.
HOUSE_EVENTS = 20


def _district(district):
    return {"number": district.number, "name": district.name} if district is not None else None


# --- districts and categories ----------------------------------------------------------------

@bp.route("/districts")
@public
def list_districts():
    """The districts (circoscrizioni), by number. Their outlines are in mapDistricts."""
    rows = db.session.scalars(select(District).order_by(District.number)).all()
    return jsonify({"items": [{"number": d.number, "name": d.name} for d in rows]})


def category_json(category):
    department = category.department
    return {"slug": category.slug, "name_it": category.name_it, "name_en": category.name_en,
            "department": ({"slug": department.slug, "name_it": department.name_it, "name_en": department.name_en}
                           if department is not None else None)}


@bp.route("/categories")
@public
def list_categories():
    """The categories of reports and proposals, with the department each is routed to."""
    rows = db.session.scalars(select(Category).options(selectinload(Category.department))
                              .order_by(Category.name_it, Category.id)).all()
    return jsonify({"items": [category_json(c) for c in rows]})


# --- processes -------------------------------------------------------------------------------

def _proposal_counts(process_ids):
    """process id -> number of its public proposals (one query)."""
    if not process_ids:
        return {}
    rows = db.session.execute(
        select(Proposal.process_id, func.count(Proposal.id))
        .where(Proposal.process_id.in_(process_ids), Proposal.status != ProposalStatus.draft,
               Proposal.hidden_at.is_(None))
        .group_by(Proposal.process_id))
    return dict(rows.all())


def process_json(process, proposal_count, now):
    current = process.phase_at(now)
    return {
        "slug": process.slug,
        "title": process.title,
        "description": process.description,
        "district": _district(process.district),
        "support_threshold": process.support_threshold,
        "supports_per_citizen": process.supports_per_citizen or None,
        "supports_past_threshold": process.supports_past_threshold,
        "minimum_age": process.minimum_age,
        "verified_only": process.verified_only,
        "phases": [{"kind": p.kind.value, "starts_at": iso_utc(p.starts_at), "ends_at": iso_utc(p.ends_at)}
                   for p in process.phases],
        "current_phase": current.value if current is not None else None,
        "categories": [c.slug for c in process.categories],
        "proposal_count": proposal_count,
        "url": _absolute(url_for("reviews.process", slug=process.slug)),
        "proposals_url": _absolute(url_for("api.list_proposals", process=process.slug)),
    }


def _processes():
    return select(Process).options(selectinload(Process.phases), selectinload(Process.categories),
                                   selectinload(Process.district))


@bp.route("/processes")
@public
def list_processes():
    """Every participatory process, the newest first."""
    rows = db.session.scalars(_processes().order_by(Process.created_at.desc(), Process.id.desc())).all()
    counts = _proposal_counts([p.id for p in rows])
    now = utcnow()
    return jsonify({"items": [process_json(p, counts.get(p.id, 0), now) for p in rows]})


@bp.route("/processes/<slug>")
@public
def get_process(slug):
    """One process by its slug."""
    process = db.session.scalar(_processes().where(Process.slug == slug))
    if process is None:
        return error_response(404, _("There is no such process."), code="not_found")
    return jsonify(process_json(process, _proposal_counts([process.id]).get(process.id, 0), utcnow()))


# --- neighbourhood houses ----------------------------------------------------------------------

def event_json(event):
    return {"id": event.id, "kind": event.kind.value, "title": event.title, "starts_at": iso_utc(event.starts_at),
            "ends_at": iso_utc(event.ends_at), "cancelled": event.cancelled_at is not None,
            "url": _absolute(url_for("houses.event_detail", event_id=event.id))}


def house_json(house, events=None):
    data = {
        "slug": house.slug,
        "name": house.name,
        "neighbourhood": house.neighbourhood,
        "address": house.address,
        "lat": house.lat,
        "lon": house.lon,
        "district": _district(house.district),
        "phone": house.phone or None,
        "email": house.email or None,
        "website": house.website or None,
        "hours": [{"weekday": h.weekday, "hours": h.hours} for h in house.hours],
        "url": _absolute(url_for("houses.detail", slug=house.slug)),
    }
    if events is not None:
        data["upcoming_events"] = [event_json(e) for e in events]
    return data


def _houses():
    return select(NeighbourhoodHouse).options(selectinload(NeighbourhoodHouse.hours),
                                              selectinload(NeighbourhoodHouse.district))


@bp.route("/houses")
@public
def list_houses():
    """The neighbourhood houses (Case del Quartiere), by name."""
    rows = db.session.scalars(_houses().order_by(NeighbourhoodHouse.name, NeighbourhoodHouse.id)).all()
    return jsonify({"items": [house_json(h) for h in rows]})


@bp.route("/houses/<slug>")
@public
def get_house(slug):
    """One house, with its opening hours and its next events."""
    house = db.session.scalar(_houses().where(NeighbourhoodHouse.slug == slug))
    if house is None:
        return error_response(404, _("There is no such house."), code="not_found")
    events = db.session.scalars(houses.upcoming(house_id=house.id).limit(HOUSE_EVENTS)).all()
    return jsonify(house_json(house, events))


# --- the OpenAPI document ---------------------------------------------------------------------

add_schema("DistrictRef", {"type": "object", "required": ["number", "name"],
                           "properties": {"number": {"type": "integer"}, "name": {"type": "string"}}})
add_schema("District", {
    "type": "object", "required": ["number", "name"],
    "properties": {"number": {"type": "integer", "examples": [1]},
                   "name": {"type": "string", "examples": ["Centro - Crocetta"]}},
})
add_schema("DistrictList", {"type": "object", "required": ["items"],
                            "properties": {"items": {"type": "array",
                                                     "items": {"$ref": "#/components/schemas/District"}}}})
add_schema("Category", {
    "type": "object", "required": ["slug", "name_it", "name_en", "department"],
    "properties": {"slug": {"type": "string", "examples": ["illuminazione"]}, "name_it": {"type": "string"},
                   "name_en": {"type": "string"}, "department": {"oneOf": [NAMES, {"type": "null"}]}},
})
add_schema("CategoryList", {"type": "object", "required": ["items"],
                            "properties": {"items": {"type": "array",
                                                     "items": {"$ref": "#/components/schemas/Category"}}}})
add_schema("Process", {
    "type": "object",
    "required": ["slug", "title", "description", "district", "support_threshold", "supports_per_citizen",
                 "supports_past_threshold", "minimum_age", "verified_only", "phases", "current_phase",
                 "categories", "proposal_count", "url", "proposals_url"],
    "properties": {
        "slug": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string", "description": "Markdown source."},
        "district": DISTRICT_REF,
        "support_threshold": {"type": "integer", "description": "Supports that oblige the City to review a proposal."},
        "supports_per_citizen": {"type": ["integer", "null"],
                                 "description": "How many proposals one citizen may support; null: no limit."},
        "supports_past_threshold": {"type": "boolean"},
        "minimum_age": {"type": "integer"},
        "verified_only": {"type": "boolean", "description": "Only verified citizens may support."},
        "phases": {"type": "array", "items": {
            "type": "object", "required": ["kind", "starts_at", "ends_at"],
            "properties": {"kind": {"type": "string", "enum": [k.value for k in PhaseKind]},
                           "starts_at": {"type": "string", "format": "date-time"},
                           "ends_at": {"type": "string", "format": "date-time"}}}},
        "current_phase": {"oneOf": [{"type": "string", "enum": [k.value for k in PhaseKind]}, {"type": "null"}]},
        "categories": {"type": "array", "items": {"type": "string"}, "description": "Category slugs."},
        "proposal_count": {"type": "integer", "minimum": 0, "description": "Public proposals."},
        "url": {"type": "string", "format": "uri"},
        "proposals_url": {"type": "string", "format": "uri", "description": "listProposals of this process."},
    },
})
add_schema("ProcessList", {"type": "object", "required": ["items"],
                           "properties": {"items": {"type": "array",
                                                    "items": {"$ref": "#/components/schemas/Process"}}}})
add_schema("HouseEvent", {
    "type": "object", "required": ["id", "kind", "title", "starts_at", "ends_at", "cancelled", "url"],
    "properties": {"id": {"type": "integer"}, "kind": {"type": "string", "enum": [k.value for k in EventKind]},
                   "title": {"type": "string"}, "starts_at": {"type": "string", "format": "date-time"},
                   "ends_at": {"type": "string", "format": "date-time"}, "cancelled": {"type": "boolean"},
                   "url": {"type": "string", "format": "uri"}},
})
HOUSE_PROPERTIES = {
    "slug": {"type": "string", "examples": ["cascina-roccafranca"]},
    "name": {"type": "string", "examples": ["Cascina Roccafranca"]},
    "neighbourhood": {"type": "string"},
    "address": {"type": "string"},
    "lat": {"type": "number"},
    "lon": {"type": "number"},
    "district": DISTRICT_REF,
    "phone": {"type": ["string", "null"]},
    "email": {"type": ["string", "null"], "description": "The house's public address."},
    "website": {"type": ["string", "null"]},
    "hours": {"type": "array", "items": {
        "type": "object", "required": ["weekday", "hours"],
        "properties": {"weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Monday."},
                       "hours": {"type": "string", "examples": ["9:00–13:00, 15:00–19:00"]}}}},
    "url": {"type": "string", "format": "uri"},
}
HOUSE_REQUIRED = ["slug", "name", "neighbourhood", "address", "lat", "lon", "district", "phone", "email", "website",
                  "hours", "url"]
add_schema("House", {"type": "object", "required": HOUSE_REQUIRED, "properties": HOUSE_PROPERTIES})
add_schema("HouseDetail", {
    "type": "object", "required": HOUSE_REQUIRED + ["upcoming_events"],
    "properties": {**HOUSE_PROPERTIES, "upcoming_events": {
        "type": "array", "items": {"$ref": "#/components/schemas/HouseEvent"},
        "description": f"The next {HOUSE_EVENTS} events not yet over, soonest first (cancelled ones marked)."}},
})
add_schema("HouseList", {"type": "object", "required": ["items"],
                         "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/House"}}}})

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


def _read(path, operation_id, summary, tag, schema, parameters=(), not_found=False):
    responses = {"200": {"description": summary, "content": _json(schema)}}
    if not_found:
        responses["404"] = ERROR
    add_operation(path, "get", {"operationId": operation_id, "summary": summary, "tags": [tag], "security": [],
                                "parameters": list(parameters), "responses": responses})


_read("/districts", "listDistricts", "The districts, by number", "city", "DistrictList")
_read("/categories", "listCategories", "The categories of reports and proposals", "city", "CategoryList")
_read("/processes", "listProcesses", "The participatory processes, newest first", "processes", "ProcessList")
_read("/processes/{slug}", "getProcess", "One process", "processes", "Process", [SLUG], not_found=True)
_read("/houses", "listHouses", "The neighbourhood houses", "houses", "HouseList")
_read("/houses/{slug}", "getHouse", "One neighbourhood house with its next events", "houses", "HouseDetail", [SLUG],
      not_found=True)
