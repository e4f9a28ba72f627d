"""What `warden status` prints (and what /metrics and /health can serve): one dict of the event path.

* `outbox_pending`: outbox events the moderation consumer has not handled - past its stored position
  and without a `processed_events` row (the database's truth, whatever the broker says);
* `dead_letters`: events given up on (`processed_events` with outcome "failed");
* `consumers`: each stored position (`outbox_consumers`: "moderation", and "relay" with a broker) and
  its lag, the outbox events past it;
* `broker`: with WARDEN_BROKER_URL, whether it answers, the stream's size and each durable
  consumer's backlog (`num_pending`: not yet delivered; `num_ack_pending`: delivered, not yet
  acknowledged; `num_redelivered`); null on the embedded default;
* `healthy`: the database answers, and the broker does when one is configured.

`snapshot()` blocks (a database query, a short broker round trip); from async code run it in a thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from warden.broker import names
from warden.broker.connection import connect, redact
from warden.config import Settings
from warden.observability.outbox import outbox_figures
from warden.store.db import Database
from warden.store.models import OutboxEvent


def database_snapshot(db: Database) -> dict[str, Any]:
    """The database's side (`warden.observability.outbox.outbox_figures`, as /metrics reads it) and the
    newest event id."""
    with db.read() as session:
        figures = outbox_figures(session)
        figures["last_event_id"] = int(session.scalar(select(func.max(OutboxEvent.id))) or 0)
    return figures


async def broker_snapshot(settings: Settings, *, timeout: float = 2.0) -> dict[str, Any]:
    url = settings.broker_url or ""
    report: dict[str, Any] = {"url": redact(url), "ok": False, "stream": None, "consumers": {}}
    try:
        nc = await connect(settings, name="warden-status", persistent=False, timeout=timeout)
    except Exception as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        return report
    try:
        report["ok"] = True
        js = nc.jetstream(timeout=timeout)
        stream = names.stream(settings.broker_namespace)
        try:
            info = await js.stream_info(stream)
            report["stream"] = {"name": stream, "messages": info.state.messages, "last_seq": info.state.last_seq,
                                "consumers": info.state.consumer_count}
            for consumer in await js.consumers_info(stream):
                report["consumers"][consumer.name] = {
                    "num_pending": consumer.num_pending, "num_ack_pending": consumer.num_ack_pending,
                    "num_redelivered": consumer.num_redelivered}
        except Exception as exc:  # no stream yet (no worker has started): reachable all the same
            report["stream_error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        await nc.close()
    return report


def snapshot(settings: Settings, db: Database) -> dict[str, Any]:
    """The whole report; never raises for an unreachable database or broker (it says so instead)."""
    result: dict[str, Any] = {"outbox_pending": None, "dead_letters": None, "consumers": {}}
    healthy = True
    try:
        result.update(database_snapshot(db))
        result["database"] = {"ok": True}
    except Exception as exc:
        result["database"] = {"ok": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
        healthy = False
    if settings.broker_url:
        result["broker"] = asyncio.run(broker_snapshot(settings))
        healthy = healthy and result["broker"]["ok"]
    else:
        result["broker"] = None
    result["healthy"] = healthy
    return result

