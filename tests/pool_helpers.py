"""Test helpers for the detection pool (warden/detection/pool.py): a pool worker thread, and a plain
NATS subscriber that counts requests and answers none (a pool that is up but too slow)."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from warden.config import Settings
from warden.detection import Detector
from warden.detection.pool import detect_subject, run_pool_worker

NATS_URL = os.environ.get("WARDEN_TEST_NATS_URL", "nats://127.0.0.1:4222")


def pool_settings(**overrides: Any) -> Settings:
    """Settings with the test broker and a namespace of their own (parallel runs share one NATS)."""
    values: dict[str, Any] = {"broker_url": NATS_URL, "broker_namespace": f"test-pool-{secrets.token_hex(4)}"}
    return Settings(**{**values, **overrides})


@contextmanager
def pool_worker(settings: Settings, detector: Detector) -> Iterator[threading.Thread]:
    """A detection pool worker serving `settings`' namespace in a thread, subscribed before this yields."""
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=run_pool_worker, args=(settings, detector, stop), kwargs={"ready": ready},
                              name="test-pool-worker", daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "the pool worker did not subscribe"
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "the pool worker did not stop"


class Listener:
    """A plain subscriber (no queue group) on the pool's subject: counts the requests it sees and
    answers none. Alone on the subject it is a pool that never answers in time."""

    def __init__(self, settings: Settings) -> None:
        import nats

        self.count = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-pool-listener", daemon=True)
        self._thread.start()

        async def subscribe() -> Any:
            nc = await nats.connect(settings.broker_url)

            async def seen(_msg: Any) -> None:
                self.count += 1

            await nc.subscribe(detect_subject(settings.broker_namespace), cb=seen)
            await nc.flush()
            return nc

        self._nc = asyncio.run_coroutine_threadsafe(subscribe(), self._loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._nc.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
