"""Where a process's streams get their events: the outbox, read directly or through the broker.

The outbox is the only way events leave a transaction (docs/architecture.md), so streams read it too:
- embedded default (no broker): `OutboxTail` follows `outbox_events` from the newest id at start,
  polling every `POLL_SECONDS`. It is ephemeral and read-only: it keeps its cursor in memory and
  writes no positions or processed rows. PostgreSQL may commit a lower id after a higher one, so
  ids skipped over are looked for again for `GAP_SECONDS` before they are given up;
- with `Settings.broker_url`: `BrokerFeed` subscribes (core NATS, no durable state) to
  `<ns>.events.>`, where the relay publishes every outbox row, so every API node sees every event.

Both also take the events this process commits straight from the commit
(`Database.on_outbox_commit`), so a process's own posts reach its streams at once; with a broker the
node also publishes them on `<ns>.live.>` for the other nodes (`warden/broker/live.py`), ahead of the
relay's copy. The poll or the relay remains the path that never loses an event. Both hand outbox
`Event`s to a sink. Delivery upstream is at least once; `Recent` drops repeats.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from warden.broker import events, names
from warden.broker.live import LivePublisher
from warden.config import Settings
from warden.store import outbox
from warden.store.db import Database
from warden.store.models import OutboxEvent
from warden.streaming.fanout import HANDLED
from warden.streaming.handoff import call_on_loop

log = logging.getLogger("warden.streaming")
POLL_SECONDS = 0.05
GAP_SECONDS = 5.0
MAX_GAPS = 1000
BATCH = 500

Sink = Callable[[outbox.Event], None]


class Recent:
    """The ids of the last `size` events seen, to drop redeliveries."""

    def __init__(self, size: int = 20_000) -> None:
        self._ids: set[int] = set()
        self._order: deque[int] = deque()
        self._size = size

    def first_time(self, event_id: int) -> bool:
        if event_id in self._ids:
            return False
        self._ids.add(event_id)
        self._order.append(event_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True


class OutboxTail:
    def __init__(self, db: Database, *, poll_seconds: float = POLL_SECONDS,
                 listening: Callable[[], bool] = lambda: True) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        #: whether any stream is open here: a commit with none open is not handed to the event loop
        self.listening = listening
        self.high: int | None = None
        #: ids below `high` not seen yet (a transaction that has not committed), and since when.
        self.gaps: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._unhook: Callable[[], None] | None = None

    async def start(self, sink: Sink) -> None:
        try:
            self.high = await asyncio.to_thread(self._newest)
        except Exception:  # the database is down at start: the server still starts (/health says 503)
            log.warning("streaming: the outbox is unreachable at start; tailing from when it answers")
        self._unhook = self.db.on_outbox_commit(committed_to(sink, asyncio.get_running_loop(), self.listening))
        self._task = asyncio.create_task(self._run(sink), name="warden-streaming-outbox-tail")

    async def stop(self) -> None:
        if self._unhook is not None:
            self._unhook()
            self._unhook = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def _newest(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.max(OutboxEvent.id))) or 0)

    async def _run(self, sink: Sink) -> None:
        while True:
            try:
                if self.high is None:
                    self.high = await asyncio.to_thread(self._newest)
                for event in await asyncio.to_thread(self.poll):
                    sink(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly unreachable: keep tailing
                log.exception("streaming: reading the outbox failed")
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.poll_seconds)

    def poll(self) -> list[outbox.Event]:
        """The events committed since the last poll (late ones included), in id order per kind. With no
        stream open it only moves past what was committed (a stream opened later starts there)."""
        assert self.high is not None
        if not self.listening():  # no stream open here: keep up with the newest id, read nothing else
            self.high = max(self.high, self._newest())
            self.gaps.clear()
            return []
        columns = (OutboxEvent.id, OutboxEvent.type, OutboxEvent.subject_id, OutboxEvent.payload,
                   OutboxEvent.created_at)
        now = time.monotonic()
        with self.db.read() as session:
            rows = session.execute(select(*columns).where(OutboxEvent.id > self.high)
                                   .order_by(OutboxEvent.id).limit(BATCH)).all()
            late = session.execute(select(*columns).where(OutboxEvent.id.in_(list(self.gaps)))
                                   .order_by(OutboxEvent.id)).all() if self.gaps else []
        for row in late:
            self.gaps.pop(row.id, None)
        for row in rows:
            for missing in range(self.high + 1, row.id):
                if len(self.gaps) < MAX_GAPS:
                    self.gaps[missing] = now
            self.high = row.id
        for missing, since in list(self.gaps.items()):
            if now - since > GAP_SECONDS:  # a rolled-back transaction's id: it will never appear
                del self.gaps[missing]
        return [outbox.Event(id=r.id, type=r.type, subject_id=r.subject_id, payload=dict(r.payload or {}),
                             created_at=r.created_at)
                for r in [*late, *rows] if r.type in HANDLED]


class BrokerFeed:
    """A core-NATS subscription on `<ns>.events.>` (at most once per connection; the outbox relay
    publishes every row, and a node that was down simply starts with the streams opened after)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        assert settings.broker_url
        self.url = settings.broker_url
        self.subject = names.events_wildcard(settings.broker_namespace)
        self.live_subject = names.live_wildcard(settings.broker_namespace)
        self.live = LivePublisher(db, settings.broker_namespace)
        self._nc: Any = None

    async def start(self, sink: Sink) -> None:
        import nats

        async def received(msg: Any) -> None:
            try:
                event = events.decode(msg.data)
            except (ValueError, KeyError, TypeError):
                log.warning("streaming: ignoring a malformed event on %s", msg.subject)
                return
            if event.type in HANDLED:
                sink(event)

        self._nc = await nats.connect(self.url, name="warden-streaming", max_reconnect_attempts=-1,
                                      connect_timeout=5)
        await self._nc.subscribe(self.subject, cb=received)
        await self._nc.subscribe(self.live_subject, cb=received)
        await self._nc.flush()
        self.live.attach(self._nc, asyncio.get_running_loop())

    async def stop(self) -> None:
        self.live.detach()
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception:  # already closed or the broker went away: nothing left to drain
                pass


def feed_for(settings: Settings, db: Database, listening: Callable[[], bool] = lambda: True) -> OutboxTail | BrokerFeed:
    return BrokerFeed(settings, db) if settings.broker_url else OutboxTail(db, listening=listening)


def committed_to(sink: Sink, loop: asyncio.AbstractEventLoop,
                 listening: Callable[[], bool] = lambda: True) -> Callable[[list[outbox.Event]], None]:
    """A `Database.on_outbox_commit` callback handing the committed events to `sink` on `loop` (from any
    thread), while `listening()` (a stream is open): each hand-off wakes the loop, a few percent of a
    post's CPU."""

    def deliver(committed: list[outbox.Event]) -> None:
        for event in committed:
            sink(event)

    def committed(rows: list[outbox.Event]) -> None:
        if not listening():
            return
        handled = [event for event in rows if event.type in HANDLED]
        if handled:
            call_on_loop(loop, deliver, handled)

    return committed
