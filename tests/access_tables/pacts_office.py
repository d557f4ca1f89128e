"""Access rows for the pacts office (see tests/access_tables/__init__.py).

Every page and action is for officials; the department scope is checked by the loader
(another department's pact answers 404) and by the services — see tests/test_pacts_office_http.py.
"""
ACCESS = {
    "pacts.office_queue": ("roles:official", "GET"),
    "pacts.office_pact": ("roles:official", "GET"),
    "pacts.office_request_integration": ("roles:official", "POST"),
    "pacts.office_declare_admissible": ("roles:official", "POST"),
    "pacts.office_declare_inadmissible": ("roles:official", "POST"),
    "pacts.office_open_consultation": ("roles:official", "POST"),
    "pacts.office_start_co_design": ("roles:official", "POST"),
    "pacts.office_record_meeting": ("roles:official", "POST"),
    "pacts.office_set_support": ("roles:official", "POST"),
    "pacts.office_add_version": ("roles:official", "POST"),
    "pacts.office_merge": ("roles:official", "POST"),
    "pacts.office_approve": ("roles:official", "POST"),
    "pacts.office_open_signing": ("roles:official", "POST"),
    "pacts.office_sign": ("roles:official", "POST"),
    "pacts.office_suspend": ("roles:official", "POST"),
    "pacts.office_resume": ("roles:official", "POST"),
    "pacts.office_revoke": ("roles:official", "POST"),
    "pacts.office_complete": ("roles:official", "POST"),
    "pacts.office_renew": ("roles:official", "POST"),
    "pacts.office_review_report": ("roles:official", "POST"),
    "pacts.office_committee_proposal": ("roles:official", "POST"),
    "pacts.office_close_dispute": ("roles:official", "POST"),
}
SAMPLE_ARGS = {"dispute_id": 1}
