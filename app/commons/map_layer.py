"""The registry of commons on the shared map: every visible commons with a point (outlines stay points)."""
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
        return self._rows(filters).where(geo.within_bbox(Commons.lat, Commons.lon, bbox)).order_by(Commons.id.desc())

    def clusters(self, bbox, filters, cell_deg):
        return grid_clusters(self._rows(filters), Commons.lat, Commons.lon, bbox, cell_deg)

    def properties(self, row):
        summary = commons_kind_label(row.kind) + (f" · {row.address}" if row.address else "")
        return {"title": row.name, "url": path_for("commons.detail", commons_id=row.id), "kind": row.kind.value,
                "summary": summary}


def register():
    if get_layer("commons") is None:
        register_layer("commons", CommonsLayer())


register()
