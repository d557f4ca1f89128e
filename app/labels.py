"""Translated names of enum values shown in the interface."""
from datetime import timedelta

from flask_babel import format_date, format_datetime, format_number, lazy_pgettext, ngettext, to_user_timezone
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
#: A context of their own: in Italian they agree with "proposta" (feminine).
PROPOSAL_STATUS_LABELS = {
    "published": lazy_pgettext("proposal status", "collecting supports"),
    "threshold_reached": lazy_pgettext("proposal status", "threshold reached"),
    "under_review": lazy_pgettext("proposal status", "under review"),
    "accepted": lazy_pgettext("proposal status", "accepted"),
    "rejected": lazy_pgettext("proposal status", "not accepted"),
    "in_execution": lazy_pgettext("proposal status", "being carried out"),
    "completed": lazy_pgettext("proposal status", "completed"),
    "expired": lazy_pgettext("proposal status", "expired"),
    "withdrawn": lazy_pgettext("proposal status", "withdrawn"),
}


def proposal_status_label(status):
    value = getattr(status, "value", status)
    return str(PROPOSAL_STATUS_LABELS.get(value, value))


def supports_text(count, threshold):
    """"120 supports of 250", with the numbers in the reader's format and the plural of the count."""
    return ngettext("%(count)s support of %(threshold)s", "%(count)s supports of %(threshold)s", count,
                    count=format_number(count), threshold=format_number(threshold))


def phase_end_label(moment):
    """When a phase ends, as people count days: a phase ending at midnight ends "on" the day before.

    Phases are half-open [start, end): one ending on 1 May 00:00 runs through 30 April. Any other
    end time is shown with its time.
    """
    local = to_user_timezone(moment)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return format_date(local.date() - timedelta(days=1), "medium")
    return format_datetime(moment, "short")


def _commons_labels():
    from app.models.commons import CommonsKind, OrganisationKind

    return (
        {CommonsKind.green_area: _l("green area"), CommonsKind.square: _l("square"),
         CommonsKind.street: _l("street"), CommonsKind.school_courtyard: _l("school courtyard"),
         CommonsKind.building: _l("building"), CommonsKind.immaterial: _l("immaterial commons"),
         CommonsKind.other: _l("other commons")},
        {OrganisationKind.informal_group: _l("informal group"), OrganisationKind.association: _l("association"),
         OrganisationKind.school: _l("school"), OrganisationKind.cooperative: _l("cooperative or third-sector body"),
         OrganisationKind.company: _l("company")},
    )


COMMONS_KIND_LABELS, ORGANISATION_KIND_LABELS = _commons_labels()


def commons_kind_label(kind):
    value = getattr(kind, "value", kind)
    return str(next((label for k, label in COMMONS_KIND_LABELS.items() if k.value == value), value))


def organisation_kind_label(kind):
    value = getattr(kind, "value", kind)
    return str(next((label for k, label in ORGANISATION_KIND_LABELS.items() if k.value == value), value))


def _commons_owner_labels():
    from app.models.commons import CommonsOwner

    return {CommonsOwner.city: _l("City of Turin"), CommonsOwner.third_party: _l("a third party, with its consent")}


COMMONS_OWNER_LABELS = _commons_owner_labels()


def commons_owner_label(owner):
    value = getattr(owner, "value", owner)
    return str(next((label for k, label in COMMONS_OWNER_LABELS.items() if k.value == value), value))
