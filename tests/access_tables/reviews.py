"""Access rows for reviews (see tests/access_tables/__init__.py)."""
ACCESS = {
    "reviews.queue": ("roles:official", "GET"),
    # GET and POST: probed with POST so that tests/test_csrf.py covers the form too.
    "reviews.review": ("roles:official", "POST"),
    "reviews.project": ("roles:official", "GET"),
    "reviews.add_update": ("roles:official", "POST"),
    "reviews.complete": ("roles:official", "POST"),
    "reviews.add_milestone": ("roles:official", "POST"),
    "reviews.milestone_done": ("roles:official", "POST"),
    "reviews.remove_milestone": ("roles:official", "POST"),
    "reviews.processes": ("public", "GET"),
    "reviews.process": ("public", "GET"),
}
SAMPLE_ARGS = {"milestone_id": 1, "slug": "no-such-process"}
