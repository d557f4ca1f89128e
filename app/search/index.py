"""The search index: what goes in it, how it stays current, and how each engine is asked.

``search_documents`` holds one row per *publicly visible* proposal, report, debate, pact and
neighbourhood house: the folded title and text, its district and status. An item that is not
public (a draft, a hidden report, a pact under examination) has no row, so its text is never even
in the index. A session hook keeps it so: after every flush, each searchable item that was created,
deleted, or changed in a field that matters (text, status, district, hiding) gets its row written,
rewritten or removed, in the same transaction. ``reindex`` rebuilds it from the tables (after a
bulk load that bypassed the ORM, or to check it: it reports what it had to change).

Results are loaded again from the items' own tables with each kind's public condition, so even a
stale row can never show something that is not public (app/search/services.py).

SQLite matches with FTS5 (every word, words of PREFIX_MIN letters or more also as prefixes), ranked by
bm25 with the title weighing more. PostgreSQL matches the tsvector of the Italian and English
configurations (stemming: "giardini" finds "giardino"), each word in either language or as a
prefix, ranked by ts_rank (title = weight A, text = weight D).
"""
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from typing import Callable

from sqlalchemy import Text, bindparam, column, delete, event, func, inspect, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR
from sqlalchemy.orm import Session, lazyload

from app.extensions import db
from app.models.search import SearchDocument
from app.search.schema import FTS_TABLE, PG_CONFIGS, TSVECTOR_COLUMN
from app.search.text import PREFIX_MIN, candidate_words, index_text, prefix_matcher

DOCUMENTS = SearchDocument.__table__


@dataclass(frozen=True)
class Source:
    """How one kind of item is searched."""

    kind: str
    model: type
    #: Attributes whose change changes the item's document or its visibility.
    watched: tuple
    #: item -> True when anyone may see it (the Python twin of ``public_condition``).
    is_public: Callable
    #: () -> the SQL condition of a public item.
    public_condition: Callable
    title: Callable
    #: item -> the text shown in a snippet (and indexed).
    body: Callable
    #: item -> its public page (a path).
    url: Callable
    #: item -> text indexed besides title and body, never shown (a protocol number).
    extra: Callable = lambda item: ""
    status: Callable = lambda item: None
    created_at: Callable = lambda item: item.created_at

    def document(self, item):
        """The index row of a public item (column values)."""
        return {"kind": self.kind, "record_id": item.id, "district_id": item.district_id,
                "status": self.status(item), "title": index_text(self.title(item)),
                "body": index_text(self.body(item), self.extra(item)), "created_at": self.created_at(item)}


def _status(value):
    """A status column's value as text (an enum member, or the plain string a caller assigned)."""
    return getattr(value, "value", value)


def _join(*parts):
    return "\n".join(p for p in parts if p)


_SOURCES = {}


def sources():
    """kind -> Source, in the order the kinds are offered."""
    if not _SOURCES:
        from app.http import path_for
        from app.models.discussion import Debate
        from app.models.pact import Pact
        from app.models.place import NeighbourhoodHouse
        from app.models.proposal import Proposal
        from app.models.report import Report
        from app.pacts.registry import public_condition as pact_public
        from app.proposals.queries import visible as proposal_visible

        _SOURCES.update((s.kind, s) for s in (
            Source("proposal", Proposal, ("title", "body", "district_id", "status", "hidden_at"),
                   is_public=lambda p: p.is_public, public_condition=proposal_visible,
                   title=lambda p: p.title, body=lambda p: p.body, status=lambda p: _status(p.status),
                   url=lambda p: path_for("proposals.detail", proposal_id=p.id)),
            Source("report", Report, ("title", "description", "address", "district_id", "status", "hidden_at"),
                   is_public=lambda r: r.hidden_at is None, public_condition=lambda: Report.hidden_at.is_(None),
                   title=lambda r: r.title, body=lambda r: _join(r.description, r.address),
                   status=lambda r: _status(r.status), url=lambda r: path_for("reports.detail", report_id=r.id)),
            Source("debate", Debate, ("title", "body", "district_id", "hidden_at"),
                   is_public=lambda d: d.hidden_at is None, public_condition=lambda: Debate.hidden_at.is_(None),
                   title=lambda d: d.title, body=lambda d: d.body,
                   url=lambda d: path_for("debates.detail", debate_id=d.id)),
            Source("pact", Pact, ("title", "objectives", "activities", "beneficiaries", "protocol_number",
                                  "district_id", "status", "hidden_at", "department_id"),
                   is_public=lambda p: p.is_public, public_condition=pact_public,
                   title=lambda p: p.title, body=lambda p: _join(p.objectives, p.activities, p.beneficiaries),
                   extra=lambda p: p.protocol_number, status=lambda p: _status(p.status),
                   url=lambda p: path_for("pacts.detail", pact_id=p.id)),
            # A house's phone and email are left out on purpose: nobody searches for them.
            Source("house", NeighbourhoodHouse, ("name", "neighbourhood", "address", "district_id"),
                   is_public=lambda h: True, public_condition=lambda: NeighbourhoodHouse.id.is_not(None),
                   title=lambda h: h.name, body=lambda h: _join(h.neighbourhood, h.address),
                   url=lambda h: path_for("houses.detail", slug=h.slug), created_at=lambda h: None),
        ))
    return _SOURCES


def _by_model():
    return {s.model: s for s in sources().values()}


# --- keeping it current ------------------------------------------------------------------------

def _changed(item, watched):
    attrs = inspect(item).attrs
    return any(attrs[name].history.has_changes() for name in watched)


@event.listens_for(Session, "after_flush")
def _index_flushed(session, flush_context):
    """Write the index rows of the searchable items this flush created, changed or deleted."""
    by_model = _by_model() if (session.new or session.dirty or session.deleted) else {}
    if not by_model:
        return
    touched = {}
    for item in session.new:
        source = by_model.get(type(item))
        if source is not None:
            touched[(source.kind, item.id)] = (source, item)
    for item in session.dirty:
        source = by_model.get(type(item))
        if source is not None and _changed(item, source.watched):
            touched[(source.kind, item.id)] = (source, item)
    for item in session.deleted:
        source = by_model.get(type(item))
        if source is not None:
            touched[(source.kind, item.id)] = (source, None)
    if touched:
        write(session.connection(), touched)


def write(conn, touched):
    """Bring the rows of ``touched`` ({(kind, record_id): (source, item or None)}) up to date."""
    rows, gone = [], defaultdict(list)
    for (kind, record_id), (source, item) in touched.items():
        if item is not None and source.is_public(item):
            rows.append(source.document(item))
        else:
            gone[kind].append(record_id)
    for kind, ids in gone.items():
        conn.execute(delete(DOCUMENTS).where(DOCUMENTS.c.kind == kind, DOCUMENTS.c.record_id.in_(ids)))
    if rows:
        _upsert(conn, rows)


def _upsert(conn, rows):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(DOCUMENTS)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DOCUMENTS.c.kind, DOCUMENTS.c.record_id],
        set_={name: stmt.excluded[name] for name in ("district_id", "status", "title", "body", "created_at")})
    conn.execute(stmt, rows)


_COMPARED = ("district_id", "status", "title", "body", "created_at")


def reindex(kind, batch_size=500, progress=None):
    """Rebuild one kind's rows from its table; returns {"added", "updated", "removed"} counts.

    Reads the public items in batches by id; only rows that differ are written, so running it on
    an index the hook kept current changes nothing. ``progress(n)`` is told each batch's size.
    """
    source = sources()[kind]
    model = source.model
    conn = db.session.connection()
    counts = {"added": 0, "updated": 0, "removed": 0}
    seen, last = set(), 0
    while True:
        items = db.session.scalars(
            select(model).where(source.public_condition(), model.id > last).order_by(model.id)
            .limit(batch_size).options(lazyload("*"))).all()
        if not items:
            break
        last = items[-1].id
        documents = [source.document(item) for item in items]
        ids = [d["record_id"] for d in documents]
        current = {row.record_id: row for row in conn.execute(
            select(DOCUMENTS.c.record_id, *(DOCUMENTS.c[name] for name in _COMPARED))
            .where(DOCUMENTS.c.kind == kind, DOCUMENTS.c.record_id.in_(ids)))}
        changed = []
        for doc in documents:
            row = current.get(doc["record_id"])
            if row is None:
                counts["added"] += 1
                changed.append(doc)
            elif any(getattr(row, name) != doc[name] for name in _COMPARED):
                counts["updated"] += 1
                changed.append(doc)
        if changed:
            _upsert(conn, changed)
        seen.update(ids)
        for item in items:
            db.session.expunge(item)
        if progress:
            progress(len(items))
    stale = [rid for rid in conn.execute(select(DOCUMENTS.c.record_id).where(DOCUMENTS.c.kind == kind)).scalars()
             if rid not in seen]
    for start in range(0, len(stale), batch_size):
        conn.execute(delete(DOCUMENTS).where(DOCUMENTS.c.kind == kind,
                                             DOCUMENTS.c.record_id.in_(stale[start:start + batch_size])))
    counts["removed"] = len(stale)
    return counts


def public_count(kind):
    """How many public items of ``kind`` there are (what reindex will read)."""
    source = sources()[kind]
    return db.session.scalar(select(func.count()).select_from(source.model).where(source.public_condition()))


# --- asking it ----------------------------------------------------------------------------------

def _regconfig(name):
    return literal_column(f"'{name}'::regconfig")


def _term_query(term):
    """PostgreSQL: the word in either language (stemmed), or as a prefix when long enough."""
    queries = [func.plainto_tsquery(_regconfig(name), term, type_=TSQUERY) for name in PG_CONFIGS]
    if len(term) >= PREFIX_MIN:
        queries.append(func.to_tsquery(_regconfig("simple"), term + ":*", type_=TSQUERY))
    return reduce(lambda a, b: a.op("||", return_type=TSQUERY)(b), queries)


def _all_terms(terms):
    return reduce(lambda a, b: a.op("&&", return_type=TSQUERY)(b), map(_term_query, terms))


def _fts5_query(terms):
    """SQLite: every word quoted (so nothing in it is FTS5 syntax), long ones as prefixes."""
    return " AND ".join(f'"{t}"*' if len(t) >= PREFIX_MIN else f'"{t}"' for t in terms)


def find(terms, *, kind=None, district_id=None, statuses=None, limit=20, offset=0):
    """[(kind, record_id, district_id)] of documents holding every term, best first."""
    if not terms:
        return []
    d = DOCUMENTS.c
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        document = literal_column(f"search_documents.{TSVECTOR_COLUMN}", type_=TSVECTOR)
        query = _all_terms(terms)
        stmt = (select(d.kind, d.record_id, d.district_id).where(document.op("@@")(query))
                .order_by(func.ts_rank(document, query).desc(), d.created_at.desc().nulls_last(), d.id.desc()))
    else:
        fts = table(FTS_TABLE, column("rowid"))
        stmt = (select(d.kind, d.record_id, d.district_id).select_from(fts.join(DOCUMENTS, d.id == fts.c.rowid))
                .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=_fts5_query(terms)))
                .order_by(literal_column(f"bm25({FTS_TABLE}, 8.0, 1.0)"), d.created_at.desc(), d.id.desc()))
    if kind:
        stmt = stmt.where(d.kind == kind)
    if district_id:
        stmt = stmt.where(d.district_id == district_id)
    if statuses:
        stmt = stmt.where(d.status.in_(sorted(statuses)))
    return [tuple(row) for row in db.session.execute(stmt.limit(limit).offset(offset))]


def load(hits):
    """{(kind, record_id): item} for the hits that are public right now (one query per kind)."""
    by_kind = defaultdict(list)
    for kind, record_id, _district in hits:
        by_kind[kind].append(record_id)
    found = {}
    for kind, ids in by_kind.items():
        source = sources()[kind]
        model = source.model
        for item in db.session.scalars(select(model).where(model.id.in_(ids), source.public_condition())):
            found[(kind, item.id)] = item
    return found


def matcher(terms, texts):
    """folded word -> True when the engine's query matches it (to mark the words in ``texts``).

    SQLite: the same exact-or-prefix rule as the FTS5 query. PostgreSQL: stems decide, so the
    database itself says which of the candidate words match (one query for a page of results).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return prefix_matcher(terms)
    candidates = sorted(candidate_words(texts, terms))
    if not candidates:
        return lambda word: False
    word = func.unnest(bindparam("words", candidates, type_=ARRAY(Text))).column_valued("w")
    vector = reduce(lambda a, b: a.op("||", return_type=TSVECTOR)(b),
                    [func.to_tsvector(_regconfig(name), word, type_=TSVECTOR) for name in PG_CONFIGS])
    any_term = reduce(lambda a, b: a.op("||", return_type=TSQUERY)(b), map(_term_query, terms))
    matched = frozenset(db.session.scalars(select(word).where(vector.op("@@")(any_term))))
    return matched.__contains__
