"""Access rows for proposal_authoring (see tests/access_tables/__init__.py)."""
ACCESS = {}
SAMPLE_ARGS = {}
