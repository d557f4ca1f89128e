"""Access rows for admin_processes (see tests/access_tables/__init__.py)."""
ACCESS = {
    "admin.processes": ("roles:admin", "GET"),
    "admin.process_new": ("roles:admin", "GET"),
    "admin.process_edit": ("roles:admin", "GET"),
}
SAMPLE_ARGS = {"process_id": 1}
