"""The community rules a moderation decision cites, and the reasons people give when they flag.

The keys are stored in decisions; the texts are shown in the reader's language. The public
rules page (/rules) lists them, and every statement of reasons links to the rule it applies.
"""
from flask_babel import lazy_gettext as _l

#: rule key -> (short name, what it says)
RULES = {
    "respect": (_l("Respect people"),
                _l("No insults, threats, harassment or hate against anyone, including city staff.")),
    "spam": (_l("No spam or advertising"),
             _l("No commercial promotion, repeated posts or content unrelated to the city.")),
    "privacy": (_l("Protect personal data"),
                _l("No names, addresses, phone numbers, faces or number plates of private people.")),
    "on_topic": (_l("Stay on topic"),
                 _l("Contributions must concern the city, the item discussed or the process they belong to.")),
    "legal": (_l("Respect the law"),
              _l("Nothing illegal: defamation, incitement to crime, copyright infringement.")),
    "honesty": (_l("Be honest"),
                _l("No impersonation, no fake accounts, no deliberately false information.")),
}


def rule_label(key):
    """The short name of a rule, or the key itself for a rule that no longer exists."""
    entry = RULES.get(key)
    return str(entry[0]) if entry else (key or "")


def rule_choices():
    """(key, short name) pairs for a select."""
    return [(key, str(name)) for key, (name, _text) in RULES.items()]


#: decision -> what it is called for people
ACTION_LABELS = {
    "restore": _l("Restored (no problem found)"),
    "hide": _l("Hidden"),
    "redact": _l("Partly edited out"),
    "block": _l("Account blocked"),
}


def action_label(action):
    key = getattr(action, "value", action)
    return str(ACTION_LABELS.get(key, key))
