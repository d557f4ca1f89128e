"""Translated names of the review's enum values and of process phases."""
from flask_babel import lazy_gettext as _l

FEASIBILITY_LABELS = {
    "feasible": _l("feasible"),
    "with_changes": _l("feasible with changes"),
    "not_feasible": _l("not feasible"),
}

OUTCOME_LABELS = {
    "accepted": _l("accepted"),
    "rejected": _l("not accepted"),
}

PHASE_LABELS = {
    "collection": _l("Proposal collection"),
    "support": _l("Support collection"),
    "review": _l("Feasibility review"),
    "execution": _l("Execution"),
}


def _label(table, value):
    value = getattr(value, "value", value)
    return str(table.get(value, value)) if value is not None else ""


def feasibility_label(value):
    return _label(FEASIBILITY_LABELS, value)


def outcome_label(value):
    return _label(OUTCOME_LABELS, value)


def phase_label(value):
    return _label(PHASE_LABELS, value)
