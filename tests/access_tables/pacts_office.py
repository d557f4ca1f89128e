"""Access rows for the pacts office (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
