"""Supports lose their names once a process's retention period is over, without a scheduler: the
next read of the proposals (page or API) catches up, or `flask proposals catch-up` from cron."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User
from app.models.base import utcnow
from app.models.proposal import Process, Proposal, ProposalStatus, Support
from app.proposals import services
from tests.test_proposals import build_process, new_proposal

DAY = timedelta(days=1)


def _ended_process_with_supports(app, make_user, retention_months):
    """A process that ended 40 days ago, with two supports given while it ran; returns ids."""
    author, s1, s2 = make_user(verified=True), make_user(verified=True), make_user(verified=True)
    with app.app_context():
        now = utcnow()
        process = build_process(phases={"collection": (-100 * DAY, -90 * DAY), "support": (-90 * DAY, -60 * DAY),
                                        "review": (-60 * DAY, -40 * DAY)}, threshold=10,
                                retention_months=retention_months)
        proposal = new_proposal(process, db.session.get(User, author.id))
        for user in (s1, s2):
            services.support(db.session.get(User, user.id), proposal.id, now=now - 80 * DAY)
            db.session.commit()
        return process.id, proposal.id


def _named_supports(app):
    with app.app_context():
        return db.session.scalars(select(Support.user_id).where(Support.user_id.is_not(None))).all()


@pytest.mark.parametrize("reader", ["/proposals", "/proposals/{id}", "/api/v1/proposals", "/api/v1/proposals/{id}"])
def test_a_read_after_the_retention_period_anonymises_and_keeps_counts(app, client, make_user, reader):
    process_id, proposal_id = _ended_process_with_supports(app, make_user, retention_months=1)
    assert client.get(reader.format(id=proposal_id)).status_code == 200
    assert _named_supports(app) == []
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).support_count == 2
        assert len(db.session.scalars(select(Support)).all()) == 2
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "process.supports_anonymised"))
        assert event.target_id == process_id and event.details == {"supports": 2}
        # The proposal expired on the same read (its support window closed below the threshold).
        assert db.session.get(Proposal, proposal_id).status == ProposalStatus.expired


def test_within_the_retention_period_names_stay(app, client, make_user):
    _ended_process_with_supports(app, make_user, retention_months=6)
    assert client.get("/proposals").status_code == 200
    assert len(_named_supports(app)) == 2


def test_the_cli_catches_up_for_a_site_nobody_visits(app, runner, make_user):
    _ended_process_with_supports(app, make_user, retention_months=1)
    result = runner.invoke(args=["proposals", "catch-up"])
    assert result.exit_code == 0
    assert "Expired 1 proposal(s); anonymised 2 support(s)." in result.output
    assert _named_supports(app) == []
    again = runner.invoke(args=["proposals", "catch-up"])
    assert "Expired 0 proposal(s); anonymised 0 support(s)." in again.output


def test_a_running_process_is_never_looked_at(app, make_user):
    with app.app_context():
        from app.proposals import queries

        build_process(threshold=5)
        assert queries.anonymise_on_read() == 0
        assert db.session.scalar(select(Process.id)) is not None
