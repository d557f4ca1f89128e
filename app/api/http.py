"""HTTP behaviour shared by every JSON API v1 endpoint: rate limits per token, conditional GETs, CORS.

- **Rate limits**: every API request counts against ``API_RATE_LIMIT`` per account when it carries
  a valid bearer token (all of that account's tokens share it), else against
  ``API_RATE_LIMIT_ANONYMOUS`` per address. Endpoints keep their
  own stricter limits (createToken per address and account, writes per account).
- **Conditional GETs**: a successful GET answers with a strong ``ETag`` of its body and
  ``Cache-Control: no-cache`` (a cache may keep it but must revalidate), and ``If-None-Match``
  with that tag gets ``304 Not Modified`` without the body.
- **CORS**: read endpoints (GET/HEAD, and their OPTIONS preflight) may be called from any origin
  without credentials. Writes are not opened to other origins: a browser page elsewhere cannot
  send them with a visitor's token on its behalf.
"""
from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from app.api import bp
from app.auth.access import api_user
from app.extensions import limiter

READ_METHODS = ("GET", "HEAD")
#: Headers a cross-origin page may send to read endpoints, and those it may read back.
CORS_ALLOW_HEADERS = "Accept, Accept-Language, If-None-Match, Content-Type"
CORS_EXPOSE_HEADERS = ("ETag, Link, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset")


def rate_key():
    """The bucket of the token's account for a request with a valid bearer token, else the address's.

    Per account, not per token: minting more tokens must not multiply anyone's allowance.
    """
    if request.headers.get("Authorization") and api_user() is not None and g.get("api_token_user_id"):
        return f"api-account:{g.api_token_user_id}"
    return f"api-address:{get_remote_address()}"


def rate_limit():
    """The limit string of the request's bucket (per token or per address)."""
    if rate_key().startswith("api-account:"):
        return current_app.config["API_RATE_LIMIT"]
    return current_app.config["API_RATE_LIMIT_ANONYMOUS"]


# One limit shared by every endpoint of the blueprint; the preflight of a browser does not count.
limiter.shared_limit(rate_limit, scope="api-v1", key_func=rate_key,
                     exempt_when=lambda: request.method == "OPTIONS")(bp)


@bp.after_request
def conditional_and_cors(response):
    if request.method in READ_METHODS and response.status_code == 200 and not response.is_streamed:
        response.headers.setdefault("Cache-Control", "no-cache")
        response.add_etag()
        response.headers.add("Vary", "Accept-Language")
        response.make_conditional(request)
    if request.method in READ_METHODS + ("OPTIONS",) and _readable_cross_origin():
        response.headers["Access-Control-Allow-Origin"] = "*"
        # Other sites' scripts may read public data; the default same-origin CORP would block embeds.
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _readable_cross_origin():
    """Whether the endpoint answers GET publicly (so reading it from another origin is harmless)."""
    from app.auth.access import rule_for

    if request.endpoint is None or request.url_rule is None or "GET" not in (request.url_rule.methods or ()):
        return False
    rule = rule_for(request.endpoint)
    return rule is not None and rule.level == "public"
