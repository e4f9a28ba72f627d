"""The server's clock: a thread that, every `WARDEN_SCHEDULER_SECONDS` (default 2), publishes due
scheduled statuses and announces polls that ended. It runs in every `warden serve` process; both jobs
claim their rows in the database (see `scheduled.publish_one` and `polls._announce_end`), so several
processes never do the same work twice."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from warden.config import Settings
from warden.platform import polls, scheduled
from warden.policy.gate import ModerationGate
from warden.store.db import Database

log = logging.getLogger("warden.scheduler")


class Scheduler:
    def __init__(self, db: Database, settings: Settings, gate: ModerationGate | None,
                 interval: float | None = None) -> None:
        self.db, self.settings, self.gate = db, settings, gate
        self.interval = interval if interval is not None else float(os.environ.get("WARDEN_SCHEDULER_SECONDS", "2"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        scheduled.publish_due(self.db, self.settings, self.gate)
        with self.db.write() as session:
            polls.finish_due(session)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # keep the clock running; the next tick retries
                log.exception("scheduler tick failed")

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="warden-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def around(self, inner: Callable[[Any], AbstractAsyncContextManager[None]]) -> Callable[[Any], Any]:
        @asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            async with inner(app):
                self.start()
                try:
                    yield
                finally:
                    self.stop()

        return lifespan
