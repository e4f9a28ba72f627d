"""Wiring the moderation engine into a server process: policy store, detector, gate and worker."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from warden.cases.worker import ModerationWorker
from warden.config import Settings
from warden.policy.engine import DetectorLike, PolicyGate, PolicyStore
from warden.policy.gate import AllowAll, ModerationGate
from warden.store.db import Database

log = logging.getLogger("warden.moderation")


class DetectorUnavailable(RuntimeError):
    pass


def load_detector() -> DetectorLike:
    """The real detector, or a loud error saying how to fix or turn off detection."""
    hint = "train it with `warden train`, or set WARDEN_DETECTION=0 to serve without automated detection"
    try:
        from warden.detection import get_detector
    except ImportError as exc:
        raise DetectorUnavailable(f"detection is enabled but warden.detection cannot be imported ({exc}); "
                                  f"{hint}") from exc
    try:
        return get_detector()  # type: ignore[return-value]
    except (FileNotFoundError, OSError, KeyError, ValueError) as exc:
        raise DetectorUnavailable(f"detection is enabled but the detector model cannot be loaded ({exc}); "
                                  f"{hint}") from exc


def detection_pool_enabled(settings: Settings) -> bool:
    """A broker and WARDEN_DETECTION_POOL=1: the encoder stage runs on the detection pool."""
    if not settings.broker_url:
        return False
    from warden.detection.pool import pool_enabled

    return pool_enabled(settings)


def pooled(settings: Settings, detector: DetectorLike) -> DetectorLike:
    """``detector``, or with the pool on, a `PoolDetector` around it: stage 1 here, the encoder on
    the pool (warden/detection/pool.py; this process then never loads the encoder)."""
    if not detection_pool_enabled(settings):
        return detector
    from warden.detection.pool import PoolDetector

    return PoolDetector.connect(settings, detector)  # type: ignore[arg-type]


def worker_enabled_from_env() -> bool:
    return os.environ.get("WARDEN_WORKER", "1").lower() not in ("0", "false", "off")


@dataclass
class Moderation:
    """The moderation engine of one server process (kept in `Services.extras["moderation"]`)."""

    settings: Settings
    db: Database
    store: PolicyStore
    detector: DetectorLike | None
    gate: ModerationGate
    worker: ModerationWorker | None
    #: Whether `lifespan` closes the detector at the end (a detection pool client this build opened).
    owns_detector: bool = False

    @classmethod
    def build(cls, settings: Settings, db: Database, *, gate: ModerationGate | None = None,
              detector: DetectorLike | None = None, worker: bool | None = None) -> "Moderation":
        store = PolicyStore()
        owns_detector = False
        if gate is None:
            if settings.detection_enabled:
                if detector is None:
                    detector = load_detector()
                    detector, owns_detector = pooled(settings, detector), detection_pool_enabled(settings)
                gate = PolicyGate(settings, store, detector)
                from warden.detection import ocr

                ocr.engine()  # says once, at start, when text in images cannot be read (no Tesseract)
            else:
                gate = AllowAll()
        # With a broker, `warden worker` processes consume the outbox (relay + moderation roles), never the server.
        run_worker = False if settings.broker_url else worker_enabled_from_env() if worker is None else worker
        consumer = ModerationWorker(db, settings, store, detector) if run_worker else None
        return cls(settings=settings, db=db, store=store, detector=detector, gate=gate, worker=consumer,
                   owns_detector=owns_detector)

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        if self.worker is not None:
            self.worker.start()
        try:
            yield
        finally:
            if self.worker is not None:
                self.worker.stop()
            if self.owns_detector:
                getattr(self.detector, "close", lambda: None)()
