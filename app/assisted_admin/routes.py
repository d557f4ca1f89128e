"""/admin/assisted: the sessions (filter by house, facilitator, month), one session's actions, a CSV, alerts."""
import csv
import io

from flask import Response, abort, render_template, request

from app.assisted.records import describe
from app.assisted_admin import bp, report
from app.auth.access import roles_required
from app.extensions import db
from app.http import page_arg
from app.models.assisted import AssistedSession
from app.models.base import utcnow
from app.models.user import Role


@bp.route("", endpoint="report")
@roles_required(Role.admin)
def sessions():
    """Every assisted session, filtered and paginated, and the unusual patterns of the last 30 days."""
    filters = report.Filters.from_args(request.args)
    houses, facilitators, months = report.filter_choices()
    return render_template("assisted_admin/report.html", filters=filters, pagination=report.sessions_page(
        filters, page_arg()), totals=report.totals(filters), houses=houses, facilitators=facilitators,
        months=months, patterns=report.unusual_patterns(), now=utcnow(), report=report)


@bp.route("/sessions/<int:session_id>")
@roles_required(Role.admin)
def session_detail(session_id):
    """One session: who, where, how long, and each record made in it with a link."""
    assisted = db.session.get(AssistedSession, session_id)
    if assisted is None:
        abort(404)
    actions = [(a, describe(a.record_type, a.record_id)) for a in report.session_actions(assisted.id)]
    # Administrators read every receipt (without the claim code: that is for the session's facilitator).
    proposal = describe("proposals", assisted.proposal_id) if assisted.proposal_id else None
    return render_template("assisted_admin/session.html", assisted=assisted, actions=actions, proposal=proposal,
                           report=report, now=utcnow(), receipt_link=True)


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = ["session_id", "opened_at", "ended_at", "house", "facilitator", "person_helped", "kind", "proposal",
               "duration_minutes", "end_reason", "actions"]


@bp.route("/sessions.csv")
@roles_required(Role.admin)
def export_csv():
    """The filtered session list as CSV (names included: for administrators only)."""
    filters = report.Filters.from_args(request.args)
    now = utcnow()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in db.session.execute(report.sessions_query(filters)):
        s = row.AssistedSession
        writer.writerow([_cell(v) for v in (
            s.id, s.opened_at.isoformat(), s.ended_at.isoformat() if s.ended_at else "", row.house_name,
            row.facilitator_name, row.citizen_name, s.kind.value, row.proposal_title,
            report.duration_minutes(s, now), report.end_value(s, now), row.actions)])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="sessioni-assistite.csv"',
                             "Cache-Control": "private, no-store"})
