"""Append to and verify the audit hash chain."""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, update

from app.extensions import db
from app.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from app.models.base import utcnow


def _canonical(event_fields):
    return json.dumps(event_fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compute_hash(*, seq, actor_ref, action, target_type, target_id, reason, details, created_at, prev_hash):
    """SHA-256 over the event's content and the previous hash."""
    content = _canonical(
        {
            "seq": seq,
            "actor": actor_ref,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "reason": reason,
            "details": details or {},
            "created_at": created_at.isoformat(timespec="microseconds"),
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _claim_next_seq():
    """Lock the chain head (a write, so SQLite takes its write lock and PostgreSQL a row lock)."""
    stmt = (
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.last_hash)
    )
    row = db.session.execute(stmt).one_or_none()
    if row is None:
        # First event ever on a database built without the migration's head row.
        db.session.add(AuditChainHead(id=1, seq=0, last_hash=GENESIS_HASH))
        db.session.flush()
        row = db.session.execute(stmt).one()
    return row.seq, row.last_hash


def event_hash(event):
    """The hash an event must carry: its content and the previous event's hash."""
    return compute_hash(seq=event.seq, actor_ref=event.actor_ref, action=event.action,
                        target_type=event.target_type, target_id=event.target_id, reason=event.reason,
                        details=event.details, created_at=event.created_at, prev_hash=event.prev_hash)


def record(action, *, actor=None, target=None, target_type=None, target_id=None, reason=None, details=None):
    """Append an audit event in the current transaction (the caller commits)."""
    if target is not None:
        target_type = target_type or getattr(target, "__audit_type__", None) or target.__tablename__
        target_id = target.id
    actor_ref = actor.id if actor is not None else None
    seq, prev_hash = _claim_next_seq()
    event = AuditEvent(
        seq=seq,
        actor_id=actor_ref,
        actor_ref=actor_ref,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        # Round-trip through JSON now, so what is hashed is exactly what the database returns.
        details=json.loads(_canonical(dict(details or {}))),
        created_at=utcnow(),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=event.hash))
    return event


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str | None = None


def verify_chain(batch=1000):
    """Walk the chain from the start; report the first event whose link or hash is wrong."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    query = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for event in db.session.scalars(query):
        if event.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return VerifyResult(False, checked, event.seq, "previous hash does not match")
        if event_hash(event) != event.hash:
            return VerifyResult(False, checked, event.seq, "content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = db.session.get(AuditChainHead, 1)
    if head is not None and head.seq != checked:
        return VerifyResult(False, checked, checked + 1, f"the chain head says {head.seq} events, found {checked}")
    return VerifyResult(True, checked)
