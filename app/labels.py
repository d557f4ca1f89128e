"""Translated names of enum values shown in the interface."""
from flask_babel import lazy_gettext as _l

from app.models.user import Role

ROLE_LABELS = {
    Role.citizen: _l("citizen"),
    Role.facilitator: _l("facilitator"),
    Role.official: _l("official"),
    Role.moderator: _l("moderator"),
    Role.admin: _l("administrator"),
}


def role_label(role):
    return str(ROLE_LABELS.get(Role(role), role))


REPORT_STATUS_LABELS = {
    "new": _l("new"),
    "acknowledged": _l("acknowledged"),
    "in_progress": _l("in progress"),
    "resolved": _l("resolved"),
    "closed": _l("closed"),
    "duplicate": _l("duplicate"),
    "not_responsible": _l("not for the City"),
    "rejected": _l("rejected"),
}

FLAG_REASON_LABELS = {
    "spam": _l("Spam or advertising"),
    "offensive": _l("Offensive or abusive"),
    "personal_data": _l("Shows someone's personal data"),
    "off_topic": _l("Off topic"),
    "illegal": _l("Illegal content"),
    "other": _l("Something else"),
}


def report_status_label(status):
    value = getattr(status, "value", status)
    return str(REPORT_STATUS_LABELS.get(value, value))


#: Statuses a visible proposal can have (drafts are never shown), keyed by value.
PROPOSAL_STATUS_LABELS = {
    "published": _l("collecting supports"),
    "threshold_reached": _l("threshold reached"),
    "under_review": _l("under review"),
    "accepted": _l("accepted"),
    "rejected": _l("not accepted"),
    "in_execution": _l("being carried out"),
    "completed": _l("completed"),
    "expired": _l("expired"),
    "withdrawn": _l("withdrawn"),
}


def proposal_status_label(status):
    value = getattr(status, "value", status)
    return str(PROPOSAL_STATUS_LABELS.get(value, value))
