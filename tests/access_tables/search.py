"""Access rows for search (see tests/access_tables/__init__.py): one public page."""
ACCESS = {
    "search.index": ("public", "GET"),
}
SAMPLE_ARGS = {}
