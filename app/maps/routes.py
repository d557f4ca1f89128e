"""Routes of the maps blueprint: the /map page and the GeoJSON endpoints under /api/v1/map/."""
import json

from flask import current_app, render_template, request, url_for

from app.api.openapi import add_operation, add_schema
from app.auth.access import public
from app.errors import error_response
from app.geo import BBOX_PATTERN
from app.maps import bp
from app.maps.services import (
    MAX_BBOX_AREA,
    MAX_ZOOM,
    MapQueryError,
    district_collection,
    feature_collection,
    layer_info,
    map_page,
    parse_map_query,
)

#: Map data changes as people report; half a minute of staleness lets caches absorb panning.
FEATURES_MAX_AGE = 30
#: District outlines change perhaps once a decade.
DISTRICTS_MAX_AGE = 3600


def _geojson(data, max_age):
    """A publicly cacheable application/geo+json response with a strong ETag (304 when unchanged)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    response = current_app.response_class(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    # Layer properties may be translated (category names...): the language is part of the answer.
    response.vary.add("Accept-Language")
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/map")
@public
def index():
    """The full-page map: layer switches and filters kept in the address, and the list twin."""
    return render_template("maps/index.html", **map_page(request.args))


@bp.route("/api/v1/map/features")
@public
def features():
    """GeoJSON of the chosen layers inside a bbox: points, or per-cell clusters at low zoom."""
    try:
        collection = feature_collection(parse_map_query(request.args))
    except MapQueryError as exc:
        return error_response(exc.status, exc.message, code=exc.code)
    return _geojson(collection, FEATURES_MAX_AGE)


@bp.route("/api/v1/map/districts")
@public
def districts():
    """GeoJSON of the district outlines."""
    return _geojson(district_collection(), DISTRICTS_MAX_AGE)


@bp.app_template_global("map_layer_info")
def map_layer_info(names=None):
    """Template helper: labels of the named layers (all when None), for the map macro."""
    return layer_info(names)


@bp.app_template_global("map_endpoints")
def map_endpoints():
    """Template helper: the URLs map.js fetches from."""
    return {"features": url_for("maps.features"), "districts": url_for("maps.districts")}


# --- OpenAPI --------------------------------------------------------------------------------

_POSITION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
             "description": "[longitude, latitude] (RFC 7946 order)"}
_BBOX = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
         "description": "[west, south, east, north]"}
_POINT = {"type": "object", "required": ["type", "coordinates"],
          "properties": {"type": {"const": "Point"}, "coordinates": _POSITION}}

add_schema("MapPointFeature", {
    "type": "object",
    "description": "One item of a layer.",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {
        "type": {"const": "Feature"},
        "id": {"type": "string", "examples": ["houses:3"]},
        "geometry": _POINT,
        "properties": {
            "type": "object",
            "required": ["layer", "id", "title"],
            "properties": {
                "layer": {"type": "string", "examples": ["houses"]},
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "summary": {"type": "string"},
                "url": {"type": "string", "description": "The item's page on this site, when it has one."},
                "outline": {"type": "object", "required": ["type", "coordinates"],
                            "description": "The item's area, when it has one (urban commons): a GeoJSON "
                                           "Polygon or MultiPolygon, lon/lat. The feature's geometry stays "
                                           "its point.",
                            "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]},
                                           "coordinates": {"type": "array"}}},
            },
            "additionalProperties": True,
        },
    },
})
add_schema("MapClusterFeature", {
    "type": "object",
    "description": "Several items of a layer in one grid cell, at their mean position (zoom below the "
                   "clustering threshold). Its bbox encloses them: zoom there to see them.",
    "required": ["type", "geometry", "bbox", "properties"],
    "properties": {
        "type": {"const": "Feature"},
        "geometry": _POINT,
        "bbox": _BBOX,
        "properties": {
            "type": "object",
            "required": ["layer", "cluster", "count"],
            "properties": {
                "layer": {"type": "string"},
                "cluster": {"const": True},
                "count": {"type": "integer", "minimum": 2},
            },
        },
    },
})
add_schema("MapFeatureCollection", {
    "type": "object",
    "description": "An RFC 7946 FeatureCollection, lon/lat order, with a foreign member `meta`.",
    "required": ["type", "features", "meta"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "bbox": _BBOX,
        "features": {"type": "array", "items": {"oneOf": [
            {"$ref": "#/components/schemas/MapPointFeature"},
            {"$ref": "#/components/schemas/MapClusterFeature"},
        ]}},
        "meta": {
            "type": "object",
            "required": ["zoom", "layers", "clustered", "counts", "returned", "truncated"],
            "properties": {
                "zoom": {"type": "integer"},
                "layers": {"type": "array", "items": {"type": "string"}},
                "clustered": {"type": "array", "items": {"type": "string"},
                              "description": "Layers sent as clusters at this zoom."},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                           "description": "Items per layer represented by the features (clusters count theirs)."},
                "returned": {"type": "integer", "description": "Number of features."},
                "truncated": {"type": "boolean",
                              "description": "True when more items matched than one response carries."},
            },
        },
    },
})
add_schema("DistrictCollection", {
    "type": "object",
    "description": "An RFC 7946 FeatureCollection of district (circoscrizione) outlines.",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"const": "Feature"},
                "id": {"type": "string", "examples": ["districts:1"]},
                "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
                    "type": {"enum": ["Polygon", "MultiPolygon"]}, "coordinates": {"type": "array"}}},
                "properties": {"type": "object", "required": ["number", "name"], "properties": {
                    "layer": {"const": "districts"}, "id": {"type": "integer"},
                    "number": {"type": "integer"}, "name": {"type": "string"}}},
            },
        }},
    },
})

_GEOJSON_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "Send it back as If-None-Match to get a 304."},
    "Cache-Control": {"schema": {"type": "string"}},
}

add_operation("/map/features", "get", {
    "operationId": "mapFeatures",
    "tags": ["Map"],
    "summary": "Items of the map layers inside a bounding box, as GeoJSON",
    "description": "Points (lon/lat, RFC 7946) of the chosen layers inside `bbox`. Below the clustering "
                   "zoom, layers with many items come as one cluster feature per grid cell "
                   "(`properties.cluster`, `count`). At most a configured number of features is returned; "
                   "`meta.truncated` says when there were more. Layer filters (e.g. `district`) apply to "
                   "the layers that support them; unknown parameters are ignored. Public, cached 30 s.",
    "parameters": [
        {"name": "bbox", "in": "query", "required": True,
         "description": f"minLon,minLat,maxLon,maxLat in degrees; at most {MAX_BBOX_AREA:g} square degrees.",
         "schema": {"type": "string", "pattern": BBOX_PATTERN, "examples": ["7.64,45.04,7.72,45.10"]}},
        {"name": "zoom", "in": "query", "required": True, "description": "The map's zoom level.",
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM}},
        {"name": "layers", "in": "query", "required": False,
         "description": "Comma-separated layer names (e.g. reports,proposals,pacts,houses); all when absent.",
         "schema": {"type": "string", "examples": ["houses"]}},
        {"name": "district", "in": "query", "required": False,
         "description": "Only items in the district with this number (1-8).",
         "schema": {"type": "integer"}},
    ],
    "responses": {
        "200": {"description": "The features", "headers": _GEOJSON_HEADERS,
                "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/MapFeatureCollection"}}}},
        "304": {"description": "Not modified since the ETag sent in If-None-Match"},
        "400": {"$ref": "#/components/responses/Error"},
    },
})
add_operation("/map/districts", "get", {
    "operationId": "mapDistricts",
    "tags": ["Map"],
    "summary": "The district outlines, as GeoJSON",
    "responses": {
        "200": {"description": "The districts", "headers": _GEOJSON_HEADERS,
                "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/DistrictCollection"}}}},
        "304": {"description": "Not modified since the ETag sent in If-None-Match"},
    },
})
