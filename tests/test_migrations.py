"""`flask db upgrade` on an empty database gives exactly the models' schema, on both engines."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.search.schema import include_name
from tests.conftest import ROOT, make_config

MIGRATIONS = str(ROOT / "migrations")


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A brand-new empty database on the same engine as the suite."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = "piazza_migration_check"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_upgrade_from_empty_matches_the_models(empty_database_url, tmp_path):
    app = create_app(make_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            # The search index's FTS5 table / tsvector column are engine-specific: not in the models.
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_upgrade_creates_the_audit_chain_head(empty_database_url, tmp_path):
    app = create_app(make_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        row = db.session.execute(text("SELECT seq, last_hash FROM audit_chain_head WHERE id = 1")).one()
        db.session.remove()
        db.engine.dispose()
    assert row.seq == 0 and row.last_hash == "0" * 64


def test_downgrade_to_base_and_upgrade_again(empty_database_url, tmp_path):
    app = create_app(make_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        downgrade(directory=MIGRATIONS, revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade(directory=MIGRATIONS)
        assert "users" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_revisions_have_sortable_date_prefixed_names():
    names = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert names, "no revisions"
    for name in names:
        assert name[:8].isdigit() and name[8] == "_", name


def test_the_comparison_does_notice_a_model_change(empty_database_url, tmp_path):
    """Guard against a comparison that always says "no difference"."""
    from sqlalchemy import Column, Integer, MetaData, Table

    app = create_app(make_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        changed = MetaData()
        for table in db.metadata.sorted_tables:
            table.to_metadata(changed)
        Table("not_migrated", changed, Column("id", Integer, primary_key=True))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), changed)
        db.engine.dispose()
    assert any(d[0] == "add_table" and d[1].name == "not_migrated" for d in diff)


def test_downgrading_past_the_verification_keeps_every_user_and_role(empty_database_url, tmp_path):
    """On SQLite a table rebuild with foreign keys on would cascade-delete the rows that point at users."""
    from app.auth.passwords import hash_password
    from app.models import Role, User, UserRole
    from app.models.base import utcnow

    app = create_app(make_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        user = User(email="kept@example.org", display_name="Kept", password_hash=hash_password("x" * 12),
                    terms_accepted_at=utcnow())
        user.role_rows = [UserRole(role=Role.citizen), UserRole(role=Role.moderator)]
        db.session.add(user)
        db.session.commit()
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="3f97d76b7024")  # past every later change of users
        counts = db.session.execute(text("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_roles)")).one()
        db.session.remove()
        upgrade(directory=MIGRATIONS)
        again = db.session.execute(text("SELECT count(*) FROM user_roles")).scalar()
        db.session.remove()
        db.engine.dispose()
    assert tuple(counts) == (1, 2)
    assert again == 2
