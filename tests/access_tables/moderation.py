"""Access rows for moderation (see tests/access_tables/__init__.py)."""
ACCESS = {
    "moderation.flag": ("citizen", "POST"),
    "moderation.statement": ("login", "POST"),
    "moderation.rules": ("public", "GET"),
    "moderation.transparency": ("public", "GET"),
}
SAMPLE_ARGS = {"target_type": "comment", "target_id": 1, "decision_id": 1}
ACCESS["main.person"] = ("public", "GET")
