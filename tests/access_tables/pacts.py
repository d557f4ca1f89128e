"""Access rows for pacts (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
ACCESS.update({
    "pacts.index": ("public", "GET"),
    "pacts.detail": ("public", "GET"),
    "pacts.statistics": ("public", "GET"),
    "pacts.export_csv": ("public", "GET"),
    "pacts.export_geojson": ("public", "GET"),
})
SAMPLE_ARGS.update({"pact_id": 1})
