"""search index: search_documents, with FTS5 (SQLite) or a tsvector column and GIN index (PostgreSQL)

The engine-specific objects are written here as plain SQL (revisions never import the app); their
names are listed in app/search/schema.py, which keeps them out of the models comparison.
After upgrading a database that already holds content, fill the index once: `flask search reindex`.

Revision ID: 7132f538d5bd
Revises: 6e0fa2ed68d9
Create Date: 2026-12-04 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7132f538d5bd'
down_revision = '6e0fa2ed68d9'
branch_labels = None
depends_on = None

SQLITE_UP = (
    # External content: the text lives once, in search_documents; the triggers keep the FTS index in step.
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TABLE IF EXISTS search_fts",
)
POSTGRESQL_UP = (
    # The text is already folded (lower case, no accents) in Python: no unaccent extension needed.
    "ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('italian'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('italian'::regconfig, body), 'D') || "
    "setweight(to_tsvector('english'::regconfig, body), 'D')) STORED",
    "CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)",
)
POSTGRESQL_DOWN = (
    "DROP INDEX IF EXISTS ix_search_documents_document",
)


def upgrade():
    op.create_table('search_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_search_documents_district_id_districts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents')),
    sa.UniqueConstraint('kind', 'record_id', name=op.f('uq_search_documents_kind_record_id'))
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}.get(dialect, ()):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, ()):
        op.execute(statement)
    op.drop_table('search_documents')
