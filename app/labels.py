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
