"""The search page: the box, the filters and one page of results."""
from flask import render_template, request

from app.auth.access import public
from app.http import db_id
from app.reports import services as report_services
from app.search import bp, services


@bp.route("/search")
@public
def index():
    """Search everything public; an empty query shows the empty form."""
    filters = services.parse_filters(request.args, db_id)
    page = request.args.get("page", 1, type=int)
    found = services.search(request.args.get("q", ""), filters, page)
    return render_template("search/index.html", found=found, filters=filters,
                           kinds=services.KINDS, kind_labels=services.KIND_FILTER_LABELS,
                           status_choices=services.status_choices(), districts=report_services.district_choices(),
                           page_size=services.PAGE_SIZE, max_results=services.MAX_RESULTS)
