"""Demo participatory processes: one closed round and one open round, ~150 proposals in every state."""
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models.base import utcnow
from app.models.place import Category, District, NeighbourhoodHouse
from app.models.proposal import PhaseKind, Process, ProcessPhase, Proposal, ProposalAddendum, Support
from app.models.proposal import ProposalStatus as P
from app.models.user import User

IDEAS = [
    ("Panchine e ombra in piazza", "Nuove panchine e due alberi per fare ombra d'estate a chi aspetta il bus.",
     "arredo-urbano"),
    ("Pista ciclabile protetta", "Un tratto di pista separato dal traffico per andare a scuola in bici.", "ciclabili"),
    ("Cortile della scuola aperto il sabato", "Aprire il cortile alle famiglie del quartiere nel fine settimana.",
     "scuole"),
    ("Orto condiviso nel parco", "Dieci parcelle di orto curate dai residenti, con un punto acqua.", "beni-comuni"),
    ("Illuminazione del sottopasso", "Luci a LED nel sottopasso pedonale, oggi buio e poco sicuro.", "illuminazione"),
    ("Fontanella e area cani", "Una fontanella e un'area cani recintata ai margini del giardino.", "verde-alberi"),
    ("Attraversamento rialzato davanti alla scuola", "Rallentare le auto nell'orario di ingresso.", "segnaletica"),
    ("Biblioteca all'aperto", "Casette per lo scambio di libri e qualche tavolo nel giardino.", "cultura"),
    ("Isola ecologica di quartiere", "Raccolta di ingombranti una domenica al mese.", "rifiuti"),
    ("Marciapiedi senza barriere", "Scivoli e marciapiedi rifatti lungo il percorso verso il mercato.", "marciapiedi"),
]

OPEN_MIX = [(P.draft, 8), (P.published, 60), (P.threshold_reached, 7), (P.withdrawn, 3)]
CLOSED_MIX = [(P.expired, 30), (P.under_review, 4), (P.accepted, 8), (P.rejected, 10), (P.in_execution, 8),
              (P.completed, 6), (P.withdrawn, 4)]


#: The two demo rounds (the first is closed, the second open).
DEMO_SLUGS = ("bilancio-partecipativo-2026-1", "bilancio-partecipativo-2026-2")


def demo_processes():
    """The demo rounds that exist, oldest first."""
    return db.session.scalars(select(Process).where(Process.slug.in_(DEMO_SLUGS)).order_by(Process.id)).all()


def _rome(y, m, d):
    """Midnight in Turin, as an admin would enter it."""
    return datetime(y, m, d, tzinfo=ZoneInfo("Europe/Rome"))


def _process(slug, title, description, threshold, phases):
    process = db.session.scalar(select(Process).where(Process.slug == slug))
    if process is not None:
        return process, False
    process = Process(slug=slug, title=title, description=description, support_threshold=threshold,
                      supports_per_citizen=0)
    process.phases = [ProcessPhase(kind=kind, starts_at=start, ends_at=end) for kind, (start, end) in phases.items()]
    db.session.add(process)
    db.session.flush()
    return process, True


def _neighbourhood(houses, lat, lon):
    """How people in Turin name the place: the neighbourhood of the nearest Casa del Quartiere of
    the same district, or the district's own first name ("Centro") where it has no house."""
    district_id = geo.district_for(lat, lon)
    candidates = [h for h in houses if h.district_id == district_id]
    if candidates:
        return min(candidates, key=lambda h: geo.distance_m(lat, lon, h.lat, h.lon)).neighbourhood
    district = db.session.get(District, district_id) if district_id else None
    return district.name.split(" – ")[0] if district else "Torino"


def _point(rng):
    while True:
        lat, lon = rng.uniform(45.01, 45.135), rng.uniform(7.585, 7.765)
        if geo.district_for(lat, lon) is not None:
            return lat, lon


def seed_proposals(seed=404):
    """Create the two demo rounds with their proposals and supports; returns proposals created."""
    rng = random.Random(seed)
    geo.clear_cache()
    closed, new_closed = _process(
        "bilancio-partecipativo-2026-1", "Bilancio partecipativo 2026 – primo round",
        "Proposte per i quartieri: raccolta a febbraio, sostegni a marzo e aprile, valutazione in primavera.", 100,
        # Phases are half-open: each ends at the midnight the next one starts (no day lost between).
        {PhaseKind.collection: (_rome(2026, 1, 15), _rome(2026, 3, 1)),
         PhaseKind.support: (_rome(2026, 3, 1), _rome(2026, 5, 1)),
         PhaseKind.review: (_rome(2026, 5, 1), _rome(2026, 7, 1)),
         PhaseKind.execution: (_rome(2026, 7, 1), _rome(2027, 7, 1))})
    now = utcnow()
    open_round, new_open = _process(
        "bilancio-partecipativo-2026-2", "Bilancio partecipativo 2026 – secondo round",
        "Il secondo round dell'anno: le proposte pubblicate raccolgono sostegni fino a fine gennaio.", 100,
        {PhaseKind.collection: (now - timedelta(days=50), now - timedelta(days=5)),
         PhaseKind.support: (now - timedelta(days=5), now + timedelta(days=70)),
         PhaseKind.review: (now + timedelta(days=70), now + timedelta(days=160))})
    if not (new_closed or new_open):
        return 0
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    houses = db.session.scalars(select(NeighbourhoodHouse)).all()
    citizens = db.session.scalars(select(User).where(User.email.like("citizen%@example.org")).order_by(User.id)).all()
    created = 0
    for process, mix, fresh in ((closed, CLOSED_MIX, new_closed), (open_round, OPEN_MIX, new_open)):
        if not fresh:
            continue
        start, _end = process.window(PhaseKind.collection)
        for status, n in mix:
            for _ in range(n):
                title, body, slug = rng.choice(IDEAS)
                lat, lon = _point(rng)
                author = rng.choice(citizens)
                published = start + timedelta(days=rng.randint(0, 20))
                proposal = Proposal(process_id=process.id, author_id=author.id,
                                    title=f"{title} – {_neighbourhood(houses, lat, lon)}",
                                    body=body, category_id=categories[slug].id, lat=lat, lon=lon,
                                    district_id=geo.district_for(lat, lon), status=status,
                                    created_at=published, status_changed_at=published,
                                    published_at=None if status == P.draft else published)
                db.session.add(proposal)
                db.session.flush()
                _add_supports(rng, proposal, process, status, citizens)
                created += 1
    db.session.flush()
    return created


def _add_supports(rng, proposal, process, status, citizens):
    """Support rows from demo citizens; the counter equals the rows, as the service keeps it."""
    if status in (P.draft,):
        return
    threshold = process.support_threshold
    crossed = status in (P.threshold_reached, P.under_review, P.accepted, P.rejected, P.in_execution, P.completed)
    count = rng.randint(threshold, min(len(citizens), threshold + 60)) if crossed else rng.randint(0, threshold - 1)
    if status == P.withdrawn:
        count = rng.randint(0, 10)
    window = process.window(PhaseKind.support)
    for user in rng.sample(citizens, count):
        when = window[0] + timedelta(minutes=rng.randint(0, 60 * 24 * 4))
        db.session.add(Support(proposal_id=proposal.id, process_id=process.id, user_id=user.id,
                               created_at=min(when, utcnow())))
    proposal.support_count = count
    if count:
        proposal.frozen_at = window[0]
    if status == P.withdrawn and count:
        # Withdrawn after its first days of supports (which all came in the first four days).
        proposal.status_changed_at = min(window[0] + timedelta(days=5), utcnow())
    if crossed:
        # Never in the future: the open round started its support phase only days ago.
        proposal.threshold_reached_at = min(window[0] + timedelta(days=rng.randint(1, 20)), utcnow())
    if status in (P.accepted, P.in_execution, P.completed) and rng.random() < 0.5:
        proposal.addenda.append(ProposalAddendum(body="Aggiornamento: ne abbiamo parlato alla Casa del Quartiere."))


