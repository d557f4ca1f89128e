"""Report rules: creation and routing, the lifecycle, triage, duplicates, flags.

Services never commit. Every staff action writes an audit event in the caller's transaction.
"""
import re
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app import geo
from app.audit.services import record
from app.extensions import db
from app.http import path_for
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.messaging import Follow
from app.models.place import Category, District
from app.models.report import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    REPORTER_MOVES,
    STATUS_GROUPS,
    Report,
    ReportStatus,
    ReportUpdate,
    RoutingRule,
)
from app.models.user import Role, User
from app.notifications import services as notifications

S = ReportStatus
#: "Already reported?" looks this far around the new point.
DUPLICATE_RADIUS_M = 250
#: The reporter is asked "is it fixed?" this long after a report is resolved.
FIXED_CHECK_AFTER = timedelta(weeks=4)
FLAG_REASONS = ("spam", "offensive", "personal_data", "off_topic", "illegal", "other")

notifications.register_kind(
    "report.status_changed", _l("The report “%(title)s” is now: %(status_label)s."))
notifications.register_kind("report.note_added", _l("New update on the report “%(title)s”."))
notifications.register_kind("report.assigned", _l("The report “%(title)s” was assigned to you."))
notifications.register_kind(
    "report.is_it_fixed", _l("Four weeks ago the report “%(title)s” was marked resolved. Is it really fixed?"))


def _load_public(report_id):
    report = db.session.get(Report, report_id)
    return report if report is not None and report.is_public else None


notifications.register_followable(
    "report", load=_load_public, url=lambda r: path_for("reports.detail", report_id=r.id), title=lambda r: r.title)


def _photo_visible(report_id):
    """Photos of a public report are public; a held report's are its reporter's only."""
    from flask_login import current_user

    from app.moderation.holds import own_held

    return _load_public(report_id) is not None or own_held("report", report_id, current_user) is not None


def _register_photo_visibility():
    from app.media.services import register_owner_visibility

    register_owner_visibility("report", _photo_visible)


_register_photo_visibility()


# --- reading --------------------------------------------------------------------------------

def get_public(report_id):
    """A report anyone may see, or NotFound."""
    report = _load_public(report_id)
    if report is None:
        raise NotFound(_("There is no such report."))
    return report


def public_reports(status_group=None, category_id=None, district_id=None, department_id=None):
    """The query behind the public list: visible reports, newest first, filtered."""
    query = select(Report).where(Report.is_public)
    if status_group in STATUS_GROUPS:
        query = query.where(Report.status.in_(STATUS_GROUPS[status_group]))
    if category_id:
        query = query.where(Report.category_id == category_id)
    if district_id:
        query = query.where(Report.district_id == district_id)
    if department_id:
        query = query.where(Report.department_id == department_id)
    return query.order_by(Report.created_at.desc(), Report.id.desc())


def counts_by_status_and_district():
    """{(status, district_id): n} over visible reports, for the list's summary."""
    rows = db.session.execute(
        select(Report.status, Report.district_id, func.count(Report.id))
        .where(Report.is_public).group_by(Report.status, Report.district_id))
    return {(status, district_id): n for status, district_id, n in rows}


def nearby_open(category_id, lat, lon, radius_m=DUPLICATE_RADIUS_M, limit=5):
    """Open, visible reports of the same category within ``radius_m``, nearest first, as (report, metres)."""
    box = geo.bbox_around(lat, lon, radius_m)
    candidates = db.session.scalars(
        select(Report).where(
            Report.is_public, Report.category_id == category_id, Report.status.in_(OPEN_STATUSES),
            Report.lat.between(box.min_lat, box.max_lat), Report.lon.between(box.min_lon, box.max_lon)))
    found = [(r, geo.distance_m(lat, lon, r.lat, r.lon)) for r in candidates]
    found = [(r, d) for r, d in found if d <= radius_m]
    found.sort(key=lambda pair: pair[1])
    return found[:limit]


def history(report):
    return list(report.updates)


# --- creating -------------------------------------------------------------------------------

def route(category, district_id):
    """The department responsible: a district rule if one exists, else the category's."""
    if district_id is not None:
        rule = db.session.scalar(select(RoutingRule).where(
            RoutingRule.category_id == category.id, RoutingRule.district_id == district_id))
        if rule is not None:
            return rule.department_id
    return category.department_id


#: Control characters (but tab and newlines) have no place in text and break XML feeds.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean_text(value, field, label, max_len):
    """Stripped text without control characters; DomainError naming ``field`` if empty or too long."""
    value = _CONTROL.sub("", (value or "")).strip()
    if not value:
        raise DomainError(_("Please fill in the %(field)s.", field=label), field=field)
    if len(value) > max_len:
        raise DomainError(_("The %(field)s is too long.", field=label), field=field)
    return value


def district_point(district_id):
    """A point inside a district, for placing a report by district when the map is not used."""
    import json

    from shapely.geometry import shape

    district = db.session.get(District, district_id) if district_id else None
    if district is None:
        return None
    point = shape(json.loads(district.geometry)).representative_point()
    return point.y, point.x


def _coordinates(lat, lon, district_id):
    if lat in (None, "") and lon in (None, "") and district_id:
        point = district_point(district_id)
        if point is not None:
            return point
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise DomainError(_("Place the report on the map, or choose the district."), field="location") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DomainError(_("Place the report on the map, or choose the district."), field="location")
    return lat, lon


def create_report(reporter, *, title, description, category_id, lat=None, lon=None, address=None, photos=(),
                  source="web", district_id=None):
    """Place a new report: validated, located in its district, routed, followed by its reporter.

    Pre-moderation may hold it, hidden until a moderator approves it (``app.moderation.holds.is_held``).
    """
    from app.media.services import attach_photos
    from app.moderation.services import screen

    if reporter is None or not reporter.is_citizen:
        raise PermissionDenied(_("Only citizens with a confirmed email address can report."))
    title = _clean_text(title, "title", _("title"), 140)
    description = _clean_text(description, "description", _("description"), 5000)
    category = db.session.get(Category, category_id) if category_id else None
    if category is None:
        raise DomainError(_("Choose a category."), field="category_id")
    lat, lon = _coordinates(lat, lon, district_id)
    if not geo.in_city(lat, lon):
        raise DomainError(_("This place is outside the city of Turin: Piazza can only route reports "
                            "inside the city."), field="location")
    district_id = geo.district_for(lat, lon)
    report = Report(title=title, description=description, category_id=category.id, lat=lat, lon=lon,
                    address=(address or "").strip()[:200] or None, district_id=district_id,
                    department_id=route(category, district_id), reporter_id=reporter.id, source=source,
                    status=S.new)
    db.session.add(report)
    db.session.flush()
    report.updates.append(ReportUpdate(kind="created", author_id=reporter.id, to_status=S.new))
    if source != "open311":  # an Open311 key's service account has nobody to read notifications
        db.session.add(Follow(user_id=reporter.id, target_type="report", target_id=report.id))
    if photos:
        attach_photos(photos, "report", report.id, reporter)
    screen("report", report, reporter)
    return report


# --- the lifecycle ----------------------------------------------------------------------------

def handles(user, report):
    """True if ``user`` is an official of the report's department (any official if it has none)."""
    if user is None or not user.is_authenticated or not user.has_role(Role.official):
        return False
    if report.department_id is None:
        return True
    return any(d.id == report.department_id for d in user.departments)


def _require_handler(actor, report):
    if not handles(actor, report):
        raise PermissionDenied(_("Only officials of the responsible department can do this."))


def _status_label(status):
    from app.labels import report_status_label

    return report_status_label(status)


def _move(report, actor, to_status, note, *, kind="status", audit=True):
    """Apply one legal move: timeline entry, timestamps, audit event, notifications."""
    to_status = ReportStatus(to_status)
    if not report.can_move_to(to_status):
        raise IllegalTransition(
            _("A report that is %(current)s cannot become %(target)s.",
              current=_status_label(report.status), target=_status_label(to_status)),
            current=report.status.value, target=to_status.value)
    from_status = report.status
    now = utcnow()
    report.status = to_status
    report.status_changed_at = now
    if to_status == S.resolved:
        report.resolved_at = now
        report.fixed_check_sent_at = None
    report.updates.append(ReportUpdate(kind=kind, author_id=actor.id if actor else None, from_status=from_status,
                                       to_status=to_status, note=note or None))
    if audit:
        record("report.status_changed", actor=actor, target=report, reason=note or None,
               details={"from": from_status.value, "to": to_status.value})
    notifications.notify_followers(
        "report", report.id, "report.status_changed", {"title": report.title, "status": to_status.value},
        url=path_for("reports.detail", report_id=report.id), exclude=[actor])
    return report


def change_status(report, actor, to_status, note=None, duplicate_of_id=None):
    """An official moves the report along its lifecycle, with a public note."""
    to_status = ReportStatus(to_status)
    _require_handler(actor, report)
    if to_status in (S.not_responsible, S.rejected) and not (note or "").strip():
        raise DomainError(_("Explain to the reporter why, in the note."), field="note")
    if to_status == S.duplicate:
        return merge_duplicate(report, actor, duplicate_of_id, note)
    return _move(report, actor, to_status, (note or "").strip())


def acknowledge_many(actor, report_ids):
    """Bulk acknowledge new reports the official handles; returns how many moved."""
    moved = 0
    for report in db.session.scalars(select(Report).where(Report.id.in_(report_ids), Report.status == S.new,
                                                          Report.is_public)):
        if handles(actor, report):
            _move(report, actor, S.acknowledged, None)
            moved += 1
    return moved


def add_note(report, actor, note):
    """A public update without a status change."""
    _require_handler(actor, report)
    note = _clean_text(note, "note", _("note"), 5000)
    report.updates.append(ReportUpdate(kind="note", author_id=actor.id, note=note))
    report.updated_at = utcnow()
    record("report.note_added", actor=actor, target=report)
    notifications.notify_followers("report", report.id, "report.note_added", {"title": report.title},
                                   url=path_for("reports.detail", report_id=report.id), exclude=[actor])


def assign(report, actor, assignee_id):
    """Give the report to a colleague in the responsible department (or take it)."""
    _require_handler(actor, report)
    assignee = db.session.get(User, assignee_id) if assignee_id else None
    if assignee is None or not handles(assignee, report):
        raise DomainError(_("Choose an official of the responsible department."), field="assignee")
    report.assigned_to_id = assignee.id
    report.updates.append(ReportUpdate(kind="assigned", author_id=actor.id))
    record("report.assigned", actor=actor, target=report, details={"assignee": assignee.id})
    if assignee.id != actor.id:
        notifications.notify([assignee], "report.assigned", {"title": report.title},
                             url=path_for("reports.detail", report_id=report.id))


def merge_duplicate(report, actor, original_id, note=None):
    """Close ``report`` as a duplicate of another open report; its followers follow the original."""
    _require_handler(actor, report)
    original = db.session.get(Report, original_id) if original_id else None
    if original is None or original.id == report.id or not original.is_public:
        raise DomainError(_("Give the number of the original report."), field="duplicate_of")
    if original.status in CLOSED_STATUSES:
        raise DomainError(_("The original report is already closed."), field="duplicate_of")
    report.duplicate_of_id = original.id
    # Without a note the timeline says "duplicate of report no. N" in the reader's language.
    note = (note or "").strip() or None
    _move(report, actor, S.duplicate, note, kind="merged", audit=False)
    record("report.merged", actor=actor, target=report, reason=note, details={"into": original.id})
    already = set(db.session.scalars(select(Follow.user_id).where(
        Follow.target_type == "report", Follow.target_id == original.id)))
    for follow in db.session.scalars(select(Follow).where(Follow.target_type == "report",
                                                          Follow.target_id == report.id)):
        if follow.user_id not in already:
            db.session.add(Follow(user_id=follow.user_id, target_type="report", target_id=original.id))
    return report


def reporter_answer(report, user, fixed):
    """The reporter confirms the fix (closed) or says it is not fixed (reopened)."""
    if user is None or report.reporter_id != user.id:
        raise PermissionDenied(_("Only the person who reported it can answer."))
    target = S.closed if fixed else S.acknowledged
    if (report.status, target) not in REPORTER_MOVES:
        raise IllegalTransition(_("This report is not waiting for your answer."))
    # The timeline words these in the reader's language (kind), so no note is stored.
    _move(report, user, target, None, kind="reporter_fixed" if fixed else "reporter_not_fixed", audit=False)
    record("report.reporter_answered", actor=user, target=report, details={"fixed": bool(fixed)})
    return report


def ask_if_fixed(now=None):
    """Ask reporters of reports resolved four weeks ago whether the problem is really fixed."""
    now = now or utcnow()
    due = db.session.scalars(select(Report).options(selectinload(Report.reporter)).where(
        Report.status == S.resolved, Report.resolved_at <= now - FIXED_CHECK_AFTER,
        Report.fixed_check_sent_at.is_(None), Report.reporter_id.is_not(None), Report.is_public)).all()
    asked = 0
    for report in due:
        if report.reporter is not None and report.reporter.is_active:
            notifications.notify([report.reporter], "report.is_it_fixed", {"title": report.title},
                                 url=path_for("reports.detail", report_id=report.id))
            asked += 1
        report.fixed_check_sent_at = now
    return asked


# --- staff queue ----------------------------------------------------------------------------

def triage_queue(official, status_group="open", category_id=None, district_id=None, assigned=None):
    """Reports in the official's departments, oldest first (they have waited longest)."""
    department_ids = [d.id for d in official.departments]
    # Reports nobody was routed to belong to every official's queue until someone takes them.
    query = select(Report).where(Report.is_public, or_(Report.department_id.in_(department_ids),
                                                       Report.department_id.is_(None)))
    if status_group in STATUS_GROUPS:
        query = query.where(Report.status.in_(STATUS_GROUPS[status_group]))
    if category_id:
        query = query.where(Report.category_id == category_id)
    if district_id:
        query = query.where(Report.district_id == district_id)
    if assigned == "me":
        query = query.where(Report.assigned_to_id == official.id)
    elif assigned == "nobody":
        query = query.where(Report.assigned_to_id.is_(None))
    return query.options(selectinload(Report.assigned_to)).order_by(Report.created_at.asc(), Report.id.asc())


def colleagues(report):
    """Officials who may handle the report (for the assign menu)."""
    from app.models.user import UserRole, user_departments

    query = select(User).join(UserRole, and_(UserRole.user_id == User.id, UserRole.role == Role.official))
    if report.department_id is not None:
        query = query.join(user_departments, user_departments.c.user_id == User.id).where(
            user_departments.c.department_id == report.department_id)
    return db.session.scalars(query.where(User.deleted_at.is_(None)).order_by(User.display_name)).unique().all()


# --- flags ------------------------------------------------------------------------------------

def flag(user, target_type, target_id, reason, text=None):
    """Record a flag (one per user per item; a second one updates the reason): see app.moderation."""
    from app.moderation.services import flag as moderation_flag

    return moderation_flag(user, target_type, target_id, reason, text)


def district_choices():
    return db.session.scalars(select(District).order_by(District.number)).all()


def category_choices():
    return db.session.scalars(select(Category).order_by(Category.name_it)).all()
