"""Rules of the commons registry, the City's calls for care, and the civic subjects (organisations).

Every function takes model objects, never commits, and raises DomainError / PermissionDenied /
NotFound with a translated message (``field`` in the details names the form field it is about).
Staff actions record an audit event in the same transaction; so do changes of who represents an
organisation, since a representative signs pacts in its name.

What the public sees of a commons: a registered one (the City's own registry, or a citizen's
proposal the office registered), or one whose pact is public — never a hidden one. A commons a
citizen proposed with a pact draft stays out of sight until then.
"""
import json
import math
import re
import time
from datetime import datetime, timezone

import shapely
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload

from app import geo
from app.audit.services import record
from app.auth.tokens import InvalidToken, make_token, read_token
from app.extensions import db
from app.http import path_for
from app.locking import lock_row
from app.models.audit import AuditEvent
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.commons import (
    Commons,
    CommonsCall,
    CommonsKind,
    CommonsOwner,
    Organisation,
    OrganisationKind,
    OrganisationMember,
)
from app.models.pact import Pact, PactParty
from app.models.place import District
from app.models.user import Department, Role, User
from app.notifications import services as notifications
from app.pacts.registry import public_condition

#: How far (degrees, about 2 km at Turin) an outline may reach beyond the city's extent: a park on
#: the border, a river bank. Anything further is a mistake (or latitude and longitude swapped).
CITY_MARGIN_DEG = 0.02
#: How far the representative point may lie from the outline, in metres.
POINT_TO_OUTLINE_M = 300
#: Invitations to join an organisation are valid this long.
INVITATION_DAYS = 14
#: Membership events that make an older invitation useless (it was answered, or things changed since).
MEMBERSHIP_EVENTS = ("organisation.member_joined", "organisation.member_removed", "organisation.member_left",
                     "organisation.representative_changed")
#: Kinds of organisation that must give a tax code (codice fiscale / partita IVA). Informal groups
#: have none by definition. Schools are left out too: a state school is a public body the office
#: already knows by its ministry code, and the teacher or parent who opens its profile rarely has
#: the institute's tax code at hand — asking for it would stop schools at the door.
TAX_CODE_REQUIRED = frozenset({OrganisationKind.association, OrganisationKind.cooperative, OrganisationKind.company})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)

notifications.register_kind(
    "organisation.invited_member",
    _l("%(name)s invites you to join %(organisation)s as a member. Open the invitation to answer."))
notifications.register_kind(
    "organisation.invited_representative",
    _l("%(name)s invites you to join %(organisation)s as one of its representatives. Open the invitation to "
       "answer."))
notifications.register_kind("organisation.joined", _l("%(name)s joined %(organisation)s."))


# --- visibility -------------------------------------------------------------------------------

def _has_public_pact():
    return exists(select(Pact.id).where(Pact.commons_id == Commons.id, public_condition()))


def visible_condition():
    """SQL: the commons the public sees (registered, or with a public pact; never hidden)."""
    return Commons.hidden_at.is_(None) & (Commons.registered_at.is_not(None) | _has_public_pact())


def is_visible(commons):
    """The same rule as :func:`visible_condition`, for one commons."""
    if commons.hidden_at is not None:
        return False
    if commons.registered_at is not None:
        return True
    return db.session.scalar(select(_has_public_pact().where(Commons.id == commons.id))) or False


def is_official(user):
    return user is not None and user.is_authenticated and user.has_role(Role.official)


def can_view(commons, user):
    """The public sees visible commons; officials see every one; a citizen sees the one they proposed."""
    if is_visible(commons) or is_official(user):
        return True
    return (user is not None and user.is_authenticated and commons.hidden_at is None
            and commons.proposed_by_id == user.id)


def get_viewable(commons_id, user):
    """The commons if ``user`` may see it, else NotFound."""
    commons = db.session.get(Commons, commons_id)
    if commons is None or not can_view(commons, user):
        raise NotFound(_("There is no such commons."))
    return commons


def open_call_condition(now):
    """SQL: the commons has a call for care open at ``now``."""
    return exists(select(CommonsCall.id).where(CommonsCall.commons_id == Commons.id, CommonsCall.opens_at <= now,
                                               CommonsCall.closes_at > now))


def parse_filters(args, db_id):
    """The registry's filters from a query string; unknown values are ignored."""
    kind = args.get("kind")
    return {
        "kind": CommonsKind(kind) if kind in {k.value for k in CommonsKind} else None,
        "district_id": args.get("district", type=db_id),
        "offered": args.get("offered") == "1",
        "q": (args.get("q") or "").strip()[:100],
    }


def _like_escape(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def public_commons(filters, now=None):
    """Visible commons matching the filters, by name."""
    now = now or utcnow()
    query = select(Commons).where(visible_condition()).options(selectinload(Commons.district))
    if filters.get("kind"):
        query = query.where(Commons.kind == filters["kind"])
    if filters.get("district_id"):
        query = query.where(Commons.district_id == filters["district_id"])
    if filters.get("offered"):
        query = query.where(open_call_condition(now))
    if filters.get("q"):
        pattern = f"%{_like_escape(filters['q'].lower())}%"
        query = query.where(or_(func.lower(Commons.name).like(pattern, escape="\\"),
                                func.lower(Commons.address).like(pattern, escape="\\")))
    return query.order_by(func.lower(Commons.name), Commons.id)


def offered_ids(commons_ids, now=None):
    """Which of these commons have a call for care open now."""
    if not commons_ids:
        return set()
    now = now or utcnow()
    return set(db.session.scalars(select(CommonsCall.commons_id).where(
        CommonsCall.commons_id.in_(commons_ids), CommonsCall.opens_at <= now, CommonsCall.closes_at > now)))


def public_pacts_of(commons):
    """The public pacts that concern this commons, most recently changed first."""
    return db.session.scalars(select(Pact).where(Pact.commons_id == commons.id, public_condition())
                              .order_by(Pact.status_changed_at.desc(), Pact.id.desc())).all()


def calls_of(commons, now=None):
    """(open, upcoming, past) calls for care of this commons."""
    now = now or utcnow()
    calls = list(commons.calls)
    return ([c for c in calls if c.is_open(now)], [c for c in calls if c.opens_at > now],
            sorted((c for c in calls if c.closes_at <= now), key=lambda c: c.closes_at, reverse=True))


# --- geometry ---------------------------------------------------------------------------------

def _outline_error(message):
    return DomainError(message, field="geometry")


def parse_outline(text):
    """A GeoJSON Polygon or MultiPolygon (lon/lat, a bare geometry or a Feature) as a shapely geometry.

    None for an empty text; DomainError (field "geometry") saying what is wrong otherwise.
    """
    if text is None or not str(text).strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise _outline_error(_("The outline is not valid GeoJSON: check brackets and commas.")) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise _outline_error(_("The outline must be a GeoJSON Polygon or MultiPolygon."))
    try:
        geom = shape(data)
    except Exception:  # shapely raises several types for malformed coordinates
        raise _outline_error(_("The outline's coordinates are not a polygon: each ring needs at least four "
                               "[longitude, latitude] positions, the last equal to the first.")) from None
    if geom.is_empty:
        raise _outline_error(_("The outline is empty."))
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(v) for v in coords.flat):
        raise _outline_error(_("The outline's coordinates must be numbers."))
    if not geom.is_valid:
        raise _outline_error(_("The outline is not a valid polygon (%(why)s): its edges must not cross.",
                               why=explain_validity(geom)))
    bounds = geo.city_bounds()
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if (bounds.min_lat - 1 <= min_lon and max_lon <= bounds.max_lat + 1
            and bounds.min_lon - 1 <= min_lat and max_lat <= bounds.max_lon + 1):
        raise _outline_error(_("The outline seems to be in latitude, longitude order: GeoJSON wants longitude "
                               "first, e.g. [7.68, 45.07]."))
    if not (bounds.min_lon - CITY_MARGIN_DEG <= min_lon and max_lon <= bounds.max_lon + CITY_MARGIN_DEG
            and bounds.min_lat - CITY_MARGIN_DEG <= min_lat and max_lat <= bounds.max_lat + CITY_MARGIN_DEG):
        raise _outline_error(_("The outline lies outside Turin."))
    return geom


def _place(kind, lat, lon, outline_text, district_id):
    """(lat, lon, geometry JSON, district id) checked: a point inside the city, an outline near it.

    Every commons but an immaterial one needs a point; without one, the outline gives it. The
    district follows from the point; an immaterial commons may name one instead.
    """
    outline = parse_outline(outline_text)
    has_point = lat not in (None, "") and lon not in (None, "")
    if not has_point and outline is not None:
        centre = outline.representative_point()
        lat, lon, has_point = centre.y, centre.x, True
    if not has_point:
        if kind != CommonsKind.immaterial:
            raise DomainError(_("Place the commons on the map: a point inside the city."), field="lat")
        if district_id is not None and db.session.get(District, district_id) is None:
            raise DomainError(_("Choose a district from the list."), field="district_id")
        return None, None, None, district_id
    try:
        found = geo.require_in_city(lat, lon)
    except geo.GeoError as exc:
        raise DomainError(exc.message, field="lat") from None
    lat, lon = geo.parse_position(lat, lon)
    if outline is not None:
        far = outline.distance(shapely.Point(lon, lat)) * geo.METRES_PER_DEGREE
        if far > POINT_TO_OUTLINE_M:
            raise _outline_error(_("The point is far from the outline: put the point on the commons, or leave it "
                                   "empty to use the outline's centre."))
    geometry = json.dumps(mapping(outline)) if outline is not None else None
    return lat, lon, geometry, found if found is not None else district_id


def outline_of(commons):
    """The commons' outline as a GeoJSON dict, or None."""
    return json.loads(commons.geometry) if commons.geometry else None


# --- the registry (officials) -----------------------------------------------------------------

def _require_official(user):
    if not is_official(user):
        raise PermissionDenied(_("Only the City's officials manage the registry of commons."))


def _clean(text, limit=None):
    text = (text or "").strip()
    return text[:limit] if limit else text


def _apply(commons, *, name, kind, lat, lon, address, description, district_id, owner, owner_name, owner_consent,
           department_id, heritage_constraint, geometry):
    """Check and set the fields an official edits (shared by create and edit)."""
    name = _clean(name)
    if not name:
        raise DomainError(_("Give the commons a name."), field="name")
    if len(name) > 200:
        raise DomainError(_("The name is too long (at most 200 characters)."), field="name")
    try:
        kind = CommonsKind(kind)
    except ValueError:
        raise DomainError(_("Choose the kind of commons."), field="kind") from None
    try:
        owner = CommonsOwner(owner or CommonsOwner.city)
    except ValueError:
        raise DomainError(_("Choose who owns the commons."), field="owner") from None
    owner_name, owner_consent = _clean(owner_name, 200), _clean(owner_consent)
    if owner == CommonsOwner.third_party:
        if not owner_name:
            raise DomainError(_("Name the owner of the commons."), field="owner_name")
        if not owner_consent:
            raise DomainError(_("Record the owner's consent (a document, its date): without it a third party's "
                                "property cannot be offered for care."), field="owner_consent")
    else:
        owner_name = owner_consent = None
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise DomainError(_("Choose a department from the list."), field="department_id")
    lat, lon, geometry, district_id = _place(kind, lat, lon, geometry, district_id)
    commons.name, commons.kind, commons.description = name, kind, _clean(description)
    commons.address = _clean(address, 300) or None
    commons.lat, commons.lon, commons.geometry, commons.district_id = lat, lon, geometry, district_id
    commons.owner, commons.owner_name, commons.owner_consent = owner, owner_name, owner_consent
    commons.department_id, commons.heritage_constraint = department_id, bool(heritage_constraint)
    return commons


def create_commons(official, *, name, kind, lat=None, lon=None, address=None, description="", district_id=None,
                   owner=CommonsOwner.city, owner_name=None, owner_consent=None, department_id=None,
                   heritage_constraint=False, geometry=None):
    """An official adds a commons to the City's registry (registered at once)."""
    _require_official(official)
    commons = _apply(Commons(), name=name, kind=kind, lat=lat, lon=lon, address=address, description=description,
                     district_id=district_id, owner=owner, owner_name=owner_name, owner_consent=owner_consent,
                     department_id=department_id, heritage_constraint=heritage_constraint, geometry=geometry)
    commons.registered_at = utcnow()
    db.session.add(commons)
    db.session.flush()
    record("commons.created", actor=official, target=commons,
           details={"kind": commons.kind.value, "district_id": commons.district_id})
    return commons


def update_commons(commons, official, **fields):
    """An official edits a commons (any of them, registered or proposed)."""
    _require_official(official)
    commons = lock_row(Commons, commons.id)
    _apply(commons, **fields)
    db.session.flush()
    record("commons.updated", actor=official, target=commons,
           details={"kind": commons.kind.value, "district_id": commons.district_id})
    return commons


def register_commons(commons, official):
    """An official takes a commons proposed by a citizen into the registry (idempotent)."""
    _require_official(official)
    commons = lock_row(Commons, commons.id)
    if commons.hidden_at is not None:
        raise DomainError(_("This commons is hidden: restore it first."))
    if commons.registered_at is None:
        commons.registered_at = utcnow()
        record("commons.registered", actor=official, target=commons)
    return commons


def hide_commons(commons, official, reason):
    """An official takes a commons out of the public registry, with the reason (kept in the audit log)."""
    _require_official(official)
    reason = _clean(reason)
    if not reason:
        raise DomainError(_("Say why the commons is hidden."), field="reason")
    commons = lock_row(Commons, commons.id)
    if commons.hidden_at is None:
        commons.hidden_at = utcnow()
        record("commons.hidden", actor=official, target=commons, reason=reason)
    return commons


def restore_commons(commons, official):
    """An official puts a hidden commons back (idempotent)."""
    _require_official(official)
    commons = lock_row(Commons, commons.id)
    if commons.hidden_at is not None:
        commons.hidden_at = None
        record("commons.restored", actor=official, target=commons)
    return commons


def create_proposed_commons(user, *, name, kind, lat=None, lon=None, address=None, description=""):
    """A commons a citizen proposes together with a pact proposal: unregistered, unseen until its pact is public.

    For ``app.pacts.services.create_draft(new_commons=...)``; the caller checks the citizen.
    """
    if user is None or not user.is_citizen:
        raise PermissionDenied(_("Only a confirmed citizen can propose a commons."))
    name = _clean(name)
    if not name or len(name) > 200:
        raise DomainError(_("Give the commons a name (at most 200 characters)."), field="commons_name")
    try:
        kind = CommonsKind(kind)
    except ValueError:
        raise DomainError(_("Choose the kind of commons."), field="commons_kind") from None
    try:
        lat, lon, _geometry, district_id = _place(kind, lat, lon, None, None)
    except DomainError as exc:
        raise DomainError(exc.message, field="commons_lat") from None
    commons = Commons(name=name, kind=kind, lat=lat, lon=lon, district_id=district_id,
                      address=_clean(address, 300) or None, description=_clean(description),
                      owner=CommonsOwner.city, proposed_by_id=user.id)
    db.session.add(commons)
    db.session.flush()
    return commons


def office_commons(filters):
    """Every commons for the office: proposed ones waiting first, then by name; hidden ones included."""
    query = select(Commons).options(selectinload(Commons.district), selectinload(Commons.proposed_by))
    status = filters.get("status")
    if status == "proposed":
        query = query.where(Commons.registered_at.is_(None), Commons.hidden_at.is_(None))
    elif status == "hidden":
        query = query.where(Commons.hidden_at.is_not(None))
    elif status == "registered":
        query = query.where(Commons.registered_at.is_not(None), Commons.hidden_at.is_(None))
    if filters.get("q"):
        query = query.where(func.lower(Commons.name).like(f"%{_like_escape(filters['q'].lower())}%", escape="\\"))
    return query.order_by(Commons.registered_at.is_not(None), func.lower(Commons.name), Commons.id)


# --- calls for care ---------------------------------------------------------------------------

def open_call(commons, official, *, title, description="", requirements="", criteria="", opens_at, closes_at,
              now=None):
    """An official offers a registered commons for care: a dated public call (aware datetimes)."""
    _require_official(official)
    now = now or utcnow()
    commons = lock_row(Commons, commons.id)
    if commons.hidden_at is not None or commons.registered_at is None:
        raise DomainError(_("Only a registered, visible commons can be offered for care."))
    title = _clean(title)
    if not title or len(title) > 200:
        raise DomainError(_("Give the call a title (at most 200 characters)."), field="title")
    if opens_at is None:
        raise DomainError(_("Enter when the call opens."), field="opens_at")
    if closes_at is None:
        raise DomainError(_("Enter when the call closes."), field="closes_at")
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ValueError("call times must be aware datetimes")
    if closes_at <= opens_at:
        raise DomainError(_("The call must close after it opens."), field="closes_at")
    if closes_at <= now:
        raise DomainError(_("This call would already be over: choose a closing time in the future."),
                          field="closes_at")
    call = CommonsCall(commons_id=commons.id, title=title, description=_clean(description),
                       requirements=_clean(requirements), criteria=_clean(criteria), opens_at=opens_at,
                       closes_at=closes_at, created_by_id=official.id)
    db.session.add(call)
    db.session.flush()
    record("commons_call.opened", actor=official, target=call,
           details={"commons_id": commons.id, "opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()})
    return call


def close_call(call, official, now=None):
    """An official ends a call for care early (now); a call already over stays as it was."""
    _require_official(official)
    now = now or utcnow()
    call = lock_row(CommonsCall, call.id)
    if call.closes_at <= now:
        raise DomainError(_("This call is already closed."))
    call.closes_at = max(now, call.opens_at)
    record("commons_call.closed", actor=official, target=call, details={"commons_id": call.commons_id})
    return call


# --- organisations ----------------------------------------------------------------------------

def _partita_iva_ok(digits):
    """The check digit of an 11-digit partita IVA / codice fiscale of a legal person."""
    total = 0
    for i, ch in enumerate(digits[:10]):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10 == int(digits[10])


def normalise_tax_code(text):
    """An Italian tax code, upper-case without spaces: 11 digits (a body) or 16 characters (a person)."""
    code = re.sub(r"[\s.-]", "", text or "").upper()
    if not code:
        return None
    if re.fullmatch(r"\d{11}", code):
        if not _partita_iva_ok(code):
            raise DomainError(_("This tax code is not valid: check the digits."), field="tax_code")
        return code
    if re.fullmatch(r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]", code):
        return code
    raise DomainError(_("A tax code has 11 digits (codice fiscale or partita IVA of a body) or 16 letters and "
                        "digits."), field="tax_code")


def _organisation_fields(*, name, kind, description, tax_code, email, website, district_id):
    name = _clean(name)
    if not name or len(name) > 200:
        raise DomainError(_("Give the organisation a name (at most 200 characters)."), field="name")
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        raise DomainError(_("Choose what kind of organisation it is."), field="kind") from None
    tax_code = normalise_tax_code(tax_code)
    if tax_code is None and kind in TAX_CODE_REQUIRED:
        raise DomainError(_("Associations, cooperatives and companies give their tax code."), field="tax_code")
    email = _clean(email).lower() or None
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        raise DomainError(_("This is not an email address."), field="email")
    website = _clean(website) or None
    if website and (len(website) > 300 or not _URL.match(website)):
        raise DomainError(_("Give the full address of the website, starting with https://."), field="website")
    if district_id is not None and db.session.get(District, district_id) is None:
        raise DomainError(_("Choose a district from the list."), field="district_id")
    return {"name": name, "kind": kind, "description": _clean(description), "tax_code": tax_code, "email": email,
            "website": website, "district_id": district_id}


def create_organisation(user, *, name, kind, description="", tax_code=None, email=None, website=None,
                        district_id=None):
    """A confirmed citizen creates an organisation and becomes its first representative."""
    if user is None or not user.is_citizen:
        raise PermissionDenied(_("Only a confirmed citizen can create an organisation."))
    fields = _organisation_fields(name=name, kind=kind, description=description, tax_code=tax_code, email=email,
                                  website=website, district_id=district_id)
    organisation = Organisation(**fields, created_by_id=user.id)
    organisation.memberships.append(OrganisationMember(user_id=user.id, is_representative=True))
    db.session.add(organisation)
    db.session.flush()
    record("organisation.created", actor=user, target=organisation, details={"kind": organisation.kind.value})
    record("organisation.member_joined", actor=user, target=organisation,
           details={"user_id": user.id, "representative": True})
    return organisation


def get_public_organisation(organisation_id):
    """A visible organisation, else NotFound."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.hidden_at is not None:
        raise NotFound(_("There is no such organisation."))
    return organisation


def _lock_organisation(organisation):
    locked = lock_row(Organisation, organisation.id)
    if locked is None:
        raise NotFound(_("There is no such organisation."))
    db.session.refresh(locked, ["memberships"])
    return locked


def require_representative(organisation, user):
    """PermissionDenied unless ``user`` represents the organisation."""
    if organisation.hidden_at is not None:
        raise NotFound(_("There is no such organisation."))
    if user is None or not organisation.is_representative(user):
        raise PermissionDenied(_("Only the organisation's representatives can do this."))


def update_organisation(organisation, user, **fields):
    """A representative edits the organisation's profile."""
    organisation = _lock_organisation(organisation)
    require_representative(organisation, user)
    for key, value in _organisation_fields(**fields).items():
        setattr(organisation, key, value)
    record("organisation.updated", actor=user, target=organisation, details={"kind": organisation.kind.value})
    return organisation


def invite_member(organisation, actor, email, *, representative=False):
    """A representative invites an account by email to join as a member or a representative.

    Answers the same whether the address has an account or not (no account enumeration): the
    invitee gets a notification with a signed link and appears among the members once they
    accept. Returns the link's path, or None when nobody was invited.
    """
    organisation = _lock_organisation(organisation)
    require_representative(organisation, actor)
    email = _clean(email).lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise DomainError(_("Enter an email address."), field="email")
    invitee = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if invitee is None or not invitee.is_citizen or not invitee.is_active or invitee.id == actor.id:
        return None
    current = next((m for m in organisation.memberships if m.user_id == invitee.id), None)
    if current is not None and (current.is_representative or not representative):
        return None  # nothing to offer them
    token = make_token("organisation-invitation", {"o": organisation.id, "u": invitee.id,
                                                   "r": 1 if representative else 0, "t": time.time()})
    url = path_for("commons.organisation_invitation", token=token)
    kind = "organisation.invited_representative" if representative else "organisation.invited_member"
    notifications.notify([invitee], kind, {"name": actor.display_name, "organisation": organisation.name}, url=url)
    return url


def read_invitation(token, user):
    """(organisation, as representative?) of a valid invitation addressed to ``user``; DomainError otherwise."""
    try:
        payload = read_token("organisation-invitation", token, max_age=INVITATION_DAYS * 86400)
        organisation_id, user_id, representative, issued = (int(payload["o"]), int(payload["u"]),
                                                            bool(payload["r"]), float(payload["t"]))
    except (InvalidToken, KeyError, TypeError, ValueError):
        raise DomainError(_("This invitation is not valid or has expired: ask the organisation for a new one.")) \
            from None
    if user is None or user.id != user_id:
        raise NotFound(_("This invitation is for another account."))
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.hidden_at is not None:
        raise NotFound(_("There is no such organisation."))
    since = datetime.fromtimestamp(issued, timezone.utc)
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == "organisation", AuditEvent.target_id == organisation.id,
        AuditEvent.action.in_(MEMBERSHIP_EVENTS), AuditEvent.created_at >= since)).all()
    if any((e.details or {}).get("user_id") == user.id for e in events):
        raise DomainError(_("This invitation was already answered, or your place in the organisation changed "
                            "since: ask for a new one if needed."))
    return organisation, representative


def accept_invitation(token, user):
    """The invited citizen joins (or becomes a representative); idempotent for what they already are."""
    organisation, representative = read_invitation(token, user)
    if not user.is_citizen:
        raise PermissionDenied(_("Only a confirmed citizen can join an organisation."))
    organisation = _lock_organisation(organisation)
    membership = next((m for m in organisation.memberships if m.user_id == user.id), None)
    if membership is None:
        membership = OrganisationMember(user_id=user.id, is_representative=representative)
        organisation.memberships.append(membership)
    elif representative and not membership.is_representative:
        membership.is_representative = True
    else:
        return membership
    db.session.flush()
    record("organisation.member_joined", actor=user, target=organisation,
           details={"user_id": user.id, "representative": membership.is_representative})
    others = [u for u in organisation.representatives() if u.id != user.id]
    notifications.notify(others, "organisation.joined", {"name": user.display_name,
                                                         "organisation": organisation.name},
                         url=path_for("commons.organisation_manage", organisation_id=organisation.id))
    return membership


def _membership(organisation, user_id):
    membership = next((m for m in organisation.memberships if m.user_id == user_id), None)
    if membership is None:
        raise NotFound(_("This person is not a member of the organisation."))
    return membership


def _is_last_representative(organisation, membership):
    return membership.is_representative and sum(1 for m in organisation.memberships if m.is_representative) == 1


def remove_member(organisation, actor, user_id):
    """A representative removes a member or another representative — never the last representative."""
    organisation = _lock_organisation(organisation)
    require_representative(organisation, actor)
    membership = _membership(organisation, user_id)
    if _is_last_representative(organisation, membership):
        raise DomainError(_("The organisation needs at least one representative: name another one first."))
    organisation.memberships.remove(membership)
    record("organisation.member_removed", actor=actor, target=organisation,
           details={"user_id": user_id, "representative": membership.is_representative})


def leave(organisation, user):
    """A member or representative steps down — the last representative cannot."""
    organisation = _lock_organisation(organisation)
    if user is None:
        raise PermissionDenied(_("Sign in first."))
    membership = _membership(organisation, user.id)
    if _is_last_representative(organisation, membership):
        raise DomainError(_("You are the organisation's only representative: name another representative before "
                            "you step down."))
    organisation.memberships.remove(membership)
    record("organisation.member_left", actor=user, target=organisation,
           details={"user_id": user.id, "representative": membership.is_representative})


def set_representative(organisation, actor, user_id, representative):
    """A representative makes a member a representative, or a representative a plain member."""
    organisation = _lock_organisation(organisation)
    require_representative(organisation, actor)
    membership = _membership(organisation, user_id)
    if membership.is_representative == bool(representative):
        return membership
    if not representative and _is_last_representative(organisation, membership):
        raise DomainError(_("The organisation needs at least one representative: name another one first."))
    membership.is_representative = bool(representative)
    record("organisation.representative_changed", actor=actor, target=organisation,
           details={"user_id": user_id, "representative": membership.is_representative})
    return membership


def organisations_of(user):
    """The memberships of ``user``, organisations by name."""
    return db.session.scalars(
        select(OrganisationMember).join(Organisation, Organisation.id == OrganisationMember.organisation_id)
        .where(OrganisationMember.user_id == user.id, Organisation.hidden_at.is_(None))
        .options(selectinload(OrganisationMember.organisation))
        .order_by(func.lower(Organisation.name))).all()


def public_pacts_of_organisation(organisation):
    """The public pacts the organisation proposed or is a party to."""
    party = exists(select(PactParty.id).where(PactParty.pact_id == Pact.id,
                                              PactParty.organisation_id == organisation.id))
    return db.session.scalars(select(Pact).where(public_condition(), (Pact.organisation_id == organisation.id) | party)
                              .order_by(Pact.status_changed_at.desc(), Pact.id.desc())).all()


def public_representatives(organisation):
    """The representatives shown on the public profile (deleted accounts left out)."""
    return [u for u in organisation.representatives() if u.deleted_at is None]
