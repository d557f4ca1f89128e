"""Names of pact statuses and kinds in the interface (a context of their own: "patto" is masculine)."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from app.models.pact import PactKind, PactStatus, SupportKind

S = PactStatus

PACT_STATUS_LABELS = {
    S.draft: lazy_pgettext("pact status", "draft"),
    S.submitted: lazy_pgettext("pact status", "submitted"),
    S.needs_integration: lazy_pgettext("pact status", "needs more information"),
    S.admissible: lazy_pgettext("pact status", "admissible"),
    S.inadmissible: lazy_pgettext("pact status", "not admissible"),
    S.public_consultation: lazy_pgettext("pact status", "public consultation"),
    S.co_design: lazy_pgettext("pact status", "co-design"),
    S.approved: lazy_pgettext("pact status", "approved"),
    S.signing: lazy_pgettext("pact status", "being signed"),
    S.active: lazy_pgettext("pact status", "active"),
    S.suspended: lazy_pgettext("pact status", "suspended"),
    S.completed: lazy_pgettext("pact status", "completed"),
    S.renewed: lazy_pgettext("pact status", "renewed"),
    S.revoked: lazy_pgettext("pact status", "revoked"),
    S.withdrawn: lazy_pgettext("pact status", "withdrawn"),
}

PACT_KIND_LABELS = {
    PactKind.ordinary: lazy_pgettext("pact kind", "ordinary"),
    PactKind.complex: lazy_pgettext("pact kind", "complex"),
}


def pact_status_label(status):
    return str(PACT_STATUS_LABELS.get(PactStatus(getattr(status, "value", status)), status))


def pact_kind_label(kind):
    return str(PACT_KIND_LABELS.get(PactKind(getattr(kind, "value", kind)), kind)) if kind else ""


#: What the City may give for a pact (never cash), in words.
SUPPORT_KIND_LABELS = {
    SupportKind.space: _l("Spaces"),
    SupportKind.tools: _l("Tools and consumables"),
    SupportKind.protective_equipment: _l("Protective equipment"),
    SupportKind.training: _l("Training"),
    SupportKind.staff_hours: _l("Hours of City staff"),
    SupportKind.fee_exemption: _l("Exemption from fees"),
}


def support_kind_label(kind):
    value = getattr(kind, "value", kind)
    return str(next((label for k, label in SUPPORT_KIND_LABELS.items() if k.value == value), value))
