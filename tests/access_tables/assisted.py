"""Access rows for assisted sessions (see tests/access_tables/__init__.py)."""
ACCESS = {
    "assisted.desk": ("roles:facilitator", "GET"),
    "assisted.open_session": ("roles:facilitator", "POST"),
    "assisted.current": ("roles:facilitator", "GET"),
    "assisted.identify_by_document": ("roles:facilitator", "POST"),
    "assisted.identify_by_code": ("roles:facilitator", "POST"),
    "assisted.create_managed": ("roles:facilitator", "POST"),
    "assisted.end": ("roles:facilitator", "POST"),
    "assisted.receipt": ("roles:admin,facilitator", "GET"),
    "assisted.receipt_pdf": ("roles:admin,facilitator", "GET"),
    "assisted.consent": ("roles:admin,facilitator", "GET"),
    "assisted.assist_code": ("login", "GET"),
    "assisted.claim": ("public", "GET"),
    "assisted.contributions": ("login", "GET"),
}
SAMPLE_ARGS = {"session_id": 1}
ACCESS["assisted.delete_managed"] = ("roles:facilitator", "POST")
ACCESS["assisted.paper_open"] = ("roles:facilitator", "GET")
ACCESS["assisted.paper_start"] = ("roles:facilitator", "POST")
ACCESS["assisted.paper_session"] = ("roles:facilitator", "GET")
ACCESS["assisted.paper_entry"] = ("roles:facilitator", "POST")
