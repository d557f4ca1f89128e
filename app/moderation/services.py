"""Moderation rules: flags that hide, decisions with reasons, appeals to another moderator, blocks, holds.

Everything here runs in the caller's transaction (the caller commits). Every decision writes an
audit event; a redaction's original text lives in that event only.
"""
import re
import statistics
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record as audit_record
from app.extensions import db
from app.locking import lock_row
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.moderation import (
    Action,
    AppealStatus,
    CaseStatus,
    Hold,
    ModerationAppeal,
    ModerationCase,
    ModerationDecision,
    ModerationWord,
)
from app.models.report import Flag
from app.models.user import Role, User, UserRole
from app.moderation.holds import PRE_MODERATION
from app.moderation.registry import KINDS, kind_for
from app.moderation.rules import RULES
from app.notifications import services as notifications

FLAG_REASONS = ("spam", "offensive", "personal_data", "off_topic", "illegal", "other")

notifications.register_kind(
    "moderation.auto_hidden",
    _l("Your %(kind)s “%(title)s” was flagged by several people and is hidden until a moderator looks at it."))
notifications.register_kind(
    "moderation.held", _l("Your %(kind)s “%(title)s” will be published once a moderator has looked at it."))
notifications.register_kind(
    "moderation.decided", _l("Moderation decision on your %(kind)s “%(title)s”: read the statement of reasons."))
notifications.register_kind(
    "moderation.restored", _l("Your %(kind)s “%(title)s” is shown again: a moderator found no problem."))
notifications.register_kind(
    "moderation.appeal_decided", _l("Your appeal on your %(kind)s “%(title)s” was decided: read the answer."))

#: A link in a contribution (pre-moderation can hold those).
LINK = re.compile(r"(https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|info|it|ru|xyz|io|biz)\b", re.IGNORECASE)


def _config(name):
    return current_app.config[name]


def is_moderator(user):
    return user is not None and getattr(user, "is_authenticated", False) and user.has_role(Role.moderator)


def _require_moderator(user):
    if not is_moderator(user):
        raise PermissionDenied(_("Only moderators can do this."))


def _kind(target_type):
    kind = kind_for(target_type)
    if kind is None:
        raise NotFound(_("This kind of content cannot be flagged."))
    return kind


def _item(kind, target_id):
    item = kind.load(target_id)
    if item is None:
        raise NotFound(_("This content does not exist."))
    return item


def case_for(target_type, target_id):
    return db.session.scalar(select(ModerationCase).where(ModerationCase.target_type == target_type,
                                                          ModerationCase.target_id == target_id))


def _open_case(kind, item, now):
    """The item's case, created (pending) if it has none."""
    case = case_for(kind.target_type, item.id)
    if case is None:
        # Two first flags at once both try to open the case: the second one reads the first's.
        try:
            with db.session.begin_nested():
                case = ModerationCase(target_type=kind.target_type, target_id=item.id,
                                      author_id=kind.author_id(item), status=CaseStatus.pending, opened_at=now,
                                      flag_count=0)
                db.session.add(case)
        except IntegrityError:
            case = case_for(kind.target_type, item.id)
    return case


def _notify_author(kind, item, case, note_kind, url=None):
    author = db.session.get(User, case.author_id) if case.author_id else None
    if author is None:
        return
    title = kind.subject_of(item)
    notifications.notify([author], note_kind, {"kind": str(kind.label), "title": title[:80]}, url=url)


def _set_hidden(kind, item, hidden, now):
    if kind.hidden_attr is None:
        return
    current = getattr(item, kind.hidden_attr)
    if hidden and current is None:
        setattr(item, kind.hidden_attr, now)
    elif not hidden and current is not None:
        setattr(item, kind.hidden_attr, None)
    else:
        return
    if kind.changed is not None:
        db.session.flush()
        kind.changed(item)


# --- flags ----------------------------------------------------------------------------------

def flag(user, target_type, target_id, reason, text=None, now=None):
    """Someone signed in says an item breaks the rules: one flag per person per item (a second one updates it).

    When the distinct flags since the last decision reach MODERATION_HIDE_THRESHOLD, the item is
    hidden pending review and its author is told.
    """
    now = now or utcnow()
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to flag content."))
    if reason not in FLAG_REASONS:
        raise DomainError(_("Choose a reason."), field="reason")
    text = (text or "").strip() or None
    if reason == "other" and not text:
        raise DomainError(_("Tell the moderators what is wrong."), field="text")
    if text and len(text) > 1000:
        raise DomainError(_("Keep it under 1000 characters."), field="text")
    kind = _kind(target_type)
    item = _item(kind, target_id)
    # Hidden or held items are out of sight: flagging them would only tell that they exist, or push a
    # settled case back into the queue.
    if not kind.published(item) or kind.is_hidden(item):
        raise NotFound(_("This content does not exist."))
    if kind.author_id(item) == user.id:
        raise DomainError(_("You cannot flag your own contribution: edit or delete it instead."))

    def earlier():
        return db.session.scalar(select(Flag).where(Flag.target_type == target_type, Flag.target_id == item.id,
                                                    Flag.user_id == user.id))

    existing = earlier()
    if existing is not None:
        existing.reason, existing.text = reason, text
        return existing
    new = Flag(target_type=target_type, target_id=item.id, user_id=user.id, reason=reason, text=text,
               created_at=now)
    try:
        with db.session.begin_nested():  # a double submit: the unique constraint keeps one flag
            db.session.add(new)
    except IntegrityError:
        existing = earlier()
        existing.reason, existing.text = reason, text
        return existing
    case = _open_case(kind, item, now)
    case = lock_row(ModerationCase, case.id)
    since = case.decided_at
    query = select(func.count(Flag.id)).where(Flag.target_type == target_type, Flag.target_id == item.id)
    if since is not None:
        query = query.where(Flag.created_at > since)
    case.flag_count = db.session.scalar(query)
    if case.status == CaseStatus.decided:
        case.status, case.opened_at = CaseStatus.pending, now
    threshold = _config("MODERATION_HIDE_THRESHOLD")
    if (threshold and case.flag_count >= threshold and kind.hidden_attr is not None
            and not kind.is_hidden(item)):
        _set_hidden(kind, item, True, now)
        case.hold = Hold.flags
        audit_record("moderation.auto_hidden", target_type=target_type, target_id=item.id,
                     details={"flags": case.flag_count, "threshold": threshold})
        _notify_author(kind, item, case, "moderation.auto_hidden")
    return new


def flags_of(target_type, target_id):
    return db.session.scalars(select(Flag).where(Flag.target_type == target_type, Flag.target_id == target_id)
                              .order_by(Flag.created_at.desc(), Flag.id.desc())).all()


# --- pre-moderation ---------------------------------------------------------------------------

def words():
    return db.session.scalars(select(ModerationWord).order_by(ModerationWord.word)).all()


def add_word(admin, word):
    if admin is None or not admin.has_role(Role.admin, Role.moderator):
        raise PermissionDenied(_("Only moderators and administrators can edit the word list."))
    word = " ".join((word or "").split()).lower()
    if not word:
        raise DomainError(_("Write a word or a phrase."), field="word")
    if len(word) > 80:
        raise DomainError(_("Keep it under 80 characters."), field="word")
    if db.session.scalar(select(ModerationWord.id).where(ModerationWord.word == word)) is not None:
        raise DomainError(_("This word is already on the list."), field="word")
    row = ModerationWord(word=word, created_by_id=admin.id)
    db.session.add(row)
    db.session.flush()
    audit_record("moderation.word_added", actor=admin, target=row, details={"word": word})
    return row


def remove_word(admin, word_id):
    if admin is None or not admin.has_role(Role.admin, Role.moderator):
        raise PermissionDenied(_("Only moderators and administrators can edit the word list."))
    row = db.session.get(ModerationWord, word_id)
    if row is None:
        raise NotFound(_("This word is not on the list."))
    audit_record("moderation.word_removed", actor=admin, target=row, details={"word": row.word})
    db.session.delete(row)


def _matches_word(text):
    lowered = text.lower()
    for row in words():
        if re.search(r"(?<!\w)" + re.escape(row.word) + r"(?!\w)", lowered):
            return row.word
    return None


def _prior_contributions(user):
    """How many contributions the user made before (every moderatable kind with an author)."""
    total = 0
    for kind in KINDS.values():
        if kind.target_type in ("user", "photo", "document"):
            continue
        column = getattr(kind.model, kind.author_attr)
        total += db.session.scalar(select(func.count()).select_from(kind.model).where(column == user.id)) or 0
    return total


#: target_type -> callbacks(item) run when a moderator publishes a held contribution: what publishing
#: it would have done at once (telling the people mentioned in a comment, the followers...).
ON_RELEASE = {}


def on_release(target_type, callback):
    """Run ``callback(item)`` when a held item of ``target_type`` is published by a moderator."""
    ON_RELEASE.setdefault(target_type, []).append(callback)


def screen(target_type, item, author, now=None):
    """Hold a new contribution for review when pre-moderation says so; return the Hold or None.

    Called by the feature services right after they add (and flush) a contribution. Staff are
    never held. The held item is hidden and waits in the queue; its author is told.
    """
    now = now or utcnow()
    kind = _kind(target_type)
    if author is None or kind.hidden_attr is None or author.is_staff:
        return None
    text = kind.text(item)
    hold = None
    if _matches_word(text):
        hold = Hold.words
    elif _config("MODERATION_HOLD_LINKS") and LINK.search(text):
        hold = Hold.links
    else:
        first_n = _config("MODERATION_HOLD_FIRST")
        # The new item is already flushed, so it counts among the user's contributions.
        if first_n and _prior_contributions(author) <= first_n:
            hold = Hold.new_account
    if hold is None:
        return None
    _set_hidden(kind, item, True, now)
    case = _open_case(kind, item, now)
    case.status, case.hold, case.opened_at = CaseStatus.pending, hold, now
    audit_record("moderation.held", target_type=target_type, target_id=item.id, details={"hold": hold.value})
    # Its author may open it meanwhile (app.moderation.holds): the notification links to it.
    _notify_author(kind, item, case, "moderation.held", url=kind.url(item))
    return hold


# --- decisions ------------------------------------------------------------------------------

def _check_rule(rule, reason, *, required):
    reason = (reason or "").strip()
    if required and rule not in RULES:
        raise DomainError(_("Choose the rule that was broken."), field="rule")
    if required and not reason:
        raise DomainError(_("Explain the decision: the author will read it."), field="reason")
    if len(reason) > 2000:
        raise DomainError(_("Keep it under 2000 characters."), field="reason")
    return rule if rule in RULES else None, reason or None


def _record(case, moderator, action, rule, reason, now, *, bulk=False, appeal=None):
    decision = ModerationDecision(case_id=case.id, moderator_id=moderator.id, action=action, rule=rule,
                                  reason=reason, bulk=bulk, appeal_id=appeal.id if appeal else None, created_at=now)
    db.session.add(decision)
    db.session.flush()
    case.status, case.decided_at, case.last_decision_id, case.hold, case.flag_count = (
        CaseStatus.decided, now, decision.id, None, 0)
    return decision


def _statement_url(decision):
    from app.http import path_for

    return path_for("moderation.statement", decision_id=decision.id)


def decide(case, moderator, action, *, rule=None, reason=None, redactions=None, remove_photo_ids=(), now=None,
           bulk=False):
    """A moderator decides on a case: restore, hide, redact or block the author.

    ``redactions`` maps text fields to their new text (redact); ``remove_photo_ids`` names
    photos of the item to remove. Moderators never decide on their own content.
    """
    now = now or utcnow()
    _require_moderator(moderator)
    action = Action(action)
    case = lock_row(ModerationCase, case.id)
    kind = _kind(case.target_type)
    item = _item(kind, case.target_id)
    if case.author_id is not None and case.author_id == moderator.id:
        raise PermissionDenied(_("You cannot decide on your own content: another moderator will."))
    if pending_appeal(case) is not None:
        raise IllegalTransition(_("The author appealed the last decision: decide the appeal instead."))
    last = case.last_decision
    if case.status == CaseStatus.decided and last is not None and last.appeal_id is not None:
        raise IllegalTransition(_("An appeal settled this case: it opens again only if new flags arrive."))
    if action in (Action.restore, Action.redact):
        _refuse_if_author_blocked(case)
    if action == Action.block:
        author = db.session.get(User, case.author_id) if case.author_id else None
        if author is None:
            raise DomainError(_("This content has no author to block."))
        return block_user(author, moderator, rule=rule, reason=reason, now=now, case=case)
    rule, reason = _check_rule(rule, reason, required=action != Action.restore)
    details = {"action": action.value, "rule": rule, "flags": case.flag_count}
    held = case.status == CaseStatus.pending and case.hold in PRE_MODERATION
    if action == Action.restore:
        _set_hidden(kind, item, False, now)
    elif action == Action.hide:
        if kind.hidden_attr is None:
            raise DomainError(_("A profile cannot be hidden: redact it or block the account."))
        _set_hidden(kind, item, True, now)
    elif action == Action.redact:
        details["original"] = _redact(kind, item, redactions or {}, remove_photo_ids, now)
        _set_hidden(kind, item, False, now)
    decision = _record(case, moderator, action, rule, reason, now, bulk=bulk)
    audit_record(f"moderation.{action.value}", actor=moderator, target_type=case.target_type,
                 target_id=case.target_id, reason=reason, details=details)
    if held and not kind.is_hidden(item):
        for callback in ON_RELEASE.get(case.target_type, ()):
            callback(item)
    if action == Action.restore:
        _notify_author(kind, item, case, "moderation.restored", url=kind.url(item))
    else:
        _notify_author(kind, item, case, "moderation.decided", url=_statement_url(decision))
    return decision


def _refuse_if_author_blocked(case):
    """A blocked author's content stays hidden: unblock the account first (an administrator's decision)."""
    author = db.session.get(User, case.author_id) if case.author_id else None
    if author is not None and author.is_blocked:
        raise IllegalTransition(_("The author's account is blocked: their content stays hidden."))


def _redact(kind, item, redactions, remove_photo_ids, now):
    """Apply a redaction; return what was there before (for the audit log only)."""
    from app.models.photo import Photo

    original = {}
    for name, new_text in redactions.items():
        if name not in kind.text_fields:
            raise DomainError(_("This part of the content cannot be edited."), field=name)
        new_text = (new_text or "").strip()
        old = getattr(item, name) or ""
        if new_text == old.strip():
            continue
        if not new_text and name in ("title", "display_name", "body", "description"):
            new_text = _("[removed by moderation]")
        original[name] = old
        setattr(item, name, new_text)
    wanted = {int(i) for i in remove_photo_ids or ()}
    if wanted:
        photos = db.session.scalars(select(Photo).where(Photo.id.in_(wanted), Photo.owner_type == kind.target_type,
                                                        Photo.owner_id == item.id)).all()
        for photo in photos:
            if photo.hidden_at is None:
                photo.hidden_at = now
                original.setdefault("photos", []).append(photo.id)
    if not original:
        raise DomainError(_("Change the text or choose a photo to remove: nothing was redacted."), field="reason")
    if "title" in original:
        _rename_in_notifications(kind, item, original["title"], kind.subject_of(item))
    if kind.target_type == "pact":
        _redact_pact_versions(item, original)
    return original


def _redact_pact_versions(pact, original):
    """The pact's versioned texts quote its proposal: edit the passage out of every version not yet approved.

    The approved text is signed (its SHA-256 is public): it cannot change; the audit event says
    when it still holds the passage, so that the office can amend the pact.
    """
    versions = {}
    for name, old in original.items():
        if name == "photos" or not old:
            continue
        new = getattr(pact, name) or ""
        for version in pact.versions:
            if old in (version.text or ""):
                if version.number == pact.approved_version_number:
                    original.setdefault("approved_text_keeps", []).append(name)
                    continue
                versions.setdefault(version.number, version.text)
                version.text = version.text.replace(old, new)
    if versions:
        original["versions"] = versions


def _rename_in_notifications(kind, item, old_title, new_title):
    """Notifications quote an item's title: after a redaction they quote the new one (the audit log alone keeps it).

    Only this item's notifications: those linking to its page (followers', reviewers') and the
    moderation notices to its author. E-mails already sent are out of reach.
    """
    from app.models.messaging import Notification

    old = (old_title or "")[:80]
    if not old:
        return
    url = kind.url(item)
    mine = (Notification.user_id == kind.author_id(item)) & Notification.kind.like("moderation.%")
    query = select(Notification).where(or_(Notification.url.like(f"{url}%"), mine) if url else mine)
    created = getattr(item, "created_at", None)
    if created is not None:
        query = query.where(Notification.created_at >= created)
    for note in db.session.scalars(query):
        params = note.params or {}
        if params.get("title") == old:
            note.params = {**params, "title": new_title[:80]}


def block_user(user, moderator, *, rule=None, reason=None, now=None, case=None):
    """Block an account: every contribution hidden, roles removed, sessions ended, login refused."""
    now = now or utcnow()
    _require_moderator(moderator)
    if user.id == moderator.id:
        raise PermissionDenied(_("You cannot block yourself."))
    if user.has_role(Role.admin):
        raise PermissionDenied(_("An administrator cannot be blocked by a moderator."))
    if user.is_blocked:
        raise IllegalTransition(_("This account is already blocked."))
    rule, reason = _check_rule(rule, reason, required=True)
    user = lock_row(User, user.id)
    removed = sorted(r.value for r in user.roles if r != Role.citizen)
    for row in list(user.role_rows):
        if row.role != Role.citizen:
            user.role_rows.remove(row)
    user.is_blocked, user.blocked_at, user.block_reason = True, now, reason
    user.session_version = (user.session_version or 1) + 1
    if case is None:
        profile = kind_for("user")
        case = _open_case(profile, user, now)
    decision = _record(case, moderator, Action.block, rule, reason, now)
    hidden = _hide_everything_of(user, moderator, decision, now)
    if user.email:
        # Not a notification: a blocked account cannot sign in to read it.
        from app.mail.services import queue_email

        queue_email(user.email, "account_blocked", kind="moderation.block", user=user, reason=reason,
                    rule=rule, contact=_config("MODERATION_CONTACT_EMAIL"), days=_config("MODERATION_APPEAL_DAYS"))
    audit_record("moderation.block", actor=moderator, target=user, reason=reason,
                 details={"rule": rule, "roles_removed": removed, "hidden": hidden, "case": case.id})
    return decision


def _hide_everything_of(user, moderator, decision, now):
    """Hide every visible contribution of a blocked author, each with a case pointing at the block."""
    hidden = {}
    for kind in KINDS.values():
        if kind.hidden_attr is None or not kind.hide_on_block:
            continue
        author = getattr(kind.model, kind.author_attr)
        column = getattr(kind.model, kind.hidden_attr)
        items = db.session.scalars(select(kind.model).where(author == user.id, column.is_(None))).all()
        for item in items:
            _set_hidden(kind, item, True, now)
            case = _open_case(kind, item, now)
            if case.id != decision.case_id:
                case.status, case.decided_at, case.last_decision_id, case.hold = (
                    CaseStatus.decided, now, decision.id, None)
        if items:
            hidden[kind.target_type] = len(items)
    return hidden


def bulk_decide(case_ids, moderator, action, *, rule=None, reason=None, now=None):
    """The same decision on several cases; a case that refuses (own content...) is skipped and reported."""
    now = now or utcnow()
    action = Action(action)
    if action not in (Action.restore, Action.hide):
        raise DomainError(_("Only restore and hide can be applied to several items at once."), field="action")
    # The rule and the reason are the same for every case: refuse them once, before any case.
    _check_rule(rule, reason, required=action != Action.restore)
    done, refused = [], []
    for case_id in case_ids:
        case = db.session.get(ModerationCase, int(case_id))
        if case is None:
            continue
        try:
            with db.session.begin_nested():
                done.append(decide(case, moderator, action, rule=rule, reason=reason, now=now, bulk=True))
        except DomainError as exc:  # own content, an appeal pending, a profile that cannot be hidden...
            refused.append((case, exc.message))
    return done, refused


# --- appeals --------------------------------------------------------------------------------

def appeal_deadline(decision):
    return decision.created_at + timedelta(days=_config("MODERATION_APPEAL_DAYS"))


def can_appeal(decision, user, now=None):
    now = now or utcnow()
    return (user is not None and getattr(user, "is_authenticated", False)
            and decision.case.author_id == user.id
            and decision.action in (Action.hide, Action.redact) and decision.appeal_id is None
            and decision.case.last_decision_id == decision.id
            and appeal_of(decision) is None and now <= appeal_deadline(decision))


def appeal_of(decision):
    return db.session.scalar(select(ModerationAppeal).where(ModerationAppeal.decision_id == decision.id))


def appeal(decision, user, text, now=None):
    """The author asks for a second look, once per decision and within the appeal window."""
    now = now or utcnow()
    if user is None or decision.case.author_id != user.id:
        raise PermissionDenied(_("Only the author can appeal this decision."))
    if decision.action not in (Action.hide, Action.redact):
        raise IllegalTransition(_("This decision cannot be appealed."))
    if decision.appeal_id is not None:
        raise IllegalTransition(_("This decision answers an appeal: it is final."))
    if appeal_of(decision) is not None:
        raise IllegalTransition(_("You have already appealed this decision."))
    if decision.case.last_decision_id != decision.id:
        raise IllegalTransition(_("A later decision replaced this one."))
    if now > appeal_deadline(decision):
        raise IllegalTransition(_("The %(days)s days to appeal are over.", days=_config("MODERATION_APPEAL_DAYS")))
    text = (text or "").strip()
    if len(text) < 10:
        raise DomainError(_("Explain in a few words why the decision is wrong."), field="text")
    if len(text) > 2000:
        raise DomainError(_("Keep it under 2000 characters."), field="text")
    row = ModerationAppeal(decision_id=decision.id, case_id=decision.case_id, author_id=user.id, text=text,
                           created_at=now)
    try:
        with db.session.begin_nested():  # a double submit: one appeal per decision
            db.session.add(row)
    except IntegrityError:
        raise IllegalTransition(_("You have already appealed this decision.")) from None
    case = lock_row(ModerationCase, decision.case_id)
    case.status, case.opened_at = CaseStatus.pending, now
    audit_record("moderation.appealed", actor=user, target=row, details={"decision": decision.id})
    return row


def pending_appeal(case):
    return db.session.scalar(select(ModerationAppeal).where(ModerationAppeal.case_id == case.id,
                                                            ModerationAppeal.status == AppealStatus.pending))


def decide_appeal(appeal_row, moderator, outcome, answer, now=None):
    """Another moderator upholds or overturns a decision; the author is told why."""
    now = now or utcnow()
    _require_moderator(moderator)
    appeal_row = lock_row(ModerationAppeal, appeal_row.id)
    if appeal_row.status != AppealStatus.pending:
        raise IllegalTransition(_("This appeal was already decided."))
    decision = appeal_row.decision
    took_part = db.session.scalar(select(ModerationDecision.id).where(
        ModerationDecision.case_id == appeal_row.case_id, ModerationDecision.moderator_id == moderator.id).limit(1))
    if decision.moderator_id == moderator.id or took_part is not None:
        raise PermissionDenied(_("You took the decision under appeal: another moderator must decide the appeal."))
    if appeal_row.author_id == moderator.id:
        raise PermissionDenied(_("You cannot decide your own appeal."))
    outcome = AppealStatus(outcome)
    if outcome == AppealStatus.pending:
        raise DomainError(_("Uphold or overturn the decision."), field="outcome")
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_("Explain the outcome: the author will read it."), field="answer")
    case = lock_row(ModerationCase, appeal_row.case_id)
    kind = _kind(case.target_type)
    item = _item(kind, case.target_id)
    details = {"appeal": appeal_row.id, "decision": decision.id, "outcome": outcome.value}
    if outcome == AppealStatus.overturned:
        _refuse_if_author_blocked(case)
        if decision.action == Action.redact:
            _undo_redaction(kind, item, decision)
        _set_hidden(kind, item, False, now)
        new = _record(case, moderator, Action.restore, None, answer, now, appeal=appeal_row)
    else:
        new = _record(case, moderator, decision.action, decision.rule, answer, now, appeal=appeal_row)
    appeal_row.status, appeal_row.decided_at, appeal_row.decided_by_id, appeal_row.answer = (
        outcome, now, moderator.id, answer)
    audit_record(f"moderation.appeal_{outcome.value}", actor=moderator, target=appeal_row, reason=answer,
                 details=details)
    _notify_author(kind, item, case, "moderation.appeal_decided", url=_statement_url(decision))
    return new


def _undo_redaction(kind, item, decision):
    """Put the redacted text back from the audit log, the only place that kept it."""
    from app.models.audit import AuditEvent
    from app.models.photo import Photo

    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "moderation.redact", AuditEvent.target_type == decision.case.target_type,
        AuditEvent.target_id == decision.case.target_id, AuditEvent.created_at >= decision.created_at)
        .order_by(AuditEvent.seq.asc()))
    original = dict((event.details or {}).get("original") or {}) if event else {}
    original.pop("approved_text_keeps", None)
    old_versions = {int(n): text for n, text in (original.pop("versions", None) or {}).items()}
    for version in getattr(item, "versions", None) or ():
        if version.number in old_versions:
            version.text = old_versions[version.number]
    for photo_id in original.pop("photos", []):
        photo = db.session.get(Photo, photo_id)
        if photo is not None:
            photo.hidden_at = None
    for name, text in original.items():
        if name in kind.text_fields:
            setattr(item, name, text)


# --- reading: placeholders, statements, the queue ---------------------------------------------

def hidden_notice(target_type, item):
    """For a hidden item: (date, reason, rule) the public placeholder shows; None if it is shown.

    ``pending`` says a moderator has yet to look; ``held`` that pre-moderation holds a contribution
    that was never published (its page stays a 404 for all but its author).
    """
    kind = kind_for(target_type)
    if kind is None or not kind.is_hidden(item):
        return None
    case = case_for(target_type, item.id)
    decision = case.last_decision if case is not None else None
    if case is not None and case.status == CaseStatus.pending and case.hold is not None:
        pending = {Hold.flags: _("flagged by several people, waiting for a moderator"),
                   Hold.new_account: _("waiting for a moderator's approval"),
                   Hold.links: _("waiting for a moderator's approval"),
                   Hold.words: _("waiting for a moderator's approval")}[case.hold]
        return {"date": getattr(item, kind.hidden_attr), "reason": pending, "rule": None, "pending": True,
                "held": case.hold in PRE_MODERATION}
    if decision is not None and decision.action == Action.block:
        # The justification of a block is for the account holder (it went to them by e-mail); the public
        # reads that the author was blocked, under which rule.
        return {"date": decision.created_at, "reason": _("its author's account was blocked"),
                "rule": decision.rule, "pending": False, "held": False}
    if decision is not None and decision.action == Action.hide:
        return {"date": decision.created_at, "reason": decision.reason, "rule": decision.rule, "pending": False,
                "held": False}
    return {"date": getattr(item, kind.hidden_attr), "reason": None, "rule": None, "pending": False, "held": False}


def queue(*, status="pending", target_type=None, reason=None, limit=50, offset=0):
    """Cases for the moderators: pending first, most flagged and oldest first."""
    query = select(ModerationCase)
    if status == "pending":
        query = query.where(ModerationCase.status == CaseStatus.pending)
    elif status == "held":
        query = query.where(ModerationCase.status == CaseStatus.pending, ModerationCase.hold.is_not(None))
    elif status == "appeals":
        query = query.where(ModerationCase.id.in_(select(ModerationAppeal.case_id).where(
            ModerationAppeal.status == AppealStatus.pending)))
    elif status == "decided":
        query = query.where(ModerationCase.status == CaseStatus.decided)
    if target_type in KINDS:
        query = query.where(ModerationCase.target_type == target_type)
    if reason in FLAG_REASONS:
        query = query.where(ModerationCase.id.in_(
            select(ModerationCase.id).join(Flag, (Flag.target_type == ModerationCase.target_type)
                                           & (Flag.target_id == ModerationCase.target_id)).where(Flag.reason == reason)))
    if status == "decided":
        query = query.order_by(ModerationCase.decided_at.desc(), ModerationCase.id.desc())
    else:
        query = query.order_by(ModerationCase.flag_count.desc(), ModerationCase.opened_at.asc(),
                               ModerationCase.id.asc())
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    from sqlalchemy.orm import selectinload

    page = query.limit(limit).offset(offset).options(selectinload(ModerationCase.author),
                                                     selectinload(ModerationCase.last_decision))
    return db.session.scalars(page).all(), total


def pending_counts():
    """{target_type: number of pending cases} (only kinds with something pending)."""
    rows = db.session.execute(select(ModerationCase.target_type, func.count()).where(
        ModerationCase.status == CaseStatus.pending).group_by(ModerationCase.target_type)).all()
    return {target_type: n for target_type, n in rows}


def oldest_pending():
    return db.session.scalar(select(ModerationCase).where(ModerationCase.status == CaseStatus.pending)
                             .order_by(ModerationCase.opened_at.asc(), ModerationCase.id.asc()).limit(1))


def median_decision_hours(days=30, now=None):
    """Median hours from a case becoming pending to its decision, over the decisions of the last ``days``.

    A decision is measured from the first flag since the case's previous decision, or the hold that
    opened it, or the appeal it answers. Four queries whatever the number of decisions.
    """
    import bisect
    from collections import defaultdict

    from sqlalchemy.orm import selectinload

    now = now or utcnow()
    since = now - timedelta(days=days)
    decisions = db.session.scalars(select(ModerationDecision).where(ModerationDecision.created_at >= since)
                                   .options(selectinload(ModerationDecision.case))).all()
    if not decisions:
        return None
    case_ids = {d.case_id for d in decisions}
    earlier = defaultdict(list)  # case id -> [(decision id, created_at)] in id order
    for row in db.session.execute(select(ModerationDecision.case_id, ModerationDecision.id,
                                         ModerationDecision.created_at)
                                  .where(ModerationDecision.case_id.in_(case_ids)).order_by(ModerationDecision.id)):
        earlier[row.case_id].append((row.id, row.created_at))
    flags = defaultdict(list)  # case id -> sorted flag times
    for row in db.session.execute(select(ModerationCase.id, Flag.created_at).join(
            Flag, (Flag.target_type == ModerationCase.target_type) & (Flag.target_id == ModerationCase.target_id))
            .where(ModerationCase.id.in_(case_ids)).order_by(Flag.created_at)):
        flags[row.id].append(row.created_at)
    appeal_ids = {d.appeal_id for d in decisions if d.appeal_id is not None}
    appealed_at = dict(db.session.execute(select(ModerationAppeal.id, ModerationAppeal.created_at)
                                          .where(ModerationAppeal.id.in_(appeal_ids))).all()) if appeal_ids else {}
    durations = []
    for decision in decisions:
        if decision.appeal_id is not None:
            start = appealed_at.get(decision.appeal_id)
        else:
            previous = [at for ident, at in earlier[decision.case_id] if ident < decision.id]
            times = flags[decision.case_id]
            i = bisect.bisect_right(times, previous[-1]) if previous else 0
            if i < len(times) and times[i] <= decision.created_at:
                start = times[i]
            else:  # a held item: the case opened when it was held
                opened = decision.case.opened_at
                start = opened if opened <= decision.created_at else None
        if start is not None and decision.created_at >= start:
            durations.append((decision.created_at - start).total_seconds() / 3600)
    return round(statistics.median(durations), 1) if durations else None


def author_history(user_id):
    """What the queue shows about an author: account age, contributions, past decisions."""
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None:
        return None
    decisions = db.session.execute(
        select(ModerationDecision.action, func.count()).join(ModerationCase, ModerationCase.id == ModerationDecision.case_id)
        .where(ModerationCase.author_id == user_id).group_by(ModerationDecision.action)).all()
    flagged = db.session.scalar(select(func.count()).select_from(ModerationCase)
                                .where(ModerationCase.author_id == user_id)) or 0
    return {"user": user, "contributions": _prior_contributions(user), "cases": flagged,
            "decisions": {action.value if hasattr(action, "value") else action: n for action, n in decisions}}


def decisions_of(case_id):
    """Every decision taken on a case, oldest first (the case page's history)."""
    return db.session.scalars(select(ModerationDecision).where(ModerationDecision.case_id == case_id)
                              .order_by(ModerationDecision.created_at, ModerationDecision.id)).all()


def appeals_of(case_id):
    """Every appeal filed on a case, oldest first."""
    return db.session.scalars(select(ModerationAppeal).where(ModerationAppeal.case_id == case_id)
                              .order_by(ModerationAppeal.created_at, ModerationAppeal.id)).all()


def other_cases_of(user_id, exclude_case_id=None, limit=10):
    """The author's other cases, newest first (their earlier trouble, if any)."""
    query = select(ModerationCase).where(ModerationCase.author_id == user_id)
    if exclude_case_id is not None:
        query = query.where(ModerationCase.id != exclude_case_id)
    return db.session.scalars(query.order_by(ModerationCase.opened_at.desc(), ModerationCase.id.desc())
                              .limit(limit)).all()


def queue_details(cases):
    """For a page of the queue: {case id: (flag reasons {reason: n} since the last decision, appeal pending?)}."""
    if not cases:
        return {}
    targets = {(c.target_type, c.target_id): c for c in cases}
    flags = db.session.execute(select(Flag.target_type, Flag.target_id, Flag.reason, Flag.created_at).where(
        Flag.target_id.in_({c.target_id for c in cases}), Flag.target_type.in_({c.target_type for c in cases}))).all()
    appealed = set(db.session.scalars(select(ModerationAppeal.case_id).where(
        ModerationAppeal.case_id.in_([c.id for c in cases]), ModerationAppeal.status == AppealStatus.pending)))
    reasons = {c.id: {} for c in cases}
    for target_type, target_id, reason, created_at in flags:
        case = targets.get((target_type, target_id))
        if case is None:
            continue
        if case.status == CaseStatus.pending and case.decided_at is not None and created_at <= case.decided_at:
            continue  # dismissed by the last decision
        reasons[case.id][reason] = reasons[case.id].get(reason, 0) + 1
    return {c.id: (reasons[c.id], c.id in appealed) for c in cases}


def moderators():
    return db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id).where(
        UserRole.role == Role.moderator, User.deleted_at.is_(None), User.is_blocked.is_(False))
        .order_by(User.id)).unique().all()


# --- transparency and the daily digest ----------------------------------------------------------

def _month(dt):
    from zoneinfo import ZoneInfo

    day = dt.astimezone(ZoneInfo("Europe/Rome"))
    return f"{day.year:04d}-{day.month:02d}"


def transparency(months=12, now=None):
    """Monthly public counts: flags, decisions by action, appeals by outcome (newest month first).

    Months follow Rome's calendar; nothing about who flagged or who was moderated is shown.
    """
    now = now or utcnow()
    since = now - timedelta(days=31 * months)
    table = {}

    def row(month):
        return table.setdefault(month, {"month": month, "first_day": date(int(month[:4]), int(month[5:]), 1),
                                        "flags": 0, "auto_hidden": 0, "held": 0,
                                        "decisions": {a.value: 0 for a in Action},
                                        "appeals": 0, "appeals_decided": {s.value: 0 for s in AppealStatus
                                                                          if s != AppealStatus.pending}})

    for (created,) in db.session.execute(select(Flag.created_at).where(Flag.created_at >= since)):
        row(_month(created))["flags"] += 1
    for decision in db.session.execute(select(ModerationDecision.created_at, ModerationDecision.action,
                                              ModerationDecision.appeal_id)
                                       .where(ModerationDecision.created_at >= since)):
        if decision.appeal_id is None:
            row(_month(decision.created_at))["decisions"][Action(decision.action).value] += 1
    for appeal_row in db.session.execute(select(ModerationAppeal.created_at, ModerationAppeal.decided_at,
                                                ModerationAppeal.status)
                                         .where(ModerationAppeal.created_at >= since)):
        row(_month(appeal_row.created_at))["appeals"] += 1
        if appeal_row.decided_at is not None:
            row(_month(appeal_row.decided_at))["appeals_decided"][AppealStatus(appeal_row.status).value] += 1
    from app.models.audit import AuditEvent

    for event in db.session.execute(select(AuditEvent.created_at, AuditEvent.action).where(
            AuditEvent.action.in_(("moderation.auto_hidden", "moderation.held")), AuditEvent.created_at >= since)):
        row(_month(event.created_at))["auto_hidden" if event.action == "moderation.auto_hidden" else "held"] += 1
    return [table[m] for m in sorted(table, reverse=True)]


def send_digests(now=None):
    """E-mail each moderator a summary when something waits; return how many e-mails were queued."""
    from app.mail.services import queue_email

    now = now or utcnow()
    counts = pending_counts()
    if not counts:
        return 0
    oldest = oldest_pending()
    appeals = db.session.scalar(select(func.count()).select_from(ModerationAppeal)
                                .where(ModerationAppeal.status == AppealStatus.pending)) or 0
    sent = 0
    for moderator in moderators():
        if not moderator.email or not moderator.is_confirmed:
            continue
        queue_email(moderator.email, "moderation_digest", kind="moderation.digest", user=moderator,
                    counts=counts, total=sum(counts.values()), oldest=oldest, appeals=appeals, now=now)
        sent += 1
    return sent


def pending_total():
    """How many cases wait (the moderators' header badge)."""
    return db.session.scalar(select(func.count()).select_from(ModerationCase)
                             .where(ModerationCase.status == CaseStatus.pending)) or 0
