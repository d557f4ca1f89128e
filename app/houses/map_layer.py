"""Houses and upcoming events on the shared map."""
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, select

from app import geo
from app.http import path_for
from app.maps.services import MapLayer, get_layer, register_layer
from app.models.base import utcnow
from app.models.event import Event
from app.models.place import NeighbourhoodHouse


class HousesLayer(MapLayer):
    label = _l("Neighbourhood houses")
    item_label = lazy_pgettext("map item", "Neighbourhood house")
    filters = frozenset({"district"})
    order = 40

    def points(self, bbox, filters):
        """The houses in the bbox, by name."""
        stmt = (select(NeighbourhoodHouse.id, NeighbourhoodHouse.lat, NeighbourhoodHouse.lon, NeighbourhoodHouse.name,
                       NeighbourhoodHouse.slug, NeighbourhoodHouse.address)
                .where(geo.within_bbox(NeighbourhoodHouse.lat, NeighbourhoodHouse.lon, bbox)))
        if "district" in filters:
            stmt = stmt.where(NeighbourhoodHouse.district_id == filters["district"].id)
        return stmt.order_by(NeighbourhoodHouse.name)

    def properties(self, row):
        return {"title": row.name, "url": path_for("houses.detail", slug=row.slug), "summary": row.address}


class EventsLayer(MapLayer):
    label = _l("Events")
    item_label = lazy_pgettext("map item", "Event")
    filters = frozenset({"district"})
    order = 45

    def points(self, bbox, filters):
        """Upcoming, not cancelled events with a place (their own point, else their house's), the soonest first."""
        lat = func.coalesce(Event.lat, NeighbourhoodHouse.lat)
        lon = func.coalesce(Event.lon, NeighbourhoodHouse.lon)
        stmt = (select(Event.id, lat.label("lat"), lon.label("lon"), Event.title, Event.starts_at)
                .outerjoin(NeighbourhoodHouse, NeighbourhoodHouse.id == Event.house_id)
                .where(Event.ends_at > utcnow(), Event.cancelled_at.is_(None), lat.is_not(None),
                       geo.within_bbox(lat, lon, bbox)))
        if "district" in filters:
            stmt = stmt.where(Event.district_id == filters["district"].id)
        return stmt.order_by(Event.starts_at, Event.id)

    def properties(self, row):
        return {"title": row.title, "url": path_for("houses.event_detail", event_id=row.id),
                "summary": format_datetime(row.starts_at, "short")}


def register():
    if get_layer("houses") is None:
        register_layer("houses", HousesLayer())
    if get_layer("events") is None:
        register_layer("events", EventsLayer())


register()
