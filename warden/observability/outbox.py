"""How far the outbox's consumers are behind, in a few index-range counts.

`outbox_figures()` is the one place these figures are computed; `/metrics` reads it (through the
collector's short cache) and so can an operator command such as `warden status`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warden.store.models import OutboxEvent
from warden.store.moderation_models import ConsumerPosition, ProcessedEvent

#: The moderation worker's consumer name (`warden.cases.worker.ModerationWorker.NAME`).
MODERATION_CONSUMER = "moderation"


def unhandled(session: Session, consumer: str, position: int) -> int:
    """Events past `consumer`'s position that it has not handled (handled ones past it are those that
    committed out of id order): two counts over primary-key ranges."""
    after = session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.id > position)) or 0
    done = session.scalar(select(func.count()).select_from(ProcessedEvent).where(
        ProcessedEvent.consumer == consumer, ProcessedEvent.event_id > position)) or 0
    return max(int(after) - int(done), 0)


def outbox_figures(session: Session) -> dict[str, Any]:
    """{"outbox_pending": events the moderation consumer has not handled yet, "dead_letters": events a
    consumer gave up on, "consumers": {name: {"position": last id it is sure of, "lag": unhandled}}}."""
    consumers: dict[str, dict[str, int]] = {}
    for name, position in session.execute(select(ConsumerPosition.name, ConsumerPosition.position)):
        consumers[name] = {"position": int(position), "lag": unhandled(session, name, int(position))}
    moderation = consumers.get(MODERATION_CONSUMER)
    pending = moderation["lag"] if moderation is not None else unhandled(session, MODERATION_CONSUMER, 0)
    # no index on outcome: a scan of processed_events, which the collector's cache keeps rare
    dead = session.scalar(select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.outcome == "failed"))
    return {"outbox_pending": pending, "dead_letters": int(dead or 0), "consumers": consumers}
