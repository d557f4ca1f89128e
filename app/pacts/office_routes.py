"""The City's office for pacts: queue, admissibility, consultation, co-design, approval, signing, reports."""
from app.pacts import bp  # noqa: F401
