"""Request/response plumbing: security headers, safe redirects, session timeouts, preferences."""
import time
from urllib.parse import urlsplit

from flask import current_app, flash, g, has_request_context, request, session
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import SUPPORTED_LOCALES


def safe_next(target):
    """``target`` if it is a local path on this site, else None (no open redirects)."""
    if not target or not isinstance(target, str):
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


#: Session keys that outlive sign-in and sign-out: display preferences, and Flask-Login's
#: instruction to delete the remember-me cookie ("_remember": "clear").
KEPT_ACROSS_SESSIONS = ("lang", "contrast", "_remember")


def reset_session():
    """Empty the session but keep preferences and a pending remember-cookie deletion."""
    keep = {k: session[k] for k in KEPT_ACROSS_SESSIONS if k in session}
    session.clear()
    session.update(keep)


def remember_language():
    """``?lang=xx`` switches the language for the rest of the visit."""
    lang = request.args.get("lang")
    if lang in SUPPORTED_LOCALES and session.get("lang") != lang:
        session["lang"] = lang


def enforce_session_timeouts():
    """End a signed-in session after SESSION_IDLE_TIMEOUT idle or SESSION_ABSOLUTE_TIMEOUT in all.

    A valid remember-me cookie then starts a new session (its own lifetime is bounded). On a kiosk
    (app/kiosk, ``g.kiosk_idle_seconds``) the idle limit is that much shorter, and an ended session
    takes everything with it: no remember-me cookie, no preferences.
    """
    if not current_user.is_authenticated:
        return
    now = time.time()
    cfg = current_app.config
    started = session.get("login_at")
    seen = session.get("seen_at")
    if started is None:
        session["login_at"] = started = now
    idle = cfg["SESSION_IDLE_TIMEOUT"].total_seconds()
    refresh = 30  # seen_at is rewritten at most this often: don't rewrite the cookie on every request
    kiosk_idle = g.get("kiosk_idle_seconds")
    if kiosk_idle is not None:
        # seen_at may lag the last request by `refresh`: allowing for it, the session ends between
        # kiosk_idle and kiosk_idle + refresh after it, never before (kiosk.js counts the same).
        refresh = min(refresh, kiosk_idle / 10)
        idle = min(idle, kiosk_idle + refresh)
    expired = (now - started > cfg["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()) or (
        seen is not None and now - seen > idle
    )
    if expired and kiosk_idle is not None:
        from app.kiosk.context import end_visit

        end_visit(idle=seen is not None and now - seen > idle)
        return
    if expired:
        # The assisted-session key stays: app.assisted.context ends that session by its own clock (a
        # form filled in for a citizen must never be saved as the facilitator's own after a re-login).
        keep = {k: session[k] for k in ("lang", "contrast", "assisted_session_id") if k in session}
        session.clear()  # the remember-me cookie, if any, may start a new session
        session.update(keep)
        g.pop("_login_user", None)
        if current_user.is_authenticated:  # restored from a remember-me cookie
            session["login_at"] = now
        else:
            flash(_("Your session has expired. Please sign in again."), "info")
            return
    if seen is None or now - seen > refresh:
        session["seen_at"] = now


def security_headers(response):
    """Strict defaults on every response."""
    cfg = current_app.config
    cdn = cfg["CSP_CDN_SRC"]
    csp = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {cdn}",
            f"style-src 'self' {cdn}",
            f"img-src 'self' data: blob: {cfg['CSP_IMG_SRC']} {cdn}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    headers = response.headers
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if cfg["HSTS"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.method in ("GET", "HEAD") and request.path.startswith(("/api/v1/", "/open311/")) \
            and "Authorization" not in request.headers:
        # Public read endpoints: other sites' pages may read them (no credentials are involved).
        headers.setdefault("Access-Control-Allow-Origin", "*")
    if current_user and current_user.is_authenticated:
        # Pages for a signed-in user are personal: keep them out of shared caches.
        headers.setdefault("Cache-Control", "private, no-store")
    vary = headers.get("Vary", "")
    if "Cookie" not in vary:
        headers["Vary"] = (vary + ", Cookie").lstrip(", ")
    return response


def path_for(endpoint, **values):
    """The local path of an endpoint, without needing a request (services, CLI, emails)."""
    adapter = g.get("_path_adapter") if has_request_context() else None
    if adapter is None:
        # Binding is the costly part; a map response builds hundreds of paths with one adapter.
        adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
        if has_request_context():
            g._path_adapter = adapter
    return adapter.build(endpoint, values)


#: Of the npm packages under static/vendor, only their built files are served: the packages also
#: hold example pages, sources and metadata that have no business on our origin.
VENDOR_SERVED = ("vendor/node_modules/leaflet/dist/", "vendor/node_modules/leaflet.markercluster/dist/",
                 "vendor/node_modules/@geoman-io/leaflet-geoman-free/dist/",
                 "vendor/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
                 "vendor/node_modules/swagger-ui-dist/swagger-ui.css")


def restrict_vendor_files():
    """before_request: 404 for anything under static/vendor/ but the packages' dist folders."""
    if request.endpoint != "static":
        return None
    filename = (request.view_args or {}).get("filename", "")
    if filename.startswith("vendor/") and (not filename.startswith(VENDOR_SERVED) or ".." in filename):
        from flask import abort

        abort(404)
    return None


#: The highest page number a list accepts (beyond it the database's integers overflow; nobody
#: pages that far). Out-of-range values show the first or the last page, never an error.
MAX_PAGE = 100_000


def page_arg():
    """The ``page`` query argument as a page number between 1 and MAX_PAGE (1 when missing or wrong)."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


def db_id(text):
    """A query-string id: positive and within the database's integer (others raise ValueError,
    which ``request.args.get(..., type=db_id)`` turns into "no filter")."""
    value = int(text)
    if not 0 < value < 2**31:
        raise ValueError(text)
    return value


def per_account():
    """Rate-limit key: the signed-in account (falls back to the address)."""
    from flask_limiter.util import get_remote_address

    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def show_domain_error(form, exc, default=None, aliases=None):
    """Roll back, then put a service's refusal next to the form field it names.

    ``aliases`` maps a rule's field name to the form's (e.g. "location" → "lat"); ``default`` is the
    field used when the rule names none or the form has no such field. Without either, the message
    is flashed instead. Returns the field that got the message, or None.
    """
    from app.extensions import db

    db.session.rollback()
    name = exc.details.get("field") or default
    name = (aliases or {}).get(name, name)
    field = getattr(form, name or "", None)
    if field is None and default is not None:
        field = getattr(form, default)
    if field is None or not isinstance(getattr(field, "errors", None), (list, tuple)):
        flash(exc.message, "error")
        return None
    field.errors = [*field.errors, exc.message]
    return field


def _has_nul(value):
    """Whether a string, or any key or string inside a JSON value, holds a NUL (no recursion: a
    deeply nested body must not exhaust the stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def request_json():
    """The request's parsed JSON body, or None when it is missing, malformed or nested too deeply."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _nul_field():
    """The name of the first request field holding a NUL character ("path" for the path), or None."""
    if "\x00" in request.path:
        return "path"
    for key, value in request.args.items(multi=True):
        if _has_nul(key) or _has_nul(value):
            return key.replace("\x00", "")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in request.form.items(multi=True):
                if _has_nul(key) or _has_nul(value):
                    return key.replace("\x00", "")
        if request.is_json:
            data = request_json()
            if _has_nul(data):
                keys = [k for k, v in data.items() if _has_nul(k) or _has_nul(v)] if isinstance(data, dict) else []
                return keys[0].replace("\x00", "") if keys else "body"
    return None


def refuse_nul_characters():
    """before_request: 400 for a NUL character in the path, the query, a form or a JSON body.

    No text in Piazza contains one, and PostgreSQL refuses it in any string: without this a single
    ``%00`` in a search or filter would reach the database and answer 500. The JSON API answers with
    its validation error, naming the field.
    """
    from flask import abort, jsonify
    from flask_babel import gettext as _

    field = _nul_field()
    if field is None:
        return None
    if request.path.startswith("/api/"):
        message = _("The request contains a NUL character, which no text may contain.")
        return jsonify({"error": {"code": "invalid", "message": message, "field": field}}), 400
    abort(400)


def this_page_in(language):
    """The current page's address with ``lang`` set to ``language``, keeping the other query
    arguments (a search, its filters, the page): switching language must not lose what was asked."""
    from urllib.parse import quote, urlencode

    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", language)]
    # Quoted: a path like "/\evil.example" must stay a path here, never read as "//evil.example".
    return f"{request.script_root}{quote(request.path)}?{urlencode(args)}"
