"""Examples of the main objects of the JSON API, shown in the OpenAPI document and on /api/v1/docs.

Real-looking Turin data; a test validates every example against its schema, so they cannot drift.
"""
from app.api.openapi import add_examples

_CATEGORY = {"slug": "illuminazione", "name_it": "Illuminazione pubblica", "name_en": "Street lighting"}
_DISTRICT = {"number": 8, "name": "San Salvario – Cavoretto – Borgo Po – Nizza Millefonti – Lingotto – Filadelfia"}

add_examples("Report", {
    "id": 220, "title": "Via buia la sera", "description": "Due lampioni spenti davanti al civico 14.",
    "status": "acknowledged", "status_group": "open", "category": _CATEGORY, "district": _DISTRICT,
    "department": {"slug": "illuminazione", "name_it": "Illuminazione Pubblica", "name_en": "Street Lighting"},
    "lat": 45.0512, "lon": 7.6811, "address": "Via Nizza 14", "reporter_name": "Youssef E.", "source": "web",
    "created_at": "2026-11-20T18:02:11Z", "updated_at": "2026-11-21T08:30:00Z",
    "url": "https://piazza.example.org/reports/220",
    "updates": [{"kind": "created", "from_status": None, "to_status": "new", "note": None,
                 "created_at": "2026-11-20T18:02:11Z"},
                {"kind": "status", "from_status": "new", "to_status": "acknowledged",
                 "note": "Segnalazione inoltrata alla squadra di zona.", "created_at": "2026-11-21T08:30:00Z"}],
})
add_examples("NewReport", {"title": "Buca in via Madama Cristina",
                           "description": "Una buca profonda davanti alla fermata del 16.",
                           "category": "marciapiedi", "lat": 45.0542, "lon": 7.6818, "address": "Via Madama Cristina 60"})
add_examples("Proposal", {
    "id": 147, "title": "Biblioteca all'aperto – San Salvario",
    "body": "Casette per lo scambio di libri e qualche tavolo nel giardino.", "status": "published",
    "process": {"slug": "bilancio-partecipativo-2026-2", "title": "Bilancio partecipativo 2026 – secondo round"},
    "category": {"slug": "cultura", "name_it": "Cultura e spazi civici", "name_en": "Culture and civic spaces"},
    "district": _DISTRICT, "lat": 45.0347, "lon": 7.7378, "support_count": 87, "support_threshold": 100,
    "published_at": "2026-11-04T20:05:58Z", "frozen_at": "2026-11-05T09:12:00Z",
    "url": "https://piazza.example.org/proposals/147", "addenda": [],
})
add_examples("SupportState", {"support_count": 88, "supported": True, "threshold_reached": False})
add_examples("PactSummary", {
    "id": 14, "protocol_number": "PC-2026-0011", "title": "Il roseto storico della Tesoriera", "status": "active",
    "kind": "ordinary", "commons": {"id": 9, "name": "Parco della Tesoriera", "kind": "green_area",
                                    "lat": 45.0769, "lon": 7.6431},
    "district": {"number": 4, "name": "San Donato – Campidoglio – Parella"}, "proponent": "Amici della Tesoriera",
    "starts_on": "2026-03-01", "ends_on": "2029-02-28", "status_changed_at": "2026-02-20T10:00:00Z",
    "url": "https://piazza.example.org/pacts/14",
})
add_examples("TokenRequest", {"email": "citizen001@example.org", "password": "piazza-demo", "name": "La mia app"})
add_examples("Token", {"token": "pzt_3q2vXc9…", "token_type": "Bearer", "name": "La mia app", "prefix": "pzt_3q2v",
                       "expires_at": "2027-03-04T20:00:00Z"})
add_examples("Error", {"error": {"code": "not_found", "message": "Non esiste una proposta così."}})
add_examples("ValidationError", {"error": {"code": "invalid", "message": "limit must be a whole number from 1 to 100.",
                                           "field": "limit"}})
add_examples("Process", {
    "slug": "bilancio-partecipativo-2026-2", "title": "Bilancio partecipativo 2026 – secondo round",
    "description": "Le proposte pubblicate raccolgono sostegni fino a fine gennaio.", "district": None,
    "support_threshold": 100, "supports_per_citizen": 10, "supports_past_threshold": True, "minimum_age": 16,
    "verified_only": True,
    "phases": [{"kind": "collection", "starts_at": "2026-09-01T00:00:00Z", "ends_at": "2026-10-31T23:00:00Z"},
               {"kind": "support", "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2027-01-31T23:00:00Z"}],
    "current_phase": "support", "categories": ["cultura", "verde-alberi"], "proposal_count": 60,
    "url": "https://piazza.example.org/processes/bilancio-partecipativo-2026-2",
    "proposals_url": "https://piazza.example.org/api/v1/proposals?process=bilancio-partecipativo-2026-2",
})
add_examples("Event", {
    "id": 31, "kind": "assisted_hours", "title": "Sportello digitale: ti aiutiamo a partecipare",
    "description": "Porta un documento: ti aiutiamo a creare l'account e a sostenere le proposte.",
    "starts_at": "2026-12-09T15:00:00Z", "ends_at": "2026-12-09T18:00:00Z", "address": "Via Oddino Morgari 14",
    "lat": 45.0531, "lon": 7.6812, "district": _DISTRICT,
    "house": {"slug": "casa-del-quartiere-san-salvario", "name": "Casa del Quartiere di San Salvario"},
    "organisation": None, "capacity": 12, "places_left": 5, "takes_registrations": True, "cancelled": False,
    "url": "https://piazza.example.org/events/31",
})
