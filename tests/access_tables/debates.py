"""Access rows for debates (see tests/access_tables/__init__.py).

The GET+POST pages are probed with POST, so that tests/test_csrf.py also checks they refuse a
POST without its token.
"""
ACCESS = {
    "debates.index": ("public", "GET"),
    "debates.new": ("citizen", "POST"),
    "debates.detail": ("public", "GET"),
    "debates.edit": ("citizen", "POST"),
    "debates.flag": ("citizen", "POST"),
    "debates.convert": ("citizen", "POST"),
}
SAMPLE_ARGS = {"debate_id": 1}
