"""Outbox events on the wire the moment their transaction commits, so open streams on every node see a
post without waiting for the relay.

The relay (relay.py) is the durable path: it reads committed outbox rows, publishes them to the
JetStream stream, and every API node's streams receive them from there (`streaming.feed.BrokerFeed`).
That path has two hops between a commit and the streams of another node (the relay's poll, JetStream's
write), and on a machine whose cores are saturated each hop waits for its process to be scheduled. So
the node that commits also publishes its own new events at once, with core NATS (at most once, never
stored) on `<ns>.live.<type>`. Streams take whichever copy of an event arrives first and drop the other
(`streaming.feed.Recent`); a copy lost on the live path (the node died after its commit, the broker
connection was down) still arrives through the relay.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from warden.broker import events, names
from warden.store.db import Database
from warden.store.outbox import Event
from warden.streaming.fanout import HANDLED
from warden.streaming.handoff import call_on_loop

log = logging.getLogger("warden.broker.live")


class LivePublisher:
    """Publishes every outbox row this process commits (of the types streams act on) on its live subject."""

    def __init__(self, db: Database, namespace: str) -> None:
        self.db = db
        self.namespace = namespace
        self._nc: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0
        self._remove: Any = None

    def attach(self, nc: Any, loop: asyncio.AbstractEventLoop) -> None:
        """Start publishing on `nc` (a connected nats client living on `loop`)."""
        self._nc, self._loop = nc, loop
        if self._remove is None:
            self._remove = self.db.on_outbox_commit(self._committed)

    def detach(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
        self._nc = self._loop = None

    def _committed(self, rows: list[Event]) -> None:
        """In the committing thread: encode here, publish on the event loop."""
        nc, loop = self._nc, self._loop
        if nc is None or loop is None:
            return
        messages = [(names.live_subject(self.namespace, row.type), events.encode(row))
                    for row in rows if row.type in HANDLED]
        if messages:  # a copy lost when the loop stopped meanwhile comes through the relay
            call_on_loop(loop, self._send, nc, messages)

    def _send(self, nc: Any, messages: list[tuple[str, bytes]]) -> None:
        if nc.is_closed:
            return
        for subject, body in messages:
            asyncio.ensure_future(self._publish(nc, subject, body))

    async def _publish(self, nc: Any, subject: str, body: bytes) -> None:
        try:
            await nc.publish(subject, body)
            self.published += 1
        except Exception as exc:  # a lost live copy costs only latency: the relay's copy follows
            log.debug("live publish on %s failed: %s", subject, exc)

