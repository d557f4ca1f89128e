"""Fixtures: the app on SQLite or PostgreSQL (PIAZZA_TEST_DB), a clean database per test, builders.

HTTP tests must not hold an application context while they make requests (Flask
would reuse it, and with it ``g`` and the database session); they open short
ones with ``app.app_context()`` to check the database.
"""
from datetime import date
import os
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import insert, select

from app import create_app
from app.extensions import db, limiter
from app.models import AuditChainHead, Role, User, UserRole
from app.models.audit import GENESIS_HASH
from app.models.base import utcnow
from config import TestingConfig

ROOT = Path(__file__).resolve().parent.parent
ENGINE = os.environ.get("PIAZZA_TEST_DB", "sqlite")
TEST_PASSWORD = "correct horse battery staple 42"


def pytest_report_header(config):
    return f"Piazza test database engine: {ENGINE}"


def _compile_translations():
    """Build the .mo catalogues if missing or stale, so a bare `pytest` works too."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "app" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as fh:
                catalog = read_po(fh)
            with mo.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=True)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if ENGINE == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'piazza-test.sqlite'}"
    elif ENGINE in ("postgresql", "postgres"):
        from tests.pg import PostgresServer

        if os.environ.get("PIAZZA_TEST_DATABASE_URL"):
            yield os.environ["PIAZZA_TEST_DATABASE_URL"]
            return
        server = PostgresServer().start()
        try:
            yield server.url
        finally:
            server.stop()
    else:
        raise pytest.UsageError(f"PIAZZA_TEST_DB must be sqlite or postgresql, not {ENGINE!r}")


def make_config(database_url, tmp_dir, **overrides):
    attrs = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(tmp_dir),
        "MAIL_FILE_DIR": str(tmp_dir / "mail"),
        **overrides,
    }
    return type("TestConfig", (TestingConfig,), attrs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    _compile_translations()
    application = create_app(make_config(database_url, tmp_path_factory.mktemp("instance")))
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def _truncate_all():
    # DELETE, not TRUNCATE: on PostgreSQL it is much faster for tables this small.
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.execute(insert(AuditChainHead).values(id=1, seq=0, last_hash=GENESIS_HASH))
    db.session.commit()


@pytest.fixture(autouse=True)
def clean_db(app):
    """Every test starts from the migrated, empty schema and fresh rate-limit counters."""
    yield
    with app.app_context():
        db.session.remove()
        _truncate_all()
        db.session.remove()
    if limiter.enabled and limiter._storage is not None:
        limiter.reset()
    # The limiter is a singleton that the last create_app() configured; tests that build a
    # rate-limited app must not leave limits on for the rest of the suite.
    limiter.enabled = app.config["RATELIMIT_ENABLED"]


@pytest.fixture
def app_ctx(app):
    """An application context for service tests (don't combine with the HTTP client)."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


ROLE_SETS = {
    "visitor": None,
    "unconfirmed": ([Role.citizen], False, False),
    "citizen": ([Role.citizen], True, False),
    "verified": ([Role.citizen], True, True),
    "facilitator": ([Role.facilitator], True, False),
    "official": ([Role.official], True, False),
    "moderator": ([Role.moderator], True, False),
    "admin": ([Role.admin], True, False),
}


ADULT_BIRTH_DATE = date(1985, 6, 15)


@pytest.fixture
def make_user(app):
    """Builder: ``make_user(roles=[Role.citizen], confirmed=True, verified=False, email=None)``.

    Returns a detached User whose columns are loaded; password is TEST_PASSWORD.
    """
    from app.auth.passwords import hash_password

    counter = {"n": 0}

    def build(roles=(Role.citizen,), confirmed=True, verified=False, email=None, display_name=None,
              password=TEST_PASSWORD, **columns):
        # An adult by default, so that processes with a minimum age accept their supports.
        columns.setdefault("birth_date", ADULT_BIRTH_DATE)
        counter["n"] += 1
        email = email or f"user{counter['n']}-{time.monotonic_ns()}@example.org"
        with app.app_context():
            now = utcnow()
            user = User(email=email.lower(), display_name=display_name or f"User {counter['n']}",
                        password_hash=hash_password(password) if password else None,
                        email_confirmed_at=now if confirmed else None, verified_at=now if verified else None,
                        terms_accepted_at=now, **columns)
            user.role_rows = [UserRole(role=Role(r)) for r in roles]
            db.session.add(user)
            db.session.commit()
            user = db.session.scalar(select(User).where(User.id == user.id))
            _ = (user.role_rows, user.departments)
            db.session.expunge(user)
        return user

    return build


@pytest.fixture
def user_for(make_user):
    """``user_for("moderator")``: a user in one of the access-matrix roles (None for visitor)."""

    def build(kind):
        spec = ROLE_SETS[kind]
        if spec is None:
            return None
        roles, confirmed, verified = spec
        return make_user(roles=roles, confirmed=confirmed, verified=verified)

    return build


def login(client, user):
    """Put ``user`` in the test client's session, as a successful sign-in would."""
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["login_at"] = time.time()
        sess["seen_at"] = time.time()


@pytest.fixture
def login_as(client):
    def do(user):
        if user is not None:
            login(client, user)
        return user

    return do


def refetch(app, model, ident):
    """A fresh copy of a row, read in its own application context."""
    with app.app_context():
        obj = db.session.get(model, ident)
        if obj is not None:
            db.session.refresh(obj)
            if isinstance(obj, User):
                _ = (obj.role_rows, obj.departments)
            db.session.expunge(obj)
        return obj
