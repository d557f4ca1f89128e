"""Access rows for commons (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
