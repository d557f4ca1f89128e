"""Reports on the shared map: a clustered layer with status-group and category filters."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.http import path_for
from app.labels import report_status_label
from app.maps.services import MapFilter, MapLayer, get_layer, grid_clusters, register_filter, register_layer
from app.models.place import Category
from app.models.report import STATUS_GROUPS, Report

STATUS_GROUP_LABELS = {"open": lazy_pgettext("status group", "open"), "fixed": lazy_pgettext("status group", "fixed"),
                       "closed": lazy_pgettext("status group", "closed")}


def _parse_status(text):
    if text not in STATUS_GROUPS:
        raise ValueError(text)
    return text


def _parse_category(text):
    category = db.session.scalar(select(Category).where(Category.slug == text))
    if category is None:
        raise ValueError(text)
    return category


def _category_options():
    locale = str(get_locale())
    return [(c.slug, c.name(locale)) for c in db.session.scalars(select(Category).order_by(Category.name_it))]


class ReportsLayer(MapLayer):
    """Visible reports; clustered on a grid below the street-level zoom."""

    label = _l("Reports")
    item_label = lazy_pgettext("map item", "Report")
    filters = frozenset({"district", "category", "status"})
    clusterable = True
    order = 10

    def _rows(self, filters):
        stmt = select(Report.id, Report.lat, Report.lon, Report.title, Report.status).where(Report.is_public)
        if "district" in filters:
            stmt = stmt.where(Report.district_id == filters["district"].id)
        if "category" in filters:
            stmt = stmt.where(Report.category_id == filters["category"].id)
        if "status" in filters:
            stmt = stmt.where(Report.status.in_(STATUS_GROUPS[filters["status"]]))
        return stmt

    def points(self, bbox, filters):
        """Reports in the bbox, newest first."""
        return self._rows(filters).where(geo.within_bbox(Report.lat, Report.lon, bbox)).order_by(
            Report.created_at.desc(), Report.id.desc())

    def clusters(self, bbox, filters, cell_deg):
        """Counts per grid cell over the same reports."""
        return grid_clusters(self._rows(filters), Report.lat, Report.lon, bbox, cell_deg)

    def properties(self, row):
        """Title, status and the report's page."""
        return {"title": row.title, "url": path_for("reports.detail", report_id=row.id),
                "status": row.status.value, "summary": _status_label(row.status)}


def _status_label(status):
    """The status in the reader's language, translated once per request (hundreds of rows share it)."""
    from flask import g

    cache = g.setdefault("_report_status_labels", {})
    if status not in cache:
        cache[status] = report_status_label(status)
    return cache[status]


def register():
    """Put reports on the map (once per process)."""
    if get_layer("reports") is not None:
        return
    register_filter(MapFilter(name="status", label=_l("Status"), any_label=_l("Any status"),
                              parse=_parse_status, options=lambda: list(STATUS_GROUP_LABELS.items())),
                    replace=True)
    register_filter(MapFilter(name="category", label=_l("Category"), any_label=_l("All categories"),
                              parse=_parse_category, options=_category_options), replace=True)
    register_layer("reports", ReportsLayer())


register()
