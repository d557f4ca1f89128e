"""The registry of commons on the shared map: every visible commons with a point, and its outline.

The feature stays a Point (the map's contract: one position per item, clustered by the server); a
commons with an outline carries it as ``properties.outline``, a GeoJSON Polygon or MultiPolygon
that map.js draws under the marker.
"""
import json

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select

from app import geo
from app.commons.services import visible_condition
from app.http import path_for
from app.labels import commons_kind_label
from app.maps.services import MapLayer, get_layer, grid_clusters, register_layer
from app.models.commons import Commons


class CommonsLayer(MapLayer):
    label = _l("Urban commons")
    item_label = lazy_pgettext("map item", "Commons")
    filters = frozenset({"district"})
    clusterable = True
    #: Off unless asked for: the pacts layer already marks the commons that have a pact.
    default = False
    order = 35

    def _rows(self, filters):
        stmt = (select(Commons.id, Commons.lat, Commons.lon, Commons.name, Commons.kind, Commons.address)
                .where(visible_condition(), Commons.lat.is_not(None), Commons.lon.is_not(None)))
        if "district" in filters:
            stmt = stmt.where(Commons.district_id == filters["district"].id)
        return stmt

    def points(self, bbox, filters):
        # The outline only here: clusters never need it.
        return (self._rows(filters).add_columns(Commons.geometry)
                .where(geo.within_bbox(Commons.lat, Commons.lon, bbox)).order_by(Commons.id.desc()))

    def clusters(self, bbox, filters, cell_deg):
        return grid_clusters(self._rows(filters), Commons.lat, Commons.lon, bbox, cell_deg)

    def properties(self, row):
        summary = commons_kind_label(row.kind) + (f" · {row.address}" if row.address else "")
        properties = {"title": row.name, "url": path_for("commons.detail", commons_id=row.id),
                      "kind": row.kind.value, "summary": summary}
        if row.geometry:
            properties["outline"] = json.loads(row.geometry)
        return properties


def register():
    if get_layer("commons") is None:
        register_layer("commons", CommonsLayer())


register()
