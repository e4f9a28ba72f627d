"""Mastodon's streaming API: live timelines and notifications over WebSocket (and server-sent events).

One `Streaming` per app: a `Hub` of open connections, a feed of outbox events (`feed.py`: the outbox
itself on the embedded default, the broker on a multi-node deployment) and a `Fanout` that turns each
event into frames for the connections it concerns, applying the timelines' visibility rules
(`filter.py`). `routes.py` is the thin web layer. docs/architecture.md ("Streaming") has the picture.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from warden.config import Settings
from warden.store.db import Database
from warden.store.outbox import Event
from warden.streaming.fanout import Fanout
from warden.streaming.feed import BrokerFeed, OutboxTail, Recent, feed_for
from warden.streaming.hub import Hub, connection_count, subscription_counts

__all__ = ["Streaming", "connection_count", "subscription_counts"]
log = logging.getLogger("warden.streaming")
#: At most this many queued events are taken at once (when streams fall behind, under load).
BATCH = 32
Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


class Streaming:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.hub = Hub()
        self.fanout = Fanout(self.hub, db, settings)
        self.feed: OutboxTail | BrokerFeed = feed_for(settings, db, listening=lambda: len(self.hub) > 0)
        self._recent = Recent()
        self._queue: asyncio.Queue[Event] | None = None
        self._worker: asyncio.Task[None] | None = None

    def accept(self, event: Event) -> None:
        """The feed's sink (on the event loop): queue each event once."""
        if self._queue is not None and self._recent.first_time(event.id):
            self._queue.put_nowait(event)

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            events = [await self._queue.get()]
            while not self._queue.empty() and len(events) < BATCH:  # a backlog is planned in one thread trip
                events.append(self._queue.get_nowait())
            try:
                await self.fanout.handle_many(events)
            except Exception:  # one bad event must not stop the streams
                log.exception("streaming: events %s..%s failed", events[0].id, events[-1].id)

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._work(), name="warden-streaming-fanout")
        await self.feed.start(self.accept)

    async def stop(self) -> None:
        self.hub.close_all()
        await self.feed.stop()
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass

    def around(self, inner: Lifespan) -> Lifespan:
        """An app lifespan that runs `inner` (the moderation engine's) with the streams started inside it."""

        @asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            async with inner(app):
                await self.start()
                try:
                    yield
                finally:
                    await self.stop()

        return lifespan
