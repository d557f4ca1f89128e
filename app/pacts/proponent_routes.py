"""Pages of the proponents, signatories and volunteers of a pact (the citizens' side of the procedure)."""
from app.pacts import bp  # noqa: F401
