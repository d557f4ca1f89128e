"""Access rows for neighbourhood houses and events (see tests/access_tables/__init__.py).

Publishing, editing and cancelling are open to any signed-in account at the access layer; the
service decides who may publish for which organiser (facilitators, representatives, officials).
"""
ACCESS = {
    "houses.index": ("public", "GET"),
    "houses.detail": ("public", "GET"),
    "houses.house_calendar": ("public", "GET"),
    "houses.district_calendar": ("public", "GET"),
    "houses.events": ("public", "GET"),
    "houses.event_detail": ("public", "GET"),
    "houses.register": ("citizen", "POST"),
    "houses.unregister": ("citizen", "POST"),
    "houses.new_event": ("login", "POST"),
    "houses.edit_event": ("login", "POST"),
    "houses.cancel_event": ("login", "POST"),
    "admin.user_houses": ("roles:admin", "POST"),
}
SAMPLE_ARGS = {"slug": "no-such-process", "number": 1, "event_id": 1}
