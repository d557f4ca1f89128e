"""Access rows for opportunities (see tests/access_tables/__init__.py).

The writing pages answer GET and POST; they are probed with POST (the state-changing side),
which also puts them in tests/test_csrf.py's list of forms that must refuse a missing token.
"""
ACCESS = {
    "opportunities.index": ("public", "GET"),
    "opportunities.detail": ("public", "GET"),
    "opportunities.new": ("citizen", "POST"),
    "opportunities.close": ("citizen", "POST"),
    "opportunities.answer": ("citizen", "POST"),
    "opportunities.withdraw": ("citizen", "POST"),
    "opportunities.mine": ("citizen", "GET"),
    "opportunities.new_offer": ("citizen", "POST"),
    "opportunities.edit_offer": ("citizen", "POST"),
    "opportunities.delete_offer": ("citizen", "POST"),
}
SAMPLE_ARGS = {"call_id": 1, "offer_id": 1}
