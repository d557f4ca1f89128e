"""Open311 GeoReport v2 rules: API keys, the service list, finding and placing service requests.

A GeoReport *service* is one of our report categories (service_code = the category's slug);
a *service request* is a public report. Status follows FixMyStreet: "open" while the city
has not finished with the report (new, acknowledged, in progress), "closed" for everything
else, resolved included. Services never commit.
"""
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.services import record
from app.extensions import db
from app.models.api import PREFIX_LENGTH, ApiKey, new_secret, secret_hash
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.photo import Photo
from app.models.place import Category
from app.models.report import OPEN_STATUSES, Report
from app.models.user import NotificationPref, Role, User, UserRole
from app.reports import services as reports

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint's behaviour last changed (discovery's "changeset"): bump it with any change.
CHANGESET = "2026-11-22T00:00:00Z"
FORMATS = ["text/xml", "application/json"]
#: A GET of requests without ids covers this many days when no dates are given (as the spec advises).
DEFAULT_WINDOW = timedelta(days=90)
#: The most requests one GET returns (the spec's suggested limit).
MAX_RESULTS = 1000
#: How many characters of the description become the report's title (Open311 has no title).
TITLE_LENGTH = 80
KEY_MARKER = "pzk_"
STATUSES = ("open", "closed")


# --- API keys -------------------------------------------------------------------------------------

def _service_account(name):
    """A confirmed citizen account without email or password that reports of one key are attributed to."""
    user = User(email=None, display_name=name[:80], password_hash=None, email_confirmed_at=utcnow(),
                locale="it", notification_pref=NotificationPref.none)
    user.role_rows = [UserRole(role=Role.citizen)]
    db.session.add(user)
    db.session.flush()
    return user


def create_api_key(name, owner=None):
    """Issue a key named ``name`` for ``owner`` (or a new service account); returns (key, secret).

    The secret exists only in the return value: the database keeps its hash.
    """
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise DomainError(_("Give the key a name of at most 80 characters."), field="name")
    if db.session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise DomainError(_("An API key named %(name)s already exists.", name=name), field="name")
    service_account = owner is None
    if service_account:
        owner = _service_account(name)
    elif not owner.is_active or not owner.is_citizen:
        raise DomainError(_("Reports are attributed to the key's owner, so the owner must be an active "
                            "citizen account with a confirmed email address."), field="owner")
    secret = new_secret(KEY_MARKER)
    key = ApiKey(name=name, key_hash=secret_hash(secret), prefix=secret[:PREFIX_LENGTH], owner_id=owner.id)
    db.session.add(key)
    db.session.flush()
    record("api_key.created", target=key,
           details={"name": name, "owner_id": owner.id, "service_account": service_account})
    return key, secret


def revoke_api_key(name):
    """Revoke the key named ``name``; returns (key, True) or (key, False) if it already was revoked."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == (name or "").strip()))
    if key is None:
        raise NotFound(_("There is no API key named %(name)s.", name=name))
    if key.revoked_at is not None:
        return key, False
    key.revoked_at = utcnow()
    record("api_key.revoked", target=key, details={"name": key.name})
    return key, True


def api_keys():
    """Every key, revoked ones included, by name."""
    return db.session.scalars(select(ApiKey).options(selectinload(ApiKey.owner)).order_by(ApiKey.name)).all()


def key_for(secret):
    """The unrevoked key whose secret this is, or None."""
    if not secret:
        return None
    # A lookup by hash: no constant-time comparison needed (see app.models.api).
    return db.session.scalar(select(ApiKey).where(ApiKey.key_hash == secret_hash(secret),
                                                  ApiKey.revoked_at.is_(None)))


# --- formats ----------------------------------------------------------------------------------

def city_timezone():
    """The city's time zone, in which every GeoReport date is written."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def w3_datetime(value):
    """A date-time as the spec wants it: ISO 8601 to the second with the city's offset, or None."""
    if value is None:
        return None
    return value.astimezone(city_timezone()).isoformat(timespec="seconds")


def parse_datetime(value, name):
    """An aware UTC datetime from ISO 8601 text; a date or time without offset is in the city's zone."""
    # An unencoded "+01:00" in a query string arrives as " 01:00": put the plus back.
    text = (value or "").strip().replace(" ", "+")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(_("%(name)s must be an ISO 8601 date-time, such as 2026-01-31T08:00:00+01:00.",
                            name=name)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=city_timezone())
    return parsed.astimezone(timezone.utc)


def _absolute(path):
    """An absolute URL on BASE_URL (never on the request's Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def _department_name(department, locale):
    """The department's name in ``locale``, or None when there is none."""
    return department.name(locale) if department is not None else None


# --- discovery and services -----------------------------------------------------------------------

def discovery():
    """The service discovery document."""
    from app.open311 import bp

    site = current_app.config["BASE_URL"].rstrip("/")
    return {
        "changeset": CHANGESET,
        "contact": current_app.config.get("OPEN311_CONTACT")
        or _("Write to the administrators of %(site)s.", site=site),
        "key_service": current_app.config.get("OPEN311_KEY_SERVICE")
        or _("API keys are issued by the administrators of %(site)s: ask them for one.", site=site),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": site + bp.url_prefix,
            "changeset": CHANGESET,
            "type": "production",
            "formats": list(FORMATS),
        }],
    }


def _service(category, locale):
    """One category as a GeoReport service."""
    department = _department_name(category.department, locale)
    name = category.name(locale)
    if department:
        description = _("Reports about %(category)s, handled by %(department)s.", category=name,
                        department=department)
    else:
        description = _("Reports about %(category)s.", category=name)
    keywords = []
    for word in (category.name_it, category.name_en, category.slug.replace("-", " ")):
        if word.lower() not in keywords:
            keywords.append(word.lower())
    return {"service_code": category.slug, "service_name": name, "description": description,
            # No category asks for extra attributes: clients need no service definition.
            "metadata": False, "type": "realtime", "keywords": ", ".join(keywords), "group": department}


def service_list(locale):
    """Every category as a service, by code."""
    categories = db.session.scalars(
        select(Category).options(selectinload(Category.department)).order_by(Category.slug))
    return [_service(c, locale) for c in categories]


def _category(code):
    """The category whose slug is ``code``, or None."""
    return db.session.scalar(select(Category).where(Category.slug == (code or "").strip())) if code else None


def service_definition(code):
    """The definition of a service: no category has attributes, so an empty list (NotFound if unknown)."""
    category = _category(code)
    if category is None:
        raise NotFound(_("There is no service with service_code %(code)s.", code=code))
    return {"service_code": category.slug, "attributes": []}


# --- finding requests ---------------------------------------------------------------------------

@dataclass
class RequestFilters:
    """What a GET of requests asks for; ``ids`` overrides everything else (as the spec says)."""

    ids: list | None = None
    service_codes: list | None = None
    statuses: list | None = None
    start: datetime | None = None
    end: datetime | None = None


def _values(args, name):
    """A parameter "declared multiple times, comma delimited": every non-empty value."""
    return [v.strip() for raw in args.getlist(name) for v in raw.split(",") if v.strip()]


def request_filters(args, now=None):
    """Validated filters from the query string (DomainError naming the bad parameter)."""
    ids = _values(args, "service_request_id")
    if ids:
        if not all(re.fullmatch(r"\d{1,18}", i) for i in ids):
            raise DomainError(_("service_request_id must be one or more numbers separated by commas."))
        return RequestFilters(ids=[int(i) for i in ids][:MAX_RESULTS])
    statuses = _values(args, "status")
    if any(s not in STATUSES for s in statuses):
        raise DomainError(_("status must be open, closed, or both separated by a comma."))
    start = parse_datetime(args["start_date"], "start_date") if args.get("start_date") else None
    end = parse_datetime(args["end_date"], "end_date") if args.get("end_date") else None
    if start is None:
        start = (end or now or utcnow()) - DEFAULT_WINDOW
    if end is not None and start > end:
        raise DomainError(_("start_date must come before end_date."))
    return RequestFilters(service_codes=_values(args, "service_code") or None,
                          statuses=sorted(set(statuses)) or None, start=start, end=end)


def find_requests(filters):
    """Public reports matching ``filters``, newest first, at most MAX_RESULTS."""
    query = reports.public_reports()
    if filters.ids is not None:
        query = query.where(Report.id.in_(filters.ids))
    else:
        if filters.service_codes:
            query = query.where(Report.category_id.in_(
                select(Category.id).where(Category.slug.in_(filters.service_codes))))
        if filters.statuses == ["open"]:
            query = query.where(Report.status.in_(OPEN_STATUSES))
        elif filters.statuses == ["closed"]:
            query = query.where(Report.status.not_in(OPEN_STATUSES))
        if filters.start is not None:
            query = query.where(Report.created_at >= filters.start)
        if filters.end is not None:
            query = query.where(Report.created_at <= filters.end)
    query = query.options(selectinload(Report.updates)).limit(MAX_RESULTS)
    return db.session.scalars(query).all()


def get_request(report_id):
    """One public report, or NotFound (hidden and missing alike)."""
    return reports.get_public(report_id)


def first_photo_urls(reports_):
    """{report id: absolute URL of its first visible photo} in one query.

    The visibility rule is that of app.media.services.photos_of (hidden photos are not
    shown); calling it per report would cost one query per request in a 1000-item list.
    """
    ids = [r.id for r in reports_]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Photo.owner_id, Photo.storage_key)
        .where(Photo.owner_type == "report", Photo.owner_id.in_(ids), Photo.hidden_at.is_(None))
        .order_by(Photo.owner_id, Photo.position, Photo.id))
    first = {}
    for owner_id, key in rows:
        first.setdefault(owner_id, key)
    return {owner_id: _absolute(url_for("media.photo", key=key)) for owner_id, key in first.items()}


def open311_status(report):
    """open while the city works on the report, closed otherwise (resolved included, like FixMyStreet)."""
    return "open" if report.status in OPEN_STATUSES else "closed"


def _status_notes(report):
    """The latest public note of the report's timeline, or None."""
    notes = [u.note for u in report.updates if u.note]
    return notes[-1] if notes else None


def request_data(report, locale, media_url=None):
    """A report as a GeoReport service request (no personal data: the reporter is not named)."""
    return {
        "service_request_id": report.id,
        "status": open311_status(report),
        "status_notes": _status_notes(report),
        "service_name": report.category.name(locale),
        "service_code": report.category.slug,
        "description": report.description,
        "agency_responsible": _department_name(report.department, locale),
        "service_notice": None,
        "requested_datetime": w3_datetime(report.created_at),
        "updated_datetime": w3_datetime(report.updated_at),
        "expected_datetime": None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": media_url,
    }


# --- placing a request ---------------------------------------------------------------------------

def _coordinate(form, name):
    """A finite float from the form, or None when absent or not a number."""
    try:
        value = float((form.get(name) or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _title_from(description):
    """The first TITLE_LENGTH characters of the description, on one line."""
    return " ".join(description.split())[:TITLE_LENGTH].strip()


def submit_request(form):
    """Place a report from a POSTed service request; returns the report.

    The submitter's email, name, phone and device id are ignored on purpose: the report
    is attributed to the key's owner and we store no personal data we do not need.
    media_url is ignored too: fetching URLs given by clients would let them make the
    server request arbitrary addresses.
    """
    key = key_for((form.get("api_key") or "").strip())
    if key is None:
        raise PermissionDenied(_("The api_key is missing, unknown or revoked."))
    owner = key.owner
    if owner is None or not owner.is_active or not owner.is_citizen:
        raise PermissionDenied(_("The account of this api_key cannot place reports."))
    category = _category(form.get("service_code"))
    if category is None:
        raise DomainError(_("service_code not found: ask services.json for the valid ones."))
    lat, lon = _coordinate(form, "lat"), _coordinate(form, "long")
    if lat is None or lon is None:
        # We do not geocode: an address_string or address_id alone cannot be placed on the map.
        raise DomainError(_("lat/long required: this server does not geocode address_string or address_id."))
    description = (form.get("description") or "").strip()
    if not description:
        raise DomainError(_("description required: say what the problem is."))
    report = reports.create_report(owner, title=_title_from(description), description=description,
                                   category_id=category.id, lat=lat, lon=lon,
                                   address=form.get("address_string"), source="open311")
    key.last_used_at = utcnow()
    return report


def service_notice(report, locale):
    """What happens next, for the POST response."""
    from app.moderation.holds import is_held

    if is_held("report", report):
        return _("Thank you: the report was received. It will be published once a moderator has looked at it.")
    department = _department_name(report.department, locale)
    if department:
        return _("Thank you: the report was sent to %(department)s.", department=department)
    return _("Thank you: the report was received.")
