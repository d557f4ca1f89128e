"""Calls for help on the shared map: the open, public calls at their place (never who answered)."""
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select

from app import geo
from app.http import path_for
from app.maps.services import MapLayer, get_layer, grid_clusters, register_layer
from app.models.commons import Organisation
from app.models.opportunity import HelpCall
from app.models.base import utcnow
from app.models.pact import Pact
from app.opportunities import services


class HelpCallsLayer(MapLayer):
    label = _l("Calls for help")
    item_label = lazy_pgettext("map item", "Call for help")
    filters = frozenset({"district"})
    clusterable = True
    order = 35

    def _rows(self, filters):
        stmt = (select(HelpCall.id, HelpCall.lat, HelpCall.lon, HelpCall.title, HelpCall.starts_at,
                       HelpCall.people_needed, HelpCall.skills)
                .outerjoin(Pact, Pact.id == HelpCall.pact_id)
                .outerjoin(Organisation, Organisation.id == HelpCall.organisation_id)
                .where(services.open_condition(utcnow()), HelpCall.lat.is_not(None), HelpCall.lon.is_not(None)))
        if "district" in filters:
            stmt = stmt.where(HelpCall.district_id == filters["district"].id)
        return stmt

    def points(self, bbox, filters):
        """Open calls in the bbox, the soonest first."""
        return self._rows(filters).where(geo.within_bbox(HelpCall.lat, HelpCall.lon, bbox)).order_by(
            HelpCall.starts_at, HelpCall.id)

    def clusters(self, bbox, filters, cell_deg):
        return grid_clusters(self._rows(filters), HelpCall.lat, HelpCall.lon, bbox, cell_deg)

    def properties(self, row):
        when = format_datetime(row.starts_at, "short") if row.starts_at is not None else ""
        return {"title": row.title, "url": path_for("opportunities.detail", call_id=row.id),
                "skills": row.skills, "people_needed": row.people_needed,
                "summary": " · ".join(part for part in (when, row.skills) if part)}


def register():
    if get_layer("help-calls") is None:
        register_layer("help-calls", HelpCallsLayer())


register()
