"""The broker path end to end on real NATS JetStream: outbox → relay → stream → competing moderation
consumers, idempotent under redelivery, poison events dead-lettered, and `warden status`."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.broker.conftest import NATS_URL, delete_stream, jetstream, namespace, run
from tests.conftest import make_database
from tests.helpers import LiveServer, eventually
from warden.broker import events, names
from warden.broker.consumer import BrokerConsumer
from warden.broker.connection import ensure_stream
from warden.broker.relay import OutboxRelay, RelayLock
from warden.broker.worker import BrokerWorker
from warden.cases.runtime import Moderation
from warden.cases.worker import ModerationWorker, OutboxSource, stored_position
from warden.cli import cli
from warden.config import Settings
from warden.policy.gate import AllowAll
from warden.store.db import Database
from warden.store.models import OutboxEvent
from warden.store.moderation_models import AuditEntry, ModerationCase, ModerationDecision, ProcessedEvent

HELD = "the day of the rope is coming"  # the default policy's violent-codes list: held for a moderator
SPAM = "Free crypto https://spam.example/win for everyone"  # limited by an async rule after publication


def _event_of(server: LiveServer, status_id: str) -> int:
    with server.db.read() as session:
        return int(session.scalar(select(OutboxEvent.id).where(OutboxEvent.type == "status.created",
                                                               OutboxEvent.subject_id == int(status_id))))


def _processed(server: LiveServer, event_id: int, consumer: str = ModerationWorker.NAME) -> list[str]:
    with server.db.read() as session:
        return list(session.scalars(select(ProcessedEvent.outcome).where(ProcessedEvent.consumer == consumer,
                                                                         ProcessedEvent.event_id == event_id)))


def _cases(server: LiveServer, status_id: str) -> list[ModerationCase]:
    with server.db.read() as session:
        return list(session.scalars(select(ModerationCase).where(ModerationCase.status_id == int(status_id))))


def _decisions(server: LiveServer, status_id: str) -> list[tuple[str, str]]:
    with server.db.read() as session:
        return [tuple(r) for r in session.execute(select(ModerationDecision.kind, ModerationDecision.action).where(
            ModerationDecision.status_id == int(status_id)).order_by(ModerationDecision.created_at))]


def _status(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["status"], env=env, catch_exceptions=False)
    return result.exit_code, json.loads(result.output.strip().splitlines()[-1])


def _env(server: LiveServer, **extra: str) -> dict[str, str]:
    return {"WARDEN_DATABASE_URL": server.settings.database_url, "WARDEN_BROKER_URL": NATS_URL,
            "WARDEN_BROKER_NAMESPACE": server.settings.broker_namespace, **extra}


def test_with_a_broker_the_server_runs_no_outbox_worker(broker_server: LiveServer) -> None:
    engine = Moderation.build(broker_server.settings, broker_server.db, gate=AllowAll(), worker=True)
    assert engine.worker is None
    embedded = Settings(database_url=broker_server.settings.database_url)
    assert Moderation.build(embedded, broker_server.db, gate=AllowAll(), worker=True).worker is not None


def test_posts_flow_through_the_stream_into_cases_and_decisions(broker_server: LiveServer) -> None:
    author = broker_server.user("relayed")
    held = author.post("/api/v1/statuses", data={"status": HELD}).json()
    spam = author.post("/api/v1/statuses", data={"status": SPAM}).json()
    assert held["warden"]["state"] == "held"
    # The worker (relay + moderation consumer over JetStream) opens the held post's case...
    cases = eventually(lambda: _cases(broker_server, held["id"]), what="the held post's case")
    assert len(cases) == 1
    # ...and the async rule limits the spam post, once.
    eventually(lambda: ("async", "limit") in _decisions(broker_server, spam["id"]), what="the async limit")
    for status in (held, spam):
        assert _processed(broker_server, _event_of(broker_server, status["id"])) == ["done"]

    # The messages are on the stream as the shared conventions say.
    async def stored() -> Any:
        nc, js = await jetstream()
        try:
            return await js.get_last_msg(names.stream(broker_server.settings.broker_namespace),
                                         names.events_subject(broker_server.settings.broker_namespace,
                                                              "status.created"))
        finally:
            await nc.close()

    last = run(stored())
    body = orjson.loads(last.data)
    assert body["id"] == _event_of(broker_server, spam["id"]) and body["type"] == "status.created"
    assert body["payload"]["status_id"] == int(spam["id"])
    assert last.headers[names.MSG_ID_HEADER] == names.msg_id(broker_server.settings.broker_namespace, body["id"])


def test_a_redelivered_message_changes_nothing(broker_server: LiveServer) -> None:
    author = broker_server.user("redelivered")
    held = author.post("/api/v1/statuses", data={"status": HELD + " again"}).json()
    spam = author.post("/api/v1/statuses", data={"status": SPAM + " again"}).json()
    eventually(lambda: _cases(broker_server, held["id"]) and ("async", "limit") in _decisions(broker_server, spam["id"]),
               what="both events handled")
    before = (_cases(broker_server, held["id"]), _decisions(broker_server, held["id"]),
              _decisions(broker_server, spam["id"]))
    ns = broker_server.settings.broker_namespace
    source = OutboxSource(broker_server.db)
    replay = [source.get(_event_of(broker_server, s["id"])) for s in (held, spam)]
    worker: BrokerWorker = broker_server.extras["worker"]

    def idle() -> bool:  # the events these posts' decisions appended (notifications, ...) are handled too
        since = min(e.id for e in replay)
        handled_ids = select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == ModerationWorker.NAME)
        with broker_server.db.read() as session:
            return not session.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.id >= since, OutboxEvent.id.not_in(handled_ids)))

    eventually(idle, what="the outbox to drain")
    handled = worker.consumer.handled

    async def republish() -> list[Any]:
        nc, js = await jetstream()
        try:
            acks = []
            for event in replay:
                subject = names.events_subject(ns, event.type)
                # the same message id: JetStream drops it as a duplicate
                acks.append(await js.publish(subject, events.encode(event), headers={
                    names.MSG_ID_HEADER: names.msg_id(ns, event.id)}))
                # a new id (a relay after the de-duplication window): delivered again
                acks.append(await js.publish(subject, events.encode(event), headers={
                    names.MSG_ID_HEADER: names.msg_id(ns, event.id) + "-again"}))
            return acks
        finally:
            await nc.close()

    acks = run(republish())
    assert [bool(a.duplicate) for a in acks] == [True, False, True, False]

    async def drained() -> bool:
        nc, js = await jetstream()
        try:
            info = await js.consumer_info(names.stream(ns), names.durable(ns, "moderation"))
            return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq >= \
                max(a.seq for a in acks)
        finally:
            await nc.close()

    eventually(lambda: run(drained()), what="the redelivered messages to be acknowledged")
    assert worker.consumer.handled == handled  # delivered, found handled, acknowledged
    after = (_cases(broker_server, held["id"]), _decisions(broker_server, held["id"]),
             _decisions(broker_server, spam["id"]))
    assert [c.id for c in after[0]] == [c.id for c in before[0]] and after[1:] == before[1:]
    for event in replay:
        assert _processed(broker_server, event.id) == ["done"]


def _publish_outbox(server: LiveServer, ns: str, count: int) -> list[int]:
    """`count` new outbox rows (an author's posts), published to namespace `ns`'s stream as the relay does."""
    author = server.user("bulk")
    with server.db.write() as session:
        rows = [OutboxEvent(type="test.bulk", subject_id=author.id, payload={"n": n}) for n in range(count)]
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    relay = OutboxRelay(Settings(database_url=server.settings.database_url, broker_url=NATS_URL,
                                 broker_namespace=ns), server.db)

    async def publish() -> list[int]:
        nc, js = await jetstream()
        try:
            await ensure_stream(js, ns)
            return await relay.publish(js, OutboxSource(server.db).get_many(ids))
        finally:
            await nc.close()

    assert run(publish()) == ids
    return ids


def _worker(server: LiveServer, ns: str, consumer: BrokerConsumer) -> BrokerWorker:
    settings = Settings(database_url=server.settings.database_url, broker_url=NATS_URL, broker_namespace=ns)
    worker = BrokerWorker(settings, server.db, ["moderation"], consumer=consumer)
    worker.start()
    return worker


def test_competing_consumers_handle_each_event_once(broker_server: LiveServer) -> None:
    ns, name = namespace(), f"compete-{namespace()}"
    seen: list[int] = []
    lock = threading.Lock()

    def handler(_session: object, event: Any) -> None:
        time.sleep(0.005)
        with lock:
            seen.append(event.id)

    consumers = [BrokerConsumer(ns, broker_server.db, handler, name=name, batch=10) for _ in range(2)]
    workers: list[BrokerWorker] = []
    try:
        ids = _publish_outbox(broker_server, ns, 300)
        workers = [_worker(broker_server, ns, c) for c in consumers]
        eventually(lambda: len(set(seen)) >= len(ids), timeout=60, what="every event handled")
        time.sleep(0.5)
    finally:
        for worker in workers:
            worker.stop()
        run(delete_stream(ns))
    assert sorted(seen) == ids  # each handled once: no event twice, none left out
    assert sum(c.handled for c in consumers) == len(ids)
    assert all(c.handled > 0 for c in consumers), [c.handled for c in consumers]  # they shared the work
    with broker_server.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent).where(
            ProcessedEvent.consumer == name)) == len(ids)


def test_a_poison_event_is_dead_lettered_and_does_not_stall_the_rest(broker_server: LiveServer) -> None:
    ns, name = namespace(), f"poison-{namespace()}"
    attempts: list[int] = []
    seen: list[int] = []
    ids: list[int] = []

    def handler(_session: object, event: Any) -> None:
        if event.id == ids[1]:
            attempts.append(event.id)
            raise RuntimeError("cannot handle this one")
        seen.append(event.id)

    consumer = BrokerConsumer(ns, broker_server.db, handler, name=name, retry_base=0.01)
    ids.extend(_publish_outbox(broker_server, ns, 5))
    worker = _worker(broker_server, ns, consumer)
    try:
        eventually(lambda: _processed(broker_server, ids[1], name) == ["failed"], timeout=60,
                   what="the dead letter")
    finally:
        worker.stop()
        run(delete_stream(ns))
    assert sorted(set(seen)) == [i for i in ids if i != ids[1]]
    assert 5 <= len(attempts) <= 10  # MAX_ATTEMPTS deliveries (each tried in its batch, then alone)
    assert consumer.dead_lettered == 1
    with broker_server.db.read() as session:
        audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "worker.dead_letter", AuditEntry.subject == f"event:{ids[1]}"))
    assert audited == 1


def test_only_one_relay_is_active_and_a_row_committing_late_is_still_published(backend: str,
                                                                               tmp_data_dir: Path) -> None:
    url, drop = make_database(backend, tmp_data_dir)
    db = Database(url)
    ns = namespace()
    try:
        first, second = RelayLock(db), RelayLock(db)
        assert first.try_acquire() and not second.try_acquire()  # a second relay stands by...
        first.release()
        assert second.try_acquire()  # ...and takes over once the first is gone
        second.release()

        relay = OutboxRelay(Settings(database_url=url, broker_url=NATS_URL, broker_namespace=ns), db)

        def add(event_id: int) -> None:
            with db.write() as session:
                session.add(OutboxEvent(id=event_id, type="test.late", payload={"n": event_id}))

        async def steps() -> tuple[int, int, int, int]:
            nc, js = await jetstream()
            try:
                await ensure_stream(js, ns)
                add(2)  # id 1 is taken by a transaction that has not committed yet
                await relay.step(js)
                held_at = stored_position(db, OutboxRelay.NAME)
                add(1)  # ...and now it has
                await relay.step(js)
                await relay.step(js)
                info = await js.stream_info(names.stream(ns))
                last = await js.get_last_msg(names.stream(ns), names.events_subject(ns, "test.late"))
                return held_at, stored_position(db, OutboxRelay.NAME), info.state.messages, orjson.loads(last.data)["id"]
            finally:
                await nc.close()

        held_at, position, messages, last_id = run(steps())
        assert held_at == 0  # not past the missing id 1
        assert (position, messages, last_id) == (2, 2, 1)  # the late row was published, then the position moved
    finally:
        db.dispose()
        run(delete_stream(ns))
        drop()  # type: ignore[operator]


def test_status_reports_the_event_path_and_exits_0_when_healthy(broker_server: LiveServer) -> None:
    author = broker_server.user("status")
    posted = author.post("/api/v1/statuses", data={"status": "an ordinary post"}).json()
    eventually(lambda: _processed(broker_server, _event_of(broker_server, posted["id"])),
               what="the post's event handled")

    def settled() -> dict[str, Any] | None:
        code, report = _status(_env(broker_server))
        assert code == 0, report
        return report if report["outbox_pending"] == 0 and report["consumers"].get("relay", {}).get("lag") == 0 \
            and report["consumers"].get("moderation", {}).get("lag") == 0 else None

    report = eventually(settled, what="outbox_pending 0 and no lag")
    assert report["healthy"] is True and report["database"]["ok"] is True
    assert isinstance(report["dead_letters"], int)
    broker = report["broker"]
    assert broker["ok"] is True and broker["url"] == NATS_URL
    assert broker["stream"]["name"] == names.stream(broker_server.settings.broker_namespace)
    assert broker["stream"]["last_seq"] >= 1
    durable = broker["consumers"][names.durable(broker_server.settings.broker_namespace, "moderation")]
    assert set(durable) == {"num_pending", "num_ack_pending", "num_redelivered"}


def test_status_exits_1_when_the_broker_is_unreachable(broker_server: LiveServer) -> None:
    code, report = _status(_env(broker_server, WARDEN_BROKER_URL="nats://user:secret@127.0.0.1:1"))
    assert code == 1
    assert report["healthy"] is False and report["broker"]["ok"] is False
    assert "secret" not in json.dumps(report)  # credentials never printed
    assert report["database"]["ok"] is True and isinstance(report["outbox_pending"], int)


def test_worker_refuses_broker_roles_without_a_broker(broker_server: LiveServer) -> None:
    result = CliRunner().invoke(cli, ["worker", "--roles", "relay"],
                                env={"WARDEN_DATABASE_URL": broker_server.settings.database_url,
                                     "WARDEN_BROKER_URL": ""})
    assert result.exit_code != 0 and "WARDEN_BROKER_URL" in result.output
    result = CliRunner().invoke(cli, ["worker", "--roles", "moderation,teleport"], env=_env(broker_server))
    assert result.exit_code != 0 and "teleport" in result.output

