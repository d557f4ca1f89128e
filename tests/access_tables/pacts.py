"""Access rows for pacts (see tests/access_tables/__init__.py).

The writing pages answer GET and POST; they are probed with POST (the state-changing side),
which also puts them in tests/test_csrf.py's list of forms that must refuse a missing token.
Signing and answering join requests are open to any signed-in account: the City's officials
sign and decide too (the services check who may).
"""
ACCESS = {}
SAMPLE_ARGS = {}
ACCESS.update({
    "api.list_pacts": ("public", "GET"),
    "api.get_pact": ("public", "GET"),
    "pacts.index": ("public", "GET"),
    "pacts.detail": ("public", "GET"),
    "pacts.statistics": ("public", "GET"),
    "pacts.export_csv": ("public", "GET"),
    "pacts.export_geojson": ("public", "GET"),
    # The citizens' side of the procedure (app/pacts/proponent_routes.py).
    "pacts.new": ("citizen", "POST"),
    "pacts.edit": ("citizen", "POST"),
    "pacts.submit": ("citizen", "POST"),
    "pacts.receipt": ("citizen", "GET"),
    "pacts.withdraw": ("citizen", "POST"),
    "pacts.mine": ("citizen", "GET"),
    "pacts.request_join": ("citizen", "POST"),
    "pacts.decide_join": ("login", "POST"),
    "pacts.version": ("public", "GET"),
    "pacts.version_diff": ("public", "GET"),
    "pacts.add_version": ("citizen", "POST"),
    "pacts.sign": ("login", "POST"),
    "pacts.join_volunteer": ("citizen", "POST"),
    "pacts.leave": ("citizen", "POST"),
    "pacts.remove_volunteer": ("citizen", "POST"),
    "pacts.new_report": ("citizen", "POST"),
    "pacts.pdf": ("public", "GET"),
    # A proposal's PDFs (app/media/routes.py): public as a route, each document served only to
    # those who may see its pact (tests/test_pact_attachments_http.py).
    "media.document": ("public", "GET"),
})
SAMPLE_ARGS.update({"pact_id": 1, "request_id": 1, "number": 1, "volunteer_id": 1})
