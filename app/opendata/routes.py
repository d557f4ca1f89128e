"""The data dictionary page and the streamed downloads (CSV and GeoJSON, per layer and per process)."""
from flask import Response, abort, current_app, render_template, stream_with_context
from flask_login import current_user

from app.auth.access import public
from app.extensions import limiter
from app.feeds.services import feed_links
from app.models.base import NotFound
from app.opendata import bp, formats, services

#: Shared caches may keep a download this long: the data is public and changes slowly.
CACHE_SECONDS = 300


def _download(export, fmt):
    """A streamed file: read in keyset batches inside one snapshot, never whole in memory."""
    headers = {
        "Content-Disposition": f'attachment; filename="{services.download_name(export, fmt)}"',
        # Public data: other sites' pages and tools may fetch it.
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if not current_user.is_authenticated:
        # Signed-in responses may carry a refreshed session cookie: those stay private (app.http).
        headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    content_type = "text/csv; charset=utf-8; header=present" if fmt == "csv" else formats.MEDIA_TYPES[fmt]
    return Response(stream_with_context(services.stream(export, fmt)), content_type=content_type, headers=headers)


def _layer(dataset):
    try:
        return services.layer_export(dataset)
    except NotFound:
        abort(404)


def _process(slug):
    try:
        return services.process_export_by_slug(slug)
    except NotFound:
        abort(404)


@bp.route("/open-data")
@public
def index():
    """The data dictionary: every dataset, its fields, the downloads, the feeds and the licence."""
    return render_template("opendata/index.html", **services.dictionary(), feeds=feed_links())


@bp.route("/open-data/<dataset>.csv")
@public
@limiter.shared_limit(lambda: current_app.config["OPEN_DATA_DOWNLOAD_LIMIT"], scope="open-data-downloads")
def dataset_csv(dataset):
    """One layer (reports, proposals, pacts, commons, houses, events) as CSV."""
    return _download(_layer(dataset), "csv")


@bp.route("/open-data/<dataset>.geojson")
@public
@limiter.shared_limit(lambda: current_app.config["OPEN_DATA_DOWNLOAD_LIMIT"], scope="open-data-downloads")
def dataset_geojson(dataset):
    """One layer as an RFC 7946 FeatureCollection."""
    return _download(_layer(dataset), "geojson")


@bp.route("/open-data/processes/<slug>/proposals.csv")
@public
@limiter.shared_limit(lambda: current_app.config["OPEN_DATA_DOWNLOAD_LIMIT"], scope="open-data-downloads")
def process_csv(slug):
    """The public proposals of one participatory process as CSV."""
    return _download(_process(slug), "csv")


@bp.route("/open-data/processes/<slug>/proposals.geojson")
@public
@limiter.shared_limit(lambda: current_app.config["OPEN_DATA_DOWNLOAD_LIMIT"], scope="open-data-downloads")
def process_geojson(slug):
    """The public proposals of one participatory process as GeoJSON."""
    return _download(_process(slug), "geojson")
