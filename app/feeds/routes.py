"""/feeds/<feed>.atom and /feeds/<feed>.rss, optionally ``?district=N`` (the district's number)."""
from datetime import timezone
from email.utils import format_datetime

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from app.auth.access import public
from app.feeds import bp, services
from app.models.base import NotFound, utcnow
from app.opendata.datasets import iso
from app.opendata.services import licence

#: Feed readers poll; shared caches may answer them for this long.
CACHE_SECONDS = 600
MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


def _rfc822(moment):
    """A timestamp as RSS 2.0 wants it (RFC 822, in GMT)."""
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def _render(name, fmt):
    """The feed ``name`` in ``fmt``, for ``?district=N`` when given (404 for unknown feeds and districts)."""
    district_arg = (request.args.get("district") or "").strip()
    try:
        district = services.district_by_number(district_arg) if district_arg else None
        feed = services.build(name, district)
    except NotFound:
        abort(404)
    locale = str(get_locale())
    args = {"feed": name, "district": district.number if district else None, "lang": request.args.get("lang")}
    self_url = current_app.config["BASE_URL"].rstrip("/") + url_for(f"feeds.{fmt}", **args)
    alternate = {other: current_app.config["BASE_URL"].rstrip("/") + url_for(f"feeds.{other}", **args)
                 for other in MEDIA_TYPES}
    terms = licence()
    body = render_template(f"feeds/{fmt}.xml", feed=feed, locale=locale, self_url=self_url, alternate=alternate,
                           now=utcnow(), ttl=CACHE_SECONDS // 60, iso=iso, rfc822=_rfc822,
                           licence=services.clean(f"{terms['name']} ({terms['url']}) – {terms['attribution']}"))
    response = Response(body, mimetype=MEDIA_TYPES[fmt])
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    if not current_user.is_authenticated:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.vary.add("Accept-Language")  # titles and labels follow the language asked for
    return response


@bp.route("/feeds/<feed>.atom")
@public
def atom(feed):
    """An Atom 1.0 feed (RFC 4287)."""
    return _render(feed, "atom")


@bp.route("/feeds/<feed>.rss")
@public
def rss(feed):
    """The same feed as RSS 2.0."""
    return _render(feed, "rss")
