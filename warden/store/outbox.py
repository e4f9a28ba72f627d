"""The transactional outbox: `emit` appends an event in the caller's transaction.

An event is one INSERT through the session's connection (Core), not an ORM object: the unit of work
around one small row cost more than the row, on every post. What was emitted is remembered in the
session (`emitted`), so `Database.on_outbox_commit` can hand the committed events to this process's
streams; events emitted inside a savepoint that was rolled back are forgotten with it. Only events
written through `emit` reach those hooks: nothing else writes the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, SessionTransaction

from warden.observability.metrics import OUTBOX_EVENTS
from warden.store.models import OutboxEvent, utcnow

_TABLE = OutboxEvent.__table__
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_EMITTED = "warden.outbox.emitted"


@dataclass(frozen=True)
class Event:
    """An outbox event: a row of `outbox_events` as written, and as consumers read it."""

    id: int
    type: str
    subject_id: int | None
    payload: dict[str, Any]
    created_at: datetime


def emit(session: Session, type: str, subject_id: int | None, payload: dict[str, Any]) -> Event:
    """Append an event to the outbox, in the caller's transaction (written now, without a flush)."""
    now = utcnow()
    event_id = session.connection().execute(_INSERT, {"type": type, "subject_id": subject_id, "payload": payload,
                                                      "created_at": now}).scalar_one()
    row = Event(id=event_id, type=type, subject_id=subject_id, payload=payload, created_at=now)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_EMITTED, []).append((transaction, row))
    OUTBOX_EVENTS.labels(type).inc()
    return row


def emitted(session: Session) -> list[Event]:
    """The events emitted in the session's transaction so far (savepoints rolled back left out)."""
    return [row for _, row in session.info.get(_EMITTED, ())]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    rows = session.info.get(_EMITTED)
    if rows:
        session.info[_EMITTED] = [(tx, row) for tx, row in rows if not _within(tx, previous)]


@event.listens_for(Session, "after_transaction_end")
def _forget_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: after its commit hooks, or rolled back
        session.info.pop(_EMITTED, None)
