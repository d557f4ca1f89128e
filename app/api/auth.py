"""Authentication of the JSON API: createToken, and the bearer-token loader used by ``token_required``."""
from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app.api import bp
from app.api.openapi import add_operation, add_schema
from app.api.tokens import issue_token, user_for_bearer
from app.auth import access
from app.auth.access import public
from app.auth.services import AccountBlocked, InvalidCredentials, authenticate
from app.errors import error_response
from app.extensions import csrf, db, limiter
from app.models.base import DomainError


def _install_token_loader(_state):
    """Let ``token_required`` endpoints see bearer tokens once the API is registered."""
    access.TOKEN_LOADER["load"] = user_for_bearer


bp.record_once(_install_token_loader)


@bp.after_request
def _bearer_challenge(response):
    """A 401 of the API names the scheme it wants (RFC 6750), including those of the access check."""
    # createToken's 401 is about the email and password in its body, not about a bearer token.
    if response.status_code == 401 and request.endpoint != "api.create_token":
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="piazza"')
    return response


def invalid(message, field, status=422):
    """A validation error: ``{"error": {"code": "invalid", "message", "field"}}``."""
    return jsonify({"error": {"code": "invalid", "message": str(message), "field": field}}), status


def iso_utc(value):
    """A timestamp of the JSON API: ISO 8601 in UTC with a "Z", or None."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def json_body():
    """The request's JSON object, or None if the body is not one."""
    from app.http import request_json

    data = request_json()
    return data if isinstance(data, dict) else None


def _token_key():
    """Failed attempts are counted per account *and* address, as for the login form."""
    data = json_body() or {}
    email = data.get("email") if isinstance(data.get("email"), str) else ""
    return f"token:{email.strip().lower()[:254]}|{get_remote_address()}"


def _failed(response):
    """Only refused attempts count against the per-account limit."""
    return response.status_code != 201


@bp.route("/tokens", methods=["POST"])
@public
@csrf.exempt
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"], methods=["POST"],
               key_func=_token_key, deduct_when=_failed)
def create_token():
    """Exchange email and password for a bearer token (CSRF-exempt: it takes credentials, not a cookie)."""
    data = json_body()
    if data is None:
        return error_response(400, _("Send a JSON object with email and password."), code="bad_request")
    for field in ("email", "password"):
        if not isinstance(data.get(field), str) or not data[field]:
            return invalid(_("%(field)s is required.", field=field), field)
    if data.get("name") is not None and not isinstance(data["name"], str):
        return invalid(_("%(field)s must be a string.", field="name"), "name")
    try:
        user = authenticate(data["email"], data["password"])
    except InvalidCredentials as exc:
        db.session.rollback()
        return error_response(401, exc.message, code="invalid_credentials")
    except AccountBlocked as exc:
        db.session.rollback()
        return error_response(403, exc.message, code="blocked")
    try:
        token, secret = issue_token(user, data.get("name"))
    except DomainError as exc:
        db.session.rollback()
        return invalid(exc.message, exc.details.get("field", "name"))
    db.session.commit()
    return jsonify({"token": secret, "token_type": "Bearer", "name": token.name, "prefix": token.prefix,
                    "expires_at": iso_utc(token.expires_at)}), 201


add_schema("TokenRequest", {
    "type": "object",
    "required": ["email", "password"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "password": {"type": "string", "format": "password", "minLength": 1},
        "name": {"type": "string", "maxLength": 80, "description": "What the token is for; shown on the profile page."},
    },
})
add_schema("Token", {
    "type": "object",
    "required": ["token", "token_type", "expires_at"],
    "properties": {
        "token": {"type": "string", "description": "Send as `Authorization: Bearer <token>`. Shown only once.",
                  "examples": ["pzt_3q2v…"]},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "name": {"type": "string"},
        "prefix": {"type": "string", "description": "The first characters, as listed on the profile page."},
        "expires_at": {"type": "string", "format": "date-time"},
    },
})
add_schema("ValidationError", {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string", "enum": ["invalid"]},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"], "description": "The request property at fault (``location`` means "
                                                           "the lat/lon pair)."},
            },
        }
    },
})
ERROR = {"$ref": "#/components/responses/Error"}
VALIDATION_ERROR = {"description": "A field is missing or invalid",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}}}

add_operation("/tokens", "post", {
    "operationId": "createToken",
    "summary": "Get a bearer token with email and password",
    "description": "Tokens expire after 90 days and can be revoked from the profile page. Rate-limited per "
                   "address like the sign-in form.",
    "tags": ["authentication"],
    "security": [],
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}}},
    "responses": {
        "201": {"description": "A new token",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Token"}}}},
        "400": ERROR,
        "401": ERROR,
        "403": ERROR,
        "422": VALIDATION_ERROR,
        "429": ERROR,
    },
})
