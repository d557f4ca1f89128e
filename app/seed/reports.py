"""Demo reports: about 200 across districts and categories, in every state, with their timelines."""
import random
from datetime import timedelta

from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.models.base import utcnow
from app.models.messaging import Follow
from app.models.place import Category
from app.models.report import Report, ReportStatus, ReportUpdate
from app.models.user import Department, Role, User, UserRole
from app.reports.services import route

S = ReportStatus
STREETS = ["via Nizza", "corso Vittorio Emanuele II", "via Po", "corso Giulio Cesare", "via Madama Cristina",
           "corso Francia", "via Cibrario", "corso Traiano", "via Sacchi", "corso Regina Margherita",
           "via Garibaldi", "corso Unione Sovietica", "via Stradella", "corso Belgio", "via Cigna",
           "corso Vercelli", "via Osasco", "corso Racconigi", "via Monginevro", "piazza Bengasi"]

PROBLEMS = {
    "buche-strade": [("Buca profonda in carreggiata", "Una buca di circa mezzo metro: le bici la prendono in pieno.")],
    "marciapiedi": [("Marciapiede dissestato", "Lastre sollevate dalle radici: pericoloso per chi cammina."),
                    ("Scivolo per carrozzine bloccato", "Auto parcheggiate sempre davanti allo scivolo.")],
    "illuminazione": [("Lampione spento", "Il lampione è spento da giorni e la sera la via è buia."),
                      ("Luce che lampeggia", "Il lampione si accende e si spegne tutta la notte.")],
    "verde-alberi": [("Ramo pericolante", "Un grosso ramo spezzato pende sopra il vialetto."),
                     ("Aiuola abbandonata", "Erba alta e rifiuti nell'aiuola davanti alla scuola.")],
    "rifiuti": [("Rifiuti abbandonati", "Materassi e sacchi lasciati accanto ai cassonetti."),
                ("Cestino pieno", "Il cestino è pieno da una settimana.")],
    "segnaletica": [("Semaforo pedonale guasto", "Il verde pedonale non si accende più."),
                    ("Cartello girato", "Il cartello di senso unico è girato dalla parte sbagliata.")],
    "ciclabili": [("Ciclabile interrotta da un cantiere", "Nessuna indicazione per aggirare il cantiere.")],
    "arredo-urbano": [("Panchina rotta", "Mancano due assi della seduta.")],
    "scuole": [("Cancello del cortile rotto", "Il cancello non si chiude più.")],
    "cultura": [("Bacheca del quartiere danneggiata", "Il vetro della bacheca è rotto.")],
    "beni-comuni": [("Orto condiviso senz'acqua", "Il rubinetto dell'orto è guasto.")],
}

#: How many demo reports end in each state (every state represented).
MIX = [(S.new, 40), (S.acknowledged, 35), (S.in_progress, 35), (S.resolved, 30), (S.closed, 30),
       (S.duplicate, 10), (S.not_responsible, 10), (S.rejected, 10)]

PATHS = {
    S.new: [], S.acknowledged: [S.acknowledged], S.in_progress: [S.acknowledged, S.in_progress],
    S.resolved: [S.acknowledged, S.in_progress, S.resolved],
    S.closed: [S.acknowledged, S.in_progress, S.resolved, S.closed],
    S.duplicate: [S.duplicate], S.not_responsible: [S.not_responsible], S.rejected: [S.acknowledged, S.rejected],
}
NOTES = {
    S.acknowledged: "Segnalazione presa in carico dall'ufficio.",
    S.in_progress: "Intervento programmato: la squadra passerà nei prossimi giorni.",
    S.resolved: "Intervento eseguito.",
    S.closed: "La persona che ha segnalato conferma che il problema è risolto.",
    S.not_responsible: "L'area è privata: abbiamo informato l'amministratore del condominio.",
    S.rejected: "Dal sopralluogo non risulta alcun problema.",
}


def _officials_by_department():
    """One official per department: the demo official for three, a demo office account for the others."""
    result = {}
    official = db.session.scalar(select(User).where(User.email == "official@example.org"))
    template_hash = official.password_hash if official else None
    for department in db.session.scalars(select(Department).order_by(Department.id)):
        holder = official if official and department in official.departments else None
        if holder is None:
            email = f"official-{department.slug}@example.org"
            holder = db.session.scalar(select(User).where(User.email == email))
            if holder is None:
                holder = User(email=email, display_name=f"Ufficio {department.name_it}", password_hash=template_hash,
                              email_confirmed_at=utcnow(), terms_accepted_at=utcnow(), locale="it")
                holder.role_rows = [UserRole(role=Role.official)]
                holder.departments = [department]
                db.session.add(holder)
        result[department.id] = holder
    db.session.flush()
    return result


def _random_point(rng):
    while True:
        lat, lon = rng.uniform(45.01, 45.135), rng.uniform(7.585, 7.765)
        if geo.district_for(lat, lon) is not None:
            return lat, lon


def seed_reports(target=200, seed=2026):
    """Create demo reports until there are ``target``; returns how many were created."""
    existing = db.session.scalar(select(func.count(Report.id)))
    if existing >= target:
        return 0
    rng = random.Random(seed + existing)
    geo.clear_cache()
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    citizens = db.session.scalars(select(User).where(User.email.like("citizen%@example.org")).order_by(User.id)).all()
    officials = _officials_by_department()
    plan = [status for status, n in MIX for _ in range(n)]
    rng.shuffle(plan)
    plan = plan[: target - existing]
    now = utcnow()
    originals = []
    for final in plan:
        slug = rng.choice(list(PROBLEMS))
        title, text = rng.choice(PROBLEMS[slug])
        street = f"{rng.choice(STREETS)} {rng.randint(1, 200)}"
        lat, lon = _random_point(rng)
        district_id = geo.district_for(lat, lon)
        category = categories[slug]
        reporter = rng.choice(citizens)
        created = now - timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 23))
        report = Report(title=f"{title} in {street}", description=text, category_id=category.id, lat=lat, lon=lon,
                        address=street, district_id=district_id, department_id=route(category, district_id),
                        reporter_id=reporter.id, status=S.new, created_at=created, updated_at=created,
                        status_changed_at=created)
        report.updates.append(ReportUpdate(kind="created", author_id=reporter.id, to_status=S.new, created_at=created))
        db.session.add(report)
        db.session.flush()
        db.session.add(Follow(user_id=reporter.id, target_type="report", target_id=report.id))
        official = officials.get(report.department_id)
        when = created
        for step in PATHS[final]:
            when = when + timedelta(days=rng.randint(1, 6))
            if when > now:
                when = now
            author = reporter if step == S.closed else official
            note = NOTES.get(step)
            if step == S.duplicate:
                candidates = [o for o in originals if o.category_id == report.category_id] or originals
                if not candidates:
                    break
                report.duplicate_of_id = rng.choice(candidates).id
                note = f"Già segnalato: vedi la segnalazione n. {report.duplicate_of_id}."
            report.updates.append(ReportUpdate(kind="status", author_id=author.id if author else None,
                                               from_status=report.status, to_status=step, note=note, created_at=when))
            report.status = step
            report.status_changed_at = when
            if step == S.resolved:
                report.resolved_at = when
        if report.status in (S.new, S.acknowledged, S.in_progress):
            originals.append(report)
    db.session.flush()
    return len(plan)
