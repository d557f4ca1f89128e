"""Access rows for opportunities (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
