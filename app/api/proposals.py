"""Proposals in the JSON API: listProposals (keyset pagination), getProposal, supportProposal, withdrawSupport.

A proposal's JSON carries public facts and counts only: never its supporters (supports are
private, DESIGN.md §3) and never an email address. Supports go through the support service,
which does all the counting, the limits and the threshold under a lock; the views here only
map its answers and domain errors to JSON and commit once.
"""
import base64
import json

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api.auth import ERROR, invalid, iso_utc
from app.api.openapi import add_operation, add_schema
from app.api.reports import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    NAMES,
    _absolute,
    _json,
    _limit,
    _query,
    decode_cursor,
    district_arg,
)
from app.auth.access import api_user, public, token_required
from app.errors import error_response
from app.extensions import db, limiter
from app.models.base import DomainError, NotFound, PermissionDenied
from app.models.place import Category
from app.models.proposal import Process, Proposal, ProposalStatus
from app.moderation.limits import account_key
from app.proposals import queries, services
from app.proposals.services import SupportClosed, SupportLimitReached

#: The statuses a public proposal can have (drafts are never shown).
PUBLIC_STATUSES = [s.value for s in ProposalStatus if s is not ProposalStatus.draft]


def _visible():
    """The SQL condition of a proposal anyone may see: published at some point, not hidden."""
    return and_(Proposal.status != ProposalStatus.draft, Proposal.hidden_at.is_(None))


# --- JSON -----------------------------------------------------------------------------------

def proposal_json(proposal):
    """A proposal as the API shows it (counts only: supporters are private)."""
    process = proposal.process
    category = proposal.category
    district = proposal.district
    return {
        "id": proposal.id,
        "title": proposal.title,
        "body": proposal.body,  # the Markdown source, as the author wrote it
        "status": proposal.status.value,
        "process": {"slug": process.slug, "title": process.title},
        "category": ({"slug": category.slug, "name_it": category.name_it, "name_en": category.name_en}
                     if category else None),
        "district": {"number": district.number, "name": district.name} if district else None,
        "lat": proposal.lat,
        "lon": proposal.lon,
        "support_count": proposal.support_count,
        "support_threshold": process.support_threshold,
        "published_at": iso_utc(proposal.published_at),
        "frozen_at": iso_utc(proposal.frozen_at),
        # The public proposal page does not exist yet: the URL is built by hand on BASE_URL
        # (not with url_for) and will point at /proposals/<id> once that page is added.
        "url": _absolute(f"/proposals/{proposal.id}"),
        "addenda": [{"body": a.body, "created_at": iso_utc(a.created_at)} for a in proposal.addenda],
    }


def _with_relations(query):
    return query.options(selectinload(Proposal.process), selectinload(Proposal.category),
                         selectinload(Proposal.district), selectinload(Proposal.addenda))


# --- listing ----------------------------------------------------------------------------------

def encode_cursor(proposal):
    """An opaque cursor just after ``proposal`` in the (published_at, id) descending order."""
    raw = json.dumps([proposal.published_at.isoformat(), proposal.id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def list_query(args):
    """(query, limit) for listProposals from the query string; DomainError naming a bad parameter."""
    # A published proposal always has published_at; the condition keeps the keyset total anyway.
    query = select(Proposal).where(_visible(), Proposal.published_at.is_not(None))
    if args.get("process"):
        process_id = db.session.scalar(select(Process.id).where(Process.slug == args["process"]))
        if process_id is None:
            raise DomainError(_("There is no process %(slug)s.", slug=args["process"]), field="process")
        query = query.where(Proposal.process_id == process_id)
    if args.get("status"):
        if args["status"] not in PUBLIC_STATUSES:
            raise DomainError(_("status must be one of: %(values)s.", values=", ".join(PUBLIC_STATUSES)),
                              field="status")
        query = query.where(Proposal.status == ProposalStatus(args["status"]))
    if args.get("district"):
        query = query.where(Proposal.district_id == district_arg(args))
    if args.get("category"):
        category_id = db.session.scalar(select(Category.id).where(Category.slug == args["category"]))
        if category_id is None:
            raise DomainError(_("There is no category %(slug)s.", slug=args["category"]), field="category")
        query = query.where(Proposal.category_id == category_id)
    if args.get("cursor"):
        # Keyset pagination on the list's own order, as for listReports: no OFFSET.
        published_at, proposal_id = decode_cursor(args["cursor"])
        query = query.where(or_(Proposal.published_at < published_at,
                                and_(Proposal.published_at == published_at, Proposal.id < proposal_id)))
    query = query.order_by(Proposal.published_at.desc(), Proposal.id.desc())
    return query, _limit(args.get("limit"))


@bp.route("/proposals")
@public
def list_proposals():
    """Public proposals, most recently published first, filtered, one page at a time."""
    try:
        query, limit = list_query(request.args)
    except DomainError as exc:
        return invalid(exc.message, exc.details.get("field"), status=400)
    _expire_on_read()
    rows = db.session.scalars(_with_relations(query).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
    return jsonify({"items": [proposal_json(p) for p in page], "next_cursor": next_cursor})


def _expire_on_read():
    """Record what the clock already decided (expiries, anonymised supports), as the pages do."""
    if queries.catch_up():
        db.session.commit()


def _public_proposal(proposal_id):
    """The proposal if anyone may see it; None for missing, draft and hidden alike."""
    return db.session.scalar(_with_relations(select(Proposal).where(Proposal.id == proposal_id, _visible())))


def _not_found():
    return error_response(404, _("There is no such proposal."), code="not_found")


@bp.route("/proposals/<int:proposal_id>")
@public
def get_proposal(proposal_id):
    """One public proposal (404 for missing, draft and hidden alike)."""
    _expire_on_read()
    proposal = _public_proposal(proposal_id)
    if proposal is None:
        return _not_found()
    return jsonify(proposal_json(proposal))


# --- supporting -------------------------------------------------------------------------------

def _refusal(exc):
    """The JSON error of a domain error raised by the support service (after a rollback)."""
    db.session.rollback()
    if isinstance(exc, SupportClosed):
        return error_response(409, exc.message, code="support_closed")
    if isinstance(exc, SupportLimitReached):
        return error_response(409, exc.message, code="support_limit_reached")
    if isinstance(exc, NotFound):
        return error_response(404, exc.message, code="not_found")
    if isinstance(exc, PermissionDenied):
        return error_response(403, exc.message, code="forbidden")
    return error_response(exc.status, exc.message)


@bp.route("/proposals/<int:proposal_id>/support", methods=["POST"])
@token_required
@limiter.limit(lambda: current_app.config["CONTENT_LIMIT"], key_func=account_key,
               deduct_when=lambda response: response.status_code == 201)
def support_proposal(proposal_id):
    """Support a proposal as the token's user: 201 when the support is new, 200 when it existed."""
    if _public_proposal(proposal_id) is None:
        return _not_found()
    try:
        result = services.support(api_user(), proposal_id)
    except DomainError as exc:
        return _refusal(exc)
    db.session.commit()
    return jsonify({"support_count": result.count, "supported": True,
                    "threshold_reached": result.crossed}), 201 if result.created else 200


@bp.route("/proposals/<int:proposal_id>/support", methods=["DELETE"])
@token_required
def withdraw_support(proposal_id):
    """Withdraw the token's user's support while the support phase is open (idempotent)."""
    if _public_proposal(proposal_id) is None:
        return _not_found()
    try:
        count = services.withdraw_support(api_user(), proposal_id)
    except DomainError as exc:
        return _refusal(exc)
    db.session.commit()
    return jsonify({"support_count": count, "supported": False})


# --- the OpenAPI document ---------------------------------------------------------------------

add_schema("ProposalAddendum", {
    "type": "object",
    "description": "A dated note the author added after the text froze.",
    "required": ["body", "created_at"],
    "properties": {"body": {"type": "string", "description": "Markdown source."},
                   "created_at": {"type": "string", "format": "date-time"}},
})
add_schema("Proposal", {
    "type": "object",
    "required": ["id", "title", "body", "status", "process", "category", "district", "lat", "lon",
                 "support_count", "support_threshold", "published_at", "frozen_at", "url", "addenda"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "body": {"type": "string", "description": "Markdown source, unrendered."},
        "status": {"type": "string", "enum": PUBLIC_STATUSES},
        "process": {"type": "object", "required": ["slug", "title"],
                    "properties": {"slug": {"type": "string"}, "title": {"type": "string"}}},
        "category": {"oneOf": [NAMES, {"type": "null"}]},
        "district": {"oneOf": [{"type": "object", "required": ["number", "name"],
                                "properties": {"number": {"type": "integer"}, "name": {"type": "string"}}},
                               {"type": "null"}]},
        "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]},
        "support_count": {"type": "integer", "minimum": 0},
        "support_threshold": {"type": "integer", "description": "The process's threshold for a City review."},
        "published_at": {"type": "string", "format": "date-time"},
        "frozen_at": {"type": ["string", "null"], "format": "date-time",
                      "description": "When the first support froze the text (addenda only from then on)."},
        "url": {"type": "string", "format": "uri", "description": "The proposal's public page."},
        "addenda": {"type": "array", "items": {"$ref": "#/components/schemas/ProposalAddendum"}},
    },
})
add_schema("ProposalList", {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Proposal"}},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null on the last page."},
    },
})
add_schema("SupportState", {
    "type": "object",
    "required": ["support_count", "supported"],
    "properties": {
        "support_count": {"type": "integer", "minimum": 0},
        "supported": {"type": "boolean", "description": "Whether the token's user now supports the proposal."},
        "threshold_reached": {"type": "boolean",
                              "description": "supportProposal only: true on the one support that crossed the "
                                             "threshold, false otherwise."},
    },
})

PROPOSAL_ID = {"name": "proposal_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SUPPORT_CONFLICT = {"description": "Code `support_closed` (not in the support phase, or the proposal is not "
                                   "collecting supports) or `support_limit_reached` (supportProposal only: "
                                   "the citizen used all their supports in this process)",
                    "content": _json("Error")}

add_operation("/proposals", "get", {
    "operationId": "listProposals",
    "summary": "List public proposals, most recently published first",
    "tags": ["proposals"],
    "security": [],
    "parameters": [
        _query("process", "Process slug.", {"type": "string"}),
        _query("status", "Proposal status.", {"type": "string", "enum": PUBLIC_STATUSES}),
        _query("district", "District number.", {"type": "integer"}),
        _query("category", "Category slug.", {"type": "string"}),
        _query("limit", f"Page size, at most {MAX_LIMIT} (larger values are lowered).",
               {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT}),
        _query("cursor", "next_cursor of the previous page.", {"type": "string"}),
    ],
    "responses": {"200": {"description": "One page of proposals", "content": _json("ProposalList")},
                  "400": {"description": "A query parameter is invalid", "content": _json("ValidationError")}},
})
add_operation("/proposals/{proposal_id}", "get", {
    "operationId": "getProposal",
    "summary": "One public proposal",
    "tags": ["proposals"],
    "security": [],
    "parameters": [PROPOSAL_ID],
    "responses": {"200": {"description": "The proposal", "content": _json("Proposal")}, "404": ERROR},
})
add_operation("/proposals/{proposal_id}/support", "post", {
    "operationId": "supportProposal",
    "summary": "Support a proposal as the token's user (idempotent)",
    "description": "Needs a bearer token; session cookies are not accepted. Most processes accept supports "
                   "only from verified citizens, during their support phase. No request body.",
    "tags": ["proposals"],
    "security": [{"bearerAuth": []}],
    "parameters": [PROPOSAL_ID],
    "responses": {
        "201": {"description": "The support was added", "content": _json("SupportState")},
        "200": {"description": "The user already supported it; nothing changed", "content": _json("SupportState")},
        "401": ERROR,
        "403": ERROR,
        "404": ERROR,
        "409": SUPPORT_CONFLICT,
        "429": ERROR,
    },
})
add_operation("/proposals/{proposal_id}/support", "delete", {
    "operationId": "withdrawSupport",
    "summary": "Withdraw the token's user's support (idempotent)",
    "description": "Only while the support phase is open; a crossed threshold stays crossed. No request body.",
    "tags": ["proposals"],
    "security": [{"bearerAuth": []}],
    "parameters": [PROPOSAL_ID],
    "responses": {
        "200": {"description": "The user does not support it (any more)", "content": _json("SupportState")},
        "401": ERROR,
        "403": ERROR,
        "404": ERROR,
        "409": SUPPORT_CONFLICT,
    },
})
