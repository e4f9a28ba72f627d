"""Fixtures for the broker path: the shared NATS server (127.0.0.1:4222, JetStream) under a random
namespace per test module, so parallel runs never see each other's subjects, streams or consumers."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer
from tests.moderation.conftest import FakeDetector
from warden.broker.worker import BrokerWorker
from warden.config import Settings

NATS_URL = os.environ.get("WARDEN_TEST_NATS_URL", "nats://127.0.0.1:4222")


def namespace() -> str:
    return f"t{secrets.token_hex(4)}"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def jetstream(timeout: float = 5.0) -> tuple[Any, Any]:
    nc = await nats.connect(NATS_URL, connect_timeout=2)
    return nc, nc.jetstream(timeout=timeout)


async def delete_stream(ns: str) -> None:
    from warden.broker import names

    nc, js = await jetstream()
    try:
        await js.delete_stream(names.stream(ns))
    except Exception:
        pass
    await nc.close()


@pytest.fixture(scope="module")
def broker_server(backend: str, tmp_data_dir: Path) -> Iterator[LiveServer]:
    """A live server with WARDEN_BROKER_URL set (so it consumes nothing itself), the policy gate with the
    fake detector, and one in-process `warden worker` running the relay and moderation roles."""
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    detector = FakeDetector()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=True,
                        broker_url=NATS_URL, broker_namespace=namespace())
    srv, thread, db = start_server(settings, detector=detector)
    worker = BrokerWorker(settings, db, ["relay", "moderation"], detector=detector)
    worker.start()
    live = LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend,
                      extras={"detector": detector, "worker": worker})
    yield live
    worker.stop()
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    run(delete_stream(settings.broker_namespace))
    drop()  # type: ignore[operator]
