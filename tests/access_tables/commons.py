"""Access rows for commons and organisations (see tests/access_tables/__init__.py).

Pages that answer GET and POST (the forms) are probed with POST, the state-changing side, which
also puts them in tests/test_csrf.py's list of forms that must refuse a missing token.
"""
ACCESS = {
    "commons.index": ("public", "GET"),
    "commons.detail": ("public", "GET"),
    "commons.export_geojson": ("public", "GET"),
    "commons.office_index": ("roles:official", "GET"),
    "commons.office_new": ("roles:official", "POST"),
    "commons.office_edit": ("roles:official", "POST"),
    "commons.office_register": ("roles:official", "POST"),
    "commons.office_hide": ("roles:official", "POST"),
    "commons.office_restore": ("roles:official", "POST"),
    "commons.office_new_call": ("roles:official", "POST"),
    "commons.office_close_call": ("roles:official", "POST"),
    "commons.organisation_detail": ("public", "GET"),
    "commons.organisation_new": ("citizen", "POST"),
    "commons.organisation_edit": ("citizen", "POST"),
    "commons.organisations_mine": ("citizen", "GET"),
    "commons.organisation_manage": ("citizen", "GET"),
    "commons.organisation_invite": ("citizen", "POST"),
    "commons.organisation_remove_member": ("citizen", "POST"),
    "commons.organisation_set_role": ("citizen", "POST"),
    "commons.organisation_leave": ("citizen", "POST"),
    "commons.organisation_invitation": ("citizen", "POST"),
}
SAMPLE_ARGS = {"commons_id": 1, "call_id": 1, "organisation_id": 1}
