"""Access rows for comments (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
