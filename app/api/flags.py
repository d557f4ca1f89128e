"""Flags in the JSON API: flagContent, for app clients (the same rules as the flag forms)."""
from flask import jsonify
from flask_babel import gettext as _

from app.api import bp
from app.api.auth import ERROR, VALIDATION_ERROR, invalid, iso_utc, json_body
from app.api.openapi import add_operation, add_schema
from app.api.reports import _json
from app.auth.access import api_user, token_required
from app.errors import error_response
from app.extensions import db
from app.models.base import DomainError, NotFound, PermissionDenied
from app.models.report import Flag
from app.moderation import services
from app.moderation.limits import flag_limits
from app.moderation.registry import KINDS


#: What can be flagged (app.moderation.registry registers the same kinds when the app starts).
TARGET_TYPES = ("report", "proposal", "comment", "debate", "pact", "pact_report", "help_call", "photo", "document",
                "organisation", "user")


@bp.route("/flags", methods=["POST"])
@token_required
@flag_limits()
def flag_content():
    """Flag an item as the token's user: 201 for a new flag, 200 when it updated the user's earlier one."""
    data = json_body()
    if data is None:
        return error_response(400, _("Send the flag as a JSON object."), code="bad_request")
    target_type, target_id = data.get("target_type"), data.get("target_id")
    if target_type not in KINDS:
        return invalid(_("Unknown kind of content."), "target_type")
    if not isinstance(target_id, int) or isinstance(target_id, bool) or not 0 < target_id < 2**31:
        return invalid(_("Give the item's id as a positive integer."), "target_id")
    reason, text = data.get("reason"), data.get("text")
    if text is not None and not isinstance(text, str):
        return invalid(_("The details must be a text."), "text")
    user = api_user()
    existed = db.session.query(Flag.id).filter_by(target_type=target_type, target_id=target_id,
                                                  user_id=user.id).first() is not None
    try:
        flag = services.flag(user, target_type, target_id, reason if isinstance(reason, str) else "", text)
    except NotFound as exc:
        db.session.rollback()
        return error_response(404, exc.message, code="not_found")
    except PermissionDenied as exc:
        db.session.rollback()
        return error_response(403, exc.message, code="forbidden")
    except DomainError as exc:
        db.session.rollback()
        field = exc.details.get("field")
        if field:
            return invalid(exc.message, field)
        return error_response(409, exc.message, code="refused")
    db.session.commit()
    body = {"id": flag.id, "target_type": flag.target_type, "target_id": flag.target_id, "reason": flag.reason,
            "text": flag.text, "created_at": iso_utc(flag.created_at)}
    return jsonify(body), 200 if existed else 201


# --- the OpenAPI document ---------------------------------------------------------------------

add_schema("FlagRequest", {
    "type": "object",
    "required": ["target_type", "target_id", "reason"],
    "properties": {
        "target_type": {"type": "string", "enum": list(TARGET_TYPES),
                        "description": "The kind of content; `user` flags a profile."},
        "target_id": {"type": "integer", "minimum": 1},
        "reason": {"type": "string", "enum": list(services.FLAG_REASONS)},
        "text": {"type": ["string", "null"], "maxLength": 1000,
                 "description": "Details for the moderators; required when the reason is `other`."},
    },
})
add_schema("Flag", {
    "type": "object",
    "required": ["id", "target_type", "target_id", "reason", "text", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "target_type": {"type": "string"},
        "target_id": {"type": "integer"},
        "reason": {"type": "string"},
        "text": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
    },
})
add_operation("/flags", "post", {
    "operationId": "flagContent",
    "summary": "Tell the moderators an item breaks the rules",
    "description": "Needs a bearer token. One flag per user per item: flagging the same item again replaces the "
                   "reason. When enough different people flag an item it is hidden until a moderator decides. "
                   "You cannot flag your own content. Rate-limited per account (tighter for new accounts) and "
                   "per address.",
    "tags": ["moderation"],
    "security": [{"bearerAuth": []}],
    "requestBody": {"required": True, "content": _json("FlagRequest")},
    "responses": {
        "201": {"description": "The flag was recorded", "content": _json("Flag")},
        "200": {"description": "The user's earlier flag on this item was updated", "content": _json("Flag")},
        "400": ERROR,
        "401": ERROR,
        "404": ERROR,
        "409": {"description": "Refused (e.g. your own content)", "content": _json("Error")},
        "422": VALIDATION_ERROR,
        "429": ERROR,
    },
})
