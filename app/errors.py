"""Error pages in HTML, and JSON errors ``{"error": {"code", "message"}}`` under /api."""
from flask import jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

from app.auth.access import wants_json
from app.extensions import db
from app.models.base import DomainError

TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def _translated_title(status):
    titles = {
        400: _("Bad request"),
        401: _("Sign in needed"),
        403: _("Not allowed"),
        404: _("Page not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Too large"),
        429: _("Too many requests"),
        500: _("Something went wrong"),
        503: _("Temporarily unavailable"),
    }
    return titles.get(status, _("Error"))


def _default_message(status):
    messages = {
        400: _("The request could not be understood. If you sent a form, reload the page and try again."),
        401: _("Please sign in to continue."),
        403: _("You do not have permission to open this page."),
        404: _("There is nothing at this address. It may have been moved or removed."),
        405: _("This address does not accept that kind of request."),
        429: _("Too many attempts in a short time. Please wait a little and try again."),
        500: _("An unexpected error happened on our side. It has been logged; please try again later."),
        503: _("The service is temporarily unavailable. Please try again in a few minutes."),
    }
    return messages.get(status, _("Something went wrong."))


def error_response(status, message=None, code=None):
    message = str(message) if message else None
    if wants_json():
        body = {"error": {"code": code or CODES.get(status, "error"),
                          "message": message or TITLES.get(status, "Error")}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, title=_translated_title(status),
                           message=message or _default_message(status)), status


def handle_http_exception(exc):
    # Werkzeug's English default descriptions are replaced by our translated ones; so is
    # Flask-Limiter's, which is the raw limit ("5 per 1 minute").
    message = exc.description if exc.description != type(exc).description else None
    if exc.code == 429:
        message = None
    body, status = error_response(exc.code or 500, message)
    response = make_response(body, status)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429 and getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def handle_csrf_error(exc):
    return error_response(400, _("This form has expired or did not come from this site. "
                                 "Go back, reload the page and send it again."), code="csrf_failed")


def handle_domain_error(exc):
    db.session.rollback()
    return error_response(exc.status, exc.message)


def handle_unexpected(exc):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    db.session.rollback()
    original = getattr(exc, "original_exception", exc)
    if not isinstance(exc, InternalServerError):
        from flask import current_app

        current_app.logger.exception("Unhandled error on %s %s", request.method, request.path, exc_info=original)
    return error_response(500)


def register_error_handlers(app):
    from flask_wtf.csrf import CSRFError

    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
