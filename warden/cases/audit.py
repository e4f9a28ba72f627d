"""The audit trail: an append-only, hash-chained log of every moderation action and evidence access.

Each entry is canonical JSON (sorted keys, no spaces) holding its sequence number, time, actor,
action, subject and data; its hash is sha256(previous hash + entry). The single `audit_head` row
holds the last sequence number and hash and is locked by every append, so the chain never forks,
even with several writers on PostgreSQL. `verify()` recomputes the chain and names the first entry
that does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from warden.store.models import utcnow
from warden.store.moderation_models import AuditEntry, AuditHead

GENESIS = "0" * 64


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, entry: str) -> str:
    return hashlib.sha256((prev_hash + entry).encode()).hexdigest()


def append(session: Session, *, action: str, subject: str, actor_id: int | None = None,
           data: dict[str, Any] | None = None) -> None:
    """Add an entry in the caller's transaction: it commits, or disappears, with the action it records.

    Entries are chained just before the transaction commits, so the head row is the last lock a
    transaction takes (no lock-order deadlocks on PostgreSQL) and is held only for the commit. (Do not
    append inside a savepoint that may roll back: the entry would stay queued.)"""
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING, [])
    pending.append({"at": utcnow(), "actor_id": actor_id, "action": action, "subject": subject,
                    "data": data or {}})


_PENDING = "warden_audit_pending"


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    head = session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:  # databases migrated before the head row existed
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    seq, prev = head.seq, head.hash
    for item in pending:
        seq += 1
        entry = canonical({"seq": seq, "at": item["at"].isoformat(), "actor_id": item["actor_id"],
                           "action": item["action"], "subject": item["subject"], "data": item["data"]})
        digest = chain_hash(prev, entry)
        session.add(AuditEntry(seq=seq, created_at=item["at"], actor_id=item["actor_id"], action=item["action"],
                               subject=item["subject"], entry=entry, prev_hash=prev, hash=digest))
        prev = digest
    head.seq, head.hash = seq, prev
    session.flush()


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _write_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended (after commit, or rolled back)
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str = ""


def verify(session: Session, *, batch: int = 5000) -> Verification:
    """Walk the chain from the start; stop at the first entry whose content, link or hash is wrong."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.seq >= expected_seq)
                                    .order_by(AuditEntry.seq).limit(batch)))
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return Verification(False, count, expected_seq, f"entry {expected_seq} is missing")
            problem = _check(row, prev)
            if problem:
                return Verification(False, count, row.seq, problem)
            prev = row.hash
            expected_seq += 1
            last_seq = row.seq
            count += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return Verification(False, count, last_seq + 1,
                            f"the chain ends at entry {last_seq} but the head says {head.seq}: entries were removed")
    return Verification(True, count)


def _check(row: AuditEntry, prev: str) -> str:
    if row.prev_hash != prev:
        return "prev_hash does not match the previous entry's hash"
    try:
        data = json.loads(row.entry)
    except ValueError:
        return "entry is not valid JSON"
    if canonical(data) != row.entry:
        return "entry is not in canonical form"
    if chain_hash(prev, row.entry) != row.hash:
        return "hash does not match the entry"
    if (data.get("seq"), data.get("action"), data.get("subject"), data.get("actor_id")) != \
            (row.seq, row.action, row.subject, row.actor_id):
        return "columns differ from the hashed entry"
    return ""
