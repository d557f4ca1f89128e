"""Access rows for pacts (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
