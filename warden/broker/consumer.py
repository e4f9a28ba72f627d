"""The moderation consumer on the broker: competing pull consumers of one durable JetStream consumer.

Any number of `warden worker` processes fetch batches from the durable `<ns>_moderation`; JetStream
hands each message to one of them and redelivers it (to any) when it is not acknowledged within
ACK_WAIT. Handling is the embedded consumer's own (`warden.cases.worker.Consumer`): a batch shares one
transaction, each event writes its `processed_events` row ("moderation", event id) with its effects, so
a redelivered message finds the row and changes nothing. A message is acknowledged only after that
commit (at least once); a failing event is retried alone, `nak`ed with a growing delay, and on its
MAX_ATTEMPTS-th delivery dead-lettered (recorded "failed" and audited) and acknowledged.

Order. The stream is in outbox order, but competing consumers and redeliveries mean two events of the
same post or account may be handled in either order, or at once on two workers. The handlers do not
depend on it: each reads the post, report or notice's *current* state in its own transaction (a
status.created handled after the post's deletion does nothing; status.created and status.updated each
evaluate the text as it is now), cases are joined by (status, label) under a unique key
(`cases.open_or_join`), and decisions taken from events carry unique `dedupe_key`s. So no per-post
partitioning is needed; a handler that ever depends on order must check the state it expects.

The database stays the truth: every second each consumer moves the stored "moderation" position over
handled events (what `warden status` measures from), and an event the broker never delivered within
`sweep_after` seconds (a relay that skipped a row committed very late) is handled straight from the
outbox, so nothing is left unprocessed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from warden.broker import events, names
from warden.broker.connection import ensure_consumer, ensure_stream, moderation_consumer_config
from warden.cases.worker import MAX_ATTEMPTS, Consumer, Event, Handler, ModerationWorker, OutboxSource
from warden.store.db import Database
from warden.store.models import utcnow

log = logging.getLogger("warden.broker.consumer")


class BrokerConsumer:
    """Fetches from the durable consumer and hands events to `handler`; `run()` until `stop` is set."""

    def __init__(self, namespace: str, db: Database, handler: Handler, *, name: str = ModerationWorker.NAME,
                 batch: int = 100, fetch_timeout: float = 1.0, retry_base: float = 0.2,
                 sweep_after: float = 120.0, config: Any = None) -> None:
        self.namespace = namespace
        self.consumer = Consumer(name, db, OutboxSource(db), handler, chunk=batch, retry_base=retry_base)
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.retry_base = retry_base
        self.sweep_after = sweep_after
        self.config = config or moderation_consumer_config(namespace)
        #: Events this process handled (a redelivery of a handled event does not count).
        self.handled = 0
        self.dead_lettered = 0

    async def run(self, js: JetStreamContext, stop: asyncio.Event) -> None:
        sub = None
        loop = asyncio.get_running_loop()
        housekept = 0.0
        while not stop.is_set():
            try:
                if sub is None:
                    await ensure_stream(js, self.namespace)
                    await ensure_consumer(js, self.namespace, self.config)
                    sub = await js.pull_subscribe_bind(durable=self.config.durable_name,
                                                       stream=names.stream(self.namespace))
                try:
                    msgs = await sub.fetch(self.batch, timeout=self.fetch_timeout)
                except (NatsTimeout, asyncio.TimeoutError):
                    msgs = []
                if msgs:
                    await self.handle(msgs)
            except Exception as exc:  # broker or database away (or the durable consumer deleted): retried
                log.warning("moderation consumer: %s", exc)
                if sub is not None and not isinstance(exc, OSError):
                    try:
                        await sub.unsubscribe()
                    except Exception:
                        pass
                    sub = None  # bind again (re-creating the stream and durable consumer if they are gone)
                await _sleep(stop, 0.5)
            if loop.time() - housekept > 1.0:
                housekept = loop.time()
                try:
                    await asyncio.to_thread(self.housekeep)
                except Exception as exc:
                    log.warning("moderation consumer housekeeping: %s", exc)
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception:
                pass

    async def handle(self, msgs: list[Msg]) -> None:
        batch: list[tuple[Msg, Event]] = []
        for msg in msgs:
            try:
                batch.append((msg, events.decode(msg.data)))
            except (ValueError, KeyError, TypeError) as exc:  # not an outbox event: nothing can handle it
                log.error("dropping malformed message on %s: %s", msg.subject, exc)
                await msg.term()
        outcomes = await asyncio.to_thread(self.deliver, [(e, m.metadata.num_delivered or 1) for m, e in batch])
        for msg, event in batch:
            retry = outcomes.get(event.id)
            if retry is None:
                await msg.ack()
            else:
                await msg.nak(delay=retry)

    def deliver(self, batch: list[tuple[Event, int]]) -> dict[int, float]:
        """Handle a fetched batch (in chunks sharing a transaction; a failing chunk one event at a time).
        Returns the events to retry, with the delay before their next delivery; the rest may be acked."""
        retries: dict[int, float] = {}
        attempts = {e.id: n for e, n in batch}
        pending = [e for e, _ in batch]
        index = 0
        while index < len(pending):
            chunk = pending[index:index + self.consumer.chunk]
            try:
                consumed, handled, _ = self.consumer._deliver_chunk(chunk)
                self.handled += handled
            except Exception:  # isolate the failing event
                consumed = len(chunk)
                for event in chunk:
                    try:
                        self.handled += int(self.consumer.deliver(event))
                    except Exception as exc:
                        n = attempts[event.id]
                        log.warning("event %s (%s) failed (delivery %s): %s", event.id, event.type, n, exc)
                        if n >= MAX_ATTEMPTS:
                            self.consumer._dead_letter(event, exc)
                            self.dead_lettered += 1
                        else:
                            retries[event.id] = self.retry_base * 4 ** n
            index += consumed
        return retries

    def housekeep(self) -> None:
        """Move the stored position over handled events; handle events the broker never delivered."""
        consumer, source = self.consumer, self.consumer.source
        assert isinstance(source, OutboxSource)
        position = consumer.position()
        last = source.last_id()
        if last <= position:
            return
        consumer._advance(position, last)
        stragglers = source.pending(consumer.name, consumer.position(), last, 100)
        now = utcnow()
        for event in stragglers:
            if (now - _aware(event.created_at)).total_seconds() < self.sweep_after:
                break
            if consumer._retry_at.get(event.id, 0) > time.monotonic():
                continue  # failed here lately: retried after its back-off (then dead-lettered)
            log.warning("event %s (%s) never arrived from the broker; handling it from the outbox",
                        event.id, event.type)
            self.handled += consumer._deliver_alone(event, set())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass

