"""Access rows for comments (see tests/access_tables/__init__.py)."""
ACCESS = {
    "comments.post": ("citizen", "POST"),
    "comments.edit": ("citizen", "POST"),
    "comments.delete": ("citizen", "POST"),
    "comments.flag": ("citizen", "POST"),
}
SAMPLE_ARGS = {"comment_id": 1}
