"""The public registry of pacts: every pact past admissibility, with filters, statistics and exports.

Reading only: the procedure itself lives in ``app.pacts.services``. What is public follows
``PUBLIC_STATUSES`` (drafts, submissions under examination and inadmissible proposals belong to
their proponents and the office) and never shows a hidden pact.
"""
import csv
import io
import json
import statistics
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.commons import Commons, CommonsKind
from app.models.pact import PUBLIC_STATUSES, Pact, PactKind, PactStatus, PactStatusChange

S = PactStatus

#: The funnel of the statistics page: how many pacts ever reached each of these steps.
FUNNEL = (S.submitted, S.admissible, S.active)

#: Filter values accepted from the query string.
PROPONENT_KINDS = ("individual", "organisation")


def public_condition():
    """Public statuses, not hidden; a proposal withdrawn before admissibility (no department) stays private."""
    return (Pact.status.in_(PUBLIC_STATUSES) & Pact.hidden_at.is_(None)
            & ~((Pact.status == PactStatus.withdrawn) & Pact.department_id.is_(None)))


def parse_filters(args, db_id):
    """Filters from a query string; unknown values are ignored (never an error)."""
    status = args.get("status")
    kind = args.get("kind")
    commons_kind = args.get("commons")
    proponent = args.get("proponent")
    return {
        "status": S(status) if status in {s.value for s in PUBLIC_STATUSES} else None,
        "district_id": args.get("district", type=db_id),
        "commons_kind": CommonsKind(commons_kind) if commons_kind in {k.value for k in CommonsKind} else None,
        "kind": PactKind(kind) if kind in {k.value for k in PactKind} else None,
        "proponent": proponent if proponent in PROPONENT_KINDS else None,
    }


def public_pacts(filters):
    """Public pacts matching the filters, most recently changed first."""
    query = (select(Pact).join(Commons, Commons.id == Pact.commons_id).where(public_condition())
             .options(selectinload(Pact.commons), selectinload(Pact.organisation), selectinload(Pact.district)))
    if filters.get("status"):
        query = query.where(Pact.status == filters["status"])
    if filters.get("district_id"):
        query = query.where(Pact.district_id == filters["district_id"])
    if filters.get("commons_kind"):
        query = query.where(Commons.kind == filters["commons_kind"])
    if filters.get("kind"):
        query = query.where(Pact.kind == filters["kind"])
    if filters.get("proponent") == "organisation":
        query = query.where(Pact.organisation_id.is_not(None))
    elif filters.get("proponent") == "individual":
        query = query.where(Pact.organisation_id.is_(None))
    return query.order_by(Pact.status_changed_at.desc(), Pact.id.desc())


def get_public(pact_id):
    return db.session.scalar(select(Pact).where(Pact.id == pact_id, public_condition()))


def verify_signatures(pact):
    """(signature, ok) for each signature: ok when it matches the SHA-256 of the approved text as stored now."""
    version = pact.approved_version
    current = version.sha256 if version is not None else None
    return [(s, current is not None and s.text_sha256 == current == pact.approved_text_sha256)
            for s in pact.signatures]


# --- statistics -------------------------------------------------------------------------------

def _days(start, end):
    return (end - start).total_seconds() / 86400


def statistics_summary():
    """The funnel (pacts that ever reached submitted → admissible → active) and median days per step.

    Counts come from the status history, so a pact now completed still counts as once active. A step's
    duration is the time between entering a status and leaving it, over the pacts that left it.
    """
    reached = dict(db.session.execute(
        select(PactStatusChange.to_status, func.count(func.distinct(PactStatusChange.pact_id)))
        .join(Pact, Pact.id == PactStatusChange.pact_id).where(Pact.hidden_at.is_(None))
        .group_by(PactStatusChange.to_status)).all())
    funnel = [(status, reached.get(status, 0)) for status in FUNNEL]
    durations = defaultdict(list)
    rows = db.session.execute(
        select(PactStatusChange.pact_id, PactStatusChange.to_status, PactStatusChange.at)
        .join(Pact, Pact.id == PactStatusChange.pact_id).where(Pact.hidden_at.is_(None))
        .order_by(PactStatusChange.pact_id, PactStatusChange.at, PactStatusChange.id)).all()
    previous = None
    for pact_id, to_status, at in rows:
        if previous is not None and previous[0] == pact_id:
            durations[previous[1]].append(_days(previous[2], at))
        previous = (pact_id, to_status, at)
    medians = [(status, round(statistics.median(values), 1), len(values))
               for status, values in durations.items() if values]
    order = list(S)
    medians.sort(key=lambda item: order.index(item[0]))
    by_status = dict(db.session.execute(
        select(Pact.status, func.count(Pact.id)).where(public_condition()).group_by(Pact.status)).all())
    return {"funnel": funnel, "medians": medians,
            "by_status": [(s, by_status[s]) for s in order if by_status.get(s)]}


# --- open data --------------------------------------------------------------------------------

CSV_COLUMNS = ("id", "protocol_number", "title", "status", "kind", "commons", "commons_kind", "district",
               "proponent", "starts_on", "ends_on", "lat", "lon", "url")


def _row(pact, url_of):
    commons = pact.commons
    return {
        "id": pact.id, "protocol_number": pact.protocol_number or "", "title": pact.title,
        "status": pact.status.value, "kind": pact.kind.value if pact.kind else "",
        "commons": commons.name, "commons_kind": commons.kind.value,
        "district": pact.district.number if pact.district else "",
        "proponent": pact.organisation.name if pact.organisation else "individual",
        "starts_on": pact.starts_on.isoformat() if pact.starts_on else "",
        "ends_on": pact.ends_on.isoformat() if pact.ends_on else "",
        "lat": commons.lat if commons.lat is not None else "", "lon": commons.lon if commons.lon is not None else "",
        "url": url_of(pact),
    }


def as_csv(pacts, url_of):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for pact in pacts:
        writer.writerow(_row(pact, url_of))
    return out.getvalue()


def as_geojson(pacts, url_of):
    """RFC 7946 FeatureCollection (lon/lat); a pact on an immaterial commons has a null geometry."""
    features = []
    for pact in pacts:
        props = _row(pact, url_of)
        lat, lon = props.pop("lat"), props.pop("lon")
        geometry = {"type": "Point", "coordinates": [lon, lat]} if lat != "" else None
        features.append({"type": "Feature", "id": pact.id, "geometry": geometry, "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


# --- the citizen's own pacts -------------------------------------------------------------------

#: How long a pact may go without a report before one is due (at least yearly, say the pacts).
REPORT_EVERY_DAYS = 365


def rome_today():
    """Today on Turin's calendar."""
    from zoneinfo import ZoneInfo

    from app.models.base import utcnow

    return utcnow().astimezone(ZoneInfo("Europe/Rome")).date()


def represented_organisations(user):
    """The organisations ``user`` represents (may act and sign for), by name."""
    from app.models.commons import Organisation, OrganisationMember

    if user is None:
        return []
    return db.session.scalars(
        select(Organisation).join(OrganisationMember, OrganisationMember.organisation_id == Organisation.id)
        .where(OrganisationMember.user_id == user.id, OrganisationMember.is_representative.is_(True),
               Organisation.hidden_at.is_(None))
        .order_by(Organisation.name)).all()


def report_due(pact, today):
    """Whether an active pact owes a report: a year since its start or its last report, or its end passed."""
    if pact.status != S.active or pact.starts_on is None:
        return False
    reports = [r for r in pact.reports if r.review.value != "needs_changes"]
    if pact.ends_on is not None and today > pact.ends_on:
        return not any(r.is_final for r in reports)
    last = max((r.period_end for r in reports), default=pact.starts_on)
    return (today - last).days >= REPORT_EVERY_DAYS


def mine(user, today, signable):
    """The pacts ``user`` takes part in, each with the role and what is waiting for them.

    ``signable(pact)`` says whether the user may sign it now (services.signable_parties). Rows are
    dicts: pact, roles (set of "author", "proponent", "representative", "volunteer"), waiting (list
    of "sign", "integrate", "report", "submit").
    """
    from app.models.commons import OrganisationMember
    from app.models.pact import PactParty, PactVolunteer

    org_ids = select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user.id, OrganisationMember.is_representative.is_(True))
    as_party = select(PactParty.pact_id).where(
        (PactParty.user_id == user.id) | PactParty.organisation_id.in_(org_ids))
    as_volunteer = select(PactVolunteer.pact_id).where(
        PactVolunteer.user_id == user.id, PactVolunteer.left_at.is_(None), PactVolunteer.removal_reason.is_(None))
    pacts = db.session.scalars(
        select(Pact).where(Pact.hidden_at.is_(None),
                           (Pact.created_by_id == user.id) | Pact.id.in_(as_party) | Pact.id.in_(as_volunteer))
        .options(selectinload(Pact.commons), selectinload(Pact.parties))
        .order_by(Pact.status_changed_at.desc(), Pact.id.desc())).all()
    represented = {o.id for o in represented_organisations(user)}
    rows = []
    for pact in pacts:
        roles = set()
        if pact.created_by_id == user.id:
            roles.add("author")
        for party in pact.parties:
            if party.kind.value == "proponent" and party.user_id == user.id:
                roles.add("proponent")
            if party.organisation_id in represented:
                roles.add("representative")
        if any(v.user_id == user.id and v.left_at is None and v.removal_reason is None for v in pact.volunteers):
            roles.add("volunteer")
        proponent = bool(roles & {"author", "proponent", "representative"})
        waiting = []
        if proponent and pact.status == S.draft:
            waiting.append("submit")
        if proponent and pact.status == S.needs_integration:
            waiting.append("integrate")
        if pact.status == S.signing and signable(pact):
            waiting.append("sign")
        if proponent and report_due(pact, today):
            waiting.append("report")
        rows.append({"pact": pact, "roles": roles, "waiting": waiting})
    groups = {
        "drafts": [r for r in rows if r["pact"].status == S.draft],
        "submitted": [r for r in rows if r["pact"].status in (S.submitted, S.needs_integration)],
        "others": [r for r in rows if r["pact"].status not in (S.draft, S.submitted, S.needs_integration)],
    }
    groups["waiting"] = [r for r in rows if set(r["waiting"]) - {"submit"}]  # drafts have their own list
    return groups
