"""Access rows for in-person verification (see tests/access_tables/__init__.py)."""
ACCESS = {
    "verification.find": ("roles:admin,facilitator", "GET"),
    "verification.verify": ("roles:admin,facilitator", "POST"),
    "verification.revoke": ("roles:admin", "POST"),
}
SAMPLE_ARGS = {"user_id": 1}
