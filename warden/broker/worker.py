"""`warden worker` with a broker: the relay, moderation, detection and push roles in one process.

Roles are independent and any number of processes may run any of them: relays elect one active relay
(`relay.RelayLock`), moderation consumers compete for messages of one durable consumer, detection
workers answer requests in one queue group. The relay and the moderation consumer share one NATS
connection and one asyncio loop (their database work runs in threads); detection runs in a thread of
its own (`warden.detection.pool.run_pool_worker`, when that module is installed), and Web Push (`push`:
the notification pusher of `warden.platform.push`, one active per database) in a thread of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from warden.broker.connection import connect_until, ensure_stream
from warden.broker.consumer import BrokerConsumer
from warden.broker.relay import OutboxRelay
from warden.cases.worker import Handler, ModerationHandlers
from warden.config import Settings
from warden.policy.engine import DetectorLike, PolicyStore
from warden.store.db import Database

log = logging.getLogger("warden.broker.worker")
ROLES = ("relay", "moderation", "detection", "push")


def detection_pool() -> Any:
    """`run_pool_worker(settings, detector, stop)` of the detection pool, or None where it is not built."""
    try:
        from warden.detection.pool import run_pool_worker  # type: ignore[import-not-found]
    except ImportError:
        return None
    return run_pool_worker


def default_roles(settings: Settings) -> list[str]:
    if not settings.broker_url:
        return ["moderation"]
    return [r for r in ROLES if r != "detection" or detection_pool() is not None]


class BrokerWorker:
    """The roles of one `warden worker` process; `run(stop)` blocks, `start()`/`stop()` use a thread."""

    def __init__(self, settings: Settings, db: Database, roles: list[str], *, detector: DetectorLike | None = None,
                 handler: Handler | None = None, relay: OutboxRelay | None = None,
                 consumer: BrokerConsumer | None = None) -> None:
        assert settings.broker_url, "BrokerWorker needs WARDEN_BROKER_URL"
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))} (choose from {', '.join(ROLES)})")
        self.settings = settings
        self.db = db
        self.roles = list(roles)
        self.detector = detector
        self.relay = relay or (OutboxRelay(settings, db) if "relay" in roles else None)
        if consumer is None and "moderation" in roles:
            handler = handler or ModerationHandlers(settings, PolicyStore(), detector)
            consumer = BrokerConsumer(settings.broker_namespace, db, handler)
        self.consumer = consumer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, args=(self._stop,), name="warden-broker-worker",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def run(self, stop: threading.Event) -> None:
        threads = []
        if "detection" in self.roles:
            pool = detection_pool()
            if pool is None:
                log.warning("detection role asked for, but warden.detection.pool is not installed")
            else:
                threads.append(threading.Thread(target=pool, args=(self.settings, self.detector, stop),
                                                name="warden-detection-pool", daemon=True))
        for thread in threads:
            thread.start()
        pusher = None
        if "push" in self.roles:  # Web Push: reads the outbox table itself (PostgreSQL is the record), one active
            from warden.platform.push import PushWorker

            pusher = PushWorker(self.db, self.settings.base_url)
            pusher.start()
        try:
            if self.relay is not None or self.consumer is not None:
                asyncio.run(self._main(stop))
            else:
                stop.wait()
        finally:
            if pusher is not None:
                pusher.stop()
        for thread in threads:
            thread.join(timeout=10)

    async def _main(self, stop: threading.Event) -> None:
        astop = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.1)
            astop.set()

        watcher = asyncio.create_task(watch())
        nc = await connect_until(self.settings, name=f"warden-worker-{os.getpid()}", stop=astop)
        if nc is None:
            return
        js = nc.jetstream()
        while not astop.is_set():
            try:
                await ensure_stream(js, self.settings.broker_namespace)
                break
            except Exception as exc:
                log.warning("cannot create the event stream yet: %s", exc)
                await asyncio.sleep(1.0)
        tasks = [asyncio.create_task(part.run(js, astop)) for part in (self.relay, self.consumer) if part]
        try:
            await asyncio.gather(*tasks)
        finally:
            watcher.cancel()
            await nc.close()  # every handled message is acknowledged already; the rest are redelivered
