"""The pact document as a printable PDF (fpdf2): text, parties, commons, support items, signatures.

DejaVu Sans (a TTF with the whole of Italian and the euro sign) when the system has it; otherwise
fpdf2's core Helvetica, with the text brought down to latin-1 (€ → EUR, curly quotes → straight)
so that no character can make the rendering fail.
"""
import os
import re
import unicodedata

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from fpdf import FPDF

from app.labels import commons_kind_label, organisation_kind_label
from app.pacts.labels import support_kind_label
from app.pacts.labels import pact_kind_label, pact_status_label

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

#: What latin-1 lacks, in plain letters (the rest is decomposed, then dropped if still outside latin-1).
REPLACEMENTS = {"€": "EUR", "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-",
                "…": "...", "•": "-", "−": "-", "\u00a0": " ", "\u202f": " ", "²": "2", "³": "3"}


def to_latin1(text):
    """``text`` with only latin-1 characters: known replacements, then accents kept where latin-1 has them."""
    out = []
    for char in text:
        char = REPLACEMENTS.get(char, char)
        if all(ord(c) < 256 for c in char):
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char)
        out.append("".join(c for c in plain if ord(c) < 256 and not unicodedata.combining(c)) or "?")
    return "".join(out)


class PactDocument(FPDF):
    def __init__(self, footer_text, font_dir=FONT_DIR):
        super().__init__(format="A4")
        self.footer_text = footer_text
        paths = {style: os.path.join(font_dir, name) for style, name in FONT_FILES.items()} if font_dir else {}
        self.unicode = bool(paths) and all(os.path.exists(p) for p in paths.values())
        if self.unicode:
            for style, path in paths.items():
                self.add_font("DejaVu", style, path)
            self.family = "DejaVu"
        else:
            self.family = "Helvetica"
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 18, 18)

    def clean(self, text):
        text = str(text or "").replace("\r\n", "\n")
        return text if self.unicode else to_latin1(text)

    def footer(self):
        self.set_y(-13)
        self.set_font(self.family, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, self.clean(f"{self.footer_text} · {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text, size=13):
        self.ln(3)
        self.set_font(self.family, "B", size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text, size=10, style=""):
        self.set_font(self.family, style, size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")

    def markdown_text(self, text):
        """A pact text (Markdown) as plain paragraphs: titles in bold, list items with a dash."""
        for line in self.clean(text).split("\n"):
            stripped = line.strip()
            if not stripped:
                self.ln(2)
                continue
            heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
            if heading:
                self.heading(heading.group(2).replace("**", ""), size=12 if len(heading.group(1)) <= 2 else 11)
                continue
            stripped = stripped.replace("**", "").replace("__", "")
            bullet = re.match(r"^[-*+]\s+(.*)$", stripped)
            if bullet:
                self.set_x(self.l_margin + 4)
                self.set_font(self.family, "", 10)
                self.multi_cell(0, 5, ("• " if self.unicode else "- ") + bullet.group(1),
                                new_x="LMARGIN", new_y="NEXT")
            else:
                self.para(stripped)


def _party_name(party, pact):
    if party.kind.value == "city":
        name = _("City of Turin")
        if pact.department is not None:
            name += " – " + pact.department.name("it")
        return name
    if party.organisation is not None:
        return f"{party.organisation.name} ({organisation_kind_label(party.organisation.kind)})"
    if party.user is not None and party.user.deleted_at is None:
        return party.user.display_name
    return _("Former participant")


def render(pact, verified=(), *, font_dir=FONT_DIR, compress=True):
    """The PDF (bytes) of a public pact: the approved text if there is one, else the latest version."""
    doc = PactDocument(_("Collaboration pact %(ref)s", ref=pact.protocol_number or f"#{pact.id}"),
                       font_dir=font_dir)
    doc.set_compression(compress)
    doc.set_title(doc.clean(pact.title))
    doc.set_author(doc.clean(_("City of Turin")))
    doc.set_creator("Piazza")
    doc.alias_nb_pages()
    doc.add_page()

    doc.set_font(doc.family, "", 9)
    doc.set_text_color(90, 90, 90)
    doc.cell(0, 5, doc.clean(_("City of Turin – Regulation n. 391 on urban commons")),
             new_x="LMARGIN", new_y="NEXT")
    doc.set_text_color(0, 0, 0)
    doc.heading(_("Collaboration pact"), size=11)
    doc.heading(pact.title, size=17)
    facts = [_("Status: %(status)s", status=pact_status_label(pact.status))]
    if pact.protocol_number:
        facts.append(_("Protocol %(n)s", n=pact.protocol_number))
    if pact.kind:
        facts.append(_("%(kind)s pact", kind=pact_kind_label(pact.kind)))
    doc.para(" · ".join(facts), size=9)
    if pact.approval_act_type:
        doc.para(_("Approved by %(type)s n. %(number)s of %(date)s", type=pact.approval_act_type,
                   number=pact.approval_act_number or "—",
                   date=format_date(pact.approval_act_date, "long") if pact.approval_act_date else "—"), size=9)
    if pact.starts_on:
        doc.para(_("In force from %(start)s to %(end)s.", start=format_date(pact.starts_on, "long"),
                   end=format_date(pact.ends_on, "long") if pact.ends_on else "—"), size=9)

    commons = pact.commons
    doc.heading(_("The commons"))
    line = f"{commons.name} – {commons_kind_label(commons.kind)}"
    if commons.address:
        line += f", {commons.address}"
    if pact.district is not None:
        line += " – " + _("District %(n)d – %(name)s", n=pact.district.number, name=pact.district.name)
    doc.para(line)

    doc.heading(_("Parties"))
    for party in pact.parties:
        doc.para("- " + _party_name(party, pact))

    version = pact.approved_version or pact.current_version
    if version is not None:
        if pact.approved_version is not None:
            doc.heading(_("The approved text (version %(n)d)", n=version.number))
        else:
            doc.heading(_("The latest version of the text (version %(n)d, not yet approved)", n=version.number))
        doc.markdown_text(version.text)
    else:
        doc.heading(_("Objectives"))
        doc.markdown_text(pact.objectives)
        doc.heading(_("Activities"))
        doc.markdown_text(pact.activities)

    if pact.support_items:
        doc.heading(_("What the City provides"))
        for item in pact.support_items:
            amount = ""
            if item.quantity is not None:
                amount = f" – {item.quantity:g}" + (f" {item.unit}" if item.unit else "")
            doc.para(f"- {support_kind_label(item.kind)}: {item.description}{amount}")

    if pact.approved_text_sha256:
        doc.heading(_("Signatures"))
        doc.para(_("SHA-256 of the approved text:"), size=9)
        doc.set_font("Courier", "", 8)
        doc.multi_cell(0, 4, pact.approved_text_sha256, new_x="LMARGIN", new_y="NEXT")
        doc.ln(1)
        checks = dict((s.id, ok) for s, ok in verified)
        if not pact.signatures:
            doc.para(_("No party has signed yet."))
        for signature in pact.signatures:
            ok = checks.get(signature.id)
            signer = signature.signer
            who = f" ({signer.display_name})" if signer is not None and signer.deleted_at is None else ""
            doc.ln(2)
            doc.para(f"{signature.capacity}{who} – {format_datetime(signature.signed_at, 'medium')}", style="B")
            doc.set_font("Courier", "", 8)
            doc.multi_cell(0, 4, signature.text_sha256, new_x="LMARGIN", new_y="NEXT")
            doc.para(_("matches the approved text") if ok else _("does NOT match the text"), size=8)
            doc.ln(1)
    return bytes(doc.output())
