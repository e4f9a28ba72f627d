"""The outbox relay: moves committed `outbox_events` rows onto the JetStream stream, in id order.

Writers never talk to the broker: they append outbox rows in their own transaction (so an event exists
exactly when its change committed), and this relay publishes them. Its position lives in
`outbox_consumers` under "relay" and only moves once the broker has acknowledged (persisted) every
event up to it, so a relay killed at any point republishes from there; the message id
`<ns>-<event id>` makes JetStream drop the copies it already has (and the moderation consumer's
`processed_events` row covers anything older than the de-duplication window).

On PostgreSQL ids can commit out of order: a row with a lower id may appear after higher ones were
published. The relay publishes everything past its position it has not published yet and moves its
position over a missing id only once it has been missing for GAP_SECONDS, the rule the embedded
consumer follows (`warden.cases.worker.contiguous_upto`).

Several `warden worker` processes may run the relay role; one is active at a time (a PostgreSQL
advisory lock, or a file lock next to a SQLite database) and the others wait to take over. Batches are
published pipelined (all sent, then all acknowledgements awaited), and an idle relay polls every 20 ms,
so an event is on the stream a few milliseconds after its transaction commits.
"""

from __future__ import annotations

import asyncio
import logging
import zlib

from nats.js import JetStreamContext

from warden.broker import events, names
from warden.cases.worker import OutboxSource, contiguous_upto, store_position, stored_position
from warden.config import Settings
from warden.store.db import Database
from warden.store.leader import LeaderLock

log = logging.getLogger("warden.broker.relay")


class RelayLock(LeaderLock):
    """Only one relay of a database publishes at a time (warden/store/leader.py): a PostgreSQL advisory
    lock, or an exclusive `flock` on `<database>.relay.lock` next to a SQLite database."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, "relay")
        self.key = zlib.crc32(b"warden-outbox-relay")  # the key relays of earlier versions took


class OutboxRelay:
    """Publishes outbox rows to the stream; `run()` until `stop` is set."""

    NAME = "relay"

    def __init__(self, settings: Settings, db: Database, *, batch: int = 1000, idle: float = 0.02,
                 publish_timeout: float = 5.0, check_every: float = 5.0) -> None:
        self.namespace = settings.broker_namespace
        self.db = db
        self.source = OutboxSource(db)
        self.lock = RelayLock(db)
        self.batch = batch
        self.idle = idle
        self.publish_timeout = publish_timeout
        self.check_every = check_every
        self.published_total = 0
        self._reset()

    def _reset(self) -> None:
        self._position: int | None = None  # read when the lock is taken; only the lock holder moves it
        self._high = 0
        self._published: set[int] = set()  # ids past the stored position the broker has acknowledged
        self._gaps: dict[int, float] = {}

    async def run(self, js: JetStreamContext, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        checked = 0.0
        try:
            while not stop.is_set():
                if not self.lock.held:
                    if not await asyncio.to_thread(self.lock.try_acquire):
                        await _sleep(stop, 1.0)  # another relay is active: stand by to take over
                        continue
                    log.info("outbox relay active")
                    self._reset()  # republish from the stored position: the broker drops what it has
                    checked = loop.time()
                if loop.time() - checked > self.check_every:
                    checked = loop.time()
                    if not await asyncio.to_thread(self.lock.check):
                        continue
                try:
                    moved = await self.step(js)
                except Exception as exc:  # database or broker away: retried
                    log.warning("outbox relay step failed: %s", exc)
                    await _sleep(stop, 0.5)
                    continue
                if not moved:
                    await _sleep(stop, self.idle)
        finally:
            await asyncio.to_thread(self.lock.release)

    async def step(self, js: JetStreamContext) -> int:
        """Publish what is new (and what committed late); returns how many events were published."""
        if self._position is None:
            self._position = await asyncio.to_thread(stored_position, self.db, self.NAME)
        position = self._position
        high = max(self._high, position)
        ids = await asyncio.to_thread(self.source.ids, position, high) if high > position else []
        late_ids = [i for i in ids if i not in self._published][: self.batch]
        late = await asyncio.to_thread(self.source.get_many, late_ids) if late_ids else []
        fresh = await asyncio.to_thread(self.source.fetch, high, self.batch)
        todo = late + fresh
        if todo:
            acked = await self.publish(js, todo)
            self._published.update(acked)
            self.published_total += len(acked)
        if fresh:
            self._high = max(high, fresh[-1].id)
        ids += [e.id for e in fresh]
        done = []
        for event_id in ids:
            if event_id not in self._published:
                break
            done.append(event_id)
        new = contiguous_upto(position, done, self._gaps)
        if new > position:
            await asyncio.to_thread(store_position, self.db, self.NAME, new)
            self._position = new
            self._published = {i for i in self._published if i > new}
        return len(todo)

    async def publish(self, js: JetStreamContext, batch: list[events.Event]) -> list[int]:
        """Send every event, then wait for the acknowledgements; returns the ids the stream has stored."""
        stream = names.stream(self.namespace)
        futures = []
        for event in batch:
            futures.append(await js.publish_async(
                names.events_subject(self.namespace, event.type), events.encode(event), stream=stream,
                headers={names.MSG_ID_HEADER: names.msg_id(self.namespace, event.id)}))
        results = await asyncio.gather(*(asyncio.wait_for(f, self.publish_timeout) for f in futures),
                                       return_exceptions=True)
        acked = [e.id for e, r in zip(batch, results) if not isinstance(r, BaseException)]
        if len(acked) < len(batch):
            failed = next(r for r in results if isinstance(r, BaseException))
            log.warning("broker acknowledged %s of %s events (%r); the rest are retried", len(acked), len(batch),
                        failed)
        return acked


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
