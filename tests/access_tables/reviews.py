"""Access rows for reviews (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
