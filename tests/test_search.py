"""Search rules: accent-insensitive Italian words, visibility (the index holds only what is public and
results are checked again against the tables), filters, marked and escaped snippets, hostile queries,
paging with a cap, the reindex command, and an index lookup rather than a scan — on both engines."""
import itertools

import pytest
from sqlalchemy import event, func, insert, select, text, update

from app.extensions import db
from app.models import Role, User
from app.models.base import utcnow
from app.models.commons import Commons, CommonsKind
from app.models.discussion import Debate
from app.models.pact import Pact, PactStatus
from app.models.place import Category, District, NeighbourhoodHouse
from app.models.proposal import Proposal, ProposalStatus
from app.models.report import Report, ReportStatus
from app.models.search import SearchDocument
from app.moderation import services as moderation
from app.search import index
from app.search.services import MAX_PAGE, PAGE_SIZE, Filters, make_filters, search, search_json
from app.search.text import MAX_QUERY_CHARS, MAX_TERMS, excerpt, fold, mark, prefix_matcher, query_terms
from tests.conftest import ENGINE
from tests.test_proposals import build_process

POSTGRESQL = ENGINE in ("postgresql", "postgres")
_n = itertools.count(1)


# --- builders (call inside an application context; they commit) -----------------------------

@pytest.fixture
def place(app_ctx):
    """Two districts and a category, committed: {"d1", "d2", "category"} ids."""
    districts = [District(number=n, name=f"Circoscrizione {n}", geometry="{}") for n in (1, 2)]
    category = Category(slug="illuminazione", name_it="Illuminazione", name_en="Lighting")
    db.session.add_all([*districts, category])
    db.session.commit()
    return {"d1": districts[0].id, "d2": districts[1].id, "category": category.id}


def a_report(place, title="Lampione spento", description="Il lampione è spento da una settimana.", **kw):
    kw.setdefault("district_id", place["d1"])
    report = Report(title=title, description=description, category_id=place["category"], lat=45.07, lon=7.68, **kw)
    db.session.add(report)
    db.session.commit()
    return report


def a_proposal(title="Una panchina nuova", body="Serve una panchina all'ombra.", status=ProposalStatus.published,
               **kw):
    process = kw.pop("process", None) or build_process()
    proposal = Proposal(process_id=process.id, title=title, body=body, status=status, **kw)
    db.session.add(proposal)
    db.session.commit()
    return proposal


def a_debate(title="Parliamo del mercato", body="Che ne dite?", **kw):
    debate = Debate(title=title, body=body, **kw)
    db.session.add(debate)
    db.session.commit()
    return debate


def a_pact(title="Cura del giardino", status=PactStatus.active, **kw):
    commons = Commons(name=f"Giardino {next(_n)}", kind=CommonsKind.green_area, lat=45.07, lon=7.68)
    db.session.add(commons)
    db.session.flush()
    kw.setdefault("objectives", "Tenere pulite le aiuole.")
    kw.setdefault("department_id", None)
    pact = Pact(title=title, commons_id=commons.id, status=status, **kw)
    db.session.add(pact)
    db.session.commit()
    return pact


def a_house(name="Casa del Quartiere di San Salvario", **kw):
    kw.setdefault("neighbourhood", "San Salvario")
    kw.setdefault("address", "Via Morgari 14")
    house = NeighbourhoodHouse(slug=f"casa-{next(_n)}", name=name, lat=45.05, lon=7.68, **kw)
    db.session.add(house)
    db.session.commit()
    return house


def found(query, **filters):
    """(kind, id) of the results of ``query``, best first."""
    return [(r.kind, r.id) for r in search(query, make_filters(**filters)).results]


def index_rows(kind=None):
    stmt = select(SearchDocument.kind, SearchDocument.record_id)
    if kind:
        stmt = stmt.where(SearchDocument.kind == kind)
    return set(db.session.execute(stmt).all())


# --- folding and terms (pure functions) -------------------------------------------------------

@pytest.mark.parametrize("raw, folded", [
    ("Città", "citta"), ("PERCHÉ", "perche"), ("caffè", "caffe"), ("Straße", "strasse"),
    ("ﬁore", "fiore"), ("Ⅻ", "xii"), ("naïve", "naive"), ("İstanbul", "istanbul"), ("plain", "plain")])
def test_folding_drops_case_accents_and_compatibility_forms(raw, folded):
    assert fold(raw) == folded


def test_query_terms_are_folded_deduplicated_and_capped():
    assert query_terms("Città CITTA città, perché?") == ["citta", "perche"]
    many = " ".join(f"parola{i}" for i in range(20))
    assert query_terms(many) == [f"parola{i}" for i in range(MAX_TERMS)]
    assert len(query_terms("a" * 10_000)[0]) <= MAX_QUERY_CHARS
    assert query_terms('"*-():^ NEAR/3 AND OR NOT') == ["near", "3", "and", "or", "not"]
    assert query_terms("   ") == [] and query_terms(None) == []


def test_mark_escapes_the_text_and_wraps_only_matching_words():
    # "citta" is long enough to be a prefix too (as in the SQLite query); "via" is a whole word only.
    html = str(mark("<b>Città</b> e cittadini in via Viale & co", prefix_matcher(["citta", "via"])))
    assert html == ("&lt;b&gt;<mark>Città</mark>&lt;/b&gt; e <mark>cittadini</mark> in <mark>via</mark> Viale "
                    "&amp; co")


def test_an_excerpt_is_cut_around_the_first_match():
    body = " ".join(["parola"] * 80 + ["fontana"] + ["altro"] * 80)
    plain, html = excerpt(body, prefix_matcher(["fontana"]))
    assert plain.startswith("… ") and plain.endswith(" …") and "fontana" in plain
    assert str(html).count("<mark>fontana</mark>") == 1 and len(plain) < 260


# --- accents, case and Italian words ----------------------------------------------------------

def test_accented_and_unaccented_words_find_each_other(place):
    accented = a_report(place, title="Buche in città", description="Perché nessuno ripara la strada?")
    plain = a_report(place, title="Buche in citta", description="Perche nessuno ripara la strada?")
    coffee = a_debate(title="Il caffè sotto i portici", body="Un caffè all'aperto d'estate.")
    both = {("report", accented.id), ("report", plain.id)}
    for query in ("città", "citta", "CITTÀ", "Citta'", "perché", "perche", "PERCHÈ"):
        assert set(found(query)) == both, query
    for query in ("caffè", "caffe", "CAFFÉ"):
        assert found(query) == [("debate", coffee.id)], query


def test_every_word_must_match_and_long_words_match_as_prefixes(place):
    bikes = a_report(place, title="Rastrelliera per biciclette rotta", description="In via Nizza.")
    avenue = a_report(place, title="Viale dissestato", description="Buche ovunque.")
    assert found("bicicl") == [("report", bikes.id)]
    assert found("biciclette nizza") == [("report", bikes.id)]
    assert found("biciclette roma") == []
    assert found("via") == [("report", bikes.id)]  # three letters: a whole word, not "viale"
    assert found("viale") == [("report", avenue.id)]


def test_stemming_finds_other_forms_of_a_word_on_postgresql_only(place):
    """PostgreSQL's Italian and English configurations stem; SQLite's FTS5 matches words and prefixes."""
    garden = a_debate(title="Un giardino per il quartiere", body="Alberi e panchine.")
    a_debate(title="Parcheggi", body="Mancano posti auto.")
    assert found("giardino") == [("debate", garden.id)]
    assert (found("giardini") == [("debate", garden.id)]) is POSTGRESQL
    assert found("gardens") == []  # a translation is not a stem


def test_titles_weigh_more_than_text(place):
    # The title match is the older one, so recency (the tie-break) would put it second.
    in_title = a_report(place, title="Fontana senza acqua", description="In piazza.")
    in_text = a_report(place, title="Segnalazione", description="Una fontana senza acqua in piazza.")
    assert found("fontana") == [("report", in_title.id), ("report", in_text.id)]


def test_houses_pacts_and_proposals_are_found_too(place):
    house = a_house(name="Casa nel Parco", neighbourhood="Mirafiori Sud", address="Via Artom 46")
    pact = a_pact(title="Orto condiviso di Mirafiori", protocol_number="PC-2026-0042")
    proposal = a_proposal(title="Più alberi a Mirafiori", body="Piantiamo tigli.")
    assert set(found("mirafiori")) == {("house", house.id), ("pact", pact.id), ("proposal", proposal.id)}
    assert found("PC-2026-0042") == [("pact", pact.id)]  # the protocol number, as printed on the pact


# --- visibility --------------------------------------------------------------------------------

def test_drafts_hidden_items_and_private_pacts_are_never_found(place):
    process = build_process()
    public = a_proposal(title="Fontanella pubblica", process=process)
    a_proposal(title="Fontanella in bozza", status=ProposalStatus.draft, process=process)
    a_proposal(title="Fontanella nascosta", process=process, hidden_at=utcnow())
    a_report(place, title="Fontanella rotta nascosta", hidden_at=utcnow())
    a_debate(title="Fontanella: discussione nascosta", hidden_at=utcnow())
    for status in (PactStatus.draft, PactStatus.submitted, PactStatus.needs_integration, PactStatus.inadmissible):
        a_pact(title=f"Fontanella del patto {status.value}", status=status)
    a_pact(title="Fontanella del patto ritirato prima dell'esame", status=PactStatus.withdrawn)
    public_pact = a_pact(title="Fontanella del patto attivo", status=PactStatus.active)
    assert set(found("fontanella")) == {("proposal", public.id), ("pact", public_pact.id)}
    # Their text is not even in the index.
    assert index_rows() == {("proposal", public.id), ("pact", public_pact.id)}


def test_a_report_hidden_by_flags_after_indexing_disappears_and_comes_back_when_restored(place, make_user):
    people = [db.session.get(User, make_user().id) for _ in range(3)]
    moderator = db.session.get(User, make_user(roles=(Role.citizen, Role.moderator)).id)
    report = a_report(place, title="Cassonetto bruciato in corso Giulio")
    assert found("cassonetto") == [("report", report.id)]
    for user in people:
        moderation.flag(user, "report", report.id, "offensive")
    db.session.commit()
    assert db.session.get(Report, report.id).hidden_at is not None
    assert found("cassonetto") == [] and index_rows("report") == set()
    moderation.decide(moderation.case_for("report", report.id), moderator, "restore")
    db.session.commit()
    assert found("cassonetto") == [("report", report.id)]


def test_a_redacted_word_can_no_longer_be_found(place, make_user):
    flagger = db.session.get(User, make_user().id)
    moderator = db.session.get(User, make_user(roles=(Role.citizen, Role.moderator)).id)
    debate = a_debate(title="Rumore di notte", body="Chiamate Mariuccia Bertolotti al 333 1234567.")
    assert found("bertolotti") == [("debate", debate.id)]
    moderation.flag(flagger, "debate", debate.id, "personal_data")
    moderation.decide(moderation.case_for("debate", debate.id), moderator, "redact", rule="privacy",
                      reason="Dati personali.", redactions={"body": "Chiamate [nome rimosso]."})
    db.session.commit()
    assert found("bertolotti") == [] and found("rumore") == [("debate", debate.id)]


def test_publishing_editing_and_deleting_keep_the_index_current(place):
    draft = a_proposal(title="Area cani recintata", status=ProposalStatus.draft)
    assert found("recintata") == []
    draft.status = ProposalStatus.published
    db.session.commit()
    assert found("recintata") == [("proposal", draft.id)]
    draft.title = "Area cani con fontanella"
    db.session.commit()
    assert found("recintata") == [] and found("fontanella") == [("proposal", draft.id)]
    house = a_house(name="Cascina Roccafranca")
    db.session.delete(house)
    db.session.commit()
    assert found("roccafranca") == [] and index_rows("house") == set()


def test_a_pact_enters_the_index_when_the_procedure_makes_it_public(app_ctx):
    from tests.pact_builders import advance, pact_world, step_to

    world = pact_world()
    pact_id = advance(world, PactStatus.submitted, title="Cura dell'aiuola di corso Racconigi")
    assert found("racconigi") == []
    step_to(world, db.session.get(Pact, pact_id), PactStatus.admissible)
    assert found("racconigi") == [("pact", pact_id)]


def test_a_row_gone_stale_behind_the_hook_is_still_filtered_and_reindex_removes_it(place):
    report = a_report(place, title="Semaforo guasto")
    # A write that bypasses the ORM (a bulk job, a manual fix) leaves the index row behind...
    db.session.execute(update(Report).where(Report.id == report.id).values(hidden_at=utcnow()))
    db.session.commit()
    assert index_rows("report") == {("report", report.id)}
    # ...but results are checked against the table, so it is not shown,
    assert found("semaforo") == []
    # and reindex puts the index right.
    assert index.reindex("report") == {"added": 0, "updated": 0, "removed": 1}
    db.session.commit()
    assert index_rows("report") == set()


def test_private_fields_are_not_indexed(place, make_user):
    author = db.session.get(User, make_user(display_name="Gianfranca Privatissima",
                                            email="gianfranca@example.org").id)
    house = a_house(name="Bagni Pubblici", phone="011 555 1234", email="bagni@example.org")
    a_report(place, title="Panchina divelta", reporter_id=author.id)
    a_proposal(title="Panchine nuove", author_id=author.id)
    stored = " ".join(t + " " + b for t, b in db.session.execute(select(SearchDocument.title, SearchDocument.body)))
    for private in ("privatissima", "gianfranca", "example", "555", "1234"):
        assert private not in stored
    assert found("privatissima") == [] and found("gianfranca") == [] and found("555") == []
    assert ("house", house.id) in index_rows()


# --- filters -----------------------------------------------------------------------------------

def test_filters_by_kind_district_and_status(place):
    open_one = a_report(place, title="Marciapiede rotto", district_id=place["d1"])
    fixed = a_report(place, title="Marciapiede rotto anche qui", district_id=place["d2"], status=ReportStatus.resolved)
    proposal = a_proposal(title="Marciapiede più largo", district_id=place["d2"], status=ProposalStatus.accepted)
    everything = {("report", open_one.id), ("report", fixed.id), ("proposal", proposal.id)}
    assert set(found("marciapiede")) == everything
    assert set(found("marciapiede", kind="report")) == {("report", open_one.id), ("report", fixed.id)}
    assert set(found("marciapiede", district_id=place["d2"])) == {("report", fixed.id), ("proposal", proposal.id)}
    assert found("marciapiede", status="report-open") == [("report", open_one.id)]
    assert found("marciapiede", status="report-fixed") == [("report", fixed.id)]
    assert found("marciapiede", status="proposal-accepted") == [("proposal", proposal.id)]
    assert found("marciapiede", status="proposal-published") == []


def test_a_status_implies_its_kind_and_unknown_filters_are_ignored():
    assert make_filters(status="report-open") == Filters(kind="report", status="report-open")
    assert make_filters(kind="debate", status="report-open") == Filters(kind="debate")
    assert make_filters(kind="user", status="draft", district_id=2**40) == Filters()
    assert make_filters(status="proposal-draft") == Filters()  # drafts are never a filter


# --- highlighting -------------------------------------------------------------------------------

def test_titles_and_snippets_mark_the_matched_words_and_escape_everything_else(place):
    a_report(place, title="<script>alert('Città')</script> lampione",
             description="La <b>città</b> di notte è buia & pericolosa.")
    [result] = search("citta").results
    assert str(result.title_html) == "&lt;script&gt;alert(&#39;<mark>Città</mark>&#39;)&lt;/script&gt; lampione"
    assert str(result.snippet_html) == "La &lt;b&gt;<mark>città</mark>&lt;/b&gt; di notte è buia &amp; pericolosa."
    assert result.title == "<script>alert('Città')</script> lampione"


def test_stemmed_matches_are_marked_on_postgresql(place):
    a_debate(title="Giardini aperti", body="Il giardino della scuola resta aperto la domenica.")
    [result] = search("giardini").results
    assert "<mark>Giardini</mark>" in str(result.title_html)
    assert ("<mark>giardino</mark>" in str(result.snippet_html)) is POSTGRESQL


# --- bad input ---------------------------------------------------------------------------------

HOSTILE = ['"', '""', "'", "*", "-", "-città", "città*", "NEAR(città lampione)", "NEAR/2", "title:città",
           "body : x", "(", ")", "((città)", "a AND", "OR", "NOT città", "AND OR NOT", "^città", "città:*",
           "città & | !", "' OR 1=1 --", "%", "_", "\\", "\x00città", "🙂 città", "<script>", "{}[]",
           "città " * 500, "x" * 5000]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_fail(place, query):
    a_report(place, title="Lampione spento in città")
    page = search(query)
    assert page.page == 1 and len(page.query) <= MAX_QUERY_CHARS
    if query_terms(query) == ["citta"]:  # the rest was punctuation or syntax: it finds the report
        assert [r.kind for r in page.results] == ["report"]


def test_an_empty_query_searches_nothing(place):
    a_report(place)
    for query in ("", "   ", "!!!", None):
        page = search(query)
        assert not page.searched and page.results == []


# --- paging ------------------------------------------------------------------------------------

def test_more_results_pages_until_the_cap(place):
    for i in range(PAGE_SIZE + 5):
        a_debate(title=f"Lampioni numero {i}")
    first, second = search("lampioni", page=1), search("lampioni", page=2)
    assert len(first.results) == PAGE_SIZE and first.has_more
    assert len(second.results) == 5 and not second.has_more
    assert not {r.id for r in first.results} & {r.id for r in second.results}
    assert search("lampioni", page=10_000).page == MAX_PAGE
    assert search("lampioni", page=-3).page == 1


# --- the JSON twin -----------------------------------------------------------------------------

def test_search_json_returns_plain_public_data(place, make_user):
    author = db.session.get(User, make_user(display_name="Autore Riservato").id)
    report = a_report(place, title="Lampione spento", reporter_id=author.id, district_id=place["d1"])
    data = search_json("lampione", kind="report", status="report-open")
    assert data["page"] == 1 and data["next_page"] is None and data["query"] == "lampione"
    [item] = data["results"]
    assert item == {
        "kind": "report", "id": report.id, "title": "Lampione spento", "title_html": "<mark>Lampione</mark> spento",
        "snippet": "Il lampione è spento da una settimana.",
        "snippet_html": "Il <mark>lampione</mark> è spento da una settimana.",
        "url": f"/reports/{report.id}", "status": "new",
        "district": {"id": place["d1"], "number": 1, "name": "Circoscrizione 1"}}
    assert search_json("lampione", kind="house")["results"] == []


# --- reindex -----------------------------------------------------------------------------------

def test_reindex_changes_nothing_the_hook_kept_current_and_adds_bulk_loaded_rows(app, place, runner):
    a_report(place, title="Buca profonda")
    a_house(name="Hub Cecchi Point")
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("Search index up to date: 0 added, 0 updated, 0 removed.")
    # A bulk load with Core (bench/seed_reports.py does this) bypasses the hook.
    db.session.execute(insert(Report).values(title="Buca bulk", description="Caricata in blocco.",
                                             category_id=place["category"], lat=45.0, lon=7.6,
                                             status=ReportStatus.new, source="web", created_at=utcnow(),
                                             updated_at=utcnow(), status_changed_at=utcnow()))
    db.session.commit()
    assert [r.title for r in search("bulk").results] == []
    result = runner.invoke(args=["search", "reindex", "--kind", "report"])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 0 removed" in result.output
    db.session.expire_all()
    assert [r.title for r in search("bulk").results] == ["Buca bulk"]


def test_reindex_rewrites_a_changed_row(place):
    report = a_report(place, title="Tombino rumoroso")
    db.session.execute(update(Report).where(Report.id == report.id).values(title="Tombino sollevato"))
    db.session.commit()
    assert found("sollevato") == []
    assert index.reindex("report") == {"added": 0, "updated": 1, "removed": 0}
    db.session.commit()
    assert found("sollevato") == [("report", report.id)]


# --- cost ----------------------------------------------------------------------------------------

def test_one_query_finds_and_one_query_per_kind_loads(place):
    for i in range(4):
        a_report(place, title=f"Albero caduto {i}")
        a_debate(title=f"Albero da piantare {i}")
        a_proposal(title=f"Albero nuovo {i}", district_id=place["d2"])
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.expire_all()
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = search("albero")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page.results) == 12
    # find + reports + debates + proposals + districts (+ the stemmed words to mark, on PostgreSQL)
    assert len(statements) == (6 if POSTGRESQL else 5), statements


def test_the_query_is_an_index_lookup(place):
    a_report(place, title="Lampione spento")
    compiled = None

    def capture(conn, cursor, statement, parameters, context, executemany):
        nonlocal compiled
        if compiled is None and "search_documents" in statement:
            compiled = (statement, parameters)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        index.find(["lampione"], limit=21)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = compiled
    if POSTGRESQL:
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "ix_search_documents_document" in plan, plan
        assert "Limit" in plan
    else:
        raw = db.session.connection().connection.dbapi_connection
        plan = " ".join(str(row[-1]) for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters))
        assert "VIRTUAL TABLE INDEX" in plan and "search_fts" in plan, plan
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SearchDocument)) == 1
