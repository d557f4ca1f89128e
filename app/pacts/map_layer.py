"""Pacts on the shared map, at the point of their commons: every public pact."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select

from app import geo
from app.http import path_for
from app.maps.services import MapLayer, get_layer, grid_clusters, register_layer
from app.models.commons import Commons
from app.models.pact import Pact
from app.pacts.labels import pact_status_label
from app.pacts.registry import public_condition


class PactsLayer(MapLayer):
    label = _l("Collaboration pacts")
    item_label = lazy_pgettext("map item", "Pact")
    filters = frozenset({"district"})
    clusterable = True
    order = 30

    def _rows(self, filters):
        stmt = (select(Pact.id, Commons.lat.label("lat"), Commons.lon.label("lon"), Pact.title, Pact.status,
                       Commons.name.label("commons"))
                .join(Commons, Commons.id == Pact.commons_id)
                .where(public_condition(),
                       Commons.lat.is_not(None), Commons.lon.is_not(None)))
        if "district" in filters:
            stmt = stmt.where(Pact.district_id == filters["district"].id)
        return stmt

    def points(self, bbox, filters):
        return self._rows(filters).where(geo.within_bbox(Commons.lat, Commons.lon, bbox)).order_by(Pact.id.desc())

    def clusters(self, bbox, filters, cell_deg):
        return grid_clusters(self._rows(filters), Commons.lat, Commons.lon, bbox, cell_deg)

    def properties(self, row):
        return {"title": row.title, "url": path_for("pacts.detail", pact_id=row.id), "status": row.status.value,
                "summary": f"{pact_status_label(row.status)} · {row.commons}"}


def register():
    if get_layer("pacts") is None:
        register_layer("pacts", PactsLayer())


register()
