"""What the demo rounds produced: process categories, co-authors, feasibility reviews and projects.

Each step checks what is already there, so ``flask seed demo`` can run again (and fills in a
database seeded before these steps existed).
"""
import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import exists, select

from app.extensions import db
from app.models.base import utcnow
from app.models.place import Category
from app.models.proposal import (
    Feasibility,
    ProjectMilestone,
    ProjectUpdate,
    Proposal,
    ProposalCoauthor,
    ProposalReview,
    ReviewOutcome,
)
from app.models.proposal import ProposalStatus as P
from app.models.user import Department, User
from app.seed.reports import _officials_by_department

#: Potholes are maintenance (a report), not something to propose: the rounds leave them out.
NOT_IN_ROUNDS = {"buche-strade"}
CROSSED = (P.threshold_reached, P.under_review, P.accepted, P.rejected, P.in_execution, P.completed)
DECIDED = {P.accepted: ReviewOutcome.accepted, P.in_execution: ReviewOutcome.accepted,
           P.completed: ReviewOutcome.accepted, P.rejected: ReviewOutcome.rejected}

F = Feasibility
NOTES = {
    "technical": {
        F.feasible: ["Il sopralluogo dell'ufficio tecnico conferma che lo spazio è sufficiente e che non ci sono "
                     "sottoservizi da spostare.",
                     "L'intervento è simile ad altri già realizzati in città: materiali e tempi sono noti."],
        F.with_changes: ["Realizzabile spostando l'intervento di una decina di metri, per lasciare libero il "
                         "passaggio dei mezzi di soccorso.",
                         "Va ridotta l'area: metà del marciapiede serve al mercato del sabato."],
        F.not_feasible: ["Sotto l'area passa la linea 1 della metropolitana: non si può scavare né piantare alberi.",
                         "Il sottopasso è in carico a RFI: il Comune non può installare impianti al suo interno."],
    },
    "legal": {
        F.feasible: ["L'area è di proprietà comunale e l'intervento rientra nelle competenze della Circoscrizione."],
        F.with_changes: ["La piazza è in zona vincolata: serve il parere della Soprintendenza, che allunga i tempi "
                         "di circa tre mesi."],
        F.not_feasible: ["L'area è un cortile privato a uso pubblico: il Comune non può intervenire senza un accordo "
                         "con la proprietà."],
    },
    "economic": {
        F.feasible: ["La spesa rientra nella quota del bilancio partecipativo assegnata alla Circoscrizione."],
        F.with_changes: ["Il costo supera la quota disponibile: si propone una prima fase ridotta, da completare con "
                         "il prossimo bilancio."],
        F.not_feasible: ["Il costo stimato è più del doppio del fondo disponibile per l'intero round."],
    },
}
#: Estimated cost range in euro by category, and what a project of that kind goes through.
COSTS = {"arredo-urbano": (8_000, 35_000), "ciclabili": (60_000, 240_000), "scuole": (5_000, 20_000),
         "beni-comuni": (6_000, 25_000), "illuminazione": (15_000, 70_000), "verde-alberi": (12_000, 60_000),
         "segnaletica": (20_000, 90_000), "cultura": (4_000, 18_000), "rifiuti": (10_000, 40_000),
         "marciapiedi": (30_000, 150_000)}
STEPS = ["Progetto esecutivo approvato", "Lavori affidati con gara", "Cantiere aperto", "Collaudo e inaugurazione"]
UPDATES = [
    (20, "Il progetto esecutivo è pronto: lo abbiamo presentato alla Casa del Quartiere insieme ai proponenti."),
    (45, "La gara è conclusa e l'impresa è stata scelta. Il cantiere partirà dopo le verifiche sui sottoservizi."),
    (70, "Cantiere aperto: i lavori procedono secondo il programma, con una breve pausa per la pioggia."),
    (90, "Lavori quasi finiti: mancano le ultime rifiniture e il collaudo."),
    (100, "Lavori conclusi e collaudati. Grazie a chi ha proposto, sostenuto e seguito il progetto!"),
]


def seed_outcomes(processes, seed=405):
    """Fill in categories, co-authors, reviews and projects of the demo ``processes``; returns counts."""
    rng = random.Random(seed)
    counts = {"reviews": 0, "co-authors": 0, "project updates": 0}
    categories = [c for c in db.session.scalars(select(Category).order_by(Category.id))
                  if c.slug not in NOT_IN_ROUNDS]
    for process in processes:
        if not process.categories:
            process.categories = categories
    ids = [p.id for p in processes]
    proposals = db.session.scalars(select(Proposal).where(Proposal.process_id.in_(ids))
                                   .order_by(Proposal.id)).all()
    by_category = {c.id: c for c in db.session.scalars(select(Category))}
    for proposal in proposals:
        if proposal.status in CROSSED and proposal.department_id is None and proposal.category_id:
            proposal.department_id = by_category[proposal.category_id].department_id
    citizens = db.session.scalars(select(User).where(User.email.like("citizen%@example.org")).order_by(User.id)).all()
    if citizens and not db.session.scalar(select(exists().where(ProposalCoauthor.proposal_id.in_(
            select(Proposal.id).where(Proposal.process_id.in_(ids)))))):
        counts["co-authors"] = _coauthors(rng, proposals, citizens)
    reviewed = set(db.session.scalars(select(ProposalReview.proposal_id).join(Proposal)
                                      .where(Proposal.process_id.in_(ids))))
    officials = _officials_by_department()
    departments = {d.id: d for d in db.session.scalars(select(Department))}
    for proposal in proposals:
        if proposal.id in reviewed or not (proposal.status in DECIDED or proposal.status == P.under_review):
            continue
        if proposal.status == P.under_review and proposal.id % 2:
            continue  # still waiting for its reviewer: nothing drafted yet
        official = officials.get(proposal.department_id)
        review = _review(rng, proposal, official, by_category[proposal.category_id].slug,
                         departments[proposal.department_id].name_it)
        counts["reviews"] += 1
        if proposal.status in (P.in_execution, P.completed):
            counts["project updates"] += _project(rng, proposal, review, official)
    db.session.flush()
    return counts


def _coauthors(rng, proposals, citizens):
    """One or two co-authors on a dozen published proposals; one invitation still pending."""
    chosen = rng.sample([p for p in proposals if p.status != P.draft], 12)
    added = 0
    for n, proposal in enumerate(chosen):
        others = [u for u in rng.sample(citizens, 3) if u.id != proposal.author_id][: rng.randint(1, 2)]
        for user in others:
            invited = proposal.created_at - timedelta(days=rng.randint(1, 5))
            proposal.coauthors.append(ProposalCoauthor(
                user_id=user.id, invited_at=invited,
                accepted_at=None if n == 0 else invited + timedelta(hours=rng.randint(2, 60))))
            added += 1
    return added


def _assessments(rng, outcome):
    """Three assessments consistent with the outcome: a rejection has at least one 'not feasible'."""
    if outcome == ReviewOutcome.rejected:
        values = [rng.choice([F.feasible, F.with_changes]) for _ in range(3)]
        values[rng.randrange(3)] = F.not_feasible
        return values
    return [rng.choice([F.feasible, F.feasible, F.with_changes]) for _ in range(3)]


def _review(rng, proposal, reviewer, category_slug, department):
    """A feasibility review: published for decided proposals, a private draft for one under review."""
    outcome = DECIDED.get(proposal.status)
    draft = outcome is None
    technical, legal, economic = _assessments(rng, outcome or ReviewOutcome.accepted)
    low, high = COSTS.get(category_slug, (10_000, 50_000))
    cost = rng.randrange(low, high, 500)
    crossed = proposal.threshold_reached_at or proposal.status_changed_at
    written = crossed + timedelta(days=rng.randint(40, 60))
    published = min(written + timedelta(days=rng.randint(3, 12)), utcnow())
    starts, ends = _execution_window(rng, proposal.status)
    accepted = outcome == ReviewOutcome.accepted
    if draft:
        answer = ("Bozza – da completare dopo l'incontro con i proponenti.\n\n"
                  f"Costo indicativo: circa {_euro(cost)} euro.")
        motivation = ""
    elif accepted:
        answer = (f"**La Città accoglie la proposta.**\n\nIl settore {department} la realizzerà con una spesa "
                  f"stimata di {_euro(cost)} euro, tra {starts:%m/%Y} e {ends:%m/%Y}.\n\n"
                  "Troverete qui gli aggiornamenti sull'avanzamento dei lavori.")
        motivation = ("La proposta risponde a un bisogno reale del quartiere, è realizzabile"
                      + (" con le modifiche indicate" if F.with_changes in (technical, legal, economic) else "")
                      + " e rientra nel budget del round.")
    else:
        answer = ("**La proposta non può essere accolta così com'è.**\n\n"
                  "Abbiamo spiegato qui sotto i motivi; l'ufficio resta disponibile a studiare con i proponenti "
                  "un'alternativa per il prossimo round.")
        blocking = [NOTES[k][F.not_feasible][0] for k, v in
                    (("technical", technical), ("legal", legal), ("economic", economic)) if v == F.not_feasible]
        motivation = " ".join(blocking)
    review = ProposalReview(
        proposal_id=proposal.id, reviewer_id=reviewer.id if reviewer else None, department_id=proposal.department_id,
        technical=technical, technical_notes=rng.choice(NOTES["technical"][technical]),
        legal=legal, legal_notes=rng.choice(NOTES["legal"][legal]),
        economic=economic, economic_notes=rng.choice(NOTES["economic"][economic]),
        estimated_cost_cents=cost * 100, execution_starts_on=None if not accepted else starts,
        execution_ends_on=None if not accepted else ends, public_answer=answer,
        outcome=outcome, motivation=motivation, created_at=min(written, utcnow()),
        updated_at=min(written if draft else published, utcnow()),
        published_at=None if draft else published,
        published_by_id=None if draft or reviewer is None else reviewer.id)
    db.session.add(review)
    if not draft:
        proposal.status_changed_at = published
    return review


def _project(rng, proposal, review, author):
    """Milestones and dated public updates between the start of works and today; a completed one ends at 100 %."""
    start, end = review.execution_starts_on, review.execution_ends_on
    span = (end - start).days
    completed = proposal.status == P.completed
    updates = UPDATES if completed else UPDATES[: rng.randint(1, 3)]
    done_steps = len(STEPS) if completed else len(updates)
    for n, title in enumerate(STEPS):
        due = start + timedelta(days=span * n // (len(STEPS) - 1))
        db.session.add(ProjectMilestone(proposal_id=proposal.id, title=title, due_on=due, position=n,
                                        done_on=due + timedelta(days=rng.randint(-5, 5)) if n < done_steps else None))
    first = datetime.combine(start, time(10), timezone.utc)
    last = min(datetime.combine(end, time(10), timezone.utc) if completed else utcnow(), utcnow())
    step = max(last - first, timedelta(0)) / len(updates)
    for n, (progress, body) in enumerate(updates, start=1):
        db.session.add(ProjectUpdate(proposal_id=proposal.id, author_id=author.id if author else None, body=body,
                                     progress=progress, created_at=first + step * n))
    proposal.progress = updates[-1][0]
    proposal.status_changed_at = first
    return len(updates)


def _execution_window(rng, status):
    """Dates of the works: done by now, under way, or planned for next year."""
    if status == P.completed:
        starts = date(2026, 7, 1) + timedelta(days=rng.randint(0, 20))
        return starts, starts + timedelta(days=rng.randint(90, 120))
    if status == P.in_execution:
        starts = date(2026, rng.choice([7, 9]), 1)
        return starts, starts + timedelta(days=rng.randint(180, 300))
    starts = date(2027, rng.choice([1, 3, 4]), 1)
    return starts, starts + timedelta(days=rng.randint(90, 240))


def _euro(amount):
    """12.500 — Italian thousands separator."""
    return f"{amount:,}".replace(",", ".")
