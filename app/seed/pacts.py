"""Demo collaboration pacts: Turin's commons, the civic subjects caring for them, ~30 pacts in every
state, calls for care, and the collaboration opportunities (calls for help, citizens' offers).

Built directly with the models, the way the procedure leaves them: a status history from the
draft on (a few steps slower than the time limits, so the office sees what is overdue), protocol
numbers at submission, the office's classification at admissibility, consultation windows,
co-design meetings at the Case del Quartiere, versioned texts, the frozen approved text's SHA-256
signed by every party, volunteers, yearly reports, a dispute, a renewal and a merged proposal.
Runs once: if the first demo commons exists, nothing is added.
"""
import json
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models.base import utcnow
from app.models.commons import (
    Commons,
    CommonsCall,
    CommonsKind,
    CommonsOwner,
    Organisation,
    OrganisationKind,
    OrganisationMember,
)
from app.models.discussion import Comment
from app.models.opportunity import HelpAnswer, HelpCall, HelpOffer
from app.models.pact import (
    Pact,
    PactDispute,
    PactJoinRequest,
    PactKind,
    PactMeeting,
    PactParty,
    PactReport,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactSupportItem,
    PactVersion,
    PactVolunteer,
    PartyKind,
    ReportReview,
    RequestStatus,
    SupportKind,
    text_sha256,
)
from app.models.place import District, NeighbourhoodHouse
from app.models.user import Department, User
from app.seed.reports import _officials_by_department

ROME = ZoneInfo("Europe/Rome")
S = PactStatus
K = CommonsKind
O = OrganisationKind

#: The department answering for each kind of commons (slugs of app.seed.turin.DEPARTMENTS).
DEPARTMENT_OF_KIND = {K.green_area: "verde", K.square: "suolo-pubblico", K.street: "suolo-pubblico",
                      K.school_courtyard: "edilizia-scolastica", K.building: "beni-comuni",
                      K.immaterial: "cultura", K.other: "beni-comuni"}

# --- the commons --------------------------------------------------------------------------------
#: key, name, kind, lat, lon, address, description, extras (outline half-size in metres, heritage,
#: third-party owner, district number of an immaterial commons, proposed by citizen n).
COMMONS = [
    ("cavour", "Giardino di piazza Cavour", K.green_area, 45.0627, 7.6878, "Piazza Cavour",
     "Il giardino ottocentesco in collina artificiale tra via Giolitti e via Mazzini, con il laghetto e i "
     "grandi alberi.", {"outline": (70, 55), "heritage": True}),
    ("bodoni", "Aiuole di piazza Bodoni", K.square, 45.0627, 7.6810, "Piazza Carlo Felice Bodoni",
     "Le aiuole e le panchine davanti al Conservatorio Giuseppe Verdi.", {"heritage": True}),
    ("sclopis", "Cortile della scuola primaria Federico Sclopis", K.school_courtyard, 45.0585, 7.6702,
     "Via Sclopis 11", "Il cortile alberato della scuola, chiuso il pomeriggio e nel fine settimana.", {}),
    ("orti-mirafiori", "Orti urbani di strada del Drosso", K.green_area, 45.0152, 7.6148,
     "Strada del Drosso", "Quaranta parcelle di orto lungo il Sangone, con un punto acqua e un capanno "
     "per gli attrezzi.", {"outline": (120, 80)}),
    ("rignon", "Parco Rignon", K.green_area, 45.0436, 7.6412, "Corso Orbassano / via Guido Reni",
     "Il parco della villa Rignon, con il prato grande, i giochi e la biblioteca civica.", {"outline": (110, 70)}),
    ("salvemini", "Cortile della scuola primaria Gaetano Salvemini", K.school_courtyard, 45.0385, 7.6205,
     "Via Negarville 30", "Un cortile ampio, con un campetto e qualche albero da frutto.", {}),
    ("memoria-mirafiori", "I racconti di Mirafiori: la memoria operaia del quartiere", K.immaterial, None, None,
     None, "Le storie delle famiglie arrivate a Mirafiori per lavorare in fabbrica: fotografie, lettere, "
           "interviste, da raccogliere e condividere prima che si perdano.", {"district": 2}),
    ("monginevro", "Giardino di via Monginevro", K.green_area, 45.0640, 7.6405, "Via Monginevro 176",
     "Un piccolo giardino tra i palazzi, con un'area giochi e due ping-pong in cemento.", {"proposed_by": 210}),
    ("sabotino", "Piazza Sabotino", K.square, 45.0662, 7.6472, "Piazza Sabotino",
     "La piazza con le aiuole e la fermata della metropolitana, punto d'incontro di Borgo San Paolo.", {}),
    ("di-nanni", "Via Di Nanni, tratto pedonale", K.street, 45.0650, 7.6440, "Via Dante Di Nanni 40–80",
     "Il tratto pedonale della via del mercato, con le fioriere e le panchine.", {}),
    ("tesoriera", "Parco della Tesoriera", K.green_area, 45.0868, 7.6322, "Corso Francia 192",
     "Il parco storico della villa settecentesca, oggi sede della biblioteca musicale, con il roseto.",
     {"outline": (130, 90), "heritage": True}),
    ("risorgimento", "Piazza Risorgimento", K.square, 45.0880, 7.6585, "Piazza Risorgimento",
     "La piazza giardino di San Donato, con le aiuole attorno al monumento e la chiesa.", {}),
    ("cibrario", "Cortile della scuola media di via Cibrario", K.school_courtyard, 45.0822, 7.6648,
     "Via Cibrario 55", "Un cortile d'asfalto senza alberi, usato solo per la ricreazione.", {}),
    ("montale", "Giardini di piazza Montale", K.green_area, 45.1136, 7.6342, "Piazza Eugenio Montale",
     "I giardini al centro delle Vallette, accanto alla Casa di Quartiere.", {"outline": (90, 60)}),
    ("stradella", "Cortile della scuola di via Stradella", K.school_courtyard, 45.1052, 7.6718, "Via Stradella 192",
     "Il cortile della scuola primaria di Borgo Vittoria, con un grande ippocastano.", {}),
    ("foglizzo", "Giardino di via Foglizzo", K.green_area, 45.1082, 7.6302, "Via Foglizzo 15",
     "Un giardino di quartiere a Lucento, con un prato in pendenza e i giochi da rifare.", {}),
    ("aglie", "Giardino di via Agliè", K.green_area, 45.0997, 7.6968, "Via Agliè 9",
     "Il giardino accanto ai Bagni Pubblici, con le panchine e un piccolo frutteto.", {"outline": (60, 40)}),
    ("falchera", "Orti della Falchera", K.green_area, 45.1315, 7.7045, "Via degli Abeti / Falchera",
     "Terreni agricoli comunali ai margini del quartiere, oggi incolti.", {"outline": (150, 100)}),
    ("foroni", "Piazza Foroni", K.square, 45.0985, 7.6928, "Piazza Cerignola / piazza Foroni",
     "La piazza del mercato di Barriera di Milano, piena la mattina e vuota il pomeriggio.", {}),
    ("bocciofila", "Ex bocciofila di corso Taranto", K.building, 45.1048, 7.7082, "Corso Taranto 160",
     "Un edificio comunale a un piano con il campo da bocce coperto, chiuso da anni.", {}),
    ("lungodora", "Sponda della Dora a lungo Dora Agrigento", K.green_area, 45.0862, 7.6852,
     "Lungo Dora Agrigento", "La sponda erbosa della Dora tra ponte Carpanini e ponte Mosca.",
     {"outline": (140, 40)}),
    ("santa-giulia", "Piazza Santa Giulia", K.square, 45.0702, 7.6975, "Piazza Santa Giulia",
     "La piazza della chiesa di Vanchiglia, con il mercato la mattina e i locali la sera.", {}),
    ("cecchi", "Cortile della scuola di via Cecchi", K.school_courtyard, 45.0842, 7.6838, "Via Antonio Cecchi 16",
     "Il cortile della scuola primaria, accanto all'Hub Cecchi Point.", {}),
    ("atc-cuneo", "Cortile delle case popolari di via Cuneo", K.other, 45.0905, 7.6898, "Via Cuneo 12",
     "Il cortile interno di un complesso di case popolari, con un prato e una vecchia fontana.",
     {"owner": ("ATC del Piemonte Centrale",
                "Lettera di assenso dell'ATC del Piemonte Centrale, prot. n. 2025/1187, allegata alla proposta."),
      "proposed_by": 150}),
    ("madama-cristina", "Piazza Madama Cristina", K.square, 45.0538, 7.6818, "Piazza Madama Cristina",
     "La piazza del mercato di San Salvario, con le aiuole e le panchine attorno ai banchi.", {}),
    ("bossoli", "Orto condiviso di via Bossoli", K.green_area, 45.0286, 7.6566, "Via Bossoli 83",
     "L'orto accanto alla Casa del Quartiere, con cassoni rialzati per chi non può chinarsi.", {"outline": (40, 30)}),
    ("moncalieri", "Aiuole di corso Moncalieri", K.green_area, 45.0585, 7.7005, "Corso Moncalieri 30–90",
     "Le aiuole spartitraffico lungo il Po a Borgo Po, oggi poco curate.", {}),
    ("tepice", "Cortile della scuola di via Tepice", K.school_courtyard, 45.0335, 7.6706, "Via Tepice 21",
     "Il cortile della scuola primaria di Nizza Millefonti, accanto a Barrito.", {}),
]

# --- the civic subjects -------------------------------------------------------------------------
#: key, name, kind, district, description, tax code, e-mail, representative, members (citizen numbers).
ORGANISATIONS = [
    ("vivere-ss", "Associazione Vivere San Salvario", O.association, 8,
     "Residenti e commercianti di San Salvario che curano piazze e giardini del quartiere dal 2012.",
     "97745120018", "info@viveresansalvario.example.org", 1, [2, 3, 4, 5, 6, 7, 8]),
    ("comitato-aglie", "Comitato di via Agliè", O.informal_group, 6,
     "Un gruppo di vicini di casa che si ritrova ai Bagni Pubblici di via Agliè.", None, None, 12, [13, 14, 15, 16]),
    ("orti-mirafiori", "Associazione Orti in Comune Mirafiori", O.association, 2,
     "Ortolani di Mirafiori Sud: orti condivisi, corsi di orticoltura, giornate aperte.",
     "97811230015", "orti.mirafiori@example.org", 23, [24, 25, 26, 27, 28, 29]),
    ("ic-aurora", "Istituto Comprensivo Torino Aurora", O.school, 7,
     "Scuole primarie e medie di Aurora e Borgo Dora.", "80091230017", "ic.aurora@example.org", 34, [35, 36]),
    ("coop-ponte", "Il Ponte Società Cooperativa Sociale – ETS", O.cooperative, 5,
     "Cooperativa sociale di tipo B: manutenzione del verde con inserimento lavorativo.",
     "09876540012", "info@cooperativailponte.example.org", 45, [46, 47, 48]),
    ("rinaldi", "Ferramenta Rinaldi s.n.c.", O.company, 3,
     "Ferramenta di famiglia in Borgo San Paolo dal 1968.", "05432110016", "ferramenta.rinaldi@example.org",
     56, [57]),
    ("amici-tesoriera", "Amici della Tesoriera APS", O.association, 4,
     "Associazione di promozione sociale per la cura del parco storico e della villa.", "97700450019",
     "amicitesoriera@example.org", 67, [68, 69, 70, 71]),
    ("genitori-sclopis", "Genitori della Sclopis", O.informal_group, 1,
     "Genitori degli alunni della scuola Sclopis che vogliono un cortile aperto al quartiere.", None, None,
     78, [79, 80, 81]),
    ("volontari-dora", "Volontari del Lungodora", O.informal_group, 7,
     "Chi abita lungo la Dora e la pulisce una domenica al mese.", None, None, 89, [91, 92, 93, 94]),
    ("barriera-verde", "Barriera Verde APS", O.association, 6,
     "Verde, orti e feste di via in Barriera di Milano.", "97766330014", "barriera.verde@example.org",
     95, [96, 97, 98, 99, 100]),
    ("salvemini", "Scuola primaria Gaetano Salvemini", O.school, 2,
     "Scuola primaria di Mirafiori Nord, parte dell'Istituto Comprensivo Salvemini.", "80088870016",
     "scuola.salvemini@example.org", 101, [102, 103]),
]

# --- the pacts ----------------------------------------------------------------------------------
#: Each pact: key, title, commons, proponent (an organisation key or a citizen number), kind, the
#: steps [(status, days spent in it)] whose last number is how many days ago it entered its current
#: status, the duration requested (months) and extras (reports, volunteers, joins, …).
PACTS = [
    dict(key="madama-cristina", title="Aiuole e panchine di piazza Madama Cristina", commons="madama-cristina",
         by="vivere-ss", kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 9), (S.submitted, 21), (S.admissible, 8), (S.public_consultation, 32),
                (S.co_design, 44), (S.approved, 6), (S.signing, 11), (S.active, 418)],
         volunteers=12, removed=True, reports=[(0, 12, ReportReview.accepted, False)], versions=3),
    dict(key="orti-mirafiori", title="Orti in Comune a Mirafiori Sud", commons="orti-mirafiori",
         by="orti-mirafiori", kind=PactKind.complex, months=36,
         steps=[(S.draft, 14), (S.submitted, 48), (S.needs_integration, 19), (S.submitted, 12),
                (S.admissible, 10), (S.public_consultation, 31), (S.co_design, 74), (S.approved, 9),
                (S.signing, 16), (S.active, 402)],
         joins=[("salvemini", RequestStatus.accepted)], volunteers=15,
         reports=[(0, 12, ReportReview.accepted, False)], versions=3,
         integration="Manca la planimetria delle parcelle e il parere della Circoscrizione 2 sull'uso del punto "
                     "acqua: integrate la proposta entro trenta giorni."),
    dict(key="aglie", title="Il giardino di via Agliè, curato dal vicinato", commons="aglie", by="comitato-aglie",
         kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 5), (S.submitted, 17), (S.admissible, 6), (S.public_consultation, 31),
                (S.co_design, 28), (S.approved, 4), (S.signing, 9), (S.active, 200)],
         volunteers=8, reports=[(0, 6, ReportReview.submitted, False)], versions=2),
    dict(key="cecchi", title="Cortile aperto della scuola di via Cecchi", commons="cecchi", by="ic-aurora",
         kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 20), (S.submitted, 26), (S.admissible, 12), (S.public_consultation, 33),
                (S.co_design, 39), (S.approved, 5), (S.signing, 21), (S.active, 395)],
         volunteers=10, reports=[(0, 12, ReportReview.needs_changes, False)], versions=2),
    dict(key="lungodora", title="Sponde della Dora pulite", commons="lungodora", by="volontari-dora",
         kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 3), (S.submitted, 15), (S.admissible, 5), (S.public_consultation, 31),
                (S.co_design, 22), (S.approved, 3), (S.signing, 6), (S.active, 150), (S.suspended, 21),
                (S.active, 128)],
         volunteers=14, left=True, versions=2,
         suspension="Sospeso durante i lavori della SMAT sul collettore lungo l'argine: la sponda è un cantiere.",
         resumption="Lavori sull'argine conclusi: le attività riprendono.",
         reports=[(0, 6, ReportReview.accepted, False)]),
    dict(key="di-nanni", title="Fioriere di via Di Nanni", commons="di-nanni", by=120, kind=PactKind.ordinary,
         months=12,
         steps=[(S.draft, 6), (S.submitted, 23), (S.admissible, 9), (S.public_consultation, 31),
                (S.co_design, 31), (S.approved, 7), (S.signing, 8), (S.active, 45)],
         volunteers=4, versions=1),
    dict(key="bossoli", title="L'orto condiviso di via Bossoli, aperto a tutti", commons="bossoli", by=130,
         kind=PactKind.ordinary, months=36,
         steps=[(S.draft, 11), (S.submitted, 29), (S.admissible, 14), (S.public_consultation, 34),
                (S.co_design, 52), (S.approved, 8), (S.signing, 19), (S.active, 500)],
         joins=[(131, RequestStatus.accepted), (132, RequestStatus.declined)], volunteers=9,
         reports=[(0, 12, ReportReview.accepted, False)], versions=2),
    dict(key="montale", title="Giardini di piazza Montale", commons="montale", by="coop-ponte",
         kind=PactKind.ordinary, months=12,
         steps=[(S.draft, 8), (S.submitted, 33), (S.admissible, 11), (S.public_consultation, 31),
                (S.co_design, 41), (S.approved, 5), (S.signing, 14), (S.active, 390), (S.renewed, 110)],
         volunteers=11, reports=[(0, 12, ReportReview.accepted, False)], versions=2),
    dict(key="montale-2", title="Giardini di piazza Montale – rinnovo", commons="montale", by="coop-ponte",
         kind=PactKind.ordinary, months=24, renewal_of="montale",
         steps=[(S.co_design, 40), (S.approved, 8), (S.signing, 12), (S.active, 50)], volunteers=6, versions=2),
    dict(key="memoria", title="Archivio dei racconti di Mirafiori", commons="memoria-mirafiori", by=240,
         kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 12), (S.submitted, 19), (S.admissible, 7), (S.public_consultation, 31),
                (S.co_design, 35), (S.approved, 6), (S.signing, 10), (S.active, 150)],
         joins=[(241, RequestStatus.accepted)], volunteers=7, versions=2),
    dict(key="salvemini", title="Estate nel cortile della Salvemini", commons="salvemini", by="salvemini",
         kind=PactKind.ordinary, months=12,
         steps=[(S.draft, 7), (S.submitted, 18), (S.admissible, 6), (S.public_consultation, 31),
                (S.co_design, 27), (S.approved, 4), (S.signing, 8), (S.active, 392), (S.completed, 40)],
         volunteers=10, reports=[(0, 12, ReportReview.accepted, True)], versions=2,
         completion="Il patto è giunto a scadenza: la relazione finale è stata approvata."),
    dict(key="bocciofila", title="Ex bocciofila di corso Taranto, spazio civico", commons="bocciofila",
         by="barriera-verde", kind=PactKind.complex, months=36,
         steps=[(S.draft, 15), (S.submitted, 41), (S.admissible, 18), (S.public_consultation, 31),
                (S.co_design, 96), (S.approved, 12), (S.signing, 24), (S.active, 210), (S.suspended, 35),
                (S.revoked, 70)],
         volunteers=9, versions=3,
         suspension="La polizza assicurativa per le attività nei locali è scaduta e non è stata rinnovata: "
                    "le attività sono sospese finché non arriva la nuova polizza.",
         revocation="Trascorsi trenta giorni dalla sospensione senza una nuova polizza e senza il piano di "
                    "sicurezza richiesto, il patto è revocato. I locali tornano nella disponibilità della Città, "
                    "che li offrirà con un nuovo avviso."),
    dict(key="sabotino", title="Piazza Sabotino: aiuole e mercatino del riuso", commons="sabotino", by="rinaldi",
         kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 4), (S.submitted, 22), (S.admissible, 9), (S.public_consultation, 31),
                (S.co_design, 33), (S.approved, 5), (S.signing, 12), (S.active, 250), (S.suspended, 25)],
         volunteers=6, dispute=True, reports=[(0, 6, ReportReview.accepted, False)], versions=2,
         extra="- Un mercatino del riuso la prima domenica del mese, con i banchi dei residenti.",
         suspension="Sospeso durante il cantiere per il rifacimento dei sottoservizi nella piazza: le aiuole sono "
                    "recintate fino alla fine dei lavori."),
    dict(key="tesoriera", title="Il roseto storico della Tesoriera", commons="tesoriera", by="amici-tesoriera",
         kind=PactKind.complex, months=36,
         steps=[(S.draft, 10), (S.submitted, 27), (S.admissible, 13), (S.public_consultation, 31),
                (S.co_design, 66), (S.approved, 9), (S.signing, 45)], signed=("city",), versions=3,
         extra="- **Roseto storico**: potatura e cura delle rose antiche con i giardinieri della Città, secondo le "
               "indicazioni della Soprintendenza."),
    dict(key="sclopis", title="Il cortile della Sclopis aperto il sabato", commons="sclopis", by="genitori-sclopis",
         kind=PactKind.ordinary, months=12,
         steps=[(S.draft, 6), (S.submitted, 14), (S.admissible, 7), (S.public_consultation, 31),
                (S.co_design, 24), (S.approved, 3), (S.signing, 5)], signed=("proponents",), versions=2),
    dict(key="moncalieri", title="Aiuole fiorite di corso Moncalieri", commons="moncalieri", by=140,
         kind=PactKind.ordinary, months=12,
         steps=[(S.draft, 5), (S.submitted, 20), (S.admissible, 8), (S.public_consultation, 31),
                (S.co_design, 29), (S.approved, 21)], versions=2),
    dict(key="foroni", title="Piazza Foroni, il salotto del mercato", commons="foroni", by="barriera-verde",
         kind=PactKind.complex, months=24,
         steps=[(S.draft, 9), (S.submitted, 24), (S.admissible, 10), (S.public_consultation, 31),
                (S.co_design, 81)], versions=3),
    dict(key="atc-cuneo", title="Orto e giochi nel cortile di via Cuneo", commons="atc-cuneo", by=150,
         kind=PactKind.complex, months=24,
         steps=[(S.draft, 8), (S.submitted, 36), (S.admissible, 12), (S.public_consultation, 31),
                (S.co_design, 25)], joins=[(151, RequestStatus.accepted), (152, RequestStatus.declined)],
         versions=2),
    dict(key="foglizzo", title="Il prato di via Foglizzo", commons="foglizzo", by="coop-ponte",
         kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 4), (S.submitted, 16), (S.admissible, 6), (S.public_consultation, 31),
                (S.co_design, 10)], versions=1),
    dict(key="santa-giulia", title="Piazza Santa Giulia: tavoli, fioriere e silenzio", commons="santa-giulia", by=160,
         kind=PactKind.ordinary, months=12,
         steps=[(S.draft, 6), (S.submitted, 13), (S.admissible, 5), (S.public_consultation, 10)],
         joins=[(161, RequestStatus.pending), ("volontari-dora", RequestStatus.pending)], comments=6),
    dict(key="santa-giulia-bis", title="Piazza Santa Giulia pulita dopo la movida", commons="santa-giulia", by=170,
         kind=PactKind.ordinary, months=12, merged_into="santa-giulia",
         steps=[(S.draft, 1), (S.submitted, 4), (S.admissible, 2), (S.withdrawn, 2)],
         withdrawal="Unita alla proposta «Piazza Santa Giulia: tavoli, fioriere e silenzio» sullo stesso bene: "
                    "chi l'ha presentata entra tra i proponenti dell'altra."),
    dict(key="cavour", title="Letture all'aperto nel giardino di piazza Cavour", commons="cavour",
         by="vivere-ss", kind=PactKind.ordinary, months=12,
         steps=[(S.draft, 7), (S.submitted, 19), (S.admissible, 9), (S.public_consultation, 35)],
         extra="- **Ogni giovedì d'estate**: letture all'aperto per bambini e adulti, con i libri prestati dalle "
               "biblioteche civiche.",
         joins=[(181, RequestStatus.pending), (182, RequestStatus.accepted)], comments=5),
    dict(key="stradella", title="Il cortile di via Stradella per le famiglie", commons="stradella", by=190,
         kind=PactKind.ordinary, months=12, steps=[(S.draft, 3), (S.submitted, 12), (S.admissible, 5)]),
    dict(key="risorgimento", title="Piazza Risorgimento, il giardino delle farfalle", commons="risorgimento",
         by="amici-tesoriera", kind=PactKind.ordinary, months=24,
         steps=[(S.draft, 9), (S.submitted, 22), (S.admissible, 26)]),
    dict(key="falchera", title="Tornare a coltivare la Falchera", commons="falchera", by=200,
         kind=None, months=36, steps=[(S.draft, 12), (S.submitted, 41)]),
    dict(key="monginevro", title="Area giochi del giardino di via Monginevro", commons="monginevro", by=210,
         kind=None, months=12, steps=[(S.draft, 2), (S.submitted, 3)]),
    dict(key="rignon", title="Parco Rignon, l'angolo dei nonni", commons="rignon", by=220, kind=None, months=12,
         steps=[(S.draft, 5), (S.submitted, 18), (S.needs_integration, 12)],
         integration="Indicate quante persone parteciperanno e in quali giorni, e allegate l'elenco degli "
                     "attrezzi che intendete usare: senza, non possiamo valutare la sicurezza delle attività."),
    dict(key="di-nanni-parcheggio", title="Stalli riservati ai clienti in via Di Nanni", commons="di-nanni", by=230,
         kind=None, months=12, steps=[(S.draft, 2), (S.submitted, 17), (S.inadmissible, 60)],
         inadmissibility="La proposta chiede l'uso riservato di alcuni stalli di sosta per i clienti di un "
                         "esercizio commerciale. Un patto di collaborazione non può attribuire a un privato l'uso "
                         "esclusivo di un bene comune, che deve restare aperto a tutti: la proposta non è "
                         "ammissibile."),
    dict(key="tepice", title="Doposcuola all'aperto nel cortile di via Tepice", commons="tepice", by="vivere-ss",
         kind=PactKind.ordinary, months=12,
         steps=[(S.draft, 8), (S.submitted, 21), (S.admissible, 7), (S.public_consultation, 31),
                (S.co_design, 18), (S.withdrawn, 240)], versions=1,
         withdrawal="Non riusciamo a garantire la presenza di due adulti tutti i pomeriggi: ritiriamo la proposta "
                    "e la ripresenteremo con più volontari."),
    dict(key="tepice-2", title="Doposcuola all'aperto in via Tepice, con più volontari", commons="tepice",
         by="vivere-ss", kind=None, months=12, steps=[(S.draft, 4)], declarations=False),
    dict(key="cibrario", title="Un cortile con gli alberi in via Cibrario", commons="cibrario", by=250, kind=None,
         months=24, steps=[(S.draft, 15)], declarations=True),
]

#: What the proposal says, by kind of commons: objectives, activities, beneficiaries, own resources.
PROPOSALS = {
    K.green_area: (
        "Curare il verde insieme al vicinato, tenerlo pulito e accogliente, e farne un luogo d'incontro per "
        "tutte le età.",
        "- **Primavera**: pulizia generale, semina e messa a dimora delle piante.\n"
        "- **Tutto l'anno**: una mattina a settimana di cura (sfalcio leggero, irrigazione, raccolta rifiuti).\n"
        "- **Estate**: due feste aperte al quartiere e un laboratorio per bambini.",
        "Chi abita nelle vie vicine, le famiglie con bambini, gli anziani dei centri d'incontro.",
        "Una ventina di volontari, attrezzi propri, piante da talea e semi raccolti dagli ortolani."),
    K.square: (
        "Rendere la piazza più viva e curata: aiuole fiorite, panchine in ordine e qualche evento che faccia "
        "incontrare chi ci abita e chi ci lavora.",
        "- Cura delle aiuole e delle fioriere ogni due settimane.\n"
        "- Piccola manutenzione delle panchine (carteggiatura e vernice).\n"
        "- Un evento al mese, il sabato pomeriggio, con giochi e musica a basso volume.",
        "Residenti, commercianti e clienti del mercato, bambini delle scuole vicine.",
        "Volontari dei negozi e dei condomini, vernici e piante acquistate con l'autofinanziamento delle feste."),
    K.street: (
        "Abbellire il tratto pedonale con fioriere curate e renderlo più accogliente per chi passeggia.",
        "- Sistemazione e cura di dodici fioriere.\n- Pulizia settimanale dei dintorni delle panchine.",
        "Chi frequenta il mercato e chi abita nella via.",
        "Quattro residenti, attrezzi e annaffiatoi propri."),
    K.school_courtyard: (
        "Aprire il cortile della scuola al quartiere fuori dall'orario scolastico e curarlo con le famiglie.",
        "- Apertura il sabato mattina, con genitori volontari che aprono e chiudono il cancello.\n"
        "- Due giornate di cura all'anno (pulizia, pittura dei giochi a terra, aiuole).\n"
        "- Attività estive per i bambini in collaborazione con la Casa del Quartiere.",
        "Alunni e famiglie della scuola, bambini e ragazzi del quartiere.",
        "Genitori e insegnanti volontari, vernici atossiche e giochi donati dalle famiglie."),
    K.building: (
        "Riaprire l'edificio come spazio civico: un luogo per associazioni, corsi e feste di quartiere.",
        "- Pulizia e piccola manutenzione dei locali.\n- Calendario condiviso di corsi e incontri, aperto a "
        "chiunque ne faccia richiesta.\n- Apertura tre pomeriggi a settimana.",
        "Associazioni del quartiere, giovani, anziani.",
        "Volontari dell'associazione, arredi donati, attrezzatura per le pulizie."),
    K.immaterial: (
        "Raccogliere e condividere i racconti di chi ha vissuto la Mirafiori della fabbrica, perché la memoria "
        "del quartiere resti di tutti.",
        "- Interviste registrate con gli abitanti, nelle loro case o alla Cascina Roccafranca.\n"
        "- Digitalizzazione di fotografie e lettere prestate dalle famiglie.\n"
        "- Una mostra all'anno e un archivio consultabile in biblioteca.",
        "Gli abitanti di Mirafiori, le scuole, chiunque voglia conoscere la storia del quartiere.",
        "Un gruppo di volontari, scanner e registratori propri, la disponibilità delle famiglie a prestare i "
        "propri materiali."),
    K.other: (
        "Trasformare il cortile in un luogo curato da chi ci abita: un piccolo orto e un angolo giochi.",
        "- Sei cassoni per l'orto, curati a turno dalle famiglie.\n- Sistemazione dell'angolo giochi.\n"
        "- Una festa del cortile a settembre.",
        "Le famiglie delle case popolari e i bambini del caseggiato.",
        "Dieci famiglie volontarie, terriccio e piantine."),
}

#: The City's support by kind of commons: (kind, description, quantity, unit). Never cash.
SUPPORTS = {
    K.green_area: [(SupportKind.tools, "Attrezzi da giardinaggio in comodato (rastrelli, cesoie, carriole)", 8, "pezzi"),
                   (SupportKind.protective_equipment, "Guanti e gilet ad alta visibilità", 15, "kit"),
                   (SupportKind.staff_hours, "Ritiro degli sfalci e dei rifiuti raccolti", 12, "interventi"),
                   (SupportKind.training, "Corso base sulla cura del verde con i giardinieri della Città", 6, "ore")],
    K.square: [(SupportKind.tools, "Vernice per panchine, pennelli e terriccio", 1, "fornitura"),
               (SupportKind.fee_exemption, "Esenzione dal canone di occupazione del suolo pubblico per gli eventi",
                12, "giornate"),
               (SupportKind.protective_equipment, "Guanti e gilet ad alta visibilità", 10, "kit")],
    K.street: [(SupportKind.tools, "Fioriere e terriccio", 12, "fioriere"),
               (SupportKind.staff_hours, "Ritiro dei rifiuti raccolti", 6, "interventi")],
    K.school_courtyard: [(SupportKind.space, "Uso del cortile il sabato dalle 9 alle 13", 40, "giornate"),
                         (SupportKind.training, "Incontro sulla sicurezza con il responsabile dell'edificio", 2, "ore"),
                         (SupportKind.tools, "Vernici atossiche per i giochi a terra", 20, "litri")],
    K.building: [(SupportKind.space, "Uso dei locali dell'ex bocciofila", 220, "m²"),
                 (SupportKind.fee_exemption, "Esenzione dal canone di concessione dei locali", 36, "mesi"),
                 (SupportKind.staff_hours, "Sopralluogo e verifica degli impianti da parte dei tecnici comunali", 8,
                  "ore")],
    K.immaterial: [(SupportKind.space, "Sala della Cascina Roccafranca per gli incontri", 10, "serate"),
                   (SupportKind.training, "Formazione sull'intervista e sulla conservazione dei documenti", 6, "ore"),
                   (SupportKind.tools, "Registratori audio in prestito dalle biblioteche civiche", 2, "pezzi")],
    K.other: [(SupportKind.tools, "Cassoni in legno e terriccio", 6, "cassoni"),
              (SupportKind.protective_equipment, "Guanti da lavoro", 10, "paia")],
}

MINUTES = [
    "Presentazione della proposta e giro di tavolo. Concordato il calendario delle attività e chi tiene le "
    "chiavi. L'ufficio prepara la prima bozza del testo.",
    "Letta la bozza del testo punto per punto. I proponenti chiedono di spostare le giornate di cura al sabato; "
    "l'ufficio verifica la copertura assicurativa dei volontari.",
    "Sopralluogo sul posto con i tecnici: individuati il punto acqua e l'area per gli attrezzi. Il testo è "
    "pronto per l'approvazione.",
]
BUILDING_INSPECTION = ("Sopralluogo nei locali con i tecnici: verificati gli impianti elettrico e di riscaldamento "
                       "e le uscite di sicurezza. Il testo è pronto per l'approvazione.")
PACT_COMMENTS = [
    "Bellissima proposta, abito di fronte e do volentieri una mano il sabato.",
    "Attenzione agli orari: la sera la piazza è già rumorosa, meglio attività di giorno.",
    "Sarebbe utile coinvolgere anche la scuola qui vicino.",
    "Chi si occupa di annaffiare in agosto, quando molti sono via?",
    "Finalmente! Ne parlavamo da anni alla Casa del Quartiere.",
    "Favorevole, purché lo spazio resti aperto a tutti e non diventi di pochi.",
    "Posso portare degli attrezzi: ho una cesoia e un tagliasiepi che non uso più.",
]
JOIN_MESSAGES = [
    "Abito qui accanto e vorrei far parte del patto.",
    "La nostra associazione può portare volontari il fine settimana.",
    "Ho esperienza di orti: vorrei partecipare alla progettazione.",
]
REPORT_ACTIVITIES = {
    "default": "Giornate di cura ogni settimana, pulizia straordinaria dopo le feste, due eventi aperti al "
               "quartiere.",
    K.immaterial: "Trentadue interviste registrate, quattrocento fotografie digitalizzate, una mostra alla "
                  "Cascina Roccafranca.",
    K.school_courtyard: "Il cortile è stato aperto quasi tutti i sabati; due giornate di pittura dei giochi a terra "
                        "con le famiglie.",
}

#: Calls for help: pact or organisation key, title, description, skills, people needed, starts in (days).
HELP_CALLS = [
    ("madama-cristina", "Verniciare le panchine della piazza", "Carteggiatura e vernice di otto panchine: "
     "portate vestiti vecchi, al resto pensiamo noi.", "pittura, manutenzione", 8, 9),
    ("orti-mirafiori", "Costruire i cassoni rialzati", "Servono mani esperte per montare sei cassoni in legno per "
     "gli ortolani in carrozzina.", "falegnameria", 4, 12),
    ("orti-mirafiori", "Raccolta delle zucche e festa d'autunno", "Una mattina di raccolta e un pranzo insieme.",
     "giardinaggio, cucina", 10, -40),
    ("aglie", "Potatura del piccolo frutteto", "Potatura invernale dei sei alberi da frutto, con un giardiniere "
     "che insegna.", "giardinaggio", 5, 20),
    ("lungodora", "Pulizia della sponda della Dora", "La mattinata di pulizia del mese: guanti e sacchi li diamo noi.",
     "", 20, 11),
    ("bossoli", "Turni di irrigazione in estate", "Cerchiamo chi può annaffiare l'orto una sera a settimana a luglio "
     "e agosto.", "giardinaggio", 6, 150),
    ("memoria", "Trascrivere le interviste", "Ascoltare le registrazioni e trascriverle: si può fare da casa.",
     "informatica, scrittura", 5, 3),
    ("montale-2", "Animazione per bambini alla festa dei giardini", "Giochi e laboratori per la festa di primavera.",
     "animazione per bambini", 4, 120),
    ("cecchi", "Sorveglianza del cortile il sabato", "Adulti disponibili ad aprire e chiudere il cortile a turno.",
     "", 6, 6),
    ("org:vivere-ss", "Fotografie per il calendario del quartiere", "Cerchiamo chi fotografa le piazze di San "
     "Salvario nelle quattro stagioni.", "fotografia", 3, 15),
    ("org:barriera-verde", "Traduzioni per il volantino della festa di via", "Il volantino in arabo, romeno e cinese.",
     "lingue", 3, 25),
    ("org:coop-ponte", "Un furgone per il trasporto delle piante", "Ci serve un furgone e un autista per una "
     "mattina, dal vivaio di Grugliasco alle Vallette.", "trasporto con furgone", 1, -15),
]
#: Where the organisations' calls take place (a commons they care for).
ORGANISATION_CALL_PLACES = {"vivere-ss": "madama-cristina", "barriera-verde": "foroni", "coop-ponte": "montale"}
#: Citizens' offers: citizen number, skills, availability, district number.
HELP_OFFERS = [
    (110, "giardinaggio, potatura", "Il sabato mattina, da marzo a ottobre.", 2),
    (111, "falegnameria, manutenzione", "Due pomeriggi al mese.", 6),
    (112, "fotografia", "Nel fine settimana, con preavviso.", 8),
    (113, "lingue", "Traduzioni dall'arabo e dal francese, anche a distanza.", 6),
    (114, "animazione per bambini", "I pomeriggi d'estate.", 5),
    (115, "informatica, scrittura", "La sera, da casa.", None),
    (116, "cucina", "Per le feste di quartiere, qualche domenica all'anno.", 7),
    (117, "giardinaggio", "Ogni martedì mattina: sono in pensione e ho tempo.", 3),
    (118, "trasporto con furgone", "Ho un furgone: qualche sabato all'anno.", 4),
    (119, "primo soccorso", "Volontaria della Croce Verde: posso esserci agli eventi.", 1),
]

DAY = timedelta(days=1)


def _rome_date(moment):
    return moment.astimezone(ROME).date()


def _add_months(day, months):
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    last = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return date(year, month, min(day.day, last))


def _office_hours(moment, rng):
    """The same Rome day, during office hours (9–17), never after ``now``."""
    local = moment.astimezone(ROME)
    local = datetime.combine(local.date(), time(9 + rng.randint(0, 7), rng.randint(0, 59)), tzinfo=ROME)
    return local.astimezone(timezone.utc)


def _outline(lat, lon, half_width_m, half_height_m):
    """A small GeoJSON Polygon (lon/lat, counter-clockwise) around the point, slightly irregular."""
    dlat = half_height_m / geo.METRES_PER_DEGREE
    dlon = half_width_m / (geo.METRES_PER_DEGREE * 0.7071)  # cos(45°)
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat * 0.8], [lon + dlon * 0.9, lat + dlat],
            [lon - dlon * 0.8, lat + dlat * 0.9], [lon - dlon, lat - dlat]]
    ring = [[round(x, 6), round(y, 6)] for x, y in ring]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def seed_pacts(seed=505):
    """Commons, organisations, pacts, calls and opportunities; returns counts of rows created."""
    counts = {"commons": 0, "organisations": 0, "pacts": 0, "help calls": 0}
    if db.session.scalar(select(Commons.id).where(Commons.name == COMMONS[0][1]).limit(1)) is not None:
        return counts
    citizens = {int(u.email[7:10]): u for u in db.session.scalars(
        select(User).where(User.email.like("citizen%@example.org")))}
    if len(citizens) < 250:
        return counts
    rng = random.Random(seed)
    now = utcnow()
    geo.clear_cache()
    Seeder(rng, now, citizens).run(counts)
    db.session.flush()
    return counts


class Seeder:
    def __init__(self, rng, now, citizens):
        self.rng, self.now, self.citizens = rng, now, citizens
        self.districts = {d.number: d for d in db.session.scalars(select(District))}
        self.departments = {d.slug: d for d in db.session.scalars(select(Department))}
        self.officials = _officials_by_department()
        self.houses = db.session.scalars(select(NeighbourhoodHouse).order_by(NeighbourhoodHouse.id)).all()
        self.commons, self.orgs, self.pacts = {}, {}, {}
        self.start = now - timedelta(days=760)
        #: Citizens already in a role (parties, representatives): volunteers come from the others.
        self.busy = set()

    def run(self, counts):
        self.make_organisations()
        self.make_commons()
        for spec in PACTS:
            self.make_pact(spec)
        self.number_protocols()
        self.make_calls()
        self.make_opportunities()
        counts.update(commons=len(self.commons), organisations=len(self.orgs), pacts=len(self.pacts),
                      **{"help calls": len(HELP_CALLS)})

    # --- subjects and places ------------------------------------------------------------------

    def make_organisations(self):
        for key, name, kind, district, description, tax_code, email, rep, members in ORGANISATIONS:
            created = self.start + timedelta(days=self.rng.randint(0, 30))
            org = Organisation(name=name, kind=kind, description=description, tax_code=tax_code, email=email,
                               district_id=self.districts[district].id, created_by_id=self.citizens[rep].id,
                               created_at=created)
            org.memberships = [OrganisationMember(user_id=self.citizens[rep].id, is_representative=True,
                                                  joined_at=created)]
            org.memberships += [OrganisationMember(user_id=self.citizens[n].id, joined_at=created + DAY * (i + 1))
                                for i, n in enumerate(members)]
            db.session.add(org)
            self.orgs[key] = org
            self.busy.update([rep, *members])
        db.session.flush()

    def make_commons(self):
        for key, name, kind, lat, lon, address, description, extra in COMMONS:
            department = self.departments[DEPARTMENT_OF_KIND[kind]]
            if lat is None:
                district = self.districts[extra["district"]]
            else:
                district = db.session.get(District, geo.district_for(lat, lon))
            owner = extra.get("owner")
            proposer = extra.get("proposed_by")
            commons = Commons(
                name=name, description=description, kind=kind, lat=lat, lon=lon, address=address,
                district_id=district.id, department_id=department.id,
                owner=CommonsOwner.third_party if owner else CommonsOwner.city,
                owner_name=owner[0] if owner else None, owner_consent=owner[1] if owner else None,
                heritage_constraint=extra.get("heritage", False),
                geometry=_outline(lat, lon, *extra["outline"]) if "outline" in extra else None,
                proposed_by_id=self.citizens[proposer].id if proposer else None,
                # A commons the City already lists; one proposed with a pact is registered at admissibility.
                registered_at=None if proposer else self.start,
                created_at=self.start)
            db.session.add(commons)
            self.commons[key] = commons
        db.session.flush()

    # --- one pact ---------------------------------------------------------------------------

    def _timeline(self, steps):
        """[(status, entered_at)] from [(status, days)]: the last one entered ``days`` ago."""
        moments = []
        # From noon of today in Rome: a step "n days" earlier lands on the Rome day n days before,
        # whatever the hour now and across a change of summer time (from late evening, UTC days
        # would slip one Rome day and a consultation could end after the co-design began).
        noon = datetime.combine(self.now.astimezone(ROME).date(), time(12), tzinfo=ROME).astimezone(timezone.utc)
        moment = noon - steps[-1][1] * DAY
        for status, days in reversed(steps):
            if moments:
                moment = moment - days * DAY
            moments.append((status, moment))
        moments.reverse()
        result = []
        for status, moment in moments:
            at = _office_hours(moment, self.rng)
            if result and at <= result[-1][1]:
                at = result[-1][1] + timedelta(hours=1)
            result.append((status, min(at, self.now - timedelta(minutes=30))))
        return result

    def make_pact(self, spec):
        rng = self.rng
        commons = self.commons[spec["commons"]]
        kind_of_commons = commons.kind
        department = commons.department
        official = self.officials[department.id]
        org = self.orgs.get(spec["by"]) if isinstance(spec["by"], str) else None
        author = org.representatives()[0] if org else self.citizens[spec["by"]]
        self.busy.add(int(author.email[7:10]))
        objectives, activities, beneficiaries, own = PROPOSALS[kind_of_commons]
        if spec.get("extra"):
            activities = f"{activities}\n{spec['extra']}"
        timeline = self._timeline(spec["steps"])
        predecessor = self.pacts.get(spec.get("renewal_of"))
        if predecessor is not None:  # the renewal opens the successor's co-design
            timeline[0] = (timeline[0][0], max(timeline[0][1], predecessor.status_changed_at + timedelta(minutes=1)))
        created = timeline[0][1]
        pact = Pact(title=spec["title"], commons_id=commons.id, district_id=commons.district_id,
                    status=timeline[-1][0], created_by_id=author.id, organisation_id=org.id if org else None,
                    objectives=objectives, activities=activities, beneficiaries=beneficiaries,
                    duration_months=spec["months"], own_resources=own, created_at=created,
                    status_changed_at=timeline[-1][1], renewal_of_id=predecessor.id if predecessor else None)
        if spec.get("declarations", True):
            pact.declarations_accepted_at = created + timedelta(hours=2)
        pact.parties = [PactParty(kind=PartyKind.proponent, organisation_id=org.id if org else None,
                                  user_id=None if org else author.id, added_at=created)]
        pact.support_items = [PactSupportItem(kind=k, description=d, quantity=q, unit=u)
                              for k, d, q, u in SUPPORTS[kind_of_commons]]
        db.session.add(pact)
        previous = None
        for status, at in timeline:
            pact.history.append(PactStatusChange(from_status=previous, to_status=status, at=at,
                                                 actor_id=self._actor(status, author, official),
                                                 reason=self._reason(spec, status)))
            previous = status
        db.session.flush()
        self.pacts[spec["key"]] = pact
        reached = {status: at for status, at in reversed(timeline)}  # the first time each was reached
        last_at = {status: at for status, at in timeline}

        if S.submitted in reached:
            pact.submitted_at = reached[S.submitted]
            pact.department_id = department.id
        if S.admissible in reached or predecessor is not None:
            pact.kind = spec["kind"]
            pact.official_id = official.id
            pact.department_id = department.id
            city_added = reached.get(S.admissible, created)
            pact.parties.insert(0, PactParty(kind=PartyKind.city, user_id=official.id, added_at=city_added))
            if commons.registered_at is None and S.admissible in reached:
                commons.registered_at = city_added
        if S.public_consultation in reached:
            pact.consultation_starts_at = reached[S.public_consultation]
            pact.consultation_ends_at = pact.consultation_starts_at + 30 * DAY
            self._consultation(pact, spec, official)
        if S.co_design in reached:
            self._co_design(pact, spec, timeline, official, author, commons, predecessor)
        if S.approved in reached:
            approved = reached[S.approved]
            latest = pact.versions[-1]
            pact.approved_version_number = latest.number
            pact.approved_text_sha256 = text_sha256(latest.text)
            if pact.kind == PactKind.complex:
                pact.approval_act_type = ("Deliberazione della Giunta Comunale" if commons.heritage_constraint
                                          or commons.kind == K.building else "Determinazione dirigenziale")
                pact.approval_act_number = f"{rng.randint(120, 980)}/{_rome_date(approved).year}"
                pact.approval_act_date = _rome_date(approved)
        if S.signing in reached:
            self._signatures(pact, spec, reached[S.signing], reached.get(S.active))
        if S.active in reached:
            pact.starts_on = _rome_date(reached[S.active])
            pact.ends_on = _add_months(pact.starts_on, pact.duration_months)
            until = next((at for status, at in timeline if status in (S.completed, S.renewed, S.revoked)),
                         self.now)
            self._volunteers(pact, spec, reached[S.active], until, author)
            self._reports(pact, spec, author, official)
        if spec.get("dispute"):
            self._dispute(pact, author, reached[S.active], last_at[S.suspended])
        if spec.get("merged_into"):
            into = self.pacts[spec["merged_into"]]
            pact.merged_into_id = into.id
            for party in pact.parties:
                if party.kind == PartyKind.proponent:
                    into.parties.append(PactParty(kind=PartyKind.proponent, user_id=party.user_id,
                                                  organisation_id=party.organisation_id, added_at=last_at[S.withdrawn]))
        db.session.flush()

    def _actor(self, status, author, official):
        if status in (S.draft, S.submitted, S.withdrawn, S.renewed):
            return author.id
        return official.id

    def _reason(self, spec, status):
        return {S.needs_integration: spec.get("integration"), S.inadmissible: spec.get("inadmissibility"),
                S.suspended: spec.get("suspension"), S.revoked: spec.get("revocation"),
                S.withdrawn: spec.get("withdrawal"), S.completed: spec.get("completion"),
                S.active: None}.get(status)

    def _consultation(self, pact, spec, official):
        rng = self.rng
        start, end = pact.consultation_starts_at, min(pact.consultation_ends_at, self.now)
        for target, status in spec.get("joins", []):
            org = self.orgs.get(target) if isinstance(target, str) else None
            user = org.representatives()[0] if org else self.citizens[target]
            asked = self._between(start, end, evening=True)
            request = PactJoinRequest(pact_id=pact.id, user_id=user.id, organisation_id=org.id if org else None,
                                      message=rng.choice(JOIN_MESSAGES), status=status, created_at=asked)
            if status != RequestStatus.pending:
                request.decided_at = min(asked + 2 * DAY, self.now - timedelta(hours=1))
                request.decided_by_id = pact.created_by_id
                if status == RequestStatus.accepted:
                    pact.parties.append(PactParty(kind=PartyKind.proponent, organisation_id=org.id if org else None,
                                                  user_id=None if org else user.id, added_at=request.decided_at))
                    self.busy.add(int(user.email[7:10]))
            db.session.add(request)
        pool = [n for n in range(150, 300) if n not in self.busy]
        moments = sorted(self._between(start, end, evening=True) for _ in range(spec.get("comments", 2 + rng.randint(0, 2))))
        for i, when in enumerate(moments):
            db.session.add(Comment(target_type="pact", target_id=pact.id, author_id=self.citizens[rng.choice(pool)].id,
                                   body=PACT_COMMENTS[(pact.id + i) % len(PACT_COMMENTS)], created_at=when))

    def _between(self, start, end, evening=False):
        """A moment strictly between ``start`` and ``end``: office hours (citizens also write in the evening)."""
        rng = self.rng
        day = start + rng.randint(0, max(0, (end - start).days)) * DAY
        local = day.astimezone(ROME)
        hour = rng.randint(8, 22) if evening else rng.randint(9, 17)
        moment = datetime.combine(local.date(), time(hour, rng.randint(0, 59)), tzinfo=ROME).astimezone(timezone.utc)
        if moment <= start:
            moment = start + timedelta(minutes=rng.randint(10, 90))
        if moment >= end:
            moment = end - timedelta(minutes=rng.randint(10, 30))
        return max(moment, start + timedelta(minutes=1))

    def _house(self, commons):
        if commons.lat is None:
            return next(h for h in self.houses if h.slug == "cascina-roccafranca")
        return min(self.houses, key=lambda h: geo.distance_m(commons.lat, commons.lon, h.lat, h.lon))

    def _co_design(self, pact, spec, timeline, official, author, commons, predecessor):
        """Meetings at the nearest Casa del Quartiere and 1–3 versions of the text during co-design."""
        rng = self.rng
        index = next(i for i, (status, _at) in enumerate(timeline) if status == S.co_design)
        started = timeline[index][1]
        ended = timeline[index + 1][1] if index + 1 < len(timeline) else self.now
        span_days = max(2, int((ended - started).total_seconds() // 86400))
        house = self._house(commons)
        names = ", ".join(self._participants(pact, author))
        count = spec.get("versions", 1)
        meetings = min(count + (1 if span_days > 40 else 0), 3)
        for i in range(meetings):
            held = _office_hours(started + DAY * max(1, span_days * (i + 1) // (meetings + 1)), rng)
            held = held.replace(hour=16) if held.hour < 16 else held  # after work, in the houses
            sopralluogo = i == 2
            db.session.add(PactMeeting(
                pact_id=pact.id, held_at=min(held, self.now - timedelta(hours=2)),
                house_id=None if sopralluogo else house.id,
                place=(commons.address or commons.name) if sopralluogo else None,
                participants=f"{names}; {official.display_name}",
                minutes=BUILDING_INSPECTION if sopralluogo and commons.kind == K.building else MINUTES[i],
                created_by_id=official.id))
        for number in range(1, count + 1):
            when = started + timedelta(hours=3) if number == 1 else started + DAY * (span_days * (number - 1) // count)
            when = min(when, ended - timedelta(hours=1), self.now - timedelta(hours=1))
            if predecessor is not None and number == 1:
                text, note, by = predecessor.approved_version.text, "Il testo del patto in scadenza, da aggiornare.", \
                    official
            else:
                text = pact_text(pact, commons, version=number, house=house)
                note = ["Prima bozza dal modello standard.", "Calendario e orari concordati nel primo incontro.",
                        "Assicurazione e sicurezza riviste dopo il sopralluogo."][number - 1]
                by = author if number == 2 else official
            pact.versions.append(PactVersion(number=number, text=text, note=note, author_id=by.id, created_at=when))

    def _participants(self, pact, author):
        names = []
        for party in pact.parties:
            if party.kind == PartyKind.city:
                continue
            if party.organisation_id:
                org = db.session.get(Organisation, party.organisation_id)
                names.append(f"{org.representatives()[0].display_name} ({org.name})")
            else:
                names.append(db.session.get(User, party.user_id).display_name)
        return names or [author.display_name]

    def _signer(self, party, pact):
        if party.kind == PartyKind.city:
            department = db.session.get(Department, pact.department_id)
            return db.session.get(User, party.user_id), f"per la Città di Torino – {department.name_it}"
        if party.organisation_id:
            org = db.session.get(Organisation, party.organisation_id)
            role = "referente del gruppo informale" if org.kind == O.informal_group else "legale rappresentante di"
            return org.representatives()[0], f"{role} {org.name}"
        return db.session.get(User, party.user_id), "in proprio"

    def _signatures(self, pact, spec, opened, activated):
        """Every party signs (the last one on the day the pact became active), or only some while signing."""
        db.session.flush()
        version = pact.approved_version
        parties = pact.parties
        which = spec.get("signed")
        if activated is None:
            parties = [p for p in parties if (p.kind == PartyKind.city) == ("city" in which)] if which else []
        end = activated or self.now
        moments = sorted(self._between(opened, end) for _ in parties)
        if activated is not None and moments:
            moments[-1] = activated - timedelta(minutes=5)
        for party, at in zip(parties, moments):
            signer, capacity = self._signer(party, pact)
            pact.signatures.append(PactSignature(party_id=party.id, version_id=version.id, signer_id=signer.id,
                                                 capacity=capacity, text_sha256=text_sha256(version.text),
                                                 signed_at=at))

    def _volunteers(self, pact, spec, since, until, author):
        rng = self.rng
        pool = [n for n in range(104, 300) if n not in self.busy]
        chosen = rng.sample(pool, spec.get("volunteers", 0))
        span = max(1, int((until - since).total_seconds() // 3600) - 2)
        representative = pact.created_by_id
        for i, n in enumerate(chosen):
            joined = since + timedelta(hours=rng.randint(1, span))
            volunteer = PactVolunteer(user_id=self.citizens[n].id, accepted_rules_at=joined, joined_at=joined)
            if i == 0 and spec.get("left"):
                volunteer.left_at = min(joined + 40 * DAY, self.now - DAY)
            if i == 1 and spec.get("removed"):
                volunteer.left_at = min(joined + 60 * DAY, self.now - DAY)
                volunteer.removed_by_id = representative
                volunteer.removal_reason = ("Ha usato più volte gli attrezzi del patto per lavori nel proprio "
                                            "giardino, nonostante due richiami dei referenti.")
            pact.volunteers.append(volunteer)

    def _reports(self, pact, spec, author, official):
        kind = pact.commons.kind
        for offset, months, review, final in spec.get("reports", []):
            start = _add_months(pact.starts_on, offset)
            end = _add_months(start, months) - DAY
            submitted = datetime.combine(end + 12 * DAY, time(17, 30), tzinfo=ROME).astimezone(timezone.utc)
            submitted = min(submitted, self.now - 2 * DAY)
            hours = 6 * months * (len(pact.volunteers) + 3)
            report = PactReport(
                period_start=start, period_end=end, is_final=final,
                activities=REPORT_ACTIVITIES.get(kind, REPORT_ACTIVITIES["default"]),
                events="Festa di primavera e giornata di cura aperta al quartiere." if months >= 12 else
                "Una giornata aperta al quartiere.",
                beneficiaries_reached=40 * months, volunteer_hours=float(hours),
                resources_proponents="Attrezzi e piante dei volontari, autofinanziamento delle feste.",
                resources_city="; ".join(item.description for item in pact.support_items[:2]) + ".",
                results="Gli obiettivi del patto sono stati raggiunti: lo spazio è curato e frequentato." if
                review == ReportReview.accepted else "In gran parte raggiunti; restano da completare alcune attività.",
                problems="Qualche episodio di vandalismo sulle fioriere, subito riparato." if months >= 12 else "",
                submitted_by_id=author.id, submitted_at=submitted, review=review)
            if review != ReportReview.submitted:
                report.reviewed_by_id = official.id
                report.reviewed_at = min(submitted + 6 * DAY, self.now - DAY)
                report.review_note = ("Relazione completa, grazie." if review == ReportReview.accepted else
                                      "Mancano le ore di volontariato per mese e le fotografie delle giornate di "
                                      "cura: integrate la relazione, per favore.")
            pact.reports.append(report)

    def _dispute(self, pact, author, active_since, suspended_at):
        opened = active_since + (suspended_at - active_since) / 2
        pact.disputes.append(PactDispute(
            opened_by_id=author.id, opened_at=opened,
            description="Il mercatino del riuso si è svolto ogni settimana invece che una volta al mese, come "
                        "prevede il patto; alcuni residenti lamentano rumore e sporcizia. La ferramenta chiede di "
                        "poter continuare con cadenza settimanale.",
            committee_proposal="Il comitato di conciliazione propone un mercatino ogni due settimane, la domenica "
                               "dalle 9 alle 13, con la pulizia della piazza a carico dei proponenti entro le 14, "
                               "e una verifica con i residenti dopo tre mesi."))

    def number_protocols(self):
        """PC-<Rome year>-NNNN in the order of submission, after any number already given that year."""
        taken = {}
        for number in db.session.scalars(select(Pact.protocol_number).where(Pact.protocol_number.is_not(None))):
            year, _, n = number[3:].partition("-")
            taken[year] = max(taken.get(year, 0), int(n) if n.isdigit() else 0)
        for pact in sorted((p for p in self.pacts.values() if p.submitted_at), key=lambda p: p.submitted_at):
            year = str(_rome_date(pact.submitted_at).year)
            taken[year] = taken.get(year, 0) + 1
            pact.protocol_number = f"PC-{year}-{taken[year]:04d}"
        db.session.flush()

    # --- calls for care and opportunities ---------------------------------------------------

    def make_calls(self):
        orti = self.pacts["orti-mirafiori"]
        calls = [
            ("orti-mirafiori", "Cura degli orti urbani di strada del Drosso",
             orti.created_at - 45 * DAY, orti.created_at + 10 * DAY),
            ("bocciofila", "Ex bocciofila di corso Taranto: cerchiamo chi la riapra", self.now - 20 * DAY,
             self.now + 40 * DAY),
            ("bodoni", "Aiuole di piazza Bodoni: proposte di cura", self.now - 5 * DAY, self.now + 55 * DAY),
        ]
        for key, title, opens, closes in calls:
            commons = self.commons[key]
            db.session.add(CommonsCall(
                commons_id=commons.id, title=title,
                description=f"La Città offre {commons.name} alla cura di cittadini e organizzazioni con un patto di "
                            "collaborazione.",
                requirements="Possono partecipare cittadini singoli, gruppi informali e organizzazioni senza scopo "
                             "di lucro. Le attività devono lasciare il bene aperto a tutti.",
                criteria="Qualità del progetto e coinvolgimento del quartiere (40 punti), continuità delle attività "
                         "(30), esperienza dei proponenti (20), risorse proprie messe a disposizione (10).",
                opens_at=_office_hours(opens, self.rng), closes_at=_office_hours(closes, self.rng),
                created_by_id=self.officials[commons.department_id].id, created_at=opens - DAY))

    def make_opportunities(self):
        rng = self.rng
        for owner, title, description, skills, people, starts_in in HELP_CALLS:
            if owner.startswith("org:"):
                pact, org = None, self.orgs[owner[4:]]
                author = org.representatives()[0]
                place = self.commons[ORGANISATION_CALL_PLACES[owner[4:]]]
            else:
                pact, org = self.pacts[owner], None
                author = db.session.get(User, pact.created_by_id)
                place = pact.commons
            # Volunteers come on Saturdays: the first Saturday from the planned day, at 9:30 in Turin.
            day = _rome_date(self.now + starts_in * DAY)
            day += timedelta(days=(5 - day.weekday()) % 7)
            starts = datetime.combine(day, time(9, 30), tzinfo=ROME).astimezone(timezone.utc)
            lat = place.lat if place.lat is not None else None
            call = HelpCall(pact_id=pact.id if pact else None, organisation_id=org.id if org else None,
                            author_id=author.id, title=title, description=description,
                            lat=lat, lon=place.lon, district_id=place.district_id, starts_at=starts,
                            ends_at=starts + timedelta(hours=4), skills=skills, people_needed=people,
                            created_at=min(starts, self.now) - 12 * DAY,
                            closed_at=starts + timedelta(hours=4) if starts_in < 0 else None)
            db.session.add(call)
            pool = [n for n in range(104, 300) if n not in self.busy]
            answered = rng.sample(pool, rng.randint(1, people if starts_in < 0 else max(1, people - 1)))
            volunteers = {v.user_id for v in pact.volunteers} if pact else set()
            for n in answered:
                user = self.citizens[n]
                when = min(call.created_at + timedelta(hours=rng.randint(2, 200)), starts, self.now - timedelta(hours=1))
                call.answers.append(HelpAnswer(user_id=user.id, created_at=when))
                if pact is not None and user.id not in volunteers:
                    # Answering a pact's call joins the pact as a volunteer.
                    pact.volunteers.append(PactVolunteer(user_id=user.id, accepted_rules_at=when, joined_at=when))
                    volunteers.add(user.id)
        for n, skills, availability, district in HELP_OFFERS:
            db.session.add(HelpOffer(user_id=self.citizens[n].id, skills=skills, availability=availability,
                                     district_id=self.districts[district].id if district else None,
                                     created_at=self.now - rng.randint(5, 200) * DAY))


# --- the text of a pact -------------------------------------------------------------------------

ORG_KIND_WORDS = {O.association: "associazione", O.informal_group: "gruppo informale di cittadini",
                  O.school: "istituzione scolastica", O.cooperative: "cooperativa sociale, ente del Terzo settore",
                  O.company: "impresa"}


def _party_lines(pact):
    lines = []
    for party in pact.parties:
        if party.kind == PartyKind.city:
            department = db.session.get(Department, pact.department_id)
            lines.append(f"- la **Città di Torino** – {department.name_it}, nella persona del funzionario "
                         "responsabile del patto;")
        elif party.organisation_id:
            org = db.session.get(Organisation, party.organisation_id)
            rep = org.representatives()[0].display_name
            role = "referente del gruppo" if org.kind == O.informal_group else "legale rappresentante"
            tax = f", codice fiscale {org.tax_code}" if org.tax_code else ""
            lines.append(f"- **{org.name}**, {ORG_KIND_WORDS[org.kind]}{tax}, nella persona di {rep}, "
                         f"in qualità di {role};")
        else:
            user = db.session.get(User, party.user_id)
            lines.append(f"- **{user.display_name}**, cittadino attivo, che agisce in proprio;")
    lines[-1] = lines[-1][:-1] + "."
    return "\n".join(lines)


def pact_text(pact, commons, *, version=1, house=None):
    """The pact document in Italian (Markdown), from the standard template; later versions carry the
    changes agreed in co-design (the calendar in version 2, insurance and safety in version 3)."""
    district = db.session.get(District, commons.district_id)
    where = f", {commons.address}" if commons.address else ""
    owner = ("Il bene è di proprietà della Città di Torino." if commons.owner == CommonsOwner.city else
             f"Il bene è di proprietà di {commons.owner_name}, che ha dato il proprio assenso: "
             f"{commons.owner_consent}")
    heritage = (" Il bene è sottoposto a tutela: ogni intervento che ne modifichi l'aspetto richiede il parere "
                "preventivo della Soprintendenza." if commons.heritage_constraint else "")
    months = pact.duration_months or 12
    supports = "\n".join(f"- {item.description}: {item.quantity:g} {item.unit or ''};".rstrip(" ;") + ";"
                         for item in pact.support_items)
    supports = supports[:-1] + "." if supports else "- nessun sostegno materiale."
    calendar = ""
    if version >= 2:
        place = house.name if house else "la Casa del Quartiere"
        calendar = (f"\n\nIl calendario delle attività, concordato negli incontri di co-progettazione presso "
                    f"{place}, prevede una giornata di cura ogni sabato dalle 9 alle 12 da marzo a ottobre e una "
                    "ogni due settimane nei mesi invernali.")
    safety = "I proponenti assicurano i volontari contro gli infortuni e per la responsabilità civile verso terzi."
    if any(item.kind == SupportKind.protective_equipment for item in pact.support_items):
        safety += (" La Città fornisce i dispositivi di protezione indicati all'articolo 6 e una breve formazione "
                   "sul loro uso.")
    if version >= 3 and commons.kind == K.building:
        safety += (" Dopo il sopralluogo con i tecnici, i locali si usano solo dopo la verifica degli impianti, "
                   "con al massimo sessanta persone presenti e le uscite di sicurezza sempre libere.")
    elif version >= 3:
        safety += (" Dopo il sopralluogo con i tecnici, le attività con attrezzi da taglio si svolgono solo in "
                   "presenza di un referente formato, e l'area di lavoro è delimitata con nastro segnaletico.")
    opening = ("negli orari di apertura concordati, esposti all'ingresso" if commons.kind == K.building
               else "negli orari consueti")
    return f"""# Patto di collaborazione: {pact.title}

Regolamento n. 391 per il governo dei beni comuni urbani nella Città di Torino.

## 1. Le parti

{_party_lines(pact)}

## 2. Il bene comune

**{commons.name}**{where}, Circoscrizione {district.number} ({district.name}). {commons.description} {owner}{heritage}

## 3. Obiettivi e attività

{pact.objectives}

{pact.activities}{calendar}

## 4. Durata e rinnovo

Il patto dura {months} mesi dalla firma dell'ultima parte. Alla scadenza può essere rinnovato, su richiesta dei \
proponenti, dopo la verifica della relazione finale.

## 5. Impegni reciproci

I proponenti si impegnano a svolgere le attività descritte con cura e continuità, a rispettare le norme di \
sicurezza e a informare subito la Città di ogni problema del bene. La Città si impegna a fornire i sostegni \
dell'articolo 6, a indicare un funzionario di riferimento e a rispondere alle richieste entro quindici giorni.

## 6. Sostegni del Comune

La Città mette a disposizione:

{supports}

Non sono previsti contributi in denaro.

## 7. Garanzie di fruizione collettiva

Il bene resta aperto a tutti {opening}. Le attività sono gratuite e aperte a chiunque voglia \
partecipare; nessuna parte ne acquisisce l'uso esclusivo.

## 8. Assicurazione e sicurezza

{safety}

## 9. Rendicontazione

I proponenti presentano una relazione almeno una volta all'anno e una relazione finale alla scadenza, con le \
attività svolte, le ore di volontariato, le risorse impiegate e i risultati raggiunti.

## 10. Pubblicità

Il patto, le sue versioni, le firme e le relazioni sono pubblicati sul registro dei patti di collaborazione \
della Città. Sul posto un cartello indica il patto e chi se ne prende cura.

## 11. Esclusione

I referenti possono escludere dal patto chi non ne rispetta le regole, dopo un richiamo scritto, motivando la \
decisione.

## 12. Controversie

Le controversie tra le parti sono sottoposte al comitato di conciliazione previsto dal Regolamento, che \
formula una proposta entro trenta giorni.

## 13. Modifiche

Il patto si modifica solo per iscritto, con l'accordo di tutte le parti; ogni modifica è una nuova versione \
del testo, pubblicata sul registro.
"""
