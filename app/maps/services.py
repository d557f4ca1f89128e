"""The map's layers: a registry of providers, turned into bbox-filtered GeoJSON, clustered at low zoom.

Putting a feature module's items on the map
-------------------------------------------
Write a provider and register it once, when the module is imported (its blueprint's
``routes.py`` is a good place; ``app.maps.services`` is imported by then)::

    from app.geo import within_bbox
    from app.maps.services import MapLayer, grid_clusters, register_layer

    class ReportsLayer(MapLayer):
        label = _l("Reports")                      # the layer switch on /map
        item_label = _l("Report")                  # one item, in the list twin
        filters = frozenset({"district", "category"})
        clusterable = True

        def _rows(self, filters):                  # public rows only: responses are publicly cached
            stmt = select(Report.id, Report.lat, Report.lon, Report.title, Report.status).where(...)
            if "district" in filters:
                stmt = stmt.where(Report.district_id == filters["district"].id)
            return stmt

        def points(self, bbox, filters):
            return self._rows(filters).where(within_bbox(Report.lat, Report.lon, bbox)) \\
                                      .order_by(Report.created_at.desc())

        def clusters(self, bbox, filters, cell_deg):
            return grid_clusters(self._rows(filters), Report.lat, Report.lon, bbox, cell_deg)

        def properties(self, row):
            return {"title": row.title, "url": url_for("reports.detail", report_id=row.id),
                    "status": row.status.value}

    register_layer("reports", ReportsLayer())

The contract:

* ``points(bbox, filters)`` returns a SQLAlchemy ``select`` whose rows have ``id``, ``lat`` and
  ``lon`` columns (by those names) plus whatever ``properties`` needs, already restricted to the
  bbox and ordered by importance; the registry adds the LIMIT (at most MAP_MAX_FEATURES in all).
* ``clusters(bbox, filters, cell_deg)`` returns :func:`grid_clusters` of the same rows, or is left
  out for layers with few items (they are never clustered). Clustered layers are sent as
  clusters below ``MAP_CLUSTER_BELOW_ZOOM``; a cell holding one item is sent as that item.
* ``properties(row)`` gives the JSON properties of one point: ``title`` (always), ``url`` (a
  detail page, when there is one), ``summary`` (one short line), and anything else a client may
  use. ``layer`` and ``id`` are added by the registry.
* ``filters`` names the registered :class:`MapFilter` s the layer honours; a provider receives
  only those, already parsed, and only when the request sets them.

Map responses are public and cached for 30 seconds by anyone: a layer shows what a visitor may
see, never personal or moderated-away content.
"""
import re
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app import geo
from app.extensions import db
from app.models.place import NeighbourhoodHouse

#: Grid cells per 256 px tile side: 4 gives 64 px cells, room for a count bubble each.
CELLS_PER_TILE = 4
#: Largest bbox a map request may ask for, in square degrees. The /map page never zooms out
#: below MIN_ZOOM, where even a 2560 x 1440 screen shows less than 5; this only stops clients
#: from scanning whole tables with one request.
MAX_BBOX_AREA = 10.0
#: The /map page does not zoom out further: Turin and its surroundings, not Piedmont.
MIN_ZOOM = 10
MAX_ZOOM = 22
#: Query-string keys with a meaning of their own on the map (never filter names).
RESERVED_PARAMS = frozenset({"bbox", "zoom", "layers", "lat", "lon", "z", "lang"})
_LAYER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class MapQueryError(geo.GeoError):
    """A map request that cannot be answered (bad bbox, zoom, layer or filter)."""


# --- providers and filters ------------------------------------------------------------------

class MapLayer:
    """Base class of layer providers: override ``points`` (and ``clusters`` to be clustered)."""

    #: Plural name, shown in the layer switch.
    label = ""
    #: Singular name of one item, shown in the list twin.
    item_label = ""
    #: Names of the registered MapFilters this layer honours.
    filters = frozenset()
    #: Whether /map shows the layer when the address names no layers.
    default = True
    #: Where the layer comes in the switch and in responses (lower first).
    order = 100
    #: Whether ``clusters`` is implemented.
    clusterable = False

    def points(self, bbox, filters):
        """A select of the rows in ``bbox`` (columns id, lat, lon and more), most important first."""
        raise NotImplementedError

    def clusters(self, bbox, filters, cell_deg):
        """A :func:`grid_clusters` select over the same rows as ``points``."""
        raise NotImplementedError

    def properties(self, row):
        """The JSON properties of one point: every column but id/lat/lon, unless overridden."""
        return {k: v for k, v in row._mapping.items() if k not in ("id", "lat", "lon")}


@dataclass(frozen=True)
class Layer:
    """A registered layer: its name in URLs and its provider."""

    name: str
    provider: MapLayer

    @property
    def clusterable(self):
        """Whether the provider can send clusters."""
        return bool(getattr(self.provider, "clusterable", False))


@dataclass(frozen=True)
class MapFilter:
    """A filter offered on the map page and accepted by the features endpoint as ``?name=value``."""

    #: The query-string key.
    name: str
    #: The control's label on the map page.
    label: object
    #: The first option of the control, meaning "no filter".
    any_label: object
    #: Text -> value handed to providers; raises ValueError for values it does not accept.
    parse: Callable[[str], object]
    #: [(value, label)] for the control, read when a page is rendered.
    options: Callable[[], list]


_LAYERS = {}
_FILTERS = {}


def register_layer(name, provider, replace=False):
    """Add a layer to the map under ``name`` (lower-case letters, digits, - and _)."""
    if not _LAYER_NAME.match(name) or name in RESERVED_PARAMS:
        raise ValueError(f"invalid map layer name {name!r}")
    if name in _LAYERS and not replace:
        raise ValueError(f"map layer {name!r} is already registered")
    _LAYERS[name] = Layer(name, provider)


def unregister_layer(name):
    """Remove a layer (tests register throwaway layers and take them away again)."""
    _LAYERS.pop(name, None)


def register_filter(map_filter, replace=False):
    """Add a filter that layers may name in their ``filters``."""
    if map_filter.name in RESERVED_PARAMS:
        raise ValueError(f"{map_filter.name!r} is reserved and cannot be a map filter")
    if map_filter.name in _FILTERS and not replace:
        raise ValueError(f"map filter {map_filter.name!r} is already registered")
    _FILTERS[map_filter.name] = map_filter


def layers():
    """Every registered layer, in display order."""
    return sorted(_LAYERS.values(), key=lambda layer: (getattr(layer.provider, "order", 100), layer.name))


def get_layer(name):
    """The layer registered as ``name``, or None."""
    return _LAYERS.get(name)


def filters_for(selected_layers):
    """The registered filters that at least one of the layers honours, in registration order."""
    wanted = set().union(*(getattr(layer.provider, "filters", frozenset()) for layer in selected_layers))
    return [f for name, f in _FILTERS.items() if name in wanted]


# --- SQL: a portable grid -------------------------------------------------------------------

class cell_index(FunctionElement):
    """floor(x) as an integer, on every engine (SQLite may be built without floor())."""

    type = Integer()
    name = "cell_index"
    inherit_cache = True


@compiles(cell_index)
def _cell_index_default(element, compiler, **kw):
    """PostgreSQL and others: FLOOR is built in."""
    return "CAST(FLOOR(%s) AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(cell_index, "sqlite")
def _cell_index_sqlite(element, compiler, **kw):
    """SQLite: floor from CAST, whose math functions are optional at build time."""
    # CAST truncates towards zero; subtracting 1 when that rounded up gives floor for negatives too.
    x = compiler.process(element.clauses, **kw)
    return f"(CAST({x} AS INTEGER) - ({x} < CAST({x} AS INTEGER)))"


def cell_size(zoom):
    """Grid cell side in degrees at ``zoom``: a tile is 360 / 2**zoom degrees wide."""
    return 360 / 2**zoom / CELLS_PER_TILE


def grid_clusters(select_stmt, lat_col, lon_col, bbox, cell_deg):
    """Count the rows of ``select_stmt`` inside ``bbox`` per grid cell of ``cell_deg`` degrees, in SQL.

    Rows: count, lat, lon (the mean position), min_lat, min_lon, max_lat, max_lon and, when
    ``select_stmt`` has an ``id`` column, lone_id (the id, for cells holding a single row).
    The grid is anchored at 0°, 0°, so cells do not shift as the map pans. Biggest cells first.
    """
    columns = [
        func.count().label("count"),
        func.avg(lat_col).label("lat"),
        func.avg(lon_col).label("lon"),
        func.min(lat_col).label("min_lat"),
        func.min(lon_col).label("min_lon"),
        func.max(lat_col).label("max_lat"),
        func.max(lon_col).label("max_lon"),
    ]
    if "id" in select_stmt.selected_columns:
        columns.append(func.min(select_stmt.selected_columns.id).label("lone_id"))
    cell = float(cell_deg)
    count, lat, lon = columns[0], columns[1], columns[2]
    return (
        select_stmt.order_by(None).limit(None).offset(None)
        .with_only_columns(*columns)
        .where(geo.within_bbox(lat_col, lon_col, bbox))
        .group_by(cell_index(lat_col / cell), cell_index(lon_col / cell))
        # Aggregates only in ORDER BY: PostgreSQL would not match bound grid expressions to GROUP BY.
        .order_by(count.desc(), lat, lon)
    )


# --- request parsing ------------------------------------------------------------------------

@dataclass(frozen=True)
class MapQuery:
    """A validated request for features."""

    bbox: geo.BBox
    zoom: int
    layers: tuple
    #: filter name -> parsed value, for the filters the request sets.
    filters: dict


def _requested_layer_names(args):
    """Layer names from ``layers=a,b`` or ``layers=a&layers=b``; None when the parameter is absent."""
    if "layers" not in args:
        return None
    return [name.strip() for value in args.getlist("layers") for name in value.split(",") if name.strip()]


def parse_map_query(args):
    """A MapQuery from the features endpoint's query string, or MapQueryError saying what is wrong."""
    try:
        bbox = geo.parse_bbox(args.get("bbox"))
    except geo.GeoError as exc:
        raise MapQueryError(exc.message, code=exc.code) from None
    if bbox.area > MAX_BBOX_AREA:
        raise MapQueryError(_("The bbox is too large: zoom in and ask for a smaller area."), code="bbox_too_large")
    zoom_text = (args.get("zoom") or "").strip()
    if not re.fullmatch(r"\d{1,2}", zoom_text) or not 0 <= int(zoom_text) <= MAX_ZOOM:
        raise MapQueryError(_("The zoom must be a whole number from 0 to %(max)d.", max=MAX_ZOOM),
                            code="invalid_zoom")
    names = _requested_layer_names(args)
    if names is None:
        selected = layers()
    else:
        if not names:
            raise MapQueryError(_("Choose at least one layer."), code="invalid_layers")
        unknown = [n for n in names if n not in _LAYERS]
        if unknown:
            raise MapQueryError(_("Unknown layer: %(name)s.", name=unknown[0]), code="unknown_layer")
        selected = [_LAYERS[n] for n in dict.fromkeys(names)]
    return MapQuery(bbox, int(zoom_text), tuple(selected), _parse_filters(args, selected, strict=True))


def _parse_filters(args, selected, strict):
    """Parsed values of the filters the request sets; bad values raise (strict) or are dropped."""
    parsed = {}
    for map_filter in filters_for(selected):
        text = (args.get(map_filter.name) or "").strip()
        if not text:
            continue
        try:
            parsed[map_filter.name] = map_filter.parse(text)
        except ValueError:
            if strict:
                raise MapQueryError(_("Unknown value for the filter %(name)s.", name=map_filter.name),
                                    code="invalid_filter") from None
    return parsed


# --- features -------------------------------------------------------------------------------

def _point_feature(layer, row):
    """One row of a layer as a GeoJSON Point feature."""
    lat, lon = float(row.lat), float(row.lon)
    # The registry's own keys come last: a provider cannot relabel its items' layer or id.
    properties = {**layer.provider.properties(row), "layer": layer.name, "id": row.id}
    return {
        "type": "Feature",
        "id": f"{layer.name}:{row.id}",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": properties,
    }


def _cluster_feature(layer, row):
    """One grid cell of a layer as a GeoJSON cluster feature, with the bbox of its items."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(float(row.lon), 6), round(float(row.lat), 6)]},
        "bbox": geo.BBox(float(row.min_lon), float(row.min_lat), float(row.max_lon), float(row.max_lat)).as_list(),
        "properties": {"layer": layer.name, "cluster": True, "count": int(row.count)},
    }


def _layer_points(layer, query, limit):
    """Up to ``limit`` point features of a layer."""
    stmt = layer.provider.points(query.bbox, _filters_of(layer, query)).limit(limit)
    return [_point_feature(layer, row) for row in db.session.execute(stmt)]


def _layer_clusters(layer, query, limit):
    """Up to ``limit`` features of a clustered layer: one per grid cell, lone items as themselves."""
    filters = _filters_of(layer, query)
    stmt = layer.provider.clusters(query.bbox, filters, cell_size(query.zoom)).limit(limit)
    rows = db.session.execute(stmt).all()
    lone = {row.lone_id: i for i, row in enumerate(rows) if row.count == 1 and "lone_id" in row._fields}
    features = [_cluster_feature(layer, row) for row in rows]
    if lone:
        points = layer.provider.points(query.bbox, filters)
        points = points.order_by(None).where(points.selected_columns.id.in_(list(lone)))
        for row in db.session.execute(points):
            features[lone[row.id]] = _point_feature(layer, row)
    return features


def _filters_of(layer, query):
    """The request's filters that ``layer`` honours."""
    honoured = getattr(layer.provider, "filters", frozenset())
    return {name: value for name, value in query.filters.items() if name in honoured}


def _fair_shares(sizes, budget):
    """Split ``budget`` between layers: small layers get all they have, big ones share the rest."""
    shares = {}
    remaining = budget
    pending = sorted(sizes.items(), key=lambda item: item[1])
    for i, (name, size) in enumerate(pending):
        shares[name] = min(size, remaining // (len(pending) - i))
        remaining -= shares[name]
    return shares


def feature_collection(query):
    """The RFC 7946 FeatureCollection answering ``query``, with a ``meta`` member (counts, truncation)."""
    config = current_app.config
    budget = int(config["MAP_MAX_FEATURES"])
    cluster = query.zoom < int(config["MAP_CLUSTER_BELOW_ZOOM"])
    per_layer, clustered = {}, []
    for layer in query.layers:
        # One more than the budget tells a full layer from one that was cut short.
        if cluster and layer.clusterable:
            per_layer[layer.name] = _layer_clusters(layer, query, budget + 1)
            clustered.append(layer.name)
        else:
            per_layer[layer.name] = _layer_points(layer, query, budget + 1)
    shares = _fair_shares({name: len(f) for name, f in per_layer.items()}, budget)
    features, counts = [], {}
    for layer in query.layers:
        kept = per_layer[layer.name][: shares[layer.name]]
        features.extend(kept)
        counts[layer.name] = sum(f["properties"]["count"] if f["properties"].get("cluster") else 1 for f in kept)
    truncated = any(len(f) > shares[name] for name, f in per_layer.items())
    return {
        "type": "FeatureCollection",
        "bbox": query.bbox.as_list(),
        "features": features,
        # A foreign member (RFC 7946 §6.1): clients that don't know it ignore it.
        "meta": {
            "zoom": query.zoom,
            "layers": [layer.name for layer in query.layers],
            "clustered": clustered,
            "counts": counts,
            "returned": len(features),
            "truncated": truncated,
        },
    }


def district_collection():
    """The district outlines as an RFC 7946 FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"districts:{d.id}",
                "geometry": d.geojson,
                "properties": {"layer": "districts", "id": d.id, "number": d.number, "name": d.name},
            }
            for d in geo.districts()
        ],
    }


# --- the map page ---------------------------------------------------------------------------

#: The viewport assumed for the list rendered with the page, before the script knows the real one.
NOMINAL_VIEW_PX = (960, 560)


def _view_from_args(args):
    """(lat, lon, zoom) from ?lat=&lon=&z=, falling back to the configured view for anything unusable."""
    config = current_app.config
    lat, lon = config["MAP_CENTER"]
    zoom = int(config["MAP_ZOOM"])
    try:
        lat_arg, lon_arg = geo.parse_position(args.get("lat"), args.get("lon"))
        if geo.city_bounds().contains(lat_arg, lon_arg):
            lat, lon = lat_arg, lon_arg
    except geo.GeoError:
        pass
    z = (args.get("z") or "").strip()
    if z.isdigit() and MIN_ZOOM <= int(z) <= 19:
        zoom = int(z)
    return lat, lon, zoom


def layer_info(names=None):
    """[{name, label, item_label}] of the named layers (all when None), for templates and map.js."""
    chosen = layers() if names is None else [_LAYERS[n] for n in names if n in _LAYERS]
    return [{"name": layer.name, "label": str(layer.provider.label), "item_label": str(layer.provider.item_label)}
            for layer in chosen]


def map_page(args):
    """Everything /map renders: the view, layer switches and filters from the URL, and the first list."""
    lat, lon, zoom = _view_from_args(args)
    names = _requested_layer_names(args)
    if names is None:
        selected = [layer for layer in layers() if getattr(layer.provider, "default", True)]
    else:  # a shared link may name a layer that no longer exists: show the rest
        selected = [_LAYERS[n] for n in dict.fromkeys(names) if n in _LAYERS]
    active_filters = _parse_filters(args, layers(), strict=False)
    filter_values = {name: (args.get(name) or "").strip() for name in active_filters}
    initial = None
    if selected:
        bbox = geo.bbox_for_view(lat, lon, zoom, *NOMINAL_VIEW_PX)
        initial = feature_collection(MapQuery(bbox, zoom, tuple(selected), active_filters))
    city = geo.city_bounds()
    return {
        "center": (lat, lon),
        "zoom": zoom,
        "min_zoom": MIN_ZOOM,
        "max_bounds": geo.BBox(city.min_lon - 0.15, city.min_lat - 0.1, city.max_lon + 0.15, city.max_lat + 0.1),
        "all_layers": layer_info(),
        "active_layers": [layer.name for layer in selected],
        "filters": [
            {"name": f.name, "label": str(f.label), "any_label": str(f.any_label), "options": f.options(),
             "value": filter_values.get(f.name, "")}
            for f in filters_for(layers())
        ],
        "filter_values": {k: v for k, v in filter_values.items() if v},
        "initial": initial,
    }


# --- built-in filter and layer --------------------------------------------------------------

def _parse_district(text):
    """A district number (1-8 in Turin) -> that district; ValueError for anything else."""
    if not text.isdigit():
        raise ValueError(text)
    for district in geo.districts():
        if district.number == int(text):
            return district
    raise ValueError(text)


def _district_options():
    """(number, "number – name") for every district."""
    return [(str(d.number), f"{d.number} – {d.name}") for d in geo.districts()]


register_filter(MapFilter(
    name="district",
    label=_l("District"),
    any_label=_l("All districts"),
    parse=_parse_district,
    options=_district_options,
))


class HousesLayer(MapLayer):
    """The neighbourhood houses (Case del Quartiere): a handful of places, never clustered."""

    label = _l("Neighbourhood houses")
    item_label = _l("Neighbourhood house")
    filters = frozenset({"district"})
    order = 900  # after the participation layers: context, not content

    def points(self, bbox, filters):
        """Houses inside the bbox, by name."""
        house = NeighbourhoodHouse
        stmt = (
            select(house.id, house.lat, house.lon, house.name, house.neighbourhood, house.address)
            .where(geo.within_bbox(house.lat, house.lon, bbox))
            .order_by(house.name)
        )
        if "district" in filters:
            stmt = stmt.where(house.district_id == filters["district"].id)
        return stmt

    def properties(self, row):
        """Name, neighbourhood and address; the title is the name."""
        return {"title": row.name, "summary": f"{row.neighbourhood}, {row.address}", "name": row.name,
                "neighbourhood": row.neighbourhood, "address": row.address}


register_layer("houses", HousesLayer())

__all__ = [
    "MapFilter", "MapLayer", "MapQuery", "MapQueryError", "cell_index", "cell_size", "district_collection",
    "feature_collection", "filters_for", "get_layer", "grid_clusters", "layer_info", "layers", "map_page",
    "parse_map_query", "register_filter", "register_layer", "unregister_layer",
]
