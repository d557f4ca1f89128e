"""Access rows for the administrators' report of assisted sessions and the houses' public statistics."""
ACCESS = {
    "assisted_admin.report": ("roles:admin", "GET"),
    "assisted_admin.session_detail": ("roles:admin", "GET"),
    "assisted_admin.export_csv": ("roles:admin", "GET"),
    "assisted.house_statistics": ("public", "GET"),
    "assisted.house_statistics_csv": ("public", "GET"),
    "assisted.house_statistics_json": ("public", "GET"),
}
SAMPLE_ARGS = {"session_id": 1}
