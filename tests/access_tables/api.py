"""Access rows of the JSON API's catalogue, comments, volunteers and documentation (see __init__.py)."""
ACCESS = {
    "api.docs": ("public", "GET"),
    "api.list_districts": ("public", "GET"),
    "api.list_categories": ("public", "GET"),
    "api.list_processes": ("public", "GET"),
    "api.get_process": ("public", "GET"),
    "api.list_houses": ("public", "GET"),
    "api.get_house": ("public", "GET"),
    "api.list_comments": ("public", "GET"),
    "api.create_comment": ("token", "POST"),
    "api.join_pact": ("token", "POST"),
    "api.leave_pact": ("token", "DELETE"),
    "api.list_debates": ("public", "GET"),
    "api.get_debate": ("public", "GET"),
    "api.list_events": ("public", "GET"),
    "api.get_event": ("public", "GET"),
    "api.get_statistics": ("public", "GET"),
    "api.get_statistics_chart": ("public", "GET"),
    "api.search_all": ("public", "GET"),
}
SAMPLE_ARGS = {"pact_id": 1, "debate_id": 1, "event_id": 1, "chart": "funnel"}
