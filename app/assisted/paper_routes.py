"""Paper sessions at the desk: open one for a proposal (/assist/paper), then enter the sheets one line at a time."""
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.assisted import bp, paper, services
from app.assisted.context import SESSION_KEY, current_session, real_user
from app.assisted.paper_forms import OpenPaperForm, PaperEntryForm
from app.auth.access import facilitator_desk
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import show_domain_error
from app.labels import supports_text
from app.models.assisted import AssistedSession, SessionKind
from app.models.base import DomainError
from app.models.place import NeighbourhoodHouse
from app.models.proposal import Proposal
from app.verification.services import DocumentType, DuplicateIdentity

#: The public line on a proposal's page: supports entered from paper, per house.
bp.add_app_template_global(paper.paper_supports_by_house, "paper_supports_by_house")


def _open_form(houses, formdata=None):
    form = OpenPaperForm(formdata=formdata, prefix="p")
    form.house.choices = [SelectChoice(0, "—")] + [SelectChoice(h.id, h.name) for h in houses]
    several = len(houses) > 1
    form.event.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(e.id, (f"{e.house.name} · " if several else "") + f"{e.starts_at:%d/%m/%Y} · {e.title}")
        for e in paper.events_for(houses)]
    if formdata is None:
        if len(houses) == 1:
            form.house.data = houses[0].id
        form.proposal.data = request.args.get("proposal", type=int)
    return form


def _open_page(form, houses, status=200):
    query = request.args.get("q", "").strip()
    found = paper.collecting_proposals(query) if "q" in request.args else None
    chosen = None
    if form.proposal.data:
        chosen = db.session.get(Proposal, form.proposal.data)
        chosen = chosen if chosen is not None and chosen.is_public else None
    return render_template("assisted/paper_open.html", form=form, houses=houses, query=query, found=found,
                           chosen=chosen), status


@bp.route("/assist/paper")
@facilitator_desk
def paper_open():
    """Choose the house, the proposal (by number, or a short search by title) and the event of the sheets."""
    houses = services.houses_for(real_user())
    return _open_page(_open_form(houses), houses)


@bp.route("/assist/paper", methods=["POST"])
@facilitator_desk
def paper_start():
    """Open a session to enter the paper supports of one proposal."""
    houses = services.houses_for(real_user())
    form = _open_form(houses, formdata=request.form)
    if not form.validate_on_submit():
        return _open_page(form, houses, 400)
    try:
        assisted = paper.open_paper_session(real_user(), db.session.get(NeighbourhoodHouse, form.house.data),
                                            form.proposal.data, form.event.data or None)
    except DomainError as exc:
        show_domain_error(form, exc, default="proposal")
        return _open_page(form, houses, 400)
    db.session.commit()
    session[SESSION_KEY] = assisted.id
    return redirect(url_for("assisted.paper_session"))


def _paper_session():
    """The open paper session of this request (found and touched by the before_request hook), or None."""
    assisted = current_session()
    if assisted is None or assisted.kind != SessionKind.paper or assisted.facilitator_id != real_user().id:
        return None
    return assisted


def _entry_page(assisted, form, status=200):
    form.codice_fiscale.data = ""  # never render the number back, whatever happened
    if form.errors:  # the error summary takes the focus, not the first field
        form.name.render_kw = {k: v for k, v in (form.name.render_kw or {}).items() if k != "autofocus"}
    proposal, event = paper.session_facts(assisted)
    return render_template("assisted/paper_session.html", assisted=assisted, form=form, proposal=proposal,
                           event=event, entries=paper.entries_of(assisted), end_form=ButtonForm()), status


@bp.route("/assist/paper/session")
@facilitator_desk
def paper_session():
    """The entry page of the open paper session: one sheet line at a time, and what was entered."""
    assisted = _paper_session()
    if assisted is None:
        flash(_("No session for paper supports is open."), "info")
        return redirect(url_for("assisted.paper_open"))
    form = PaperEntryForm(formdata=None, prefix="e")
    form.signed_on.data = request.args.get("on", type=_date) or paper.default_signed_on(assisted)
    form.document_type.data = request.args.get("doc", type=_document) or ""
    return _entry_page(assisted, form)


def _date(value):
    from datetime import date

    return date.fromisoformat(value)


def _document(value):
    return DocumentType(value).value


@bp.route("/assist/paper/session/entries", methods=["POST"])
@facilitator_desk
def paper_entry():
    """Count one paper signature; a refused line is rolled back whole and shown with its reason."""
    assisted = _paper_session()
    if assisted is None:
        flash(_("No session for paper supports is open: nothing was entered."), "error")
        return redirect(url_for("assisted.paper_open"))
    form = PaperEntryForm(prefix="e")
    if not form.validate_on_submit():
        return _entry_page(assisted, form, 400)
    try:
        result = paper.enter_paper_support(
            assisted, real_user(), name=form.name.data, codice_fiscale=form.codice_fiscale.data,
            document_type=form.document_type.data, birth_date=form.birth_date.data, signed_on=form.signed_on.data,
            sheet_checked=form.sheet_checked.data)
    except DuplicateIdentity:
        db.session.rollback()  # someone verified this person at the same moment: the next try finds them
        form.codice_fiscale.errors = [_("This person was entered elsewhere at the same moment: type the line "
                                        "again to count them.")]
        return _entry_page(db.session.get(AssistedSession, assisted.id), form, 409)
    except DomainError as exc:
        show_domain_error(form, exc, default="name")
        assisted = db.session.get(AssistedSession, assisted.id)
        paper.record_refusal(assisted, real_user(), exc)
        db.session.commit()
        return _entry_page(assisted, form, exc.status if exc.status == 409 else 400)
    db.session.commit()
    message = _("Counted for %(name)s: the proposal has %(supports)s.", name=paper.mask(form.name.data),
                supports=supports_text(result.count, db.session.get(Proposal, assisted.proposal_id)
                                       .process.support_threshold))
    if result.new_account:
        message += " " + _("A managed account was created, verified at this house.")
    if result.crossed:
        message += " " + _("This support reached the threshold: the City must now review the proposal.")
    flash(message, "success")
    return redirect(url_for("assisted.paper_session", on=form.signed_on.data.isoformat(),
                            doc=form.document_type.data))
