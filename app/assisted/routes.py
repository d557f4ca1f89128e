"""The facilitator's desk (/assist), the session page, the citizen's one-time code and /claim."""
from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_limiter.util import get_remote_address
from wtforms import SelectChoice

from app.assisted import bp, codes, services
from app.assisted.context import SESSION_KEY, real_user
from app.assisted.forms import ClaimForm, CodeForm, DocumentForm, ManagedAccountForm, OpenSessionForm
from app.auth.access import desk_or_admin, facilitator_desk, login_required, public
from app.auth.forms import ButtonForm
from app.extensions import SUPPORTED_LOCALES, db, limiter
from app.http import show_domain_error
from app.models.assisted import AssistedSession, EndReason, SessionKind
from app.models.base import DomainError
from app.models.place import NeighbourhoodHouse
from app.verification.services import DuplicateIdentity


def _me():
    return real_user()


def _desk_key():
    return f"desk:{real_user().get_id()}"


def _open_form(formdata=None):
    form = OpenSessionForm(formdata=formdata, prefix="o")
    houses = services.houses_for(_me())
    form.house.choices = [SelectChoice(0, "—")] + [SelectChoice(h.id, h.name) for h in houses]
    if formdata is None and len(houses) == 1:
        form.house.data = houses[0].id
    return form


def _current_or_redirect():
    assisted = services.open_session_of(_me())
    if assisted is None or session.get(SESSION_KEY) != assisted.id:
        db.session.commit()  # an expiry found here is recorded
        session.pop(SESSION_KEY, None)
        return None
    return assisted


@bp.route("/assist")
@facilitator_desk
def desk():
    """Open a session at one of my houses; my recent sessions."""
    me = _me()
    current = _current_or_redirect()
    recent = db.session.scalars(db.select(AssistedSession).where(AssistedSession.facilitator_id == me.id)
                                .order_by(AssistedSession.id.desc()).limit(10)).all()
    return render_template("assisted/desk.html", form=_open_form(), current=current, recent=recent,
                           houses=services.houses_for(me))


@bp.route("/assist/sessions", methods=["POST"])
@facilitator_desk
def open_session():
    form = _open_form(formdata=request.form)
    if not form.validate_on_submit():
        return render_template("assisted/desk.html", form=form, current=None, recent=[],
                               houses=services.houses_for(_me())), 400
    try:
        assisted = services.open_session(_me(), db.session.get(NeighbourhoodHouse, form.house.data))
    except DomainError as exc:
        show_domain_error(form, exc, default="house")
        return render_template("assisted/desk.html", form=form, current=None, recent=[],
                               houses=services.houses_for(_me())), 400
    db.session.commit()
    session[SESSION_KEY] = assisted.id
    return redirect(url_for("assisted.current"))


def _session_page(assisted, status=200, **forms):
    forms.setdefault("document_form", DocumentForm(prefix="d"))
    forms.setdefault("code_form", CodeForm(prefix="c"))
    forms.setdefault("managed_form", ManagedAccountForm(prefix="m"))
    return render_template("assisted/session.html", assisted=assisted, actions=services.actions_of(assisted),
                           end_form=ButtonForm(), claim_code=_claim_code(assisted), **forms), status


def _claim_code(assisted):
    """Whether the session's receipt will carry a claim code (the page only says so, never shows it)."""
    citizen = assisted.citizen
    return citizen is not None and citizen.is_managed and codes.current_claim_code(citizen) is not None


@bp.route("/assist/session")
@facilitator_desk
def current():
    """The open session: pick or create the citizen, then what to do for them."""
    assisted = _current_or_redirect()
    if assisted is None:
        flash(_("No assisted session is open."), "info")
        return redirect(url_for("assisted.desk"))
    if assisted.kind == SessionKind.paper:
        return redirect(url_for("assisted.paper_session"))
    return _session_page(assisted)


def _open_or_desk():
    assisted = _current_or_redirect()
    if assisted is None:
        flash(_("No assisted session is open: nothing was done."), "error")
    return assisted


@bp.route("/assist/session/document", methods=["POST"])
@facilitator_desk
@limiter.limit(lambda: current_app.config["ASSIST_IDENTIFY_LIMIT"], key_func=_desk_key)
def identify_by_document():
    assisted = _open_or_desk()
    if assisted is None:
        return redirect(url_for("assisted.desk"))
    form = DocumentForm(prefix="d")
    if form.validate_on_submit():
        try:
            services.identify_by_document(assisted, _me(), form.codice_fiscale.data)
        except DomainError as exc:
            show_domain_error(form, exc, default="codice_fiscale")
        else:
            db.session.commit()
            return redirect(url_for("assisted.current"))
    form.codice_fiscale.data = ""  # never render the number back
    return _session_page(db.session.get(AssistedSession, assisted.id), 400, document_form=form)


@bp.route("/assist/session/code", methods=["POST"])
@facilitator_desk
@limiter.limit(lambda: current_app.config["ASSIST_IDENTIFY_LIMIT"], key_func=_desk_key)
def identify_by_code():
    assisted = _open_or_desk()
    if assisted is None:
        return redirect(url_for("assisted.desk"))
    form = CodeForm(prefix="c")
    if form.validate_on_submit():
        try:
            services.identify_by_code(assisted, _me(), form.code.data)
        except DomainError as exc:
            show_domain_error(form, exc, default="code")
        else:
            db.session.commit()
            return redirect(url_for("assisted.current"))
    return _session_page(db.session.get(AssistedSession, assisted.id), 400, code_form=form)


@bp.route("/assist/session/managed", methods=["POST"])
@facilitator_desk
def create_managed():
    assisted = _open_or_desk()
    if assisted is None:
        return redirect(url_for("assisted.desk"))
    form = ManagedAccountForm(prefix="m")
    if form.validate_on_submit():
        try:
            services.create_managed_account(
                assisted, _me(), display_name=form.display_name.data, phone=form.phone.data,
                birth_date=form.birth_date.data, locale=form.locale.data, terms=form.terms.data,
                privacy=form.privacy.data, document_type=form.document_type.data,
                codice_fiscale=form.codice_fiscale.data)
        except DuplicateIdentity as exc:
            db.session.rollback()
            form.codice_fiscale.errors = [exc.message, _("Find their account with “Check the document” instead.")]
        except DomainError as exc:
            show_domain_error(form, exc, default="display_name")
        else:
            db.session.commit()
            flash(_("Account created. Print the consent form for the person to sign."), "success")
            return redirect(url_for("assisted.current"))
    form.codice_fiscale.data = ""
    return _session_page(db.session.get(AssistedSession, assisted.id), 400, managed_form=form)


@bp.route("/assist/session/end", methods=["POST"])
@facilitator_desk
def end():
    """End the open session and show its receipt."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    assisted = _current_or_redirect()
    session.pop(SESSION_KEY, None)
    if assisted is None:
        flash(_("No assisted session is open."), "info")
        return redirect(url_for("assisted.desk"))
    services.end_session(assisted, EndReason.closed)
    db.session.commit()
    if assisted.kind == SessionKind.paper:
        from app.assisted.paper import entries_made

        flash(ngettext("Session ended: %(num)d paper support entered.", "Session ended: %(num)d paper supports entered.",
                       entries_made(assisted)), "success")
        return redirect(url_for("assisted.desk"))
    if assisted.kind == SessionKind.assist and assisted.citizen_id is None:
        flash(_("Session ended. Nobody was helped, so there is no receipt."), "info")
        return redirect(url_for("assisted.desk"))
    return redirect(url_for("assisted.receipt", session_id=assisted.id))


@bp.route("/assist/session/delete-account", methods=["POST"])
@facilitator_desk
def delete_managed():
    """Erase the managed account helped in the open session (its contributions stay, anonymous)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    assisted = _open_or_desk()
    if assisted is None:
        return redirect(url_for("assisted.desk"))
    try:
        services.delete_managed_account(assisted, _me())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("assisted.current"))
    db.session.commit()
    session.pop(SESSION_KEY, None)
    flash(_("The managed account is deleted. Its public contributions stay, attributed to nobody."), "success")
    return redirect(url_for("assisted.desk"))


@bp.route("/assist/sessions/<int:session_id>/receipt")
@desk_or_admin
def receipt(session_id):
    """What was done in a session, for the citizen to take home (print it, or download the PDF)."""
    from app.assisted import receipt as receipts

    assisted = _receipt_session(session_id)
    requested = request.args.get("language")
    with force_locale(requested if requested in SUPPORTED_LOCALES else str(get_locale())):
        built = receipts.build(assisted, _me())
        db.session.commit()  # the audit event of a claim code shown
        return render_template("assisted/receipt.html", assisted=assisted, receipt=built,
                               qr=receipts.QrCodes(), pdf_locale=receipts.receipt_locale(assisted, requested),
                               language_names=receipts.LANGUAGE_NAMES)


@bp.route("/account/assist-code", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"])
def assist_code():
    """A citizen gets a one-time code to show a facilitator, who then acts for them."""
    code = None
    form = ButtonForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if current_user.is_staff:
            flash(_("Staff accounts cannot be helped in an assisted session."), "error")
            return redirect(url_for("assisted.assist_code"))
        code = codes.issue_assist_code(current_user._get_current_object())
        db.session.commit()
    return render_template("assisted/assist_code.html", code=code, form=form,
                           minutes=current_app.config["ASSIST_CODE_MINUTES"])


@bp.route("/claim", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["CLAIM_LIMIT"], methods=["POST"], key_func=get_remote_address)
def claim():
    """Take over a managed account with the claim code from a receipt."""
    if current_user.is_authenticated:
        flash(_("Sign out first: the claim code makes an account of its own yours."), "info")
        return redirect(url_for("main.index"))
    form = ClaimForm(formdata=request.form if request.method == "POST" else None,
                     data={"code": request.args.get("code", "")})
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = services.claim_account(form.code.data, email=form.email.data, password=form.password.data)
        except DomainError as exc:
            show_domain_error(form, exc, default="code")
        else:
            db.session.commit()
            from app.auth.routes import start_session

            start_session(user)
            flash(_("The account is yours. We sent a link to confirm your email address."), "success")
            return redirect(url_for("assisted.contributions"))
        return render_template("assisted/claim.html", form=form), 400
    return render_template("assisted/claim.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/account/contributions")
@login_required
def contributions():
    """What the signed-in person did, with help or not: reports, proposals, supports, comments, pacts."""
    from app.assisted.mine import contributions_of

    return render_template("assisted/contributions.html", items=contributions_of(current_user))


@bp.route("/assist/sessions/<int:session_id>/consent")
@desk_or_admin
def consent(session_id):
    """The printable consent form of a managed account created in this session, to sign on paper."""
    assisted = db.session.get(AssistedSession, session_id)
    if assisted is None or not services.may_see_receipt(_me(), assisted) or assisted.citizen is None \
            or assisted.citizen.managed_at is None:
        abort(404)
    return render_template("assisted/consent.html", assisted=assisted, citizen=assisted.citizen)


def _receipt_session(session_id):
    """The session whose receipt the facilitator may see (theirs, their house's; admins any), else 404."""
    assisted = db.session.get(AssistedSession, session_id)
    if assisted is None or not services.may_see_receipt(_me(), assisted):
        abort(404)
    return assisted


@bp.route("/assist/sessions/<int:session_id>/receipt.pdf")
@desk_or_admin
def receipt_pdf(session_id):
    """The receipt as a PDF, in the person's own language unless another is asked for (?language=)."""
    from app.assisted import receipt as receipts

    assisted = _receipt_session(session_id)
    body = receipts.render_pdf(assisted, receipts.receipt_locale(assisted, request.args.get("language")),
                               viewer=_me())
    db.session.commit()  # the audit event of a claim code shown
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{receipts.filename(assisted)}"',
                             "Cache-Control": "private, no-store"})
