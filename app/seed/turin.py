"""Facts about Turin used by the demo seed. Outlines are simplified approximations."""

#: The eight circoscrizioni (since 2016) as simplified rectangles-ish polygons that tile the city.
#: Coordinates are [lon, lat] (RFC 7946).
DISTRICTS = [
    (1, "Centro – Crocetta",
     [[7.655, 45.055], [7.695, 45.055], [7.695, 45.078], [7.655, 45.078], [7.655, 45.055]]),
    (2, "Santa Rita – Mirafiori Nord – Mirafiori Sud",
     [[7.580, 45.005], [7.655, 45.005], [7.655, 45.055], [7.580, 45.055], [7.580, 45.005]]),
    (3, "San Paolo – Cenisia – Pozzo Strada – Cit Turin – Borgata Lesna",
     [[7.580, 45.055], [7.655, 45.055], [7.655, 45.085], [7.580, 45.085], [7.580, 45.055]]),
    (4, "San Donato – Campidoglio – Parella",
     [[7.580, 45.085], [7.655, 45.085], [7.655, 45.078], [7.675, 45.078], [7.675, 45.100],
      [7.580, 45.100], [7.580, 45.085]]),
    (5, "Borgo Vittoria – Madonna di Campagna – Lucento – Vallette",
     [[7.580, 45.100], [7.685, 45.100], [7.685, 45.140], [7.580, 45.140], [7.580, 45.100]]),
    (6, "Barriera di Milano – Regio Parco – Barca – Bertolla – Falchera – Rebaudengo – Villaretto",
     [[7.675, 45.095], [7.770, 45.095], [7.770, 45.140], [7.685, 45.140], [7.685, 45.100],
      [7.675, 45.100], [7.675, 45.095]]),
    (7, "Aurora – Vanchiglia – Sassi – Madonna del Pilone",
     [[7.675, 45.078], [7.695, 45.078], [7.695, 45.065], [7.770, 45.065], [7.770, 45.095],
      [7.675, 45.095], [7.675, 45.078]]),
    (8, "San Salvario – Cavoretto – Borgo Po – Nizza Millefonti – Lingotto – Filadelfia",
     [[7.655, 45.005], [7.770, 45.005], [7.770, 45.065], [7.695, 45.065], [7.695, 45.055],
      [7.655, 45.055], [7.655, 45.005]]),
]

#: The nine houses of the Rete delle Case del Quartiere: slug, name, neighbourhood, address, lat, lon, district.
HOUSES = [
    ("cascina-roccafranca", "Cascina Roccafranca", "Mirafiori Nord", "Via Edoardo Rubino 45", 45.0420, 7.6235, 2),
    ("san-salvario", "Casa del Quartiere di San Salvario", "San Salvario", "Via Oddino Morgari 14",
     45.0535, 7.6810, 8),
    ("bagni-via-aglie", "Bagni Pubblici di via Agliè", "Barriera di Milano", "Via Agliè 9", 45.0990, 7.6960, 6),
    ("cecchi-point", "Hub Cecchi Point", "Aurora", "Via Antonio Cecchi 17", 45.0835, 7.6830, 7),
    ("casa-nel-parco", "Casa nel Parco", "Mirafiori Sud", "Via Artom / Parco Colonnetti", 45.0190, 7.6250, 2),
    ("spazio-quattro", "+SpazioQuattro", "San Donato", "Via Saccarelli 18", 45.0800, 7.6640, 4),
    ("barrito", "Barrito", "Nizza Millefonti", "Via Tepice 23/C", 45.0330, 7.6700, 8),
    ("bossoli83", "Bossoli83", "Lingotto", "Via Bossoli 83", 45.0280, 7.6560, 8),
    ("vallette", "Casa di Quartiere Vallette", "Vallette", "Piazza Montale / Vallette", 45.1140, 7.6350, 5),
]

#: Departments (settori): slug, Italian name, English name.
DEPARTMENTS = [
    ("suolo-pubblico", "Manutenzione Strade e Suolo Pubblico", "Road and Public Space Maintenance"),
    ("illuminazione", "Illuminazione Pubblica", "Street Lighting"),
    ("verde", "Verde Pubblico", "Parks and Green Spaces"),
    ("igiene-urbana", "Ambiente e Igiene Urbana", "Environment and Street Cleaning"),
    ("mobilita", "Mobilità e Trasporti", "Mobility and Transport"),
    ("beni-comuni", "Beni Comuni e Partecipazione", "Urban Commons and Participation"),
    ("edilizia-scolastica", "Edilizia Scolastica", "School Buildings"),
    ("cultura", "Cultura e Biblioteche", "Culture and Libraries"),
]

#: Categories: slug, Italian, English, department slug.
CATEGORIES = [
    ("buche-strade", "Buche e manto stradale", "Potholes and road surface", "suolo-pubblico"),
    ("marciapiedi", "Marciapiedi e barriere architettoniche", "Pavements and accessibility barriers",
     "suolo-pubblico"),
    ("illuminazione", "Illuminazione pubblica", "Street lighting", "illuminazione"),
    ("verde-alberi", "Verde, parchi e alberi", "Parks, green spaces and trees", "verde"),
    ("rifiuti", "Rifiuti e pulizia", "Rubbish and cleaning", "igiene-urbana"),
    ("segnaletica", "Segnaletica e semafori", "Signs and traffic lights", "mobilita"),
    ("ciclabili", "Piste ciclabili e mobilità dolce", "Cycle lanes and active travel", "mobilita"),
    ("arredo-urbano", "Panchine e arredo urbano", "Benches and street furniture", "suolo-pubblico"),
    ("scuole", "Cortili e spazi scolastici", "School courtyards and spaces", "edilizia-scolastica"),
    ("cultura", "Cultura e spazi civici", "Culture and civic spaces", "cultura"),
    ("beni-comuni", "Beni comuni e cura condivisa", "Urban commons and shared care", "beni-comuni"),
]

FIRST_NAMES = ["Giulia", "Marco", "Sara", "Luca", "Francesca", "Matteo", "Chiara", "Alessandro", "Elena",
               "Davide", "Martina", "Andrea", "Valentina", "Simone", "Federica", "Giorgio", "Anna", "Paolo",
               "Laura", "Stefano", "Fatima", "Ahmed", "Ioana", "Mihai", "Li", "Chen", "Amina", "Youssef",
               "Carla", "Pietro"]
LAST_INITIALS = "ABCDEFGLMNPRSTVZ"
