"""The procedure of collaboration pacts (Turin's commons regulation n. 391), as services.

Every function takes model objects (or ids where said), never commits, and raises
DomainError / IllegalTransition / PermissionDenied / NotFound with a translated message. Every status
move goes through ``_move``, which checks PACT_TRANSITIONS, appends a PactStatusChange and records
an audit event ``pact.<to_status>``. Every mutating service locks the pact first.
"""
from dataclasses import dataclass


@dataclass
class Step:
    """One step of a pact's procedure: how long it took (Rome calendar days) and whether it is overdue."""

    status: object
    entered_at: object
    left_at: object
    days: int
    limit_days: int | None
    overdue: bool


# --- who is who ---------------------------------------------------------------------------

def lock_pact(pact_id):
    """The pact, locked for the rest of the transaction; NotFound if it does not exist."""
    raise NotImplementedError


def is_proponent(pact, user):
    """The author, an individual proponent party, or a representative of an organisation party."""
    raise NotImplementedError


def is_office(pact, user):
    """An official of the pact's department (any official while the pact has no department)."""
    raise NotImplementedError


def can_view(pact, user):
    """Public pacts to everyone; the others to their proponents and the office only."""
    raise NotImplementedError


# --- proposal and submission ---------------------------------------------------------------

def create_draft(user, *, title, commons_id=None, new_commons=None, organisation_id=None, objectives,
                 activities, beneficiaries="", duration_months=None, own_resources="", requested_support=(),
                 declarations_accepted=False, kind_requested=None):
    """A new draft pact proposal by a confirmed citizen (for themselves or an organisation they represent)."""
    raise NotImplementedError


def update_draft(pact, user, **fields):
    """Change a proposal's fields (proponents; draft or needs_integration only)."""
    raise NotImplementedError


def submit(pact, user, now=None):
    """draft|needs_integration → submitted; the first time gives the protocol number."""
    raise NotImplementedError


def withdraw(pact, user, reason=""):
    """The proponents withdraw the proposal (any status from which withdrawn is legal)."""
    raise NotImplementedError


# --- office --------------------------------------------------------------------------------

def request_integration(pact, official, reason):
    """submitted → needs_integration, with what is missing."""
    raise NotImplementedError


def declare_admissible(pact, official, *, kind, department_id=None, responsible_id=None):
    """submitted → admissible: classified, department and responsible official assigned, City party added."""
    raise NotImplementedError


def declare_inadmissible(pact, official, reason):
    """submitted → inadmissible, with the motivation."""
    raise NotImplementedError


def open_consultation(pact, official, *, starts_at=None, days=None):
    """admissible → public_consultation for a dated window (default PACT_CONSULTATION_DAYS)."""
    raise NotImplementedError


def start_co_design(pact, official, now=None):
    """public_consultation → co_design once the window closed; version 1 from the standard template."""
    raise NotImplementedError


def record_meeting(pact, official, *, held_at, house_id=None, place=None, participants="", minutes=""):
    """A co-design meeting (admissible … active)."""
    raise NotImplementedError


def set_support_items(pact, official, items):
    """Replace the City's support items (text open only; never cash)."""
    raise NotImplementedError


def competing(pact):
    """Other proposals on the same commons that are not final."""
    raise NotImplementedError


def merge_competing(pact, into, official, reason=""):
    """``pact`` → withdrawn, merged into ``into``; its proponent parties join ``into``."""
    raise NotImplementedError


def approve(pact, official, *, version_number=None, act_type=None, act_number=None, act_date=None,
            starts_on=None, ends_on=None):
    """co_design → approved; the text is frozen (complex pacts need the approval act)."""
    raise NotImplementedError


def open_signing(pact, official):
    """approved → signing."""
    raise NotImplementedError


def suspend(pact, official, reason):
    """active → suspended, with the motivation."""
    raise NotImplementedError


def resume(pact, official, reason=""):
    """suspended → active."""
    raise NotImplementedError


def revoke(pact, official, reason):
    """active|suspended → revoked, with the motivation."""
    raise NotImplementedError


def complete(pact, official, reason=""):
    """active → completed."""
    raise NotImplementedError


def renew(pact, actor):
    """active → renewed; returns the NEW pact (co_design, version 1 = the old approved text)."""
    raise NotImplementedError


def review_report(report, official, *, accepted, note=""):
    """The official accepts a report or asks for changes."""
    raise NotImplementedError


def record_committee_proposal(dispute, official, proposal):
    """The conciliation committee's proposal on a dispute."""
    raise NotImplementedError


def close_dispute(dispute, official, outcome):
    """Close a dispute with its outcome."""
    raise NotImplementedError


# --- versions --------------------------------------------------------------------------------

def add_version(pact, user, *, text, note=""):
    """A new version of the pact text (office or proponents, co_design only)."""
    raise NotImplementedError


# --- consultation ----------------------------------------------------------------------------

def request_to_join(pact, user, *, organisation_id=None, message=""):
    """During the consultation, a confirmed citizen asks to join the proposal."""
    raise NotImplementedError


def decide_join_request(join_request, actor, accept):
    """Proponents or office accept (adds a proponent party) or decline a join request."""
    raise NotImplementedError


# --- signing -----------------------------------------------------------------------------------

def signable_parties(pact, user):
    """The parties ``user`` may sign for now."""
    raise NotImplementedError


def sign(pact, user, party_id, now=None):
    """Sign the approved text for a party; when every party signed the pact becomes active."""
    raise NotImplementedError


def verify(pact):
    """The signatures checked against the approved text (app.pacts.registry.verify_signatures)."""
    raise NotImplementedError


# --- active pacts --------------------------------------------------------------------------------

def join_as_volunteer(pact, user, *, accept_rules):
    """A confirmed citizen adheres to an active pact, accepting its rules (idempotent)."""
    raise NotImplementedError


def leave(pact, user):
    """A volunteer leaves the pact."""
    raise NotImplementedError


def remove_volunteer(pact, actor, volunteer_id, reason):
    """The proponents exclude a volunteer, with the reason."""
    raise NotImplementedError


def file_report(pact, user, *, period_start, period_end, is_final=False, activities, events="",
                beneficiaries_reached=None, volunteer_hours=0, resources_proponents="", resources_city="",
                results="", problems=""):
    """A periodic or final report by the proponents (active or suspended pacts)."""
    raise NotImplementedError


def open_dispute(pact, user, description):
    """A party or the office brings a dispute to the conciliation committee."""
    raise NotImplementedError


# --- time ------------------------------------------------------------------------------------------

def step_durations(pact, now=None):
    """Every step of the pact's history with its length in Rome calendar days and overdue flag."""
    raise NotImplementedError


def current_overdue(pact, now=None):
    """The current step if it is overdue, else None."""
    raise NotImplementedError


def office_queue(official, now=None):
    """The pacts the official's departments must act on, oldest first, with overdue flags."""
    raise NotImplementedError
