"""Demo debates on Turin topics with threaded comments, and comments on proposals and reports.

Comments are two levels deep (a reply answers a top-level comment, never another reply), and
``Debate.comment_count`` equals the debate's visible comments, as the comment service keeps it.
Runs once: if any demo debate already exists, nothing is added.
"""
import random
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.discussion import Comment, Debate
from app.models.place import Category, District
from app.models.proposal import Proposal
from app.models.proposal import ProposalStatus as P
from app.models.report import Report
from app.models.user import User

#: title, body, category slug (or None), district number (or None).
DEBATES = [
    ("Ztl Torino Centro: estenderla anche al pomeriggio?",
     "La Ztl oggi vale la mattina. Chi abita in centro chiede di estenderla fino alle 19; i commercianti temono "
     "di perdere clienti. Voi cosa ne pensate?", "segnaletica", 1),
    ("Parco del Valentino: più eventi o più tranquillità?",
     "D'estate il Valentino si riempie di concerti e feste. È una ricchezza o andrebbe protetto il riposo di chi "
     "ci vive accanto?", "verde-alberi", 8),
    ("Monopattini in sharing: dove parcheggiarli",
     "I monopattini lasciati in mezzo al marciapiede sono un ostacolo per chi usa la carrozzina o il bastone. "
     "Servono stalli dedicati? Dove?", "marciapiedi", None),
    ("Mercato di Porta Palazzo dopo le 14",
     "Finito il mercato, la piazza resta piena di cassette e rifiuti fino a sera. Come organizzare meglio la "
     "pulizia?", "rifiuti", 7),
    ("Cortili scolastici aperti nel weekend",
     "In altre città i cortili delle scuole diventano piccoli parchi il sabato e la domenica. Chi dovrebbe "
     "occuparsi di aprirli e chiuderli?", "scuole", None),
    ("Dora Riparia: un lungofiume pedonale da Parco Dora a Ponte Mosca",
     "Oggi il percorso lungo la Dora si interrompe in più punti. Si potrebbe renderlo continuo, con luci e "
     "panchine?", "verde-alberi", 7),
    ("Barriera di Milano: cosa fare dell'ex Incet e dintorni",
     "Gli spazi rigenerati funzionano, ma le vie intorno restano buie la sera. Quali priorità per il quartiere?",
     "illuminazione", 6),
    ("Corso Francia: la ciclabile serve davvero?",
     "Dopo i lavori della metro, corso Francia potrebbe avere una ciclabile continua fino a Collegno. Ne vale la "
     "pena rispetto ai parcheggi?", "ciclabili", 3),
    ("Biblioteche civiche aperte la sera",
     "Molti studenti e lavoratori potrebbero usare le biblioteche solo dopo le 19. Meglio orari lunghi in poche "
     "sedi o orari brevi in tutte?", "cultura", None),
    ("Alberi in via Nizza: sostituirli o curarli?",
     "Molti platani di via Nizza sono malati. Tagliarli e ripiantare o tentare di salvarli?", "verde-alberi", 8),
    ("Case del Quartiere: cosa manca nella vostra?",
     "Le Case del Quartiere sono il cuore della partecipazione. Quali servizi vorreste trovarci?", "beni-comuni",
     None),
    ("Raccolta differenziata porta a porta in San Salvario",
     "Con i cassonetti stradali la differenziata non decolla. Il porta a porta funzionerebbe in un quartiere con "
     "tanti locali?", "rifiuti", 8),
    ("Piazza Bengasi dopo il capolinea della metro",
     "La nuova fermata ha cambiato la piazza: più gente, più traffico, il mercato più piccolo. Come ripensarla?",
     "arredo-urbano", 8),
    ("Sicurezza dei passaggi pedonali in corso Giulio Cesare",
     "Attraversare corso Giulio Cesare è pericoloso: semafori brevi e auto veloci. Quali interventi servono?",
     "segnaletica", 6),
    ("Orti urbani a Mirafiori: come assegnarli",
     "Le richieste per gli orti di Mirafiori superano i posti. Sorteggio, graduatoria o turni?", "beni-comuni", 2),
    ("Luci nei giardini pubblici dopo le 22",
     "Alcuni giardini restano bui e chiusi, altri aperti ma senza luci. Meglio chiuderli o illuminarli?",
     "illuminazione", None),
    ("Panchine sì o no nelle piazze del centro",
     "In alcune piazze le panchine sono state tolte per evitare bivacchi. Ma gli anziani non hanno dove sedersi.",
     "arredo-urbano", 1),
    ("Zone 30 davanti a tutte le scuole",
     "Limitare a 30 km/h le strade davanti alle scuole: misura utile o solo cartelli?", "segnaletica", None),
    ("Vanchiglia e la movida: convivenza possibile?",
     "Locali aperti fino a tardi e residenti che non dormono. Quali regole funzionerebbero per tutti?",
     "cultura", 7),
    ("Marciapiedi di Borgo Vittoria: la mappa delle barriere",
     "Proviamo a raccogliere insieme i punti del quartiere impossibili da percorrere con un passeggino o una "
     "carrozzina.", "marciapiedi", 5),
    ("Fontanelle (toret) da riattivare",
     "Molti toret verdi sono a secco. Quali riattivare per primi, pensando all'estate?", "beni-comuni", None),
    ("Parco Colonnetti: più servizi per le famiglie",
     "Il parco è grande ma mancano bagni, fontanelle e giochi per i più piccoli.", "verde-alberi", 2),
    ("Bike lane di via Nizza: come è andata?",
     "A un anno dalla ciclabile di via Nizza, chi la usa e chi ci abita: com'è cambiata la via?", "ciclabili", 8),
    ("Teatri di quartiere e spazi prova per giovani band",
     "Mancano sale prova accessibili. Si potrebbero usare spazi comunali vuoti?", "cultura", 4),
    ("Mercati rionali: orari e parcheggi",
     "I mercati di Santa Rita e Pozzo Strada perdono clienti. Orari più lunghi? Più parcheggi per le bici?",
     "arredo-urbano", 2),
]

OPINIONS = [
    "Sono d'accordo, ma bisogna pensare anche a chi lavora su turni.",
    "Abito qui da vent'anni: la situazione è peggiorata negli ultimi tempi, serve fare qualcosa.",
    "Ne abbiamo parlato alla Casa del Quartiere: in molti la pensano così.",
    "Attenzione ai costi di manutenzione: senza cura, tra due anni saremo al punto di partenza.",
    "Proposta concreta: proviamo per sei mesi e poi valutiamo insieme i risultati.",
    "Non sono convinta. Ci sono priorità più urgenti, per esempio i marciapiedi rotti.",
    "A Milano hanno fatto qualcosa di simile e ha funzionato, soprattutto per i bambini.",
    "Servirebbe coinvolgere i commercianti fin dall'inizio, altrimenti si opporranno.",
    "Io ci passo ogni giorno in bici: la sera è davvero pericoloso.",
    "Sarebbe utile avere dati: quante persone ci passano, a che ore?",
    "Favorevole, purché si tenga conto di chi ha difficoltà a muoversi.",
    "Per me la priorità è la sicurezza: più luce e più presenza.",
]
REPLIES = [
    "Giusto, non ci avevo pensato.",
    "Concordo: meglio una prova che anni di discussioni.",
    "Hai dati a sostegno? Io ho un'impressione diversa.",
    "Ne parliamo giovedì all'assemblea di quartiere?",
    "Anche nella mia via è così.",
    "Aggiungo: servirebbe anche una fontanella.",
]
PROPOSAL_COMMENTS = [
    "Ottima idea, l'ho già sostenuta!",
    "Avete pensato a dove andrebbero i bidoni che oggi sono lì?",
    "Sarebbe bello coinvolgere la scuola del quartiere.",
    "Bene, ma chi se ne occuperà dopo l'inaugurazione?",
    "Ci passo ogni mattina con il passeggino: serve davvero.",
    "Proposta simile a quella dell'anno scorso: speriamo sia la volta buona.",
]
REPORT_COMMENTS = [
    "Confermo, è così anche oggi.",
    "Segnalato anche al vigile di quartiere.",
    "Stamattina hanno messo una transenna provvisoria.",
    "È pericoloso soprattutto la sera.",
]


def seed_debates(seed=406):
    """About 25 debates (some turned into proposals) with comments, plus comments on proposals and reports."""
    if db.session.scalar(select(Debate.id).where(Debate.title == DEBATES[0][0]).limit(1)) is not None:
        return 0
    rng = random.Random(seed)
    now = utcnow()
    citizens = db.session.scalars(select(User).where(User.email.like("citizen%@example.org")).order_by(User.id)).all()
    if not citizens:
        return 0
    categories = {c.slug: c.id for c in db.session.scalars(select(Category))}
    districts = {d.number: d.id for d in db.session.scalars(select(District))}
    # Every fifth debate led its author to write a proposal on the same subject, a few days later.
    published = db.session.scalars(select(Proposal).where(Proposal.status == P.published).order_by(Proposal.id)).all()
    used = set()
    for n, (title, body, category, district) in enumerate(DEBATES):
        proposal = None
        if n % 5 == 0:
            proposal = next((p for p in published if p.category_id == categories.get(category) and p.id not in used),
                            None)
            used.add(proposal.id if proposal else None)
        created = (proposal.created_at - timedelta(days=rng.randint(5, 20)) if proposal
                   else now - timedelta(days=rng.randint(3, 200), hours=rng.randint(0, 23)))
        debate = Debate(author_id=proposal.author_id if proposal else rng.choice(citizens).id, title=title,
                        body=body, category_id=categories.get(category), district_id=districts.get(district),
                        created_at=created, proposal_id=proposal.id if proposal else None)
        db.session.add(debate)
        db.session.flush()
        debate.comment_count = _thread(rng, "debate", debate.id, created, citizens, rng.randint(3, 10))
    proposals = db.session.scalars(select(Proposal).where(Proposal.status != P.draft).order_by(Proposal.id)).all()
    for proposal in rng.sample(proposals, min(30, len(proposals))):
        _thread(rng, "proposal", proposal.id, proposal.published_at or proposal.created_at, citizens,
                rng.randint(1, 5), PROPOSAL_COMMENTS)
    reports = db.session.scalars(select(Report).order_by(Report.id)).all()
    for report in rng.sample(reports, min(20, len(reports))):
        _thread(rng, "report", report.id, report.created_at, citizens, rng.randint(1, 3), REPORT_COMMENTS)
    db.session.flush()
    return len(DEBATES)


def _thread(rng, target_type, target_id, since, citizens, n, texts=OPINIONS):
    """``n`` comments on one item: top-level ones, and replies to them (two levels). Returns ``n``."""
    now = utcnow()
    when = since
    tops = []
    for _ in range(n):
        when = min(when + timedelta(hours=rng.randint(1, 72)), now)
        parent = rng.choice(tops) if tops and rng.random() < 0.35 else None
        comment = Comment(target_type=target_type, target_id=target_id, parent_id=parent.id if parent else None,
                          author_id=rng.choice(citizens).id, body=rng.choice(REPLIES if parent else texts),
                          created_at=when)
        db.session.add(comment)
        if parent is None:
            db.session.flush()
            tops.append(comment)
    return n
