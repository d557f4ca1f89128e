"""Proposal pages: the public list and page, supporting and withdrawing a support.

Reads are side-effect free (no ``expire_due`` here). Only visible proposals are shown (never
drafts or hidden ones) and only counts are public: a citizen sees their own support, nobody
sees the supporters. The views map the support service's answers to flashes and commit once.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from app.auth.access import citizen_required, public
from app.extensions import db
from app.labels import PROPOSAL_STATUS_LABELS, proposal_status_label
from app.models.base import DomainError, utcnow
from app.models.proposal import PhaseKind, Process, Proposal, ProposalStatus, Support
from app.proposals import bp, services
from app.reports import services as report_services

PAGE_SIZE = 25
P = ProposalStatus

#: Statuses a visible proposal can have (drafts are never shown), in workflow order.
VISIBLE_STATUSES = [P(value) for value in PROPOSAL_STATUS_LABELS]


def _visible():
    """The SQL condition of a proposal anyone may see: not a draft, not hidden."""
    return and_(Proposal.status != P.draft, Proposal.hidden_at.is_(None))


def _db_id(text):
    """A positive id that fits the database's integer (larger ones raise ValueError: ignored)."""
    value = int(text)
    if not 0 < value < 2**31:
        raise ValueError(text)
    return value


def _filters(processes):
    """Filters from the query string, validated (unknown values are ignored)."""
    args = request.args
    slugs = {p.slug: p for p in processes}
    process = slugs.get(args.get("process") or "")
    status = args.get("status")
    return {
        "process": process,
        "status": P(status) if status in PROPOSAL_STATUS_LABELS else None,
        "category_id": args.get("category", type=_db_id),
        "district_id": args.get("district", type=_db_id),
    }


def _query(filters):
    query = (select(Proposal).where(_visible())
             .options(selectinload(Proposal.process), selectinload(Proposal.district)))
    if filters["process"] is not None:
        query = query.where(Proposal.process_id == filters["process"].id)
    if filters["status"] is not None:
        query = query.where(Proposal.status == filters["status"])
    if filters["category_id"]:
        query = query.where(Proposal.category_id == filters["category_id"])
    if filters["district_id"]:
        query = query.where(Proposal.district_id == filters["district_id"])
    return query.order_by(Proposal.published_at.desc().nulls_last(), Proposal.id.desc())


@bp.route("/proposals")
@public
def index():
    """Public list of proposals, newest published first, with filters and pagination."""
    processes = db.session.scalars(select(Process).order_by(Process.created_at.desc(), Process.id.desc())).all()
    filters = _filters(processes)
    pagination = db.paginate(_query(filters), page=request.args.get("page", 1, type=int),
                             per_page=PAGE_SIZE, error_out=False)
    return render_template("proposals/index.html", pagination=pagination, filters=filters, processes=processes,
                           statuses=VISIBLE_STATUSES, status_label=proposal_status_label,
                           categories=report_services.category_choices(),
                           districts=report_services.district_choices())


def _proposal_or_404(proposal_id):
    proposal = db.session.scalar(select(Proposal).where(Proposal.id == proposal_id, _visible()))
    if proposal is None:
        abort(404)
    return proposal


def _collecting(proposal, now):
    """Whether the proposal takes new supports now (the service has the final word)."""
    process = proposal.process
    if process.phase_at(now) != PhaseKind.support:
        return False
    if proposal.status == P.threshold_reached:
        return process.supports_past_threshold
    return proposal.status == P.published


@bp.route("/proposals/<int:proposal_id>")
@public
def detail(proposal_id):
    """A proposal's public page: text, addenda, the support bar and the viewer's own support."""
    proposal = _proposal_or_404(proposal_id)
    now = utcnow()
    own_support = None
    if current_user.is_authenticated:
        own_support = db.session.scalar(select(Support.id).where(Support.proposal_id == proposal.id,
                                                                 Support.user_id == current_user.id))
    paragraphs = [p.strip() for p in proposal.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return render_template(
        "proposals/detail.html", proposal=proposal, process=proposal.process, paragraphs=paragraphs,
        status_label=proposal_status_label, supports=own_support is not None,
        collecting=_collecting(proposal, now),
        support_phase_open=proposal.process.phase_at(now) == PhaseKind.support,
        needs_verification=(current_user.is_authenticated and proposal.process.verified_only
                            and not current_user.is_verified))


def _back(proposal_id, message, category="success"):
    flash(message, category)
    return redirect(url_for("proposals.detail", proposal_id=proposal_id))


@bp.route("/proposals/<int:proposal_id>/support", methods=["POST"])
@citizen_required
def support(proposal_id):
    """Support a proposal (idempotent); refusals come back as a flash on the proposal's page."""
    _proposal_or_404(proposal_id)
    try:
        services.support(current_user._get_current_object(), proposal_id)
    except DomainError as exc:
        db.session.rollback()
        return _back(proposal_id, exc.message, "error")
    db.session.commit()
    return _back(proposal_id, _("Thank you for your support."))


@bp.route("/proposals/<int:proposal_id>/withdraw-support", methods=["POST"])
@citizen_required
def withdraw_support(proposal_id):
    """Withdraw one's own support while the support phase is open (idempotent)."""
    _proposal_or_404(proposal_id)
    try:
        services.withdraw_support(current_user._get_current_object(), proposal_id)
    except DomainError as exc:
        db.session.rollback()
        return _back(proposal_id, exc.message, "error")
    db.session.commit()
    return _back(proposal_id, _("Your support was withdrawn."))
