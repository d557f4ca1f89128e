"""Access rows for kiosk mode (see tests/access_tables/__init__.py)."""
ACCESS = {
    "kiosk.settings": ("roles:admin,facilitator", "GET"),
    "kiosk.start": ("roles:admin,facilitator", "POST"),
    "kiosk.stop": ("roles:admin,facilitator", "POST"),
}
SAMPLE_ARGS = {}
