"""The moderators' pages: the queue, a case, decisions, appeals, the word list (see routes.py for the public ones).

One queue for every kind of content (app.moderation.registry). Decisions, appeals and the word
list go through app.moderation.services, which refuses what the rules forbid and writes the audit
events; these views parse the forms, call one service, commit once and redirect.
"""
from dataclasses import dataclass
from math import ceil

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from app.auth.access import roles_required
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import MAX_PAGE, page_arg, safe_next, show_domain_error
from app.labels import FLAG_REASON_LABELS
from app.media.services import photos_of
from app.media.storage import get_storage
from app.models.base import DomainError, NotFound, utcnow
from app.models.moderation import Hold, ModerationAppeal, ModerationCase
from app.models.photo import Photo
from app.models.user import Role, User
from app.moderation import bp, services
from app.moderation.forms import (
    AppealDecisionForm,
    BlockForm,
    BulkForm,
    HideForm,
    RestoreForm,
    WordForm,
    redact_form_class,
    text_field_label,
)
from app.moderation.registry import KINDS, kind_for

PAGE_SIZE = 50

#: The queue's views, as its status filter offers them.
STATUSES = {
    "pending": _l("Waiting for a decision"),
    "held": _l("Held before publication or hidden by flags"),
    "appeals": _l("Appeals to decide"),
    "decided": _l("Decided"),
}

#: Why a pending item is out of sight.
HOLD_LABELS = {
    Hold.flags: _l("Hidden by flags"),
    Hold.new_account: _l("Held: new account"),
    Hold.links: _l("Held: contains a link"),
    Hold.words: _l("Held: listed word"),
}

ACTIONS = ("restore", "hide", "redact", "block")

DONE_MESSAGES = {
    "restore": _l("Restored: the content is shown and the flags are dismissed."),
    "hide": _l("Hidden: the author was sent the statement of reasons."),
    "redact": _l("Redacted: the original text is kept in the audit log only."),
    "block": _l("Account blocked: everything it wrote is hidden and it can no longer sign in."),
}


@dataclass
class Page:
    """One page of the queue, shaped like Flask-SQLAlchemy's pagination (for _macros/pagination.html)."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def next_num(self):
        return self.page + 1


def _filters(status=None, kind=None, reason=None):
    """The queue's filters, unknown values dropped."""
    return {"status": status if status in STATUSES else "pending",
            "kind": kind if kind in KINDS else None,
            "reason": reason if reason in services.FLAG_REASONS else None}


def _queue_url(filters, page=1):
    args = {key: value for key, value in filters.items() if value and not (key == "status" and value == "pending")}
    return url_for("moderation.queue", page=page if page > 1 else None, **args)


def _target(case):
    """(kind, item) of a case; item is None when the content no longer exists."""
    kind = kind_for(case.target_type)
    return kind, (kind.load(case.target_id) if kind is not None else None)


def _title(kind, item, case):
    title = kind.title(item) if kind is not None and item is not None else ""
    return title or f"{kind.label if kind else case.target_type} #{case.target_id}"


def _dashboard(now):
    counts = services.pending_counts()
    oldest = services.oldest_pending()
    return {"counts": counts, "total": sum(counts.values()), "median_hours": services.median_decision_hours(now=now),
            "oldest": oldest, "oldest_age": (now - oldest.opened_at) if oldest is not None else None,
            "appeals": services.queue(status="appeals", limit=0)[1]}


def _render_queue(filters, page, bulk_form, *, status=200, selected=(), paginate=True):
    cases, total = services.queue(status=filters["status"], target_type=filters["kind"], reason=filters["reason"],
                                  limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    if not cases and total and page > 1:  # past the end: show the last page
        page = ceil(total / PAGE_SIZE)
        cases, total = services.queue(status=filters["status"], target_type=filters["kind"],
                                      reason=filters["reason"], limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    details = services.queue_details(cases)
    rows = []
    for case in cases:
        kind, item = _target(case)
        reasons, appealed = details[case.id]
        rows.append({"case": case, "kind": kind, "item": item, "title": _title(kind, item, case),
                     "reasons": reasons, "appeal": appealed})
    now = utcnow()
    bulk_form.status.data, bulk_form.kind.data = filters["status"], filters["kind"] or ""
    bulk_form.flag_reason.data, bulk_form.page.data = filters["reason"] or "", str(page)
    return render_template("moderation/queue.html", rows=rows, pagination=Page(rows, page, PAGE_SIZE, total),
                           paginate=paginate, filters=filters, statuses=STATUSES, kinds=KINDS,
                           flag_reasons=FLAG_REASON_LABELS, hold_labels=HOLD_LABELS, form=bulk_form,
                           selected=set(selected), dashboard=_dashboard(now), now=now,
                           back=_queue_url(filters, page)), status


@bp.route("/moderation")
@roles_required(Role.moderator)
def queue():
    """The moderation queue: every kind of content, pending first, most flagged and oldest first."""
    filters = _filters(request.args.get("status"), request.args.get("kind"), request.args.get("reason"))
    return _render_queue(filters, page_arg(), BulkForm(formdata=None))


def _case_ids(values):
    return list(dict.fromkeys(int(v) for v in values if v.isdigit() and 0 < int(v) < 2**31))[:PAGE_SIZE]


@bp.route("/moderation/bulk", methods=["POST"])
@roles_required(Role.moderator)
def bulk():
    """Restore or hide the checked rows at once; tell what was done and what was refused, and why."""
    form = BulkForm()
    filters = _filters(form.status.data, form.kind.data, form.flag_reason.data)
    page = int(form.page.data) if (form.page.data or "").isdigit() else 1
    page = min(max(page, 1), MAX_PAGE)
    ids = _case_ids(request.form.getlist("case_id"))
    if not ids:
        flash(_("Select at least one item in the list."), "error")
        return redirect(_queue_url(filters, page))
    if form.validate_on_submit():
        try:
            done, refused = services.bulk_decide(ids, current_user, form.action.data, rule=form.rule.data or None,
                                                 reason=form.reason.data)
        except DomainError as exc:
            show_domain_error(form, exc, default="action")
        else:
            db.session.commit()
            flash(ngettext("%(num)d item decided.", "%(num)d items decided.", len(done)), "success")
            for case, message in refused:
                kind, item = _target(case)
                flash(_("Not decided: “%(title)s”: %(why)s", title=_title(kind, item, case), why=message), "error")
            return redirect(_queue_url(filters, page))
    # Shown again where it was, with what was typed and checked; page links would point here, so none.
    return _render_queue(filters, page, form, status=400, selected=ids, paginate=False)


def _case_or_404(case_id):
    case = db.session.get(ModerationCase, case_id)
    if case is None:
        abort(404)
    return case


def _photos(kind, item):
    """The item's photos, removed ones included (a redaction may remove them; a photo's own case hides it)."""
    if item is None or kind.target_type == "photo":
        return []
    return photos_of(kind.target_type, item.id, include_hidden=True)


def _decision_form(action, kind, item, photos, submitted=False):
    """The form of one decision; a fresh one (the redaction prefilled with the current text) unless submitted."""
    formdata = {} if submitted else {"formdata": None}
    if action == "restore":
        return RestoreForm(prefix="restore", **formdata)
    if action == "hide":
        return HideForm(prefix="hide", **formdata)
    if action == "block":
        return BlockForm(prefix="block", **formdata)
    cls = redact_form_class(kind.target_type, kind.text_fields)
    current = {f"text_{name}": getattr(item, name) or "" for name in kind.text_fields} if item is not None else {}
    form = cls(prefix="redact", data=None if submitted else current, **formdata)
    form.remove_photos.choices = [(p.id, _("Photo %(n)d", n=n)) for n, p in enumerate(photos, start=1)]
    return form


def _same_text(a, b):
    """Equal once line endings and outer blanks are alike (browsers send textareas with CRLF)."""
    return (a or "").replace("\r\n", "\n").strip() == (b or "").replace("\r\n", "\n").strip()


def _decision_args(action, form, kind, item):
    args = {"reason": form.reason.data}
    if action != "restore":
        args["rule"] = form.rule.data or None
    if action == "redact":
        args["redactions"] = {}
        for name in kind.text_fields:
            typed = getattr(form, f"text_{name}").data
            if not _same_text(typed, getattr(item, name)):
                args["redactions"][name] = (typed or "").replace("\r\n", "\n")
        args["remove_photo_ids"] = form.remove_photos.data or ()
    return args


def _render_case(case, *, forms=None, appeal_form=None, status=200):
    kind, item = _target(case)
    photos = _photos(kind, item) if kind is not None else []
    forms = dict(forms or {})
    if kind is not None and item is not None:
        for action in ACTIONS:
            forms.setdefault(action, _decision_form(action, kind, item, photos))
    flags = services.flags_of(case.target_type, case.target_id)
    flaggers = {f.user_id: db.session.get(User, f.user_id) for f in flags}
    author = db.session.get(User, case.author_id) if case.author_id else None
    pending = services.pending_appeal(case)
    appeals = {a.decision_id: a for a in services.appeals_of(case.id)}
    shown = [item] if kind is not None and kind.target_type == "photo" and item is not None else photos
    return render_template(
        "moderation/case.html", case=case, kind=kind, item=item, title=_title(kind, item, case),
        item_url=kind.url(item) if kind is not None and item is not None else None,
        fields=[(name, text_field_label(name), getattr(item, name)) for name in kind.text_fields]
        if kind is not None and item is not None else [],
        photos=shown, redactable=photos, flags=flags, flaggers=flaggers, flag_reasons=FLAG_REASON_LABELS, author=author,
        history=services.author_history(case.author_id),
        other_cases=services.other_cases_of(case.author_id, case.id) if case.author_id else [],
        decisions=services.decisions_of(case.id), appeals=appeals, pending_appeal=pending,
        appeal_form=appeal_form or AppealDecisionForm(formdata=None), forms=forms, hold_labels=HOLD_LABELS,
        own=case.author_id is not None and case.author_id == current_user.id,
        next=safe_next(request.values.get("next")) or "", now=utcnow()), status


@bp.route("/moderation/cases/<int:case_id>")
@roles_required(Role.moderator)
def case_detail(case_id):
    """A case: the content, its flags, its author's history, the decisions so far, and the forms to decide."""
    return _render_case(_case_or_404(case_id))


@bp.route("/moderation/cases/<int:case_id>/decide", methods=["POST"])
@roles_required(Role.moderator)
def decide(case_id):
    """Restore, hide, redact or block the author; a refusal goes next to its field, nothing typed lost."""
    case = _case_or_404(case_id)
    action = request.form.get("action")
    if action not in ACTIONS:
        abort(400)
    kind, item = _target(case)
    if item is None:
        abort(404)
    form = _decision_form(action, kind, item, _photos(kind, item), submitted=True)
    if form.validate_on_submit():
        try:
            services.decide(case, current_user, action, **_decision_args(action, form, kind, item))
        except DomainError as exc:
            show_domain_error(form, exc, default="reason",
                              aliases={name: f"text_{name}" for name in kind.text_fields})
        else:
            db.session.commit()
            flash(str(DONE_MESSAGES[action]), "success")
            return redirect(safe_next(request.form.get("next")) or url_for("moderation.queue"))
    return _render_case(db.session.get(ModerationCase, case_id), forms={action: form}, status=400)


@bp.route("/moderation/appeals/<int:appeal_id>/decide", methods=["POST"])
@roles_required(Role.moderator)
def decide_appeal(appeal_id):
    """Uphold or overturn an appealed decision (never by the moderator who took it)."""
    appeal = db.session.get(ModerationAppeal, appeal_id)
    if appeal is None:
        abort(404)
    case_id = appeal.case_id
    form = AppealDecisionForm()
    if form.validate_on_submit():
        try:
            services.decide_appeal(appeal, current_user, form.outcome.data, form.answer.data)
        except DomainError as exc:
            show_domain_error(form, exc, default="answer")
        else:
            db.session.commit()
            flash(_("Appeal decided: the author was told."), "success")
            return redirect(safe_next(request.form.get("next")) or url_for("moderation.queue", status="appeals"))
    return _render_case(db.session.get(ModerationCase, case_id), appeal_form=form, status=400)


@bp.route("/moderation/photos/<int:photo_id>")
@roles_required(Role.moderator)
def photo(photo_id):
    """A photo under review, hidden or not (the public route serves visible ones only): for moderators' eyes."""
    found = db.session.get(Photo, photo_id)
    if found is None:
        abort(404)
    key = found.thumb_key if request.args.get("size") == "thumb" else found.storage_key
    try:
        data = get_storage().open(key)
    except FileNotFoundError:
        abort(404)
    response = make_response(data)
    response.content_type = found.content_type
    response.headers.update({"X-Content-Type-Options": "nosniff", "Content-Disposition": "inline",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "Cache-Control": "private, no-store"})
    return response


@bp.route("/moderation/words", methods=["GET", "POST"])
@roles_required(Role.moderator, Role.admin)
def words():
    """The word list of pre-moderation: contributions containing a listed word wait for a moderator."""
    form = WordForm()
    if form.validate_on_submit():
        try:
            row = services.add_word(current_user, form.word.data)
        except DomainError as exc:
            show_domain_error(form, exc, default="word")
        else:
            db.session.commit()
            flash(_("“%(word)s” added to the list.", word=row.word), "success")
            return redirect(url_for("moderation.words"))
    return render_template("moderation/words.html", form=form, words=services.words()), 400 if form.errors else 200


@bp.route("/moderation/words/<int:word_id>/delete", methods=["POST"])
@roles_required(Role.moderator, Role.admin)
def delete_word(word_id):
    """Take a word off the list (contributions already held stay in the queue)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.remove_word(current_user, word_id)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("Word removed from the list."), "success")
    return redirect(url_for("moderation.words"))
