"""Comments in the JSON API: listComments (a thread, oldest first) and createComment.

What the public page shows, as data: a visible comment has its author's display name and its
Markdown source; a comment deleted by its author or hidden by moderation keeps its place in the
thread (its replies point at it) with ``state`` and no text and no author. A comment held by
pre-moderation is left out entirely until a moderator lets it through, as on the page.
"""
import base64
import binascii

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api.auth import ERROR, VALIDATION_ERROR, invalid, iso_utc, json_body
from app.api.openapi import add_operation, add_schema
from app.api.reports import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, _absolute, _json, _limit, _query
from app.auth.access import api_user, public, token_required
from app.comments import services
from app.errors import error_response
from app.extensions import db, limiter
from app.models.base import DomainError, NotFound, PermissionDenied
from app.models.discussion import Comment
from app.moderation import holds
from app.moderation.limits import account_key, content_limits

#: The kinds of item the API lists and takes comments on (the public pages' commentable items).
TARGET_TYPES = ["proposal", "report", "debate", "pact"]


def _state(comment):
    if comment.deleted_at is not None:
        return "deleted"
    if comment.hidden_at is not None:
        return "hidden"
    return "visible"


def comment_json(comment):
    state = _state(comment)
    author = comment.author
    visible = state == "visible"
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "state": state,
        "author_name": (author.display_name if visible and author is not None and author.deleted_at is None
                        else None),
        "body": comment.body if visible else None,
        "created_at": iso_utc(comment.created_at),
        "edited_at": iso_utc(comment.edited_at) if visible else None,
    }


def _cursor(comment_id):
    return base64.urlsafe_b64encode(str(comment_id).encode("ascii")).decode("ascii").rstrip("=")


def _after(cursor):
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii"))
        if not 0 <= value < 2**31:
            raise ValueError
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise DomainError(_("The cursor is not valid: use next_cursor from the previous page."),
                          field="cursor") from None


def _target(target_type, target_id):
    """The item if it takes comments through the API and is public; NotFound otherwise."""
    if target_type not in TARGET_TYPES:
        raise NotFound(_("There is nothing to comment here."))
    return services.get_item(target_type, target_id)


@bp.route("/comments/<target_type>/<int:target_id>")
@public
def list_comments(target_type, target_id):
    """The conversation under a public item, oldest first, one page at a time."""
    try:
        _target(target_type, target_id)
        limit = _limit(request.args.get("limit"))
        after = _after(request.args["cursor"]) if request.args.get("cursor") else 0
    except NotFound as exc:
        return error_response(404, exc.message, code="not_found")
    except DomainError as exc:
        return invalid(exc.message, exc.details.get("field"), status=400)
    rows = db.session.scalars(
        select(Comment).options(selectinload(Comment.author))
        .where(Comment.target_type == target_type, Comment.target_id == target_id, Comment.id > after)
        .order_by(Comment.id).limit(limit + 1)).all()
    page = rows[:limit]
    held = holds.held_ids("comment", [c.id for c in page if c.hidden_at is not None])
    return jsonify({"items": [comment_json(c) for c in page if c.id not in held],
                    "next_cursor": _cursor(page[-1].id) if len(rows) > limit else None})


@bp.route("/comments/<target_type>/<int:target_id>", methods=["POST"])
@token_required
@limiter.limit(lambda: current_app.config.get("COMMENT_LIMIT", "10 per minute;200 per day"),
               key_func=account_key, deduct_when=lambda response: response.status_code == 201)
@content_limits(success=(201,))
def create_comment(target_type, target_id):
    """Comment on a public item as the token's user, or answer a comment (``parent_id``)."""
    data = json_body()
    if data is None:
        return error_response(400, _("Send the comment as a JSON object."), code="bad_request")
    body, parent_id = data.get("body"), data.get("parent_id")
    if not isinstance(body, str):
        return invalid(_("%(field)s must be a string.", field="body"), "body")
    if parent_id is not None and (not isinstance(parent_id, int) or isinstance(parent_id, bool) or parent_id < 1):
        return invalid(_("parent_id must be the id of a comment in this conversation."), "parent_id")
    try:
        _target(target_type, target_id)
    except NotFound as exc:
        return error_response(404, exc.message, code="not_found")
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or (parent.target_type, parent.target_id) != (target_type, target_id) \
                or parent.deleted_at is not None or parent.hidden_at is not None:
            return invalid(_("parent_id must be the id of a comment in this conversation."), "parent_id")
    try:
        comment = services.post_comment(api_user(), target_type, target_id, body, parent_id=parent_id)
    except NotFound as exc:
        db.session.rollback()
        return error_response(404, exc.message, code="not_found")
    except PermissionDenied as exc:
        db.session.rollback()
        return error_response(403, exc.message, code="forbidden")
    except DomainError as exc:
        db.session.rollback()
        return invalid(exc.message, exc.details.get("field") or "body")
    held = holds.is_held("comment", comment)
    db.session.commit()
    response = jsonify({**comment_json(comment), "state": "held" if held else "visible", "held": held,
                        "body": comment.body, "author_name": api_user().display_name})
    response.headers["Location"] = _absolute(url_for("api.list_comments", target_type=target_type,
                                                     target_id=target_id))
    return response, 201


# --- the OpenAPI document ---------------------------------------------------------------------

COMMENT_PROPERTIES = {
    "id": {"type": "integer"},
    "parent_id": {"type": ["integer", "null"], "description": "The top-level comment this one answers."},
    "state": {"type": "string", "enum": ["visible", "deleted", "hidden"],
              "description": "deleted by its author or hidden by moderation: no text, no author."},
    "author_name": {"type": ["string", "null"], "description": "The author's public display name."},
    "body": {"type": ["string", "null"], "description": "Markdown source.", "maxLength": services.MAX_LENGTH},
    "created_at": {"type": "string", "format": "date-time"},
    "edited_at": {"type": ["string", "null"], "format": "date-time"},
}
COMMENT_REQUIRED = ["id", "parent_id", "state", "author_name", "body", "created_at", "edited_at"]
add_schema("Comment", {"type": "object", "required": COMMENT_REQUIRED, "properties": COMMENT_PROPERTIES,
                       "examples": [{"id": 12, "parent_id": None, "state": "visible", "author_name": "Giulia R.",
                                     "body": "Ottima idea, la panchina serve davvero.",
                                     "created_at": "2026-11-02T09:15:00Z", "edited_at": None}]})
add_schema("CommentList", {
    "type": "object", "required": ["items", "next_cursor"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
                   "next_cursor": {"type": ["string", "null"]}},
})
add_schema("NewComment", {
    "type": "object", "required": ["body"],
    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": services.MAX_LENGTH,
                            "description": "Markdown; @Name mentions someone taking part in the conversation."},
                   "parent_id": {"type": ["integer", "null"], "minimum": 1,
                                 "description": "Answer this comment (a reply to a reply joins its thread)."}},
    "examples": [{"body": "Sono d'accordo: il marciapiede è impraticabile."}],
})
add_schema("CreatedComment", {
    "type": "object", "required": COMMENT_REQUIRED + ["held"],
    "properties": {**COMMENT_PROPERTIES,
                   "state": {"type": "string", "enum": ["visible", "held"]},
                   "held": {"type": "boolean", "description": "Pre-moderation holds it until a moderator "
                                                               "approves it; until then only its author sees it."}},
})
TARGET = [{"name": "target_type", "in": "path", "required": True,
           "schema": {"type": "string", "enum": TARGET_TYPES}},
          {"name": "target_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
add_operation("/comments/{target_type}/{target_id}", "get", {
    "operationId": "listComments",
    "summary": "The comments under a public proposal, report, debate or pact, oldest first",
    "tags": ["comments"],
    "security": [],
    "parameters": TARGET + [
        _query("limit", f"Page size, at most {MAX_LIMIT}.", {"type": "integer", "minimum": 1,
                                                            "default": DEFAULT_LIMIT}),
        _query("cursor", "next_cursor of the previous page.", {"type": "string"})],
    "responses": {"200": {"description": "One page of the conversation", "content": _json("CommentList")},
                  "400": {"description": "A query parameter is invalid", "content": _json("ValidationError")},
                  "404": ERROR},
})
add_operation("/comments/{target_type}/{target_id}", "post", {
    "operationId": "createComment",
    "summary": "Comment on a public item as the token's user",
    "description": "Needs a bearer token of a citizen with a confirmed email address. Rate-limited per account "
                   "and address.",
    "tags": ["comments"],
    "security": [{"bearerAuth": []}],
    "parameters": TARGET,
    "requestBody": {"required": True, "content": _json("NewComment")},
    "responses": {"201": {"description": "The comment (maybe held for moderation)", "content": _json("CreatedComment")},
                  "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "422": VALIDATION_ERROR, "429": ERROR},
})
