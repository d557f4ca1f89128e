"""The pact document: the standard template (Markdown, in the reader's language) and the diff between versions.

The template follows the sections Turin's regulation asks of every pact: the parties, the commons,
objectives and activities, duration and renewal, mutual commitments, the City's support (never
cash) with quantities, guarantees of collective use, insurance and safety, the reporting schedule,
publicity, exclusion of individual members, disputes (conciliation committee) and amendments.
Officials and proponents then edit it version by version during co-design.
"""
import difflib

from flask_babel import force_locale
from flask_babel import gettext as _

from app.models.pact import PartyKind
from app.pacts.labels import support_kind_label

def _number(value):
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}".replace(".", ",")


def _party_line(pact, party):
    if party.kind == PartyKind.city:
        department = pact.department.name_it if pact.department is not None else ""
        official = party.user.display_name if party.user is not None else ""
        line = _("The City of Turin") + (f" – {department}" if department else "")
        if official:
            line += " " + _("(responsible official: %(name)s)", name=official)
        return line
    if party.organisation is not None:
        representatives = ", ".join(u.display_name for u in party.organisation.representatives())
        line = party.organisation.name
        if representatives:
            line += " " + _("(represented by %(names)s)", names=representatives)
        return line
    return (party.user.display_name if party.user is not None else "") + " " + _("(in own name)")


def _support_line(item):
    label = support_kind_label(item.kind)
    quantity = _number(item.quantity)
    amount = f" – {quantity} {item.unit or ''}".rstrip() if quantity else ""
    return f"- {label}: {item.description}{amount}"


def initial_text(pact):
    """The standard pact template as Markdown, filled with the pact's data — always in Italian, the
    language of the City's acts, whatever the language of the official who opens the co-design."""
    with force_locale("it"):
        return _initial_text(pact)


def _initial_text(pact):
    commons = pact.commons
    parts = ["# " + _("Collaboration pact: %(title)s", title=pact.title), ""]
    if pact.protocol_number:
        parts += [_("Protocol number: %(number)s", number=pact.protocol_number), ""]
    parts += [
        _("Under the Regulation of the City of Turin n. 391 on the governance of urban commons, the parties "
          "below agree on this collaboration pact for the care and regeneration of the commons described."), "",
        "## 1. " + _("The parties"), "",
    ]
    parts += [f"- {_party_line(pact, party)}" for party in pact.parties] or ["- " + _("The City of Turin")]
    parts += ["", "## 2. " + _("The commons"), ""]
    if commons is not None:
        line = commons.name
        if commons.address:
            line += f", {commons.address}"
        parts += [line, ""]
        if commons.description:
            parts += [commons.description.strip(), ""]
    parts += [
        "## 3. " + _("Objectives and activities"), "",
        "### " + _("Objectives"), "", (pact.objectives or "").strip(), "",
        "### " + _("Activities, phases and timing"), "", (pact.activities or "").strip(), "",
    ]
    if pact.beneficiaries:
        parts += ["### " + _("Beneficiaries"), "", pact.beneficiaries.strip(), ""]
    duration = (_("The pact lasts %(months)s months from the day every party has signed it.",
                  months=pact.duration_months) if pact.duration_months
                else _("The pact lasts for the period agreed by the parties from the day every party has signed it."))
    parts += [
        "## 4. " + _("Duration and renewal"), "", duration + " " +
        _("It may be renewed by agreement of the parties, on the basis of the reports filed; the renewal "
          "follows the same co-design procedure."), "",
        "## 5. " + _("Mutual commitments"), "",
        _("The proponents undertake to carry out the activities described, with care and continuity, respecting "
          "the law, the collective use of the commons and the guidance of the City's offices."), "",
        _("The City undertakes to provide the support listed below, to facilitate the activities and to inform "
          "the proponents of any work or decision concerning the commons."), "",
    ]
    if pact.own_resources:
        parts += [_("The proponents contribute their own resources:"), "", pact.own_resources.strip(), ""]
    parts += ["## 6. " + _("The support of the City"), ""]
    if pact.support_items:
        parts += [_support_line(item) for item in pact.support_items]
    else:
        parts += [_("No support items have been agreed yet.")]
    parts += [
        "", _("The support never consists of money transfers to the proponents."), "",
        "## 7. " + _("Guarantees of collective use"), "",
        _("The commons remains open to everyone: the activities of the pact cannot give the proponents exclusive "
          "use of it, and anyone may join them as a volunteer by accepting the rules of this pact."), "",
        "## 8. " + _("Insurance and safety"), "",
        _("The volunteers are insured against accidents and third-party liability. The proponents ensure that "
          "the activities are carried out safely, with suitable protective equipment and training, and report "
          "any danger to the City at once."), "",
        "## 9. " + _("Reporting"), "",
        _("The proponents file a report at least once a year and a final report at the end of the pact: "
          "activities, events, beneficiaries reached, volunteer hours, resources used by both parties, results "
          "against the objectives and problems met. The responsible official reviews every report."), "",
        "## 10. " + _("Publicity"), "",
        _("This pact, its versions, signatures and reports are published in the City's public registry of "
          "pacts. The proponents may use the City's logo for the activities of the pact as agreed with the "
          "office."), "",
        "## 11. " + _("Exclusion of individual members"), "",
        _("The representatives of the proponents may exclude a volunteer who seriously or repeatedly breaks the "
          "rules of this pact, giving the reasons in writing."), "",
        "## 12. " + _("Disputes"), "",
        _("Any dispute between the parties about this pact is first brought to a conciliation committee made "
          "of one member appointed by the proponents, one by the City and one chosen by both, which proposes a "
          "solution within 30 days."), "",
        "## 13. " + _("Amendments"), "",
        _("This pact can be amended only in writing, by agreement of every party and with the same procedure "
          "used to approve it; the approved text is frozen and every amendment is a new version."), "",
    ]
    return "\n".join(parts).replace("\n\n\n", "\n\n").strip() + "\n"


def diff_versions(old, new):
    """Line diff of two PactVersions: a list of (op, text) with op in {"same", "added", "removed"}."""
    old_lines = (old.text if old is not None else "").splitlines()
    new_lines = (new.text if new is not None else "").splitlines()
    result = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(("same", line) for line in old_lines[i1:i2])
        else:
            result.extend(("removed", line) for line in old_lines[i1:i2])
            result.extend(("added", line) for line in new_lines[j1:j2])
    return result
