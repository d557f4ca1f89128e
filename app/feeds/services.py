"""Atom and RSS feeds: new proposals, resolved reports and new pacts, for the city or one district.

What a feed lists follows the public pages: the same visibility conditions as the lists, the map,
the API and the open data (imported, not repeated), and no person's name — an entry has the
item's title, a short excerpt, its category and district, and a link to its page.
"""
import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.http import path_for
from app.models.base import NotFound
from app.models.commons import Commons
from app.models.pact import PUBLIC_STATUSES, Pact, PactStatusChange
from app.models.place import Category, District
from app.models.proposal import Proposal
from app.models.report import FIXED_STATUSES, Report, ReportStatus
from app.pacts.registry import public_condition as pact_public
from app.proposals.queries import visible as proposal_visible

#: Entries per feed: the newest ones.
FEED_SIZE = 50
#: Characters of an item's text in an entry's summary.
SUMMARY_LENGTH = 300
#: Characters XML 1.0 cannot carry at all: one in a title would break the whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Resolved reports: fixed, and those closed after the fix (a closed report was resolved first).
RESOLVED_STATUSES = tuple(FIXED_STATUSES | {ReportStatus.closed})


def clean(text):
    """Text an XML document can carry (control characters removed); None stays None."""
    return _NOT_XML.sub("", text) if text is not None else None


def excerpt(text, length=SUMMARY_LENGTH):
    """The first ``length`` characters of ``text`` on one line, cut at a word, with an ellipsis."""
    text = " ".join(clean(text or "").split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0] + "…"


def absolute(path):
    """An absolute URL on BASE_URL (never on the request's Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


@dataclass
class Entry:
    url: str
    title: str
    summary: str
    published: object
    updated: object
    #: [(term, label)]: the category and the district.
    categories: list = field(default_factory=list)


@dataclass
class Feed:
    name: str
    title: str
    subtitle: str
    #: The HTML page listing the same items.
    page_url: str
    entries: list
    district: object = None

    @property
    def updated(self):
        """The newest entry's update time; None for an empty feed."""
        return max((e.updated for e in self.entries), default=None)


def _localised(it, en):
    return en if str(get_locale()) == "en" and en else it


def _categories(row):
    terms = []
    if getattr(row, "category_slug", None):
        terms.append((row.category_slug, _localised(row.category_name_it, row.category_name_en)))
    if row.district_number is not None:
        terms.append((f"district-{row.district_number}", f"{row.district_number} – {row.district_name}"))
    return [(term, clean(label)) for term, label in terms]


def _district_columns():
    return District.number.label("district_number"), District.name.label("district_name")


def _category_columns():
    return (Category.slug.label("category_slug"), Category.name_it.label("category_name_it"),
            Category.name_en.label("category_name_en"))


# --- the three feeds ------------------------------------------------------------------------

def _proposals(district):
    stmt = (select(Proposal.id, Proposal.title, Proposal.body, Proposal.published_at, *_category_columns(),
                   *_district_columns())
            .outerjoin(Category, Category.id == Proposal.category_id)
            .outerjoin(District, District.id == Proposal.district_id)
            .where(proposal_visible(), Proposal.published_at.is_not(None)))
    if district is not None:
        stmt = stmt.where(Proposal.district_id == district.id)
    rows = db.session.execute(stmt.order_by(Proposal.published_at.desc(), Proposal.id.desc()).limit(FEED_SIZE))
    return [Entry(url=absolute(path_for("proposals.detail", proposal_id=r.id)), title=clean(r.title),
                  summary=excerpt(r.body), published=r.published_at, updated=r.published_at,
                  categories=_categories(r)) for r in rows]


def _resolved_reports(district):
    stmt = (select(Report.id, Report.title, Report.description, Report.created_at, Report.resolved_at,
                   *_category_columns(), *_district_columns())
            .join(Category, Category.id == Report.category_id)
            .outerjoin(District, District.id == Report.district_id)
            .where(Report.is_public, Report.status.in_(RESOLVED_STATUSES), Report.resolved_at.is_not(None)))
    if district is not None:
        stmt = stmt.where(Report.district_id == district.id)
    rows = db.session.execute(stmt.order_by(Report.resolved_at.desc(), Report.id.desc()).limit(FEED_SIZE))
    return [Entry(url=absolute(path_for("reports.detail", report_id=r.id)), title=clean(r.title),
                  summary=excerpt(r.description), published=r.resolved_at, updated=r.resolved_at,
                  categories=_categories(r)) for r in rows]


def _pacts(district):
    # A pact is "new" when it becomes public: its first move into a public status (admissibility).
    became_public = (select(PactStatusChange.pact_id, func.min(PactStatusChange.at).label("at"))
                     .where(PactStatusChange.to_status.in_(PUBLIC_STATUSES))
                     .group_by(PactStatusChange.pact_id).subquery())
    published = func.coalesce(became_public.c.at, Pact.status_changed_at).label("published")
    stmt = (select(Pact.id, Pact.title, Pact.objectives, Pact.status_changed_at, published,
                   Commons.name.label("commons_name"), Commons.hidden_at.label("commons_hidden_at"),
                   *_district_columns())
            .join(Commons, Commons.id == Pact.commons_id)
            .outerjoin(became_public, became_public.c.pact_id == Pact.id)
            .outerjoin(District, District.id == Pact.district_id)
            .where(pact_public()))
    if district is not None:
        stmt = stmt.where(Pact.district_id == district.id)
    rows = db.session.execute(stmt.order_by(published.desc(), Pact.id.desc()).limit(FEED_SIZE))
    entries = []
    for r in rows:
        commons = r.commons_name if r.commons_hidden_at is None else None
        summary = excerpt(r.objectives)
        if commons:
            summary = clean(f"{commons} — {summary}" if summary else commons)
        entries.append(Entry(url=absolute(path_for("pacts.detail", pact_id=r.id)), title=clean(r.title),
                             summary=summary, published=r.published, updated=max(r.published, r.status_changed_at),
                             categories=_categories(r)))
    return entries


@dataclass(frozen=True)
class FeedKind:
    title: object
    subtitle: object
    #: The list page with the same items: (endpoint, fixed arguments).
    page: tuple
    entries: object


FEEDS = {
    "proposals": FeedKind(_l("New proposals"), _l("Proposals published in the participatory processes."),
                          ("proposals.index", {}), _proposals),
    "resolved-reports": FeedKind(_l("Resolved reports"), _l("Reports the City has resolved."),
                                 ("reports.index", {"status": "fixed"}), _resolved_reports),
    "pacts": FeedKind(_l("New collaboration pacts"), _l("Collaboration pacts as they become public."),
                      ("pacts.index", {}), _pacts),
}


def district_by_number(text):
    """The district numbered ``text`` (e.g. "3"), or NotFound."""
    if not text.isdigit() or len(text) > 3:
        raise NotFound("There is no such district.")
    district = db.session.scalar(select(District).where(District.number == int(text)))
    if district is None:
        raise NotFound("There is no such district.")
    return district


def build(name, district=None):
    """The feed called ``name`` (see FEEDS), for the whole city or one district; NotFound if unknown."""
    kind = FEEDS.get(name)
    if kind is None:
        raise NotFound("There is no such feed.")
    title = str(kind.title)
    endpoint, args = kind.page
    if district is not None:
        title = f"{title} – {district.number} {district.name}"
        args = {**args, "district": district.id}
    return Feed(name=name, title=clean(title), subtitle=str(kind.subtitle),
                page_url=absolute(path_for(endpoint, **args)), entries=kind.entries(district), district=district)


def feed_links():
    """[(name, title)] of every feed, for the open data page."""
    return [(name, kind.title) for name, kind in FEEDS.items()]
