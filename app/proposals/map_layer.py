"""Proposals on the shared map: visible proposals that have a point, clustered at low zoom."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from sqlalchemy import select

from app import geo
from app.http import path_for
from app.maps.services import MapLayer, get_layer, grid_clusters, register_layer
from app.models.proposal import Process, Proposal
from app.models.proposal import ProposalStatus as P


class ProposalsLayer(MapLayer):
    """Published (not draft, not hidden) proposals placed on the map by their authors."""

    label = _l("Proposals")
    item_label = lazy_pgettext("map item", "Proposal")
    filters = frozenset({"district", "category"})
    clusterable = True
    order = 20

    def _rows(self, filters):
        stmt = (select(Proposal.id, Proposal.lat, Proposal.lon, Proposal.title, Proposal.support_count,
                       Process.support_threshold)
                .join(Process, Process.id == Proposal.process_id)
                .where(Proposal.hidden_at.is_(None), Proposal.status != P.draft,
                       Proposal.lat.is_not(None), Proposal.lon.is_not(None)))
        if "district" in filters:
            stmt = stmt.where(Proposal.district_id == filters["district"].id)
        if "category" in filters:
            stmt = stmt.where(Proposal.category_id == filters["category"].id)
        return stmt

    def points(self, bbox, filters):
        """Proposals in the bbox, most supported first."""
        return self._rows(filters).where(geo.within_bbox(Proposal.lat, Proposal.lon, bbox)).order_by(
            Proposal.support_count.desc(), Proposal.id.desc())

    def clusters(self, bbox, filters, cell_deg):
        """Counts per grid cell over the same proposals."""
        return grid_clusters(self._rows(filters), Proposal.lat, Proposal.lon, bbox, cell_deg)

    def properties(self, row):
        """Title, supports and the proposal's page (never who supports it)."""
        return {"title": row.title, "url": path_for("proposals.detail", proposal_id=row.id),
                "support_count": row.support_count, "support_threshold": row.support_threshold,
                "summary": ngettext("%(num)d support", "%(num)d supports", row.support_count)}


def register():
    """Put proposals on the map (once per process)."""
    if get_layer("proposals") is None:
        register_layer("proposals", ProposalsLayer())


register()
