"""The receipt of an assisted session: what was done, each item with a QR code to its page, and the
claim code of a managed account not yet taken over — as a page to print and as a PDF.

An item hidden by moderation or gone since is still listed (the person did it) but without its
title or text: the receipt says only that it is no longer public, or no longer there. QR codes are
made here (segno), inline SVG for the page (the CSP allows no outside images) and PNG for the PDF.
"""
import enum
import io
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

import segno
from flask import url_for
from flask_babel import force_locale, format_date, format_datetime, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.assisted import records, services
from app.extensions import SUPPORTED_LOCALES, db
from app.models import (Comment, Event, EventRegistration, Flag, Pact, PactJoinRequest, PactReport, PactSignature,
                        PactVersion, PactVolunteer, ProposalAddendum, ProposalCoauthor, Support)
from app.moderation import holds
from app.moderation.registry import kind_for
from app.pacts.pdf import FONT_DIR, PactDocument

#: The languages a receipt can be printed in, by their own names (the person reads them).
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}


class Shown(str, enum.Enum):
    """How much of an item the receipt may show, from most to least."""

    public = "public"
    #: Not published yet (a draft proposal, a pact proposal before consultation): its author sees it.
    private = "private"
    #: Held by pre-moderation until a moderator approves it: its author sees it.
    waiting = "waiting"
    #: Hidden by moderation: listed without its title.
    hidden = "hidden"
    #: Withdrawn or deleted since: listed without its title.
    gone = "gone"


#: Worst first wins when an item depends on another (a support on a proposal hidden since).
_RANK = {Shown.public: 0, Shown.private: 1, Shown.waiting: 2, Shown.hidden: 3, Shown.gone: 4}

NOTES = {
    Shown.private: _l("Not published yet: only its author can see it, after signing in."),
    Shown.waiting: _l("Waiting for a moderator's approval: until then only its author can see it."),
    Shown.hidden: _l("No longer public: it was hidden by moderation."),
    Shown.gone: _l("No longer there: it was withdrawn or deleted."),
}


@dataclass
class Item:
    action: str
    label: str
    at: datetime
    shown: Shown
    #: What it is (None when it may not be shown, or the record has no description).
    title: str | None = None
    #: Its page, absolute (for the QR code), or None.
    url: str | None = None
    notes: list = field(default_factory=list)


@dataclass
class Claim:
    code: str
    url: str
    expires_at: datetime


@dataclass
class Receipt:
    session: object
    citizen: object
    items: list
    claim: Claim | None


# --- what may be shown -------------------------------------------------------------------------

def _parent(model, id_attr, kind):
    """A record that stands for another one (a support for its proposal): check both."""
    def chain(record_id):
        row = db.session.get(model, record_id)
        if row is None:
            return [(None, None)]
        return [(None, row), (kind, db.session.get(kind_for(kind).model, getattr(row, id_attr)))]

    return chain


def _itself(kind):
    def chain(record_id):
        model = kind_for(kind).model
        return [(kind, db.session.get(model, record_id))]

    return chain


def _comment(record_id):
    comment = db.session.get(Comment, record_id)
    if comment is None:
        return [(None, None)]
    target = kind_for(comment.target_type)
    owner = target.load(comment.target_id) if target is not None else None
    return [("comment", comment)] + ([(comment.target_type, owner)] if target is not None else [])


def _pact_report(record_id):
    report = db.session.get(PactReport, record_id)
    return [("pact_report", report)] + ([("pact", db.session.get(Pact, report.pact_id))] if report is not None else [])


def _registration(record_id):
    registration = db.session.get(EventRegistration, record_id)
    return [(None, registration)] + ([(None, db.session.get(Event, registration.event_id))]
                                     if registration is not None else [])


#: record table -> the rows (with their moderation kind) whose state decides what the receipt shows.
CHAINS = {
    "reports": _itself("report"),
    "proposals": _itself("proposal"),
    "supports": _parent(Support, "proposal_id", "proposal"),
    "proposal_addenda": _parent(ProposalAddendum, "proposal_id", "proposal"),
    "proposal_coauthors": _parent(ProposalCoauthor, "proposal_id", "proposal"),
    "comments": _comment,
    "debates": _itself("debate"),
    "pacts": _itself("pact"),
    "pact_join_requests": _parent(PactJoinRequest, "pact_id", "pact"),
    "pact_signatures": _parent(PactSignature, "pact_id", "pact"),
    "pact_volunteers": _parent(PactVolunteer, "pact_id", "pact"),
    "pact_reports": _pact_report,
    "pact_versions": _parent(PactVersion, "pact_id", "pact"),
    "event_registrations": _registration,
    "users": _itself("user"),
    "flags": lambda record_id: [(None, db.session.get(Flag, record_id))],
}


def _state(kind_name, row):
    if row is None or getattr(row, "deleted_at", None) is not None:
        return Shown.gone
    kind = kind_for(kind_name) if kind_name else None
    if kind is None:
        return Shown.public
    if kind.is_hidden(row):
        return Shown.waiting if holds.is_held(kind_name, row) else Shown.hidden
    return Shown.public if kind.published(row) else Shown.private


def shown_of(record_type, record_id):
    """How much of a record a receipt may show (records the receipt knows nothing about: public)."""
    chain = CHAINS.get(record_type)
    if chain is None:
        return Shown.public
    return max((_state(kind, row) for kind, row in chain(record_id)), key=_RANK.get)


# --- building ----------------------------------------------------------------------------------

def absolute(path):
    """An absolute address for a path of this site, as url_for(..., _external=True) makes them."""
    return urljoin(url_for("main.index", _external=True), path)


def _item(action):
    label = records.action_label(action.action)
    shown = shown_of(action.record_type, action.record_id)
    item = Item(action=action.action, label=label, at=action.created_at, shown=shown)
    if shown in (Shown.hidden, Shown.gone):
        item.notes.append(NOTES[shown])
        return item
    described = records.describe(action.record_type, action.record_id)
    if described is None:
        if action.record_type in records.DESCRIBERS:  # it had a description: it is gone
            item.shown = Shown.gone
            item.notes.append(NOTES[Shown.gone])
        return item
    item.title = described.title
    item.url = absolute(described.url) if described.url else None
    if shown in NOTES:
        item.notes.append(NOTES[shown])
    if action.record_type == "event_registrations":
        registration = db.session.get(EventRegistration, action.record_id)
        if db.session.get(Event, registration.event_id).cancelled_at is not None:
            item.notes.append(_l("The event was cancelled."))
    return item


def claim_of(assisted, viewer):
    """The claim block of a managed account not yet taken over, for whom may read its code, or None
    (see app.assisted.services.receipt_claim_code: who, how long after the session, audited)."""
    citizen = assisted.citizen
    code = services.receipt_claim_code(assisted, viewer)
    if code is None:
        return None
    return Claim(code=code, url=url_for("assisted.claim", code=code, _external=True),
                 expires_at=citizen.claim_expires_at)


def build(assisted, viewer=None):
    """Everything a receipt shows, for the page and the PDF alike (``viewer``: who reads it)."""
    actions = sorted(services.actions_of(assisted), key=lambda a: (a.created_at, a.id))
    items = [_item(a) for a in actions if a.action not in records.MINOR_ACTIONS]
    return Receipt(session=assisted, citizen=assisted.citizen, items=items, claim=claim_of(assisted, viewer))


def receipt_locale(assisted, requested=None):
    """The language to print in: the one asked for, else the person's own, else the page's."""
    if requested in SUPPORTED_LOCALES:
        return requested
    citizen = assisted.citizen
    if citizen is not None and citizen.locale in SUPPORTED_LOCALES:
        return citizen.locale
    return str(get_locale())


# --- QR codes ----------------------------------------------------------------------------------

class QrCodes:
    """QR codes of addresses, each made once per receipt (a paper session repeats one proposal)."""

    def __init__(self):
        self._made = {}

    def _qr(self, url):
        if url not in self._made:
            self._made[url] = segno.make(url, error="m")
        return self._made[url]

    def svg(self, url):
        """Inline <svg> markup: black on white whatever the page's theme, sized by CSS."""
        return Markup(self._qr(url).svg_inline(scale=1, border=2, dark="#000", light="#fff", svgclass="qr-code",
                                               lineclass=None, omitsize=True))

    def png(self, url, scale=8):
        out = io.BytesIO()
        self._qr(url).save(out, kind="png", scale=scale, border=2)
        out.seek(0)
        return out


# --- the PDF -----------------------------------------------------------------------------------

ITEM_QR_MM = 20
CLAIM_QR_MM = 36


class ReceiptDocument(PactDocument):
    """The pact document's A4 page, fonts (DejaVu, or latin-1 Helvetica) and footer, for a receipt."""

    def ensure_room(self, height):
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()


def _pdf_item(doc, qr, item):
    doc.ensure_room(ITEM_QR_MM + 4 if item.url else 14)
    top = doc.get_y()
    text_width = doc.epw - (ITEM_QR_MM + 5 if item.url else 0)
    if item.url:
        doc.image(qr.png(item.url), x=doc.l_margin + doc.epw - ITEM_QR_MM, y=top, w=ITEM_QR_MM, h=ITEM_QR_MM,
                  link=item.url)
    doc.set_font(doc.family, "B", 10)
    doc.multi_cell(text_width, 5, doc.clean(f"{format_time(item.at, 'short')} – {item.label}"),
                   align="L", new_x="LMARGIN", new_y="NEXT")
    if item.title:
        doc.set_font(doc.family, "", 10)
        doc.multi_cell(text_width, 5, doc.clean(item.title), align="L", new_x="LMARGIN", new_y="NEXT")
    for note in item.notes:
        doc.set_font(doc.family, "", 9)
        doc.multi_cell(text_width, 4.5, doc.clean(note), align="L", new_x="LMARGIN", new_y="NEXT")
    if item.url:
        doc.set_font(doc.family, "", 8)
        doc.set_text_color(60, 60, 60)
        doc.multi_cell(text_width, 4, doc.clean(item.url), align="L", new_x="LMARGIN", new_y="NEXT", link=item.url)
        doc.set_text_color(0, 0, 0)
    bottom = max(doc.get_y(), top + (ITEM_QR_MM if item.url else 0))
    doc.set_y(bottom + 1.5)
    doc.set_draw_color(200, 200, 200)
    doc.line(doc.l_margin, doc.get_y(), doc.l_margin + doc.epw, doc.get_y())
    doc.set_draw_color(0, 0, 0)
    doc.ln(2.5)


def _claim_text_height(doc, claim, text_width):
    def height(text, size, line, style=""):
        doc.set_font(doc.family, style, size)
        return doc.multi_cell(text_width, line, doc.clean(text), dry_run=True, output="HEIGHT")

    return (14 + height(claim_instructions(), 10, 5) + 1 + height(claim.url, 9, 4.5) + 1
            + height(claim_expiry(claim), 10, 5, "B") + height(claim_warning(), 9, 4.5))


def _pdf_claim(doc, qr, claim):
    text_width = doc.epw - CLAIM_QR_MM - 6
    # The whole block on one page: the code, how to use it and its QR code belong together.
    doc.ensure_room(12 + max(CLAIM_QR_MM, _claim_text_height(doc, claim, text_width)))
    doc.heading(_("Your claim code"), size=14)
    top = doc.get_y()
    doc.image(qr.png(claim.url), x=doc.l_margin + doc.epw - CLAIM_QR_MM, y=top, w=CLAIM_QR_MM, h=CLAIM_QR_MM,
              link=claim.url)
    doc.set_font("Courier", "B", 22)
    doc.cell(text_width, 12, claim.code, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    doc.set_font(doc.family, "", 10)
    doc.multi_cell(text_width, 5, doc.clean(claim_instructions()), align="L", new_x="LMARGIN", new_y="NEXT")
    doc.ln(1)
    doc.set_font(doc.family, "", 9)
    doc.multi_cell(text_width, 4.5, doc.clean(claim.url), align="L", new_x="LMARGIN", new_y="NEXT", link=claim.url)
    doc.ln(1)
    doc.set_font(doc.family, "B", 10)
    doc.multi_cell(text_width, 5, doc.clean(claim_expiry(claim)), align="L", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(doc.family, "", 9)
    doc.multi_cell(text_width, 4.5, doc.clean(claim_warning()), align="L", new_x="LMARGIN", new_y="NEXT")
    doc.set_y(max(doc.get_y(), top + CLAIM_QR_MM) + 2)


def claim_instructions():
    return _("To use your account on your own, scan the square code or open the address below: the claim "
             "code is already filled in. Then choose an email address and a password.")


def claim_expiry(claim):
    return _("The code works once, until %(date)s.", date=format_date(claim.expires_at, "long"))


def claim_warning():
    return _("Keep this paper safe: whoever has the code can take the account. A Casa del Quartiere can give "
             "you a new code if you lose it.")


def filename(assisted):
    return f"piazza-receipt-{assisted.id}.pdf"


def render_pdf(assisted, locale, *, font_dir=FONT_DIR, viewer=None):
    """The receipt as a PDF (bytes), in ``locale`` (texts, dates and times)."""
    with force_locale(locale):
        receipt = build(assisted, viewer)
        qr = QrCodes()
        house = assisted.house
        doc = ReceiptDocument(_("Receipt of the assisted session n. %(n)d", n=assisted.id), font_dir=font_dir)
        doc.set_title(doc.clean(_("Receipt of your assisted session")))
        doc.set_author(doc.clean(house.name))
        doc.set_creator("Piazza")
        doc.set_lang(locale)
        doc.alias_nb_pages()
        doc.add_page()

        doc.set_font(doc.family, "", 9)
        doc.set_text_color(90, 90, 90)
        doc.cell(0, 5, doc.clean("Piazza – " + _("City of Turin")), new_x="LMARGIN", new_y="NEXT")
        doc.set_text_color(0, 0, 0)
        doc.heading(_("Receipt of your assisted session"), size=17)
        facts = [(_("Casa del Quartiere"), house.name + (f", {house.address}" if house.address else "")),
                 (_("Date"), format_datetime(assisted.opened_at, "medium")),
                 (_("Session"), f"n. {assisted.id}")]
        if receipt.citizen is not None:
            facts.append((_("For"), receipt.citizen.display_name))
        for label, value in facts:
            doc.set_font(doc.family, "B", 10)
            doc.cell(44, 5.5, doc.clean(label))
            doc.set_font(doc.family, "", 10)
            doc.multi_cell(0, 5.5, doc.clean(value), align="L", new_x="LMARGIN", new_y="NEXT")

        doc.heading(_("What was done"))
        if not receipt.items:
            doc.para(_("Nothing was done in this session."))
        for item in receipt.items:
            _pdf_item(doc, qr, item)
        if receipt.claim is not None:
            _pdf_claim(doc, qr, receipt.claim)
        return bytes(doc.output())
