"""Public pages of the pact registry: the list with filters, a pact's page, statistics, open data."""
from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import public
from app.extensions import db
from app.http import db_id, page_arg, path_for
from app.models.commons import CommonsKind
from app.models.pact import PUBLIC_STATUSES, Pact, PactKind, PactStatus
from app.moderation import placeholders
from app.moderation.forms import FlagContentForm
from app.pacts import bp, registry, services
from app.pacts.labels import pact_kind_label, pact_status_label
from app.reports import services as report_services

PAGE_SIZE = 25
#: Public statuses in the order of the procedure, for the filter.
STATUS_CHOICES = [s for s in PactStatus if s in PUBLIC_STATUSES]


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _url(pact):
    return path_for("pacts.detail", pact_id=pact.id)


@bp.app_template_global()
def pact_status_name(status):
    return pact_status_label(status)


@bp.route("/pacts")
@public
def index():
    """The registry: every public pact, filtered by status, district, kind of commons, type, proponent."""
    filters = registry.parse_filters(request.args, db_id)
    pagination = db.paginate(registry.public_pacts(filters), page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    return render_template("pacts/index.html", pagination=pagination, filters=filters, statuses=STATUS_CHOICES,
                           commons_kinds=list(CommonsKind), kinds=list(PactKind),
                           districts=report_services.district_choices(), kind_label=pact_kind_label)


def render_detail(pact, **overrides):
    """The pact's page; the proponents' slot adds what its viewer may do (the office's has its own global)."""
    from app.pacts import proponent_routes

    user = _viewer()
    volunteers = sum(1 for v in pact.volunteers if v.left_at is None and v.removal_reason is None)
    return render_template("pacts/detail.html", pact=pact, signatures=registry.verify_signatures(pact),
                           volunteers=volunteers, kind_label=pact_kind_label, flag_form=FlagContentForm(prefix="fl"),
                           viewer_is_volunteer=user is not None and any(
                               v.user_id == user.id and v.left_at is None for v in pact.volunteers),
                           **proponent_routes.page_context(pact, user, **overrides))


@bp.route("/pacts/<int:pact_id>")
@public
def detail(pact_id):
    """A pact: public from admissibility on; before that its proponents and the office see it.

    Hidden by moderation, it is a placeholder saying when and why (its proponents and the office still
    see the whole page, with the notice).
    """
    from app.pacts.proponent_routes import viewable_pact

    pact = db.session.get(Pact, pact_id)
    if pact is not None and not services.can_view(pact, _viewer()):
        hidden = placeholders.hidden_page("pact", pact_id, url_for("pacts.index"), _("All pacts"))
        if hidden is not None:
            return hidden
    return render_detail(viewable_pact(pact_id))


@bp.route("/pacts/statistics")
@public
def statistics():
    """From proposals to active pacts: the funnel and the median days of each step."""
    return render_template("pacts/statistics.html", stats=registry.statistics_summary())


@bp.route("/pacts.csv")
@public
def export_csv():
    """Open data: the public pacts as CSV (UTF-8, one row per pact)."""
    pacts = db.session.scalars(registry.public_pacts({})).all()
    return Response(registry.as_csv(pacts, _url), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="patti-di-collaborazione.csv"'})


@bp.route("/pacts.geojson")
@public
def export_geojson():
    """Open data: the public pacts as GeoJSON (RFC 7946, lon/lat, the commons' point)."""
    pacts = db.session.scalars(registry.public_pacts({})).all()
    return Response(registry.as_geojson(pacts, _url), mimetype="application/geo+json")
