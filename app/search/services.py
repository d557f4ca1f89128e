"""Search across proposals, reports, debates, pacts and neighbourhood houses: one page of results.

The index (app/search/index.py) finds and ranks; every hit is then read from its own table with
that kind's public condition, one query per kind, so a result is always something the public may
see right now. Paging is "more results", capped at MAX_RESULTS: a search is not a list to browse.
``search_json`` is the same search as plain dicts, for the JSON API.
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from markupsafe import Markup
from sqlalchemy import select

from app.extensions import db
from app.labels import proposal_status_label, report_status_label
from app.models.pact import PUBLIC_STATUSES as PACT_PUBLIC_STATUSES
from app.models.pact import PactStatus
from app.models.place import District
from app.models.proposal import ProposalStatus
from app.models.report import STATUS_GROUPS
from app.pacts.labels import pact_status_label
from app.search import index
from app.search.text import MAX_QUERY_CHARS, excerpt, mark, query_terms

PAGE_SIZE = 20
#: No search shows more than this many results; past it, words or filters narrow it down.
MAX_RESULTS = 200
MAX_PAGE = MAX_RESULTS // PAGE_SIZE

KINDS = ("proposal", "report", "debate", "pact", "house")
#: What a result is (a context of its own: the bare "Report" elsewhere is the verb "Segnala").
KIND_LABELS = {
    "proposal": lazy_pgettext("search result kind", "Proposal"),
    "report": lazy_pgettext("search result kind", "Report"),
    "debate": lazy_pgettext("search result kind", "Debate"),
    "pact": lazy_pgettext("search result kind", "Collaboration pact"),
    "house": lazy_pgettext("search result kind", "Neighbourhood house"),
}
KIND_FILTER_LABELS = {
    "proposal": _l("Proposals"),
    "report": _l("Reports"),
    "debate": _l("Debates"),
    "pact": _l("Pacts"),
    "house": _l("Neighbourhood houses"),
}


def _status_filters():
    """Filter value -> (kind, status values, label). Reports go by the public groups (open, fixed, closed)."""
    filters = {}
    for group, label in (("open", lazy_pgettext("status group", "open")),
                         ("fixed", lazy_pgettext("status group", "fixed")),
                         ("closed", lazy_pgettext("status group", "closed"))):
        filters[f"report-{group}"] = ("report", frozenset(s.value for s in STATUS_GROUPS[group]), label)
    for status in ProposalStatus:
        if status is not ProposalStatus.draft:
            filters[f"proposal-{status.value}"] = ("proposal", frozenset({status.value}), status.value)
    for status in PactStatus:
        if status in PACT_PUBLIC_STATUSES:
            filters[f"pact-{status.value}"] = ("pact", frozenset({status.value}), status.value)
    return filters


STATUS_FILTERS = _status_filters()


def status_label(kind, status):
    """The translated name of an item's status (None for kinds without one)."""
    if status is None:
        return None
    if kind == "report":
        return report_status_label(status)
    if kind == "proposal":
        return proposal_status_label(status)
    if kind == "pact":
        return pact_status_label(status)
    return None


def status_choices():
    """[(kind, [(value, label)])] for the status filter, grouped by kind."""
    groups = {}
    for value, (kind, _statuses, label) in STATUS_FILTERS.items():
        name = str(label) if kind == "report" else status_label(kind, label)
        groups.setdefault(kind, []).append((value, name))
    return [(kind, groups[kind]) for kind in KINDS if kind in groups]


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    district_id: int | None = None
    #: A key of STATUS_FILTERS; it implies its kind (and is dropped if another kind was chosen).
    status: str | None = None


def make_filters(kind=None, district_id=None, status=None):
    """Filters from loose values; unknown ones are ignored (never an error)."""
    kind = kind if kind in KINDS else None
    status = status if status in STATUS_FILTERS else None
    if status is not None:
        status_kind = STATUS_FILTERS[status][0]
        if kind is None:
            kind = status_kind
        elif kind != status_kind:
            status = None
    if not (isinstance(district_id, int) and 0 < district_id < 2**31):
        district_id = None
    return Filters(kind=kind, district_id=district_id, status=status)


def parse_filters(args, db_id):
    """Filters from a query string (``kind``, ``district``, ``status``)."""
    return make_filters(args.get("kind"), args.get("district", type=db_id), args.get("status"))


def clean_query(query):
    """The query as it is searched and shown again: one line, capped in length."""
    return " ".join((query or "")[:MAX_QUERY_CHARS].split())


@dataclass(frozen=True)
class Result:
    kind: str
    id: int
    title: str
    title_html: Markup
    snippet: str
    snippet_html: Markup
    url: str
    district: District | None
    status: str | None

    @property
    def kind_label(self):
        return str(KIND_LABELS[self.kind])

    @property
    def status_label(self):
        return status_label(self.kind, self.status)


@dataclass
class Page:
    query: str
    filters: Filters
    #: The words searched (folded); empty when the query had none.
    terms: list
    results: list = field(default_factory=list)
    page: int = 1
    #: A next page exists (and is within the cap).
    has_more: bool = False
    #: This is the last page allowed, and there would be more results.
    capped: bool = False

    @property
    def searched(self):
        return bool(self.terms)


def search(query, filters=Filters(), page=1):
    """One page of public results for ``query`` (a Page; no results without words to search)."""
    query = clean_query(query)
    terms = query_terms(query)
    page = min(max(int(page or 1), 1), MAX_PAGE)
    result = Page(query=query, filters=filters, terms=terms, page=page)
    if not terms:
        return result
    statuses = STATUS_FILTERS[filters.status][1] if filters.status else None
    hits = index.find(terms, kind=filters.kind, district_id=filters.district_id, statuses=statuses,
                      limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    more = len(hits) > PAGE_SIZE
    hits = hits[:PAGE_SIZE]
    result.has_more = more and page < MAX_PAGE
    result.capped = more and page == MAX_PAGE
    items = index.load(hits)
    if not items:
        return result
    sources = index.sources()
    texts = [t for (kind, _id), item in items.items() for t in (sources[kind].title(item), sources[kind].body(item))]
    matches = index.matcher(terms, texts)
    district_ids = {district_id for _kind, _id, district_id in hits if district_id}
    districts = {d.id: d for d in db.session.scalars(select(District).where(District.id.in_(district_ids)))} \
        if district_ids else {}
    for kind, record_id, district_id in hits:
        item = items.get((kind, record_id))
        if item is None:  # no longer public: the index had not caught up
            continue
        source = sources[kind]
        title = source.title(item)
        snippet, snippet_html = excerpt(source.body(item), matches)
        result.results.append(Result(
            kind=kind, id=record_id, title=title, title_html=mark(title, matches), snippet=snippet,
            snippet_html=snippet_html, url=source.url(item), district=districts.get(district_id),
            status=source.status(item)))
    return result


def result_json(result):
    """One result as plain data (the HTML forms escape the text and wrap matched words in <mark>)."""
    district = result.district
    return {
        "kind": result.kind,
        "id": result.id,
        "title": result.title,
        "title_html": str(result.title_html),
        "snippet": result.snippet,
        "snippet_html": str(result.snippet_html),
        "url": result.url,
        "status": result.status,
        "district": {"id": district.id, "number": district.number, "name": district.name} if district else None,
    }


def search_json(query, kind=None, district_id=None, status=None, page=1):
    """The same search as :func:`search`, as plain dicts: {"query", "results", "page", "next_page"}.

    ``kind`` is one of KINDS, ``status`` a key of STATUS_FILTERS (it implies its kind); unknown
    values are ignored, as on the page.
    """
    filters = make_filters(kind, district_id, status)
    found = search(query, filters, page)
    return {
        "query": found.query,
        "results": [result_json(r) for r in found.results],
        "page": found.page,
        "next_page": found.page + 1 if found.has_more else None,
    }
