"""A citizen's participation in "download my data", and what deleting the account does to it."""
import json

from sqlalchemy import func, select

from app.extensions import db
from app.models.discussion import Comment, Debate
from app.models.proposal import Proposal, ProposalCoauthor, ProposalStatus, Support
from app.proposals import services
from tests.conftest import TEST_PASSWORD
from tests.test_proposals import build_process, collecting_moment


def _setup(app, make_user):
    rosa_id, other_id = make_user(verified=True).id, make_user(verified=True).id
    with app.app_context():
        from app.models import User

        rosa, other = db.session.get(User, rosa_id), db.session.get(User, other_id)
        process = build_process(threshold=10)
        mine = services.create_proposal(rosa, process, title="Orti sul tetto", body="Un orto condiviso.")
        theirs = services.create_proposal(other, process, title="Panchine al Valentino", body="Dieci panchine.")
        for p, author in ((mine, rosa), (theirs, other)):
            services.publish(p, author, now=collecting_moment(process))
        db.session.add_all([ProposalCoauthor(proposal_id=theirs.id, user_id=rosa_id),
                            Debate(author_id=rosa_id, title="Più fontanelle?", body="Discutiamone."),
                            Comment(target_type="proposal", target_id=theirs.id, author_id=rosa_id,
                                    body="Ottima idea")])
        services.create_proposal(rosa, process, title="Una bozza mai pubblicata", body="Privata.")
        db.session.commit()
        services.support(rosa, theirs.id)
        db.session.commit()
        return rosa_id, mine.id, theirs.id


def test_the_export_lists_proposals_supports_coauthorships_debates_and_comments(app, client, make_user, login_as):
    rosa_id, mine_id, theirs_id = _setup(app, make_user)
    from app.models import User

    with app.app_context():
        login_as(db.session.get(User, rosa_id))
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))["participation"]
    assert [(p["title"], p["status"]) for p in data["proposals"]] == [("Orti sul tetto", "published"),
                                                                      ("Una bozza mai pubblicata", "draft")]
    assert data["proposals"][0]["id"] == mine_id
    assert [s["proposal_id"] for s in data["supports"]] == [theirs_id]
    assert [c["proposal_id"] for c in data["coauthorships"]] == [theirs_id]
    assert [d["title"] for d in data["debates"]] == ["Più fontanelle?"]
    assert [c["body"] for c in data["comments"]] == ["Ottima idea"]


def test_deleting_the_account_anonymises_supports_and_drops_pending_invitations(app, client, make_user, login_as):
    rosa_id, mine_id, theirs_id = _setup(app, make_user)
    from app.models import User

    with app.app_context():
        login_as(db.session.get(User, rosa_id))
    response = client.post("/account/delete", data={"password": TEST_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Support.id)).where(Support.user_id == rosa_id)) == 0
        assert db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == theirs_id)) == 1
        assert db.session.get(Proposal, theirs_id).support_count == 1
        assert db.session.scalar(select(func.count(ProposalCoauthor.id))) == 0
        assert db.session.get(Proposal, mine_id).author_id == rosa_id  # the proposal stays, shown as a former participant
        assert db.session.scalar(select(func.count(Proposal.id)).where(Proposal.status == ProposalStatus.draft)) == 0
