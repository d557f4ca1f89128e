"""The open data catalogue: every dataset, its fields and the query behind it — in one place.

The downloads (CSV and GeoJSON), the nightly snapshot (``flask export open-data``) and the data
dictionary page at /open-data all read this module, so a field added here appears in all three.

What is public is not decided here: each dataset reuses the condition its own feature already
applies to its public pages, map layer and API (``Report.is_public``, ``proposals.queries.visible``,
``pacts.registry.public_condition``, ``commons.services.visible_condition``). On top of that the
fields are chosen for open data: no person is ever named (no reporter, author, co-author,
supporter, volunteer, facilitator or official), no email address, phone number, tax code or
address of a person; organisations are named only where the public pages name them (a pact's
proponent, an event's organiser) and only while they are not hidden by moderation.
"""
import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.commons.services import visible_condition as commons_visible
from app.http import path_for
from app.models.commons import Commons, CommonsKind, CommonsOwner, Organisation, OrganisationKind
from app.models.event import Event, EventKind
from app.models.pact import PUBLIC_STATUSES, Pact, PactKind, PactStatus
from app.models.place import Category, District, NeighbourhoodHouse
from app.models.proposal import Process, Proposal, ProposalStatus
from app.models.report import STATUS_GROUPS, Report, ReportStatus
from app.models.user import Department
from app.pacts.registry import public_condition as pact_public
from app.proposals.queries import visible as proposal_visible

#: The types a field may have, as the data dictionary names them.
TYPES = {
    "integer": _l("integer"),
    "number": _l("decimal number"),
    "text": _l("text"),
    "code": _l("code"),
    "boolean": _l("boolean (true / false)"),
    "datetime": _l("timestamp (ISO 8601, UTC)"),
    "date": _l("date (ISO 8601)"),
    "url": _l("URL"),
}

#: The organiser an event names when neither a house nor an organisation publishes it.
CITY_NAME = "Città di Torino"


@dataclass(frozen=True)
class Field:
    """One column of a CSV file and one property of a GeoJSON feature."""

    name: str
    type: str
    description: object
    #: For codes: the values the field may take.
    values: tuple = ()
    #: row -> value; by default the row's column of the same name.
    get: Callable | None = None
    #: lat and lon are columns in CSV; in GeoJSON they are the geometry, not properties.
    in_geojson: bool = True

    def value(self, row):
        """The public value of this field in ``row`` (a SQL row), before formatting."""
        value = self.get(row) if self.get is not None else getattr(row, self.name)
        return value.value if isinstance(value, enum.Enum) else value


@dataclass(frozen=True)
class Dataset:
    """A layer of public items: its fields and the select that lists them."""

    name: str
    title: object
    description: object
    fields: tuple
    #: (**scope) -> a select of the public rows, with an ``id`` column (the keyset).
    query: Callable
    #: The column the select is paged by (ascending, unique).
    key: object

    @property
    def csv_header(self):
        return [f.name for f in self.fields]

    @property
    def properties(self):
        """The fields that are GeoJSON properties (all but the coordinates)."""
        return [f for f in self.fields if f.in_geojson]


@dataclass(frozen=True)
class Export:
    """A dataset, possibly restricted to one scope (the proposals of one process), and its file names."""

    dataset: Dataset
    #: The file name without extension, e.g. ``reports`` or ``process-bilancio-2026-proposals``.
    stem: str
    title: object
    scope: dict = field(default_factory=dict)
    #: What the scope is in words, for the manifest: {"process": slug}.
    scope_label: dict = field(default_factory=dict)

    def select(self):
        return self.dataset.query(**self.scope)


# --- helpers shared by the field lists ------------------------------------------------------

def absolute(path):
    """An absolute URL on BASE_URL (never on the request's Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def iso(value):
    """A timestamp as ISO 8601 in UTC with a "Z", a date as ISO 8601; anything else unchanged."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _codes(enum_class, only=None):
    return tuple(member.value for member in enum_class if only is None or member in only)


def _district_fields():
    return (
        Field("district", "integer", _l("Number of the district (circoscrizione, 1–8); empty outside them.")),
        Field("district_name", "text", _l("Name of the district.")),
    )


def _category_fields():
    return (
        Field("category", "code", _l("Category (short name, stable across languages).")),
        Field("category_name_it", "text", _l("Name of the category in Italian.")),
        Field("category_name_en", "text", _l("Name of the category in English.")),
    )


def _department_fields(meaning):
    return (
        Field("department", "code", meaning),
        Field("department_name_it", "text", _l("Name of the department in Italian.")),
        Field("department_name_en", "text", _l("Name of the department in English.")),
    )


def _coordinate(get):
    """A coordinate rounded to 6 decimals (about 10 cm): the precision of the map."""
    def value(row):
        number = get(row)
        return round(number, 6) if number is not None else None
    return value


def _point_fields(meaning):
    return (
        Field("lat", "number", _l("Latitude, WGS 84 (%(meaning)s). In GeoJSON: the geometry.", meaning=meaning),
              get=_coordinate(lambda r: r.lat), in_geojson=False),
        Field("lon", "number", _l("Longitude, WGS 84. In GeoJSON: the geometry."),
              get=_coordinate(lambda r: r.lon), in_geojson=False),
    )


def _district_columns():
    return (District.number.label("district"), District.name.label("district_name"))


def _category_columns():
    return (Category.slug.label("category"), Category.name_it.label("category_name_it"),
            Category.name_en.label("category_name_en"))


def _department_columns():
    return (Department.slug.label("department"), Department.name_it.label("department_name_it"),
            Department.name_en.label("department_name_en"))


# --- reports --------------------------------------------------------------------------------

_STATUS_GROUP = {status: group for group, statuses in STATUS_GROUPS.items() for status in statuses}


def _reports_query():
    """Every public report (the condition of the public list, the map and the API)."""
    return (select(Report.id, Report.title, Report.description, Report.status, *_category_columns(),
                   *_department_columns(), *_district_columns(), Report.address, Report.lat, Report.lon,
                   Report.source, Report.created_at, Report.updated_at, Report.status_changed_at,
                   Report.resolved_at)
            .join(Category, Category.id == Report.category_id)
            .outerjoin(Department, Department.id == Report.department_id)
            .outerjoin(District, District.id == Report.district_id)
            .where(Report.is_public))


REPORTS = Dataset(
    name="reports",
    title=_l("Reports"),
    description=_l("Problems in the street reported by citizens (segnalazioni), with their status and the "
                   "department that handles them. The reporter is never named."),
    key=Report.id,
    query=_reports_query,
    fields=(
        Field("id", "integer", _l("Number of the report, as in its address on Piazza.")),
        Field("url", "url", _l("The report's public page."),
              get=lambda r: absolute(path_for("reports.detail", report_id=r.id))),
        Field("title", "text", _l("Title, as the reporter wrote it.")),
        Field("description", "text", _l("Description, as the reporter wrote it (after moderation).")),
        Field("status", "code", _l("Where the report stands."), values=_codes(ReportStatus)),
        Field("status_group", "code", _l("The status in three groups: open, fixed, closed."),
              values=tuple(STATUS_GROUPS), get=lambda r: _STATUS_GROUP.get(r.status)),
        *_category_fields(),
        *_department_fields(_l("The city department the report was routed to.")),
        *_district_fields(),
        Field("address", "text", _l("The place as the reporter described it (street, landmark).")),
        *_point_fields(_l("where the problem is")),
        Field("source", "code", _l("How the report arrived: web, api, open311."), values=("web", "api", "open311")),
        Field("created_at", "datetime", _l("When the report was made.")),
        Field("updated_at", "datetime", _l("When the report last changed.")),
        Field("status_changed_at", "datetime", _l("When the status last changed.")),
        Field("resolved_at", "datetime", _l("When the report was last marked resolved; empty if never.")),
    ),
)


# --- proposals ------------------------------------------------------------------------------

def _proposals_query(process_id=None):
    """Every public proposal (not a draft, not hidden), optionally of one process."""
    stmt = (select(Proposal.id, Proposal.title, Proposal.body, Proposal.status, Process.slug.label("process"),
                   Process.title.label("process_title"), *_category_columns(), *_district_columns(),
                   Proposal.lat, Proposal.lon, Proposal.support_count, Process.support_threshold,
                   Proposal.progress, Proposal.published_at, Proposal.threshold_reached_at,
                   Proposal.status_changed_at)
            .join(Process, Process.id == Proposal.process_id)
            .outerjoin(Category, Category.id == Proposal.category_id)
            .outerjoin(District, District.id == Proposal.district_id)
            .where(proposal_visible()))
    if process_id is not None:
        stmt = stmt.where(Proposal.process_id == process_id)
    return stmt


PROPOSALS = Dataset(
    name="proposals",
    title=_l("Proposals"),
    description=_l("Ideas citizens published in the participatory processes (proposte), with their supports "
                   "and where they stand. Drafts are left out; authors and supporters are never named, only "
                   "the number of supports."),
    key=Proposal.id,
    query=_proposals_query,
    fields=(
        Field("id", "integer", _l("Number of the proposal, as in its address on Piazza.")),
        Field("url", "url", _l("The proposal's public page."),
              get=lambda r: absolute(path_for("proposals.detail", proposal_id=r.id))),
        Field("title", "text", _l("Title.")),
        Field("body", "text", _l("The proposal's text, in Markdown (after moderation).")),
        Field("status", "code", _l("Where the proposal stands."),
              values=_codes(ProposalStatus, only=set(ProposalStatus) - {ProposalStatus.draft})),
        Field("process", "code", _l("The participatory process (short name, as in its address).")),
        Field("process_title", "text", _l("Title of the participatory process.")),
        *_category_fields(),
        *_district_fields(),
        *_point_fields(_l("where the author placed it; empty if not on the map")),
        Field("support_count", "integer", _l("Supports received (a count: supporters are private).")),
        Field("support_threshold", "integer", _l("Supports the process requires for a review by the City.")),
        Field("progress", "integer", _l("Execution progress of an accepted proposal, 0–100.")),
        Field("published_at", "datetime", _l("When it was published.")),
        Field("threshold_reached_at", "datetime", _l("When it reached the threshold; empty if not yet.")),
        Field("status_changed_at", "datetime", _l("When the status last changed.")),
    ),
)


# --- pacts ----------------------------------------------------------------------------------

def _pacts_query():
    """Every public pact (the registry's condition), at its commons."""
    return (select(Pact.id, Pact.protocol_number, Pact.title, Pact.status, Pact.kind,
                   Commons.id.label("commons_id"), Commons.name.label("commons_name"),
                   Commons.kind.label("commons_kind"), Commons.lat.label("lat"), Commons.lon.label("lon"),
                   Commons.hidden_at.label("commons_hidden_at"), *_district_columns(),
                   Pact.organisation_id, Organisation.name.label("organisation_name"),
                   Organisation.kind.label("organisation_kind"), Organisation.hidden_at.label("organisation_hidden_at"),
                   Pact.objectives, Pact.duration_months, Pact.consultation_starts_at, Pact.consultation_ends_at,
                   Pact.starts_on, Pact.ends_on, Pact.status_changed_at)
            .join(Commons, Commons.id == Pact.commons_id)
            .outerjoin(Organisation, Organisation.id == Pact.organisation_id)
            .outerjoin(District, District.id == Pact.district_id)
            .where(pact_public()))


def _commons_value(name):
    """A column of the pact's commons, left empty if moderation hid the commons."""
    return lambda r: None if r.commons_hidden_at is not None else getattr(r, name)


def _organisation_value(name):
    """A column of the proposing organisation, left empty if moderation hid it."""
    return lambda r: None if r.organisation_hidden_at is not None else getattr(r, name)


PACTS = Dataset(
    name="pacts",
    title=_l("Collaboration pacts"),
    description=_l("Pacts of collaboration between citizens and the City for the care of urban commons (patti "
                   "di collaborazione), from admissibility on. Proposals under examination, inadmissible ones "
                   "and proposals withdrawn before admission are left out. A proponent organisation is named; "
                   "individual proponents, volunteers and signatories are not."),
    key=Pact.id,
    query=_pacts_query,
    fields=(
        Field("id", "integer", _l("Number of the pact, as in its address on Piazza.")),
        Field("url", "url", _l("The pact's public page."),
              get=lambda r: absolute(path_for("pacts.detail", pact_id=r.id))),
        Field("protocol_number", "text", _l("Protocol number given at submission, e.g. PC-2026-0007.")),
        Field("title", "text", _l("Title.")),
        Field("status", "code", _l("Step of the procedure."),
              values=_codes(PactStatus, only=PUBLIC_STATUSES)),
        Field("kind", "code", _l("Ordinary (a standard template) or complex (approved by an act of the City)."),
              values=_codes(PactKind)),
        Field("commons_id", "integer", _l("Number of the urban commons the pact cares for (see the commons "
                                          "dataset)."), get=_commons_value("commons_id")),
        Field("commons_name", "text", _l("Name of the commons."), get=_commons_value("commons_name")),
        Field("commons_kind", "code", _l("Kind of commons."), values=_codes(CommonsKind),
              get=_commons_value("commons_kind")),
        *_district_fields(),
        Field("lat", "number", _l("Latitude of the commons, WGS 84; empty for an immaterial commons. In GeoJSON: "
                                  "the geometry."), get=_coordinate(_commons_value("lat")), in_geojson=False),
        Field("lon", "number", _l("Longitude of the commons, WGS 84. In GeoJSON: the geometry."),
              get=_coordinate(_commons_value("lon")), in_geojson=False),
        Field("proponent_kind", "code", _l("Whether the proponent is an organisation or individual citizens."),
              values=("organisation", "individual"),
              get=lambda r: "organisation" if r.organisation_id is not None else "individual"),
        Field("proponent_organisation", "text", _l("Name of the proponent organisation; empty for individuals."),
              get=_organisation_value("organisation_name")),
        Field("proponent_organisation_kind", "code", _l("Kind of the proponent organisation."),
              values=_codes(OrganisationKind), get=_organisation_value("organisation_kind")),
        Field("objectives", "text", _l("The objectives of the pact, in Markdown.")),
        Field("duration_months", "integer", _l("Proposed duration in months.")),
        Field("consultation_starts_at", "datetime", _l("When the public consultation opened.")),
        Field("consultation_ends_at", "datetime", _l("When the public consultation closed.")),
        Field("starts_on", "date", _l("First day of the pact once signed.")),
        Field("ends_on", "date", _l("Last day of the pact.")),
        Field("status_changed_at", "datetime", _l("When the pact moved to its current step.")),
    ),
)


# --- commons --------------------------------------------------------------------------------

def _commons_query():
    """The commons the public sees (registered by the City, or with a public pact; never hidden)."""
    return (select(Commons.id, Commons.name, Commons.kind, Commons.description, Commons.address,
                   *_district_columns(), Commons.owner, Commons.heritage_constraint, *_department_columns(),
                   Commons.registered_at, Commons.lat, Commons.lon)
            .outerjoin(District, District.id == Commons.district_id)
            .outerjoin(Department, Department.id == Commons.department_id)
            .where(commons_visible()))


COMMONS = Dataset(
    name="commons",
    title=_l("Urban commons"),
    description=_l("The registry of urban commons (beni comuni): green areas, squares, courtyards, buildings, "
                   "immaterial commons. Who proposed a commons and the name of a private owner are left out."),
    key=Commons.id,
    query=_commons_query,
    fields=(
        Field("id", "integer", _l("Number of the commons, as in its address on Piazza.")),
        Field("url", "url", _l("The commons' public page."),
              get=lambda r: absolute(path_for("commons.detail", commons_id=r.id))),
        Field("name", "text", _l("Name.")),
        Field("kind", "code", _l("Kind of commons."), values=_codes(CommonsKind)),
        Field("description", "text", _l("Description, in Markdown.")),
        Field("address", "text", _l("Address.")),
        *_district_fields(),
        Field("owner", "code", _l("Who owns it: the City or a third party (with their consent)."),
              values=_codes(CommonsOwner)),
        Field("heritage_constraint", "boolean", _l("Under heritage protection: changes need the Soprintendenza's "
                                                   "consent.")),
        *_department_fields(_l("The city department that answers for it.")),
        Field("registered_at", "datetime", _l("When the City registered it; empty while only proposed.")),
        *_point_fields(_l("a representative point; empty for an immaterial commons")),
    ),
)


# --- neighbourhood houses -------------------------------------------------------------------

def _houses_query():
    """Every neighbourhood house (all of them are public places)."""
    house = NeighbourhoodHouse
    return (select(house.id, house.slug, house.name, house.neighbourhood, house.address, *_district_columns(),
                   house.website, house.lat, house.lon)
            .outerjoin(District, District.id == house.district_id))


HOUSES = Dataset(
    name="houses",
    title=_l("Neighbourhood houses"),
    description=_l("The Case del Quartiere, where facilitators help people take part. Their phone numbers and "
                   "email addresses are on their pages, not in the data; facilitators are never named."),
    key=NeighbourhoodHouse.id,
    query=_houses_query,
    fields=(
        Field("id", "integer", _l("Number of the house.")),
        Field("url", "url", _l("The house's public page."),
              get=lambda r: absolute(path_for("houses.detail", slug=r.slug))),
        Field("slug", "code", _l("Short name, as in its address on Piazza.")),
        Field("name", "text", _l("Name.")),
        Field("neighbourhood", "text", _l("Neighbourhood.")),
        Field("address", "text", _l("Address.")),
        *_district_fields(),
        Field("website", "url", _l("The house's own website, if any."), get=lambda r: r.website or None),
        *_point_fields(_l("the house")),
    ),
)


# --- events ---------------------------------------------------------------------------------

def _events_query():
    """Every event (all event pages are public; cancelled ones are marked), at its place or its house."""
    house = NeighbourhoodHouse
    return (select(Event.id, Event.title, Event.kind, Event.description, Event.starts_at, Event.ends_at,
                   Event.cancelled_at, Event.house_id, house.name.label("house_name"), house.slug.label("house_slug"),
                   house.address.label("house_address"), Event.organisation_id,
                   Organisation.name.label("organisation_name"), Organisation.hidden_at.label("organisation_hidden_at"),
                   Event.address, *_district_columns(), func.coalesce(Event.lat, house.lat).label("lat"),
                   func.coalesce(Event.lon, house.lon).label("lon"), Event.capacity, Event.registration_open)
            .outerjoin(house, house.id == Event.house_id)
            .outerjoin(Organisation, Organisation.id == Event.organisation_id)
            .outerjoin(District, District.id == Event.district_id))


def _organiser_kind(row):
    if row.house_id is not None:
        return "house"
    return "organisation" if row.organisation_id is not None else "city"


def _organiser(row):
    """The organiser as the event page names it: the house, else the organisation, else the City."""
    if row.house_id is not None:
        return row.house_name
    if row.organisation_id is not None:
        return None if row.organisation_hidden_at is not None else row.organisation_name
    return CITY_NAME


def _event_place(row):
    if row.address:
        return row.address
    return f"{row.house_name}, {row.house_address}" if row.house_id is not None else None


EVENTS = Dataset(
    name="events",
    title=_l("Events"),
    description=_l("Assemblies, co-design tables and assisted-session hours published by the neighbourhood "
                   "houses, organisations and the City, past and upcoming. Who registered is never published, "
                   "nor how many."),
    key=Event.id,
    query=_events_query,
    fields=(
        Field("id", "integer", _l("Number of the event, as in its address on Piazza.")),
        Field("url", "url", _l("The event's public page."),
              get=lambda r: absolute(path_for("houses.event_detail", event_id=r.id))),
        Field("title", "text", _l("Title.")),
        Field("kind", "code", _l("Kind of event."), values=_codes(EventKind)),
        Field("description", "text", _l("Description.")),
        Field("starts_at", "datetime", _l("When it starts.")),
        Field("ends_at", "datetime", _l("When it ends.")),
        Field("cancelled_at", "datetime", _l("When it was cancelled; empty if it takes place.")),
        Field("organiser_kind", "code", _l("Who organises it: a neighbourhood house, an organisation or the City."),
              values=("house", "organisation", "city"), get=_organiser_kind),
        Field("organiser", "text", _l("Name of the organiser."), get=_organiser),
        Field("house", "code", _l("Short name of the organising house (see the houses dataset)."),
              get=lambda r: r.house_slug),
        Field("place", "text", _l("Where it takes place."), get=_event_place),
        *_district_fields(),
        *_point_fields(_l("the place, else the organising house")),
        Field("capacity", "integer", _l("Places available; empty when there is no limit.")),
        Field("registration_open", "boolean", _l("Whether the organiser takes registrations.")),
    ),
)


#: Every dataset, in the order of the dictionary page and the snapshot.
DATASETS = (REPORTS, PROPOSALS, PACTS, COMMONS, HOUSES, EVENTS)
BY_NAME = {dataset.name: dataset for dataset in DATASETS}

_SAFE_STEM = re.compile(r"[^a-z0-9-]+")


def process_export(process):
    """The export of the proposals of one participatory process."""
    slug = _SAFE_STEM.sub("-", process.slug.lower()).strip("-") or str(process.id)
    return Export(PROPOSALS, stem=f"process-{slug}-proposals", title=process.title,
                  scope={"process_id": process.id}, scope_label={"process": process.slug})


def layer_exports():
    """One export per dataset, unrestricted."""
    return [Export(dataset, stem=dataset.name, title=dataset.title) for dataset in DATASETS]


def processes(execute):
    """(id, slug, title) of every participatory process, newest first (all processes are public)."""
    return execute(select(Process.id, Process.slug, Process.title)
                   .order_by(Process.created_at.desc(), Process.id.desc())).all()
