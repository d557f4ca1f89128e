"""Home, /healthz, terms, privacy, contrast preference."""
from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.access import public
from app.auth.forms import ButtonForm
from app.extensions import db
from app.http import safe_next
from app.main import bp
from app.models.place import Category, District, NeighbourhoodHouse


@bp.route("/")
@public
def index():
    """Home: what Piazza is and where to start."""
    counts = {
        "districts": db.session.scalar(select(func.count(District.id))),
        "houses": db.session.scalar(select(func.count(NeighbourhoodHouse.id))),
        "categories": db.session.scalar(select(func.count(Category.id))),
    }
    houses = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.name)).all()
    return render_template("main/index.html", counts=counts, houses=houses)


@bp.route("/healthz")
@public
def healthz():
    """200 after a real database round trip; 503 with the reason when the database does not answer."""
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        db.session.rollback()
        current_app.logger.warning("health check failed: %s", exc.__class__.__name__)
        return jsonify({"status": "error", "reason": "database unavailable"}), 503
    return jsonify({"status": "ok"})


@bp.route("/terms")
@public
def terms():
    """Terms of use."""
    return render_template("main/terms.html")


@bp.route("/privacy")
@public
def privacy():
    """Privacy notice."""
    return render_template("main/privacy.html")


@bp.route("/accessibility")
@public
def accessibility():
    """Accessibility statement."""
    return render_template("main/accessibility.html")


@bp.route("/preferences/contrast", methods=["POST"])
@public
def toggle_contrast():
    """Switch the high-contrast theme on or off for this browser."""
    if ButtonForm().validate_on_submit():
        session["contrast"] = "normal" if session.get("contrast") == "high" else "high"
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.route("/people/<int:user_id>")
@public
def person(user_id):
    """A participant's public profile: name, what they wrote about themselves, their public contributions."""
    from app.models.discussion import Debate
    from app.models.proposal import Proposal, ProposalStatus
    from app.models.user import User
    from app.moderation.forms import FlagContentForm

    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        abort(404)
    proposals = debates = ()
    if not user.is_blocked:
        proposals = db.session.scalars(select(Proposal).where(
            Proposal.author_id == user.id, Proposal.status != ProposalStatus.draft, Proposal.hidden_at.is_(None))
            .order_by(Proposal.published_at.desc(), Proposal.id.desc()).limit(20)).all()
        debates = db.session.scalars(select(Debate).where(Debate.author_id == user.id, Debate.hidden_at.is_(None))
                                     .order_by(Debate.created_at.desc(), Debate.id.desc()).limit(20)).all()
    return render_template("main/person.html", person=user, proposals=proposals, debates=debates,
                           flag_form=FlagContentForm(prefix="fl"))
