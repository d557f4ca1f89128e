"""Open311 GeoReport v2 endpoints under /open311/v2/, each as .json and .xml.

Language: service names, notices and error descriptions are Italian unless the request
says ``lang=en`` or ``locale=en`` (query string or form); Accept-Language is ignored so
that a program gets the same answer wherever it runs.

Errors follow the spec — ``[{"code", "description"}]`` or ``<errors><error>…</error></errors>``
with HTTP 400, 403 (api_key), 404, 405 or 429 — not the ``{"error": …}`` shape of /api:
the blueprint's own handlers win over the application's for anything raised in its views,
and a catch-all route brings addresses that match no route into the blueprint too.
"""
import functools

from flask import current_app, request
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.auth.access import public
from app.extensions import SUPPORTED_LOCALES, csrf, db, limiter
from app.models.base import DomainError
from app.open311 import bp, services
from app.open311.xml import render, render_errors

#: POSTs of service requests per client address, unless OPEN311_POST_LIMIT is configured.
DEFAULT_POST_LIMIT = "30 per minute;300 per hour"
FORMATS = ("json", "xml")
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def with_formats(rule, **options):
    """Register ``rule``.json and ``rule``.xml for the view, which gets the format as ``fmt``."""
    def decorator(view):
        """Add both rules and hand the view back unchanged."""
        for fmt in FORMATS:
            bp.add_url_rule(f"{rule}.{fmt}", view_func=view, defaults={"fmt": fmt}, **options)
        return view

    return decorator


def request_locale():
    """``it`` unless ``locale`` or ``lang`` asks for another supported language."""
    for name in ("locale", "lang"):
        value = (request.values.get(name) or "")[:2].lower()
        if value in SUPPORTED_LOCALES:
            return value
    return "it"


def localized(view):
    """Run the view in the request's Open311 language (see the module docstring)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        """The view, under force_locale."""
        with force_locale(request_locale()):
            return view(*args, **kwargs)

    return wrapper


def response_format():
    """The format the client asked for by the URL's extension; JSON when there is none."""
    fmt = (request.view_args or {}).get("fmt")
    if fmt in FORMATS:
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


# --- errors ---------------------------------------------------------------------------------

@bp.errorhandler(HTTPException)
def http_error(exc):
    """Werkzeug and Flask-Limiter errors raised for this blueprint, in the spec's format."""
    headers = {}
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429:
        # Flask-Limiter's description is the raw limit ("30 per 1 minute"): say what it means.
        return render_errors(response_format(), 429, "Too many requests: wait a little and try again.", headers)
    return render_errors(response_format(), exc.code or 500, exc.description, headers)


@bp.errorhandler(DomainError)
def domain_error(exc):
    """A refused request: 403 for api_key problems, 404 for unknown items, 400 for the rest."""
    db.session.rollback()
    status = exc.status if exc.status in (400, 403, 404) else 400
    return render_errors(response_format(), status, exc.message)


@bp.errorhandler(Exception)
def unexpected_error(exc):
    """Anything else: logged, and a spec-shaped 500 instead of the JSON API's error object."""
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return render_errors(response_format(), 500, "Internal error: it has been logged.")


# --- endpoints ------------------------------------------------------------------------------

@with_formats("/discovery")
@public
@localized
def discovery(fmt):
    """The service discovery document."""
    return render(fmt, "discovery", services.discovery())


@with_formats("/services")
@public
@localized
def service_list(fmt):
    """Every report category as a service."""
    return render(fmt, "services", services.service_list(request_locale()))


@with_formats("/services/<service_code>")
@public
@localized
def service_definition(service_code, fmt):
    """A service's definition: an empty attribute list, since no service has metadata (404 if unknown)."""
    return render(fmt, "service_definition", services.service_definition(service_code))


@with_formats("/requests", methods=["GET"])
@public
@localized
def requests(fmt):
    """Public reports filtered by ids, service codes, status and date range."""
    found = services.find_requests(services.request_filters(request.args))
    photos = services.first_photo_urls(found)
    locale = request_locale()
    return render(fmt, "service_requests", [services.request_data(r, locale, photos.get(r.id)) for r in found])


@with_formats("/requests", methods=["POST"], endpoint="create_request")
@public
@csrf.exempt
@limiter.limit(lambda: current_app.config.get("OPEN311_POST_LIMIT", DEFAULT_POST_LIMIT), methods=["POST"])
@localized
def create_request(fmt):
    """Place a report with an api_key; CSRF-exempt because programs post here, the key authorises."""
    report = services.submit_request(request.form)
    db.session.commit()
    body = [{"service_request_id": report.id,
             "service_notice": services.service_notice(report, request_locale()),
             # We create no account per submitter: there is no account to identify.
             "account_id": None}]
    return render(fmt, "service_requests", body, status=201)


@with_formats("/requests/<int:report_id>")
@public
@localized
def request_detail(report_id, fmt):
    """One public report as a one-item list (404 for missing and hidden alike)."""
    report = services.get_request(report_id)
    photos = services.first_photo_urls([report])
    return render(fmt, "service_requests", [services.request_data(report, request_locale(), photos.get(report.id))])


def _other_methods():
    """Methods that another route of this path accepts (for a 405 instead of a 404)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in ("GET", "POST"):
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:  # no match, or a redirect
            continue
        if endpoint != request.endpoint:
            allowed.add(method)
    return sorted(allowed)


@bp.route("/", defaults={"unknown": ""}, methods=ANY_METHOD)
@bp.route("/<path:unknown>", methods=ANY_METHOD)
@public
def not_found(unknown):
    """Addresses under /open311/v2/ that match no route: a spec-shaped 404 (or 405)."""
    allowed = _other_methods()
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound("Not found: see discovery.json or discovery.xml for the endpoints.")
