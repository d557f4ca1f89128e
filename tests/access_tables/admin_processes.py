"""Access rows for admin_processes (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
