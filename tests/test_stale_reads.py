"""Actions decided on a page that was read a moment earlier: the rules must look at the latest
state under a lock, not at what the request loaded (found by review: a withdraw could undo a
crossed threshold, an edit could change a frozen text, a double submit convert a debate twice,
two comments at once leave the debate's counter behind). Plus: a pending invitation does not
tell the author that an address has an account, and absurd page numbers never break a list."""
import threading

import pytest
from sqlalchemy import func, select

from app.comments import services as comment_services
from app.debates import services as debate_services
from app.extensions import db
from app.models import AuditEvent, User
from app.models.base import DomainError, IllegalTransition
from app.models.discussion import Comment, Debate
from app.models.proposal import Proposal, ProposalStatus
from app.proposals import authoring, services
from tests.test_proposal_authoring_http import COLLECTING, _draft, _published
from tests.test_proposals import build_process
from tests.test_supports_concurrency import run_together

P = ProposalStatus


def _meanwhile(app, job):
    """Run ``job`` in another application context (another connection) and commit, as a parallel request."""
    def run():
        with app.app_context():
            job()
            db.session.commit()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)


def test_a_withdraw_read_before_the_deciding_support_is_refused(app, make_user):
    author, s1, s2 = make_user(verified=True), make_user(verified=True), make_user(verified=True)
    proposal_id = _published(app, author, threshold=2)
    with app.app_context():
        services.support(db.session.get(User, s1.id), proposal_id)
        db.session.commit()
    with app.app_context():
        seen = authoring.get_viewable(proposal_id, db.session.get(User, author.id))  # the page was read...
        assert seen.status == P.published
        db.session.commit()  # ...and its request ended
        _meanwhile(app, lambda: services.support(db.session.get(User, s2.id), proposal_id))
        with pytest.raises(IllegalTransition):
            services.withdraw(seen, db.session.get(User, author.id))
        db.session.rollback()
        assert db.session.get(Proposal, proposal_id).status == P.threshold_reached
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "proposal.withdrawn")) == 0


def test_an_edit_read_before_the_first_support_is_refused(app, make_user):
    author, supporter = make_user(verified=True), make_user(verified=True)
    proposal_id = _published(app, author, threshold=5)
    with app.app_context():
        seen = authoring.get_viewable(proposal_id, db.session.get(User, author.id))
        assert not seen.is_frozen
        db.session.commit()
        _meanwhile(app, lambda: services.support(db.session.get(User, supporter.id), proposal_id))
        with pytest.raises(DomainError):  # the text is frozen
            services.edit(seen, db.session.get(User, author.id), title="Un altro testo", body="Tutto diverso")
        db.session.rollback()
        assert db.session.get(Proposal, proposal_id).title == "Più alberi"


def test_a_debate_becomes_a_proposal_only_once_even_when_read_twice(app, make_user):
    author = make_user()
    with app.app_context():
        process = build_process(phases=COLLECTING)
        debate = debate_services.create_debate(db.session.get(User, author.id), title="Fontanelle", body="Più acqua")
        db.session.commit()
        debate_id, process_id = debate.id, process.id
    with app.app_context():
        first_read = db.session.get(Debate, debate_id)
        db.session.commit()
        _meanwhile(app, lambda: debate_services.convert_to_proposal(
            db.session.get(Debate, debate_id), db.session.get(User, author.id), process_id))
        with pytest.raises(IllegalTransition):
            debate_services.convert_to_proposal(first_read, db.session.get(User, author.id), process_id)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Proposal.id))) == 1


def test_comments_posted_at_once_keep_the_debate_counter_exact(app, make_user):
    author = make_user()
    commenters = [make_user().id for _ in range(8)]
    with app.app_context():
        debate_id = debate_services.create_debate(db.session.get(User, author.id), title="Parcheggi",
                                                  body="Ne parliamo?").id
        db.session.commit()

    def post(user_id):
        def job():
            return comment_services.post_comment(db.session.get(User, user_id), "debate", debate_id,
                                                 f"Il mio parere ({user_id})")
        return job

    _results, errors = run_together(app, [post(uid) for uid in commenters for _ in range(2)], 8)
    assert errors == []
    with app.app_context():
        rows = db.session.scalar(select(func.count(Comment.id)).where(Comment.target_id == debate_id))
        assert rows == 16
        assert db.session.get(Debate, debate_id).comment_count == 16


def test_removing_a_pending_invitation_answers_like_a_stranger(app, client, make_user, login_as):
    author, invitee, stranger = make_user(), make_user(email="privata@example.org"), make_user()
    proposal_id = _draft(app, author)
    login_as(author)
    assert client.post(f"/proposals/{proposal_id}/coauthors", data={"in-email": "privata@example.org"}
                       ).status_code == 302
    answers = {uid: client.post(f"/proposals/{proposal_id}/coauthors/{uid}/remove").status_code
               for uid in (invitee.id, stranger.id, stranger.id + 1000)}
    assert set(answers.values()) == {404}, answers
    with app.app_context():
        assert len(db.session.get(Proposal, proposal_id).coauthors) == 1  # the invitation is still there


@pytest.mark.parametrize("path", ["/proposals", "/debates", "/reports", "/notifications", "/office/proposals",
                                  "/staff/reports", "/admin/users", "/admin/audit"])
@pytest.mark.parametrize("page", ["100000000000000000000", "-5", "0", "abc"])
def test_no_page_number_breaks_a_list(client, make_user, login_as, path, page):
    login_as(make_user(roles=["citizen", "official", "admin"]))
    response = client.get(f"{path}?page={page}")
    assert response.status_code == 200, (path, page, response.status_code)
