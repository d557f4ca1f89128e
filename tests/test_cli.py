"""CLI commands: users, mail, seed."""
import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Category, District, NeighbourhoodHouse, OutboxEmail, Role, User
from app.seed import turin
from app.seed.demo import CITIZEN_COUNT
from tests.conftest import refetch


def _user(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return refetch(app, User, user.id) if user else None


def test_users_create_with_roles_and_verified(app, runner):
    result = runner.invoke(args=["users", "create", "Anna@Example.org", "--role", "official", "--role", "citizen",
                                 "--verified", "--password", "una password lunga 123"])
    assert result.exit_code == 0, result.output
    user = _user(app, "anna@example.org")
    assert user.roles == {Role.official, Role.citizen}
    assert user.is_verified and user.is_confirmed
    assert user.password_hash.startswith("$argon2id$")
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions[0] == "user.created" and "user.verified" in actions


def test_users_create_generates_and_prints_a_password_when_none_given(app, runner):
    result = runner.invoke(args=["users", "create", "mod@example.org", "--role", "moderator"])
    assert result.exit_code == 0
    password = result.output.strip().splitlines()[-1].split(": ", 1)[1]
    from app.auth.passwords import verify_password

    with app.app_context():
        assert verify_password(_user(app, "mod@example.org").password_hash, password)


def test_users_create_refuses_duplicates_and_bad_roles(runner):
    runner.invoke(args=["users", "create", "dup@example.org"])
    result = runner.invoke(args=["users", "create", "dup@example.org"])
    assert result.exit_code != 0 and "already has an account" in result.output
    result = runner.invoke(args=["users", "create", "x@example.org", "--role", "emperor"])
    assert result.exit_code != 0


def test_users_grant_revoke_and_verify(app, runner):
    runner.invoke(args=["users", "create", "g@example.org"])
    assert "granted moderator" in runner.invoke(args=["users", "grant", "g@example.org", "moderator"]).output
    assert Role.moderator in _user(app, "g@example.org").roles
    assert "revoked moderator" in runner.invoke(args=["users", "revoke", "g@example.org", "moderator"]).output
    assert Role.moderator not in _user(app, "g@example.org").roles
    assert runner.invoke(args=["users", "verify", "g@example.org"]).exit_code == 0
    assert _user(app, "g@example.org").is_verified
    result = runner.invoke(args=["users", "grant", "nobody@example.org", "admin"])
    assert result.exit_code != 0 and "no account" in result.output


def test_mail_send_pending_writes_eml_files_and_marks_sent(app, runner, make_user, tmp_path):
    from app.mail.services import queue_email

    user = make_user()
    with app.app_context():
        queue_email(user.email, "confirm_email", kind="confirm_email", user=db.session.get(User, user.id),
                    url="http://x/confirm/abc", locale="it")
        db.session.commit()
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0 and "Sent 1 email" in result.output
    files = list((app.config["INSTANCE_DIR"] and __import__("pathlib").Path(app.config["MAIL_FILE_DIR"])).glob("*.eml"))
    assert files
    text = files[-1].read_bytes().decode()
    assert f"To: {user.email}" in text and "Subject:" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
            OutboxEmail.sent_at.is_(None))) == 0
    assert "Sent 0 email" in runner.invoke(args=["mail", "send-pending"]).output


def test_mail_send_pending_keeps_failed_emails_for_a_retry(app, runner, make_user, monkeypatch):
    import smtplib

    from app.mail.services import queue_email

    class Broken:
        def __init__(self, *a, **k):
            raise smtplib.SMTPConnectError(421, "no")

    monkeypatch.setattr(smtplib, "SMTP", Broken)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.invalid")
    user = make_user()
    with app.app_context():
        queue_email(user.email, "confirm_email", kind="confirm_email", user=db.session.get(User, user.id),
                    url="http://x", locale="en")
        db.session.commit()
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code != 0
    with app.app_context():
        row = db.session.scalar(select(OutboxEmail))
        assert row.sent_at is None


def test_mail_over_smtp_records_errors_per_email(app, runner, make_user, monkeypatch):
    import smtplib

    from app.mail.services import queue_email

    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            self.host = host

        def starttls(self, context):
            pass

        def login(self, u, p):
            pass

        def send_message(self, msg):
            if "fail" in msg["To"]:
                raise smtplib.SMTPRecipientsRefused({msg["To"]: (550, b"no such user")})
            sent.append(msg["To"])

        def quit(self):
            pass

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    with app.app_context():
        for address in ("ok@example.org", "fail@example.org"):
            queue_email(address, "confirm_email", kind="confirm_email", user=None, url="http://x", locale="it",
                        **{})
        db.session.commit()
    result = runner.invoke(args=["mail", "send-pending"])
    assert "Sent 1 email" in result.output and "1 failed" in result.output
    assert sent == ["ok@example.org"]
    with app.app_context():
        failed = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "fail@example.org"))
        assert failed.sent_at is None and failed.attempts == 1 and "no such user" in failed.last_error


def _point_in_ring(lon, lat, ring):
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def test_seed_demo_is_complete_and_idempotent(app, runner):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed", "demo"])
    assert "0 new accounts" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(District.id))) == 8
        assert db.session.scalar(select(func.count(NeighbourhoodHouse.id))) == 9
        assert db.session.scalar(select(func.count(Category.id))) == len(turin.CATEGORIES)
        assert all(c.department_id for c in db.session.scalars(select(Category)))
        citizens = db.session.scalars(select(User).where(User.email.like("citizen%@example.org"))).all()
        assert len(citizens) == CITIZEN_COUNT
        assert all(u.is_verified and u.is_citizen for u in citizens)
        emails = {u.email for u in citizens}
        assert "citizen001@example.org" in emails and "citizen300@example.org" in emails
        for email, role in [("admin@example.org", Role.admin), ("official@example.org", Role.official),
                            ("moderator@example.org", Role.moderator),
                            ("facilitator@example.org", Role.facilitator)]:
            assert role in db.session.scalar(select(User).where(User.email == email)).roles
        official = db.session.scalar(select(User).where(User.email == "official@example.org"))
        assert official.departments
        # the demo rounds: every proposal state, counters equal to support rows
        from app.models.proposal import Proposal, ProposalStatus, Support
        from app.models.report import Report, ReportStatus

        assert {p.status for p in db.session.scalars(select(Proposal))} == set(ProposalStatus)
        assert db.session.scalar(select(func.sum(Proposal.support_count))) == \
            db.session.scalar(select(func.count(Support.id)))
        assert {r.status for r in db.session.scalars(select(Report))} == set(ReportStatus)
        # every house lies inside the district it is assigned to
        for house in db.session.scalars(select(NeighbourhoodHouse)):
            ring = json.loads(house.district.geometry)["coordinates"][0]
            assert _point_in_ring(house.lon, house.lat, ring), house.name


def test_demo_accounts_can_sign_in_with_the_demo_password(app, runner, client):
    runner.invoke(args=["seed", "demo"])
    for email in ("citizen001@example.org", "citizen300@example.org", "admin@example.org"):
        response = client.post("/login", data={"email": email, "password": "piazza-demo"})
        assert response.status_code == 302, email
        client.post("/logout")


def test_district_outlines_tile_without_overlaps():
    rings = {n: ring for n, _, ring in turin.DISTRICTS}
    # sample a grid over the city: each point inside the city belongs to exactly one district
    for i in range(40):
        for j in range(40):
            lon = 7.5805 + i * (7.7695 - 7.5805) / 39
            lat = 45.0055 + j * (45.1395 - 45.0055) / 39
            hits = [n for n, ring in rings.items() if _point_in_ring(lon, lat, ring)]
            assert len(hits) == 1, (lon, lat, hits)
