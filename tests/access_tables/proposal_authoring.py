"""Access rows for proposal_authoring (see tests/access_tables/__init__.py).

The writing pages answer GET and POST; they are probed with POST (the state-changing side),
which also puts them in tests/test_csrf.py's list of forms that must refuse a missing token.
"""
ACCESS = {
    "proposals.new": ("citizen", "POST"),
    "proposals.edit": ("citizen", "POST"),
    "proposals.similar": ("public", "GET"),
    "proposals.mine": ("citizen", "GET"),
    "proposals.publish": ("citizen", "POST"),
    "proposals.delete": ("citizen", "POST"),
    "proposals.withdraw": ("citizen", "POST"),
    "proposals.add_addendum": ("citizen", "POST"),
    "proposals.invite": ("citizen", "POST"),
    "proposals.remove_coauthor": ("citizen", "POST"),
    "proposals.answer_invitation": ("citizen", "POST"),
    "proposals.flag": ("citizen", "POST"),
}
SAMPLE_ARGS = {}
