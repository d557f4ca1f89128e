"""The search index: one row per publicly visible searchable item (app/search/index.py keeps it current).

Only the portable part is declared here. Each engine adds its own full-text structure in the
migration (20261204_2010_7132f538d5bd): on SQLite an external-content FTS5 table ``search_fts``
fed by triggers on this table; on PostgreSQL a generated ``document tsvector`` column (Italian and
English configurations) with a GIN index. ``app.search.schema.include_name`` keeps them out of the
models-versus-migrations comparison.
"""
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime


class SearchDocument(db.Model):
    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: proposal | report | debate | pact | house
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="SET NULL"))
    #: The item's status value (proposals, reports, pacts), for the status filter.
    status: Mapped[str | None] = mapped_column(String(30))
    #: Folded text (lower case, no accents, words separated by single spaces): what is matched.
    #: Never shown: results are read from the items themselves.
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    #: When the item was created: newer first among equally relevant results.
    created_at = mapped_column(UTCDateTime)
