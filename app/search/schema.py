"""The engine-specific objects of the search index, which the models do not declare.

The migration 20261204_2010_7132f538d5bd creates them: on SQLite the FTS5 table ``search_fts`` (and
the shadow tables FTS5 keeps beside it) fed by triggers on ``search_documents``; on PostgreSQL the
generated column ``search_documents.document`` and its GIN index. Comparing models with the
database (tests/test_migrations.py, ``flask db migrate``) must not report them as extra.
"""
FTS_TABLE = "search_fts"
TSVECTOR_COLUMN = "document"
TSVECTOR_INDEX = "ix_search_documents_document"
#: The text search configurations the tsvector combines (the same pair is used for queries).
PG_CONFIGS = ("italian", "english")


def include_name(name, type_, parent_names):
    """Alembic ``include_name`` hook: False for the search index's engine-specific objects."""
    if type_ == "table":
        return not (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    if type_ == "column":
        return not (parent_names.get("table_name") == "search_documents" and name == TSVECTOR_COLUMN)
    if type_ == "index":
        return name != TSVECTOR_INDEX
    return True
