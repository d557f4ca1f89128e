"""Collaboration pacts in the JSON API: listPacts (keyset pagination) and getPact.

Read only, and only what the public registry shows (app.pacts.registry.public_condition): pacts
past admissibility, never a draft, a submission under examination, an inadmissible proposal or a
hidden pact. A pact carries its approved text's SHA-256 and every signature's, so a program can
verify the signatures against the text exactly as the pact page does. No email address, no
volunteer's name: parties are named as the public page names them, volunteers are a count.
"""
import base64
import json

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api.auth import ERROR, VALIDATION_ERROR, invalid, iso_utc, json_body
from app.api.openapi import add_operation, add_schema
from app.api.reports import DEFAULT_LIMIT, MAX_LIMIT, _absolute, _json, _limit, _query, decode_cursor, district_arg
from app.auth.access import api_user, public, token_required
from app.errors import error_response
from app.extensions import db
from app.models.base import DomainError, NotFound, PermissionDenied
from app.models.commons import Commons, CommonsKind
from app.models.pact import PUBLIC_STATUSES, Pact, PactKind, PactStatus, PactVolunteer, PartyKind, ReportReview
from app.pacts import services
from app.pacts.registry import public_condition, verify_signatures

#: Public statuses in the order of the procedure.
STATUSES = [s.value for s in PactStatus if s in PUBLIC_STATUSES]
COMMONS_KINDS = [k.value for k in CommonsKind]
KINDS = [k.value for k in PactKind]


# --- JSON -----------------------------------------------------------------------------------

def _party_json(party):
    if party.kind == PartyKind.city:
        return {"kind": "city", "name": "Città di Torino", "organisation_kind": None}
    if party.organisation is not None:
        hidden = party.organisation.hidden_at is not None
        return {"kind": "organisation", "name": None if hidden else party.organisation.name,
                "organisation_kind": party.organisation.kind.value}
    user = party.user
    name = user.display_name if user is not None and user.deleted_at is None else None
    return {"kind": "individual", "name": name, "organisation_kind": None}


def pact_summary_json(pact):
    """A pact as listPacts shows it."""
    commons = pact.commons
    district = pact.district
    return {
        "id": pact.id,
        "protocol_number": pact.protocol_number,
        "title": pact.title,
        "status": pact.status.value,
        "kind": pact.kind.value if pact.kind else None,
        # A commons or an organisation hidden by moderation keeps its place, not its name or location.
        "commons": ({"id": commons.id, "name": commons.name, "kind": commons.kind.value,
                     "lat": commons.lat, "lon": commons.lon} if commons.hidden_at is None else
                    {"id": commons.id, "name": None, "kind": commons.kind.value, "lat": None, "lon": None}),
        "district": {"number": district.number, "name": district.name} if district else None,
        "proponent": pact.organisation.name if pact.organisation and pact.organisation.hidden_at is None else None,
        "starts_on": pact.starts_on.isoformat() if pact.starts_on else None,
        "ends_on": pact.ends_on.isoformat() if pact.ends_on else None,
        "status_changed_at": iso_utc(pact.status_changed_at),
        "url": _absolute(f"/pacts/{pact.id}"),
    }


def pact_json(pact):
    """One pact as getPact shows it: the summary, the text and its versions, signatures, history."""
    approved = pact.approved_version
    data = pact_summary_json(pact)
    data.update({
        "objectives": pact.objectives,
        "activities": pact.activities,
        "parties": [_party_json(p) for p in pact.parties],
        "support_items": [{"kind": i.kind.value, "description": i.description, "quantity": i.quantity,
                           "unit": i.unit} for i in pact.support_items],
        "consultation": ({"starts_at": iso_utc(pact.consultation_starts_at),
                          "ends_at": iso_utc(pact.consultation_ends_at)} if pact.consultation_starts_at else None),
        "versions": [{"number": v.number, "created_at": iso_utc(v.created_at), "note": v.note,
                      "sha256": v.sha256} for v in pact.versions],
        "text_frozen": pact.text_is_frozen,
        "approved_version": approved.number if approved is not None else None,
        "approved_text": approved.text if approved is not None else None,
        "approved_text_sha256": pact.approved_text_sha256,
        "signatures": [{"capacity": s.capacity, "signed_at": iso_utc(s.signed_at), "text_sha256": s.text_sha256,
                        "matches_approved_text": ok} for s, ok in verify_signatures(pact)],
        "history": [{"status": h.to_status.value, "at": iso_utc(h.at)} for h in pact.history],
        "volunteers": sum(1 for v in pact.volunteers if v.left_at is None and v.removal_reason is None),
        "reports": [{"period_start": r.period_start.isoformat(), "period_end": r.period_end.isoformat(),
                     "is_final": r.is_final, "volunteer_hours": r.volunteer_hours,
                     "beneficiaries_reached": r.beneficiaries_reached}
                    for r in pact.reports if r.review == ReportReview.accepted and r.hidden_at is None],
        "pdf_url": _absolute(f"/pacts/{pact.id}.pdf"),
    })
    return data


def _with_summary(query):
    return query.options(selectinload(Pact.commons), selectinload(Pact.district), selectinload(Pact.organisation))


# --- listing ----------------------------------------------------------------------------------

def encode_cursor(pact):
    """An opaque cursor just after ``pact`` in the (status_changed_at, id) descending order."""
    raw = json.dumps([pact.status_changed_at.isoformat(), pact.id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _choice(args, name, allowed):
    value = args.get(name)
    if value and value not in allowed:
        raise DomainError(_("%(name)s must be one of: %(values)s.", name=name, values=", ".join(allowed)),
                          field=name)
    return value or None


def list_query(args):
    """(query, limit) for listPacts from the query string; DomainError naming a bad parameter."""
    query = select(Pact).join(Commons, Commons.id == Pact.commons_id).where(public_condition())
    status = _choice(args, "status", STATUSES)
    if status:
        query = query.where(Pact.status == PactStatus(status))
    kind = _choice(args, "kind", KINDS)
    if kind:
        query = query.where(Pact.kind == PactKind(kind))
    commons_kind = _choice(args, "commons_kind", COMMONS_KINDS)
    if commons_kind:
        query = query.where(Commons.kind == CommonsKind(commons_kind))
    if args.get("district"):
        query = query.where(Pact.district_id == district_arg(args))
    if args.get("cursor"):
        changed_at, pact_id = decode_cursor(args["cursor"])
        query = query.where(or_(Pact.status_changed_at < changed_at,
                                and_(Pact.status_changed_at == changed_at, Pact.id < pact_id)))
    return query.order_by(Pact.status_changed_at.desc(), Pact.id.desc()), _limit(args.get("limit"))


@bp.route("/pacts")
@public
def list_pacts():
    """Public pacts, most recently changed first, filtered, one page at a time."""
    try:
        query, limit = list_query(request.args)
    except DomainError as exc:
        return invalid(exc.message, exc.details.get("field"), status=400)
    rows = db.session.scalars(_with_summary(query).limit(limit + 1)).all()
    page = rows[:limit]
    return jsonify({"items": [pact_summary_json(p) for p in page],
                    "next_cursor": encode_cursor(page[-1]) if len(rows) > limit else None})


@bp.route("/pacts/<int:pact_id>")
@public
def get_pact(pact_id):
    """One public pact (404 for missing, private and hidden alike)."""
    pact = db.session.scalar(_with_summary(select(Pact).where(Pact.id == pact_id, public_condition())))
    if pact is None:
        return error_response(404, _("There is no such pact."), code="not_found")
    return jsonify(pact_json(pact))


# --- OpenAPI ----------------------------------------------------------------------------------

_NULLABLE_STRING = {"type": ["string", "null"]}
_DISTRICT = {"oneOf": [{"type": "object", "required": ["number", "name"],
                        "properties": {"number": {"type": "integer"}, "name": {"type": "string"}}},
                       {"type": "null"}]}

add_schema("PactSummary", {
    "type": "object",
    "required": ["id", "protocol_number", "title", "status", "kind", "commons", "district", "proponent",
                 "starts_on", "ends_on", "status_changed_at", "url"],
    "properties": {
        "id": {"type": "integer"},
        "protocol_number": {**_NULLABLE_STRING, "description": "PC-<year>-NNNN, given at submission."},
        "title": {"type": "string"},
        "status": {"type": "string", "enum": STATUSES},
        "kind": {"type": ["string", "null"], "enum": KINDS + [None]},
        "commons": {"type": "object", "required": ["id", "name", "kind", "lat", "lon"],
                    "description": "name, lat and lon are null when moderation hid the commons.",
                    "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]},
                                   "kind": {"type": "string", "enum": COMMONS_KINDS},
                                   "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]}}},
        "district": _DISTRICT,
        "proponent": {**_NULLABLE_STRING, "description": "The proposing organisation; null for individuals."},
        "starts_on": {"type": ["string", "null"], "format": "date"},
        "ends_on": {"type": ["string", "null"], "format": "date"},
        "status_changed_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "format": "uri", "description": "The pact's public page."},
    },
})
add_schema("Pact", {
    "allOf": [{"$ref": "#/components/schemas/PactSummary"}, {
        "type": "object",
        "required": ["parties", "versions", "text_frozen", "approved_text", "approved_text_sha256", "signatures",
                     "history", "volunteers", "reports", "pdf_url"],
        "properties": {
            "objectives": {"type": "string", "description": "Markdown source."},
            "activities": {"type": "string", "description": "Markdown source."},
            "parties": {"type": "array", "items": {
                "type": "object", "required": ["kind", "name"],
                "properties": {"kind": {"type": "string", "enum": ["city", "organisation", "individual"]},
                               "name": _NULLABLE_STRING, "organisation_kind": _NULLABLE_STRING}}},
            "support_items": {"type": "array", "description": "What the City provides (never cash).",
                              "items": {"type": "object"}},
            "consultation": {"type": ["object", "null"]},
            "versions": {"type": "array", "items": {
                "type": "object", "required": ["number", "created_at", "sha256"],
                "properties": {"number": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
                               "note": {"type": "string"}, "sha256": {"type": "string"}}}},
            "text_frozen": {"type": "boolean", "description": "True from approval on: the text can no longer change."},
            "approved_version": {"type": ["integer", "null"]},
            "approved_text": {**_NULLABLE_STRING, "description": "The exact text the parties sign (Markdown)."},
            "approved_text_sha256": {**_NULLABLE_STRING,
                                     "description": "SHA-256 (hex) of approved_text in UTF-8 with LF newlines."},
            "signatures": {"type": "array", "items": {
                "type": "object", "required": ["capacity", "signed_at", "text_sha256", "matches_approved_text"],
                "properties": {"capacity": {"type": "string"}, "signed_at": {"type": "string", "format": "date-time"},
                               "text_sha256": {"type": "string"},
                               "matches_approved_text": {"type": "boolean"}}}},
            "history": {"type": "array", "items": {
                "type": "object", "required": ["status", "at"],
                "properties": {"status": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}},
            "volunteers": {"type": "integer", "minimum": 0},
            "reports": {"type": "array", "description": "Accepted reports (not those hidden by moderation).",
                        "items": {"type": "object"}},
            "pdf_url": {"type": "string", "format": "uri"},
        },
    }],
})
add_schema("PactList", {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/PactSummary"}},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null on the last page."},
    },
})

add_operation("/pacts", "get", {
    "operationId": "listPacts",
    "summary": "List public collaboration pacts, most recently changed first",
    "tags": ["pacts"],
    "security": [],
    "parameters": [
        _query("status", "Pact status.", {"type": "string", "enum": STATUSES}),
        _query("kind", "Ordinary or complex.", {"type": "string", "enum": KINDS}),
        _query("commons_kind", "Kind of commons.", {"type": "string", "enum": COMMONS_KINDS}),
        _query("district", "District number.", {"type": "integer"}),
        _query("limit", f"Page size, at most {MAX_LIMIT} (larger values are lowered).",
               {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT}),
        _query("cursor", "next_cursor of the previous page.", {"type": "string"}),
    ],
    "responses": {"200": {"description": "One page of pacts", "content": _json("PactList")},
                  "400": {"description": "A query parameter is invalid", "content": _json("ValidationError")}},
})
add_operation("/pacts/{pact_id}", "get", {
    "operationId": "getPact",
    "summary": "One public pact, with its approved text and verifiable signatures",
    "tags": ["pacts"],
    "security": [],
    "parameters": [{"name": "pact_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "The pact", "content": _json("Pact")},
                  "404": {"description": "No such public pact", "content": _json("Error")}},
})



# --- volunteers: joinPact, leavePact ----------------------------------------------------------

def _active_volunteers(pact_id):
    return db.session.scalar(select(func.count(PactVolunteer.id)).where(
        PactVolunteer.pact_id == pact_id, PactVolunteer.left_at.is_(None), PactVolunteer.removal_reason.is_(None)))


def _is_volunteer(pact_id, user):
    return db.session.scalar(select(PactVolunteer.id).where(
        PactVolunteer.pact_id == pact_id, PactVolunteer.user_id == user.id, PactVolunteer.left_at.is_(None))) is not None


def _volunteer_action(pact_id, act):
    """``act(pact, user)`` on a public pact for the token's user: None when done (not committed yet), else the
    JSON error (after a rollback)."""
    pact = db.session.scalar(select(Pact).where(Pact.id == pact_id, public_condition()))
    if pact is None:
        return error_response(404, _("There is no such pact."), code="not_found")
    try:
        act(pact, api_user())
    except NotFound as exc:
        db.session.rollback()
        return error_response(404, exc.message, code="not_found")
    except PermissionDenied as exc:
        db.session.rollback()
        return error_response(403, exc.message, code="forbidden")
    except DomainError as exc:
        db.session.rollback()
        if exc.details.get("field") == "accept_rules":
            return invalid(exc.message, "accept_rules")
        return error_response(409, exc.message, code="not_allowed_now")
    return None


def _volunteer_state(pact_id, volunteer):
    return {"volunteer": volunteer, "volunteers": _active_volunteers(pact_id)}


@bp.route("/pacts/<int:pact_id>/volunteers", methods=["POST"])
@token_required
def join_pact(pact_id):
    """Join an active pact as a volunteer, accepting its rules: 201 when new, 200 when already one."""
    data = json_body()
    if data is None:
        return error_response(400, _("Send a JSON object with accept_rules."), code="bad_request")
    if data.get("accept_rules") is not True:
        return invalid(_("Accept the rules of the pact to join it."), "accept_rules")
    already = _is_volunteer(pact_id, api_user())
    error = _volunteer_action(pact_id, lambda pact, user: services.join_as_volunteer(pact, user, accept_rules=True))
    if error is not None:
        return error
    db.session.commit()
    return jsonify(_volunteer_state(pact_id, True)), 200 if already else 201


@bp.route("/pacts/<int:pact_id>/volunteers", methods=["DELETE"])
@token_required
def leave_pact(pact_id):
    """Stop being a volunteer of a pact (idempotent)."""
    if not _is_volunteer(pact_id, api_user()):
        if db.session.scalar(select(Pact.id).where(Pact.id == pact_id, public_condition())) is None:
            return error_response(404, _("There is no such pact."), code="not_found")
        return jsonify(_volunteer_state(pact_id, False))
    error = _volunteer_action(pact_id, lambda pact, user: services.leave(pact, user))
    if error is not None:
        return error
    db.session.commit()
    return jsonify(_volunteer_state(pact_id, False))


add_schema("VolunteerState", {
    "type": "object", "required": ["volunteer", "volunteers"],
    "properties": {"volunteer": {"type": "boolean", "description": "Whether the token's user is now a volunteer."},
                   "volunteers": {"type": "integer", "minimum": 0, "description": "The pact's active volunteers."}},
})
add_schema("JoinPact", {
    "type": "object", "required": ["accept_rules"],
    "properties": {"accept_rules": {"type": "boolean", "const": True,
                                    "description": "The volunteer accepts the pact's rules (must be true)."}},
    "examples": [{"accept_rules": True}],
})
PACT_ID = {"name": "pact_id", "in": "path", "required": True, "schema": {"type": "integer"}}
add_operation("/pacts/{pact_id}/volunteers", "post", {
    "operationId": "joinPact",
    "summary": "Join an active pact as a volunteer (idempotent)",
    "description": "Needs a bearer token of a citizen with a confirmed email address. Only while the pact is "
                   "active; someone the proponents excluded cannot join again.",
    "tags": ["pacts"],
    "security": [{"bearerAuth": []}],
    "parameters": [PACT_ID],
    "requestBody": {"required": True, "content": _json("JoinPact")},
    "responses": {"201": {"description": "Joined", "content": _json("VolunteerState")},
                  "200": {"description": "Already a volunteer; nothing changed", "content": _json("VolunteerState")},
                  "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR,
                  "409": {"description": "Code `not_allowed_now`: the pact is not active", "content": _json("Error")},
                  "422": VALIDATION_ERROR},
})
add_operation("/pacts/{pact_id}/volunteers", "delete", {
    "operationId": "leavePact",
    "summary": "Stop being a volunteer of a pact (idempotent)",
    "tags": ["pacts"],
    "security": [{"bearerAuth": []}],
    "parameters": [PACT_ID],
    "responses": {"200": {"description": "Not a volunteer (any more)", "content": _json("VolunteerState")},
                  "401": ERROR, "403": ERROR, "404": ERROR,
                  "409": {"description": "Code `not_allowed_now`", "content": _json("Error")}},
})
