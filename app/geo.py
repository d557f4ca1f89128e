"""Where things are in Turin: districts, city limits, distances and bounding boxes (WGS 84, lon/lat).

District outlines are read from the ``districts`` table once per process and kept
as shapely geometries; :func:`clear_cache` forgets them. A commit that adds,
changes or deletes a :class:`District` clears the cache by itself (see the session
hooks at the end), so seeding or editing districts needs no restart of *this*
process; other worker processes pick the change up when they restart.
"""
import json
import math
import threading
from dataclasses import dataclass
from typing import NamedTuple

import shapely
from flask_babel import gettext as _
from sqlalchemy import and_, event, select
from sqlalchemy.orm import Session
from shapely.geometry import Point, shape

from app.extensions import db
from app.models.base import DomainError
from app.models.place import District

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: Metres in one degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
#: Web Mercator's limit: tiles stop here, so does every map bounding box.
MAX_MERCATOR_LAT = 85.0511287798


class BBox(NamedTuple):
    """A bounding box in degrees, in GeoJSON order: west, south, east, north."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def area(self):
        """Area in square degrees (a cheap measure of how much a query may scan)."""
        return (self.max_lon - self.min_lon) * (self.max_lat - self.min_lat)

    def contains(self, lat, lon):
        """Whether the point lies inside the box or on its edge."""
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon

    def as_list(self, digits=6):
        """[west, south, east, north] rounded, as GeoJSON's ``bbox`` member wants it."""
        return [round(v, digits) for v in self]


#: Turin's extent, used when the database holds no district outlines yet (a fresh database,
#: tests of other features); with districts, their union is the city.
TURIN_BOUNDS = BBox(7.58, 45.005, 7.77, 45.14)


class GeoError(DomainError):
    """A position or area that cannot be used; ``code`` is the machine-readable reason."""

    status = 400

    def __init__(self, message, code):
        super().__init__(message, code=code)
        self.code = code


@dataclass(frozen=True)
class DistrictShape:
    """A district as the map and the point lookups need it."""

    id: int
    number: int
    name: str
    #: The GeoJSON geometry as stored (a dict, lon/lat).
    geojson: dict
    #: The same outline as a shapely geometry (not prepared: GEOS prepared geometries are
    #: not thread-safe, and a point-in-polygon test on these few vertices is already fast).
    shape: object


_lock = threading.Lock()
_cache = None
_generation = 0


def _load_districts():
    """Read every district and build its shape."""
    rows = db.session.execute(
        select(District.id, District.number, District.name, District.geometry).order_by(District.number)
    ).all()
    loaded = []
    for row in rows:
        geojson = json.loads(row.geometry)
        geom = shape(geojson)
        if not geom.is_valid:  # a hand-drawn outline may cross itself; repair rather than fail every lookup
            geom = shapely.make_valid(geom)
        loaded.append(DistrictShape(row.id, row.number, row.name, geojson, geom))
    return tuple(loaded)


def districts():
    """Every district with its outline, ordered by number; read once per process, then cached."""
    global _cache
    cached = _cache
    if cached is not None:
        return cached
    with _lock:
        generation = _generation
    loaded = _load_districts()
    with _lock:
        # An empty table is not cached: the districts may be seeded by another process later.
        # A clear_cache() during the load means the rows may be stale: use them once, don't keep them.
        if loaded and generation == _generation:
            _cache = loaded
    return loaded


def clear_cache():
    """Forget the cached districts (after seeding or editing them, and between tests)."""
    global _cache, _generation
    with _lock:
        _cache = None
        _generation += 1


def district_for(lat, lon):
    """The id of the district containing the point, or None outside every district.

    A point on a border between two districts belongs to the lower-numbered one.
    """
    point = Point(lon, lat)
    for district in districts():
        if district.shape.covers(point):
            return district.id
    return None


def in_city(lat, lon):
    """Whether the point is inside Turin: inside a district, or the city's extent if none are known."""
    known = districts()
    if not known:
        return TURIN_BOUNDS.contains(lat, lon)
    point = Point(lon, lat)
    return any(d.shape.covers(point) for d in known)


def city_bounds():
    """The bounding box of all districts (Turin's extent if none are known)."""
    known = districts()
    if not known:
        return TURIN_BOUNDS
    min_lon, min_lat, max_lon, max_lat = shapely.total_bounds([d.shape for d in known])
    return BBox(float(min_lon), float(min_lat), float(max_lon), float(max_lat))


def distance_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres (haversine; within 0.5% of the ellipsoid at Turin's scale)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox_around(lat, lon, metres):
    """The smallest box holding every point within ``metres`` of (lat, lon) (for "nearby" queries)."""
    dlat = metres / METRES_PER_DEGREE
    # Meridians converge: a metre is more degrees of longitude away from the equator.
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return BBox(max(lon - dlon, -180.0), max(lat - dlat, -90.0), min(lon + dlon, 180.0), min(lat + dlat, 90.0))


def bbox_for_view(lat, lon, zoom, width_px, height_px):
    """The box a Web Mercator map of that size shows around (lat, lon) at ``zoom`` (256 px tiles)."""
    world_px = 256 * 2**zoom
    x = (lon + 180) / 360 * world_px
    siny = math.sin(math.radians(max(min(lat, MAX_MERCATOR_LAT), -MAX_MERCATOR_LAT)))
    y = (0.5 - math.log((1 + siny) / (1 - siny)) / (4 * math.pi)) * world_px

    def to_lon(px):
        return max(min(px / world_px * 360 - 180, 180.0), -180.0)

    def to_lat(py):
        n = math.pi - 2 * math.pi * py / world_px
        return max(min(math.degrees(math.atan(math.sinh(n))), MAX_MERCATOR_LAT), -MAX_MERCATOR_LAT)

    return BBox(to_lon(x - width_px / 2), to_lat(y + height_px / 2), to_lon(x + width_px / 2), to_lat(y - height_px / 2))


def within_bbox(lat_col, lon_col, bbox):
    """SQL condition: the row's coordinates lie inside ``bbox`` (edges included)."""
    return and_(lat_col.between(bbox.min_lat, bbox.max_lat), lon_col.between(bbox.min_lon, bbox.max_lon))


# --- validation -------------------------------------------------------------------------------

def _number(value):
    """A finite float from a number or its text, else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_position(lat, lon):
    """(lat, lon) as floats, or GeoError when either is not a number or not a place on Earth."""
    lat_f, lon_f = _number(lat), _number(lon)
    if lat_f is None or lon_f is None:
        raise GeoError(_("Latitude and longitude must be numbers."), code="invalid_position")
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise GeoError(_("Latitude must be between -90 and 90 and longitude between -180 and 180."),
                       code="invalid_position")
    return lat_f, lon_f


def require_in_city(lat, lon):
    """The district id of a valid position inside Turin, or GeoError ("outside the city") otherwise.

    The id is None only when the database knows no districts yet.
    """
    lat_f, lon_f = parse_position(lat, lon)
    if not in_city(lat_f, lon_f):
        raise GeoError(_("This place is outside the city of Turin."), code="outside_city")
    return district_for(lat_f, lon_f)


#: What a bbox parameter looks like, for the OpenAPI document (the ranges are checked by parse_bbox).
BBOX_PATTERN = r"^\s*-?\d+(\.\d+)?\s*(,\s*-?\d+(\.\d+)?\s*){3}$"


def parse_bbox(text):
    """A BBox from "minLon,minLat,maxLon,maxLat", or GeoError saying what is wrong with it."""
    if text is None or not str(text).strip():
        raise GeoError(_("The bbox parameter is required: minLon,minLat,maxLon,maxLat."), code="invalid_bbox")
    parts = str(text).split(",")
    numbers = [_number(p.strip()) for p in parts]
    if len(parts) != 4 or any(n is None for n in numbers):
        raise GeoError(_("The bbox must be four numbers separated by commas: minLon,minLat,maxLon,maxLat."),
                       code="invalid_bbox")
    bbox = BBox(*numbers)
    if not (-180 <= bbox.min_lon <= 180 and -180 <= bbox.max_lon <= 180
            and -90 <= bbox.min_lat <= 90 and -90 <= bbox.max_lat <= 90):
        raise GeoError(_("The bbox must lie between longitudes -180 and 180 and latitudes -90 and 90."),
                       code="invalid_bbox")
    if bbox.min_lon > bbox.max_lon or bbox.min_lat > bbox.max_lat:
        raise GeoError(_("The bbox is inverted: give the south-west corner first, then the north-east one."),
                       code="invalid_bbox")
    return bbox


# --- keep the cache honest ------------------------------------------------------------------
# Changes are noted when flushed or executed, and the cache is cleared only once they are
# committed, so a concurrent request cannot re-cache rows that are later rolled back.

_CHANGED = "piazza_geo_districts_changed"


@event.listens_for(Session, "after_flush")
def _note_district_changes(session, _flush_context):
    """Remember that this transaction changed districts through the ORM."""
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, District) for obj in touched):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_district_statements(state):
    """Remember that this transaction changed districts with a bulk statement."""
    # Bulk statements through the session (``delete(District)``, the test suite's table wipes)
    # bypass the flush above.
    if state.is_insert or state.is_update or state.is_delete:
        if getattr(state.statement.table, "name", None) == District.__tablename__:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _clear_after_district_commit(session):
    """Forget the cached districts once their change is committed."""
    if session.info.pop(_CHANGED, False):
        clear_cache()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session):
    """A rolled-back change changed nothing."""
    session.info.pop(_CHANGED, None)
