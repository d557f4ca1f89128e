"""Access rows for moderation (see tests/access_tables/__init__.py)."""
ACCESS = {
    "moderation.flag": ("citizen", "POST"),
    "moderation.statement": ("login", "POST"),
    "moderation.rules": ("public", "GET"),
    "moderation.transparency": ("public", "GET"),
}
SAMPLE_ARGS = {"target_type": "comment", "target_id": 1, "decision_id": 1}
# The moderators' pages (queue_routes); the word list is for administrators too.
ACCESS.update({
    "moderation.queue": ("roles:moderator", "GET"),
    "moderation.bulk": ("roles:moderator", "POST"),
    "moderation.case_detail": ("roles:moderator", "GET"),
    "moderation.decide": ("roles:moderator", "POST"),
    "moderation.decide_appeal": ("roles:moderator", "POST"),
    "moderation.photo": ("roles:moderator", "GET"),
    "moderation.words": ("roles:admin,moderator", "POST"),  # GET shows it, POST adds a word
    "moderation.delete_word": ("roles:admin,moderator", "POST"),
})
SAMPLE_ARGS.update({"case_id": 1, "appeal_id": 1, "word_id": 1, "photo_id": 1})
ACCESS["main.person"] = ("public", "GET")
