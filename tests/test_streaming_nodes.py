"""Two API nodes on one PostgreSQL database and one NATS broker: a post written through node A reaches
a stream open on node B. The outbox relay is another part of Warden; here a small shim plays it,
publishing each outbox row on `<ns>.events.<type>` in the relay's message format (twice, as an
at-least-once relay may), so these tests depend only on that format."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer
from tests.streaming_client import Stream, payload, post
from warden.config import Settings
from warden.store.db import Database
from warden.store.models import OutboxEvent

BROKER_URL = os.environ.get("WARDEN_TEST_BROKER_URL", "nats://127.0.0.1:4222")


class RelayShim(threading.Thread):
    """Publishes outbox rows written after it started, each twice, until stopped."""

    def __init__(self, db: Database, namespace: str) -> None:
        super().__init__(daemon=True)
        self.db, self.namespace = db, namespace
        self.stopping = threading.Event()
        with db.read() as session:
            self.position = int(session.scalar(select(func.max(OutboxEvent.id))) or 0)

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        import nats

        nc = await nats.connect(BROKER_URL)
        try:
            while not self.stopping.is_set():
                with self.db.read() as session:
                    rows = list(session.scalars(select(OutboxEvent).where(OutboxEvent.id > self.position)
                                                .order_by(OutboxEvent.id)))
                for row in rows:
                    body = orjson.dumps({"id": row.id, "type": row.type, "subject_id": row.subject_id,
                                         "payload": row.payload, "created_at": row.created_at.isoformat()})
                    for _ in range(2):
                        await nc.publish(f"{self.namespace}.events.{row.type}", body,
                                         headers={"Nats-Msg-Id": f"{self.namespace}-{row.id}"})
                    self.position = row.id
                await nc.flush()
                await asyncio.sleep(0.05)
        finally:
            await nc.close()


def two_nodes(tmp_data_dir: Path, *, relay: bool) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two API nodes on one PostgreSQL database and one broker namespace; with `relay`, the shim relays
    the outbox (without it, only the nodes' live copies carry events: warden/broker/live.py)."""
    url, drop = make_database("postgresql", tmp_data_dir)
    namespace = f"test{secrets.token_hex(4)}"
    servers, lives = [], []
    for _ in range(2):
        port = _free_port()
        settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False,
                            broker_url=BROKER_URL, broker_namespace=namespace)
        srv, thread, db = start_server(settings, worker=False)
        servers.append((srv, thread, db))
        lives.append(LiveServer(url=settings.base_url, settings=settings, db=db, backend="postgresql"))
    shim = RelayShim(lives[0].db, namespace) if relay else None
    if shim is not None:
        shim.start()
    yield lives[0], lives[1]
    if shim is not None:
        shim.stopping.set()
        shim.join(timeout=10)
    for srv, thread, db in servers:
        srv.should_exit = True
        thread.join(timeout=10)
        db.dispose()
    drop()  # type: ignore[operator]


@pytest.fixture(scope="module")
def nodes(tmp_data_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from two_nodes(tmp_data_dir, relay=True)


def test_a_post_through_node_a_reaches_a_stream_on_node_b_once(nodes: tuple[LiveServer, LiveServer]) -> None:
    node_a, node_b = nodes
    author, reader = node_a.user("author"), node_b.user("reader")
    assert reader.post(f"/api/v1/accounts/{author.id}/follow").status_code == 200
    with Stream(node_b, reader, query="stream=user") as stream:
        posted = post(author, "written on node A")
        frame = stream.next_event("update")
        assert payload(frame)["id"] == posted["id"]
        marker = post(author, "a second post")  # the first was published twice and must arrive once
        assert payload(stream.next_event("update"))["id"] == marker["id"]
        assert author.request("DELETE", f"/api/v1/statuses/{posted['id']}").status_code == 200
        assert stream.next_event("delete")["payload"] == posted["id"]


@pytest.fixture(scope="module")
def nodes_without_relay(tmp_data_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from two_nodes(tmp_data_dir, relay=False)


def test_a_node_publishes_what_it_commits_to_the_other_nodes_streams(
        nodes_without_relay: tuple[LiveServer, LiveServer]) -> None:
    node_a, node_b = nodes_without_relay
    author, reader = node_a.user("author"), node_b.user("reader")
    assert reader.post(f"/api/v1/accounts/{author.id}/follow").status_code == 200
    with Stream(node_b, reader, query="stream=user") as stream:
        posted = post(author, "committed on node A, carried live")
        assert payload(stream.next_event("update"))["id"] == posted["id"]
        assert author.request("DELETE", f"/api/v1/statuses/{posted['id']}").status_code == 200
        assert stream.next_event("delete")["payload"] == posted["id"]
