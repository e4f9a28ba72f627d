"""How processes sharing one database coordinate: the commit hook streams read, the SQLite write lock
across processes, and the leader lock that lets one process at a time run the outbox worker."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, select

from tests.conftest import make_database
from warden.cases.worker import ModerationWorker
from warden.config import Settings
from warden.policy.engine import PolicyStore
from warden.store.db import Database, insert_now
from warden.store.leader import LeaderLock
from warden.store.models import OutboxEvent
from warden.store.outbox import emit


@pytest.fixture()
def db(backend: str, tmp_path: Path):
    url, drop = make_database(backend, tmp_path)
    database = Database(url)
    yield database
    database.dispose()
    drop()


def test_on_outbox_commit_sees_the_events_that_committed(db: Database) -> None:
    """The hook sees exactly the events `outbox.emit` wrote in transactions that committed, savepoints
    included, and nothing once removed."""
    seen: list[list[str]] = []
    remove = db.on_outbox_commit(lambda events: seen.append([e.type for e in events]))
    try:
        with db.write() as session:
            first = emit(session, "test.one", 1, {"n": 1})
            emit(session, "test.two", 2, {})
        assert seen == [["test.one", "test.two"]]
        with db.write() as session:  # nothing emitted (a row added by the ORM is not an emitted event): no call
            session.add(OutboxEvent(type="test.orm", subject_id=0, payload={}))
        assert len(seen) == 1
        with pytest.raises(RuntimeError), db.write() as session:
            emit(session, "test.rolled-back", 3, {})
            raise RuntimeError("roll back")
        assert len(seen) == 1
        with db.write() as session:
            emit(session, "test.before", 4, {})
            with session.begin_nested():  # released: its event commits with the rest
                emit(session, "test.released", 5, {})
            assert len(seen) == 1  # a released savepoint is not a commit: the hook waits for the outer one
            savepoint = session.begin_nested()
            emit(session, "test.savepoint", 6, {})
            inner = session.begin_nested()
            emit(session, "test.inner", 7, {})
            inner.commit()
            savepoint.rollback()  # takes the inner savepoint's event with it
            emit(session, "test.after", 8, {})
        assert seen[1] == ["test.before", "test.released", "test.after"]
        with db.read() as session:
            stored = session.scalars(select(OutboxEvent.type).where(OutboxEvent.type.like("test.%"))
                                     .order_by(OutboxEvent.id)).all()
            row = session.get(OutboxEvent, first.id)
        assert stored == ["test.one", "test.two", "test.orm", "test.before", "test.released", "test.after"]
        assert (row.type, row.subject_id, row.payload) == ("test.one", 1, {"n": 1})
    finally:
        remove()
    with db.write() as session:
        emit(session, "test.after-remove", 9, {})
    assert len(seen) == 2


def test_insert_now_writes_one_row_and_leaves_the_object_as_if_loaded(db: Database) -> None:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(db.write_engine, "before_cursor_execute", seen)
    try:
        with db.write() as session:
            row = OutboxEvent(type="test.insert-now", subject_id=7)
            statements.clear()
            insert_now(session, row)
            assert [s for s in statements if s != "BEGIN"] == ["INSERT"]  # (SQLite's BEGIN IMMEDIATE comes first)
            state = inspect(row)
            assert state.persistent and not session.new and not session.dirty
            assert row.id is not None and row.payload == {} and row.created_at is not None  # the column defaults
            assert session.get(OutboxEvent, row.id) is row  # in the identity map
            statements.clear()
            session.flush()
            assert statements == []  # nothing left to write
    finally:
        event.remove(db.write_engine, "before_cursor_execute", seen)
    with db.read() as session:
        stored = session.get(OutboxEvent, row.id)
        assert (stored.type, stored.subject_id, stored.payload) == ("test.insert-now", 7, {})


def test_sqlite_writers_in_other_processes_wait_on_the_write_lock(tmp_path: Path) -> None:
    url, drop = make_database("sqlite", tmp_path)
    db = Database(url)
    lock_file = f"{db.write_engine.url.database}.write.lock"
    try:
        with db.write() as session:
            session.add(OutboxEvent(type="test.held", subject_id=1, payload={}))
            fd = os.open(lock_file, os.O_RDWR)
            try:  # held for the whole transaction, against any other open file (another process)
                with pytest.raises(BlockingIOError):
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
        fd = os.open(lock_file, os.O_RDWR)
        try:  # and free once it committed
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        # two processes writing at once: every write lands
        script = textwrap.dedent(f"""
            from warden.store.db import Database
            from warden.store.models import OutboxEvent
            db = Database({url!r})
            for n in range(200):
                with db.write() as session:
                    session.add(OutboxEvent(type="test.process", subject_id=n, payload={{}}))
        """)
        procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
        with db.read() as session:
            assert len(session.scalars(select(OutboxEvent.id).where(OutboxEvent.type == "test.process")).all()) == 400
    finally:
        db.dispose()
        drop()  # type: ignore[operator]


def test_leader_lock_one_holder_at_a_time(db: Database) -> None:
    first, second = LeaderLock(db, "test-role"), LeaderLock(db, "test-role")
    assert first.try_acquire() and first.check()
    assert not second.try_acquire()
    assert LeaderLock(db, "another-role").try_acquire()  # roles do not exclude each other
    first.release()
    assert second.try_acquire()
    second.release()


def test_one_embedded_worker_consumes_and_another_takes_over(db: Database) -> None:
    settings = Settings(database_url=db.url, detection_enabled=False)
    workers = [ModerationWorker(db, settings, PolicyStore(), None, standby=0.05) for _ in range(2)]
    polls = [0, 0]
    for n, worker in enumerate(workers):
        original = worker.consumer.poll

        def counted(original=original, n=n) -> int:
            polls[n] += 1
            return original()

        worker.consumer.poll = counted  # type: ignore[method-assign]
    workers[0].start()
    threading.Event().wait(0.3)
    workers[1].start()
    threading.Event().wait(0.5)
    assert polls[0] > 0 and polls[1] == 0  # the second waits while the first holds the role
    workers[0].stop()
    threading.Event().wait(0.5)
    assert polls[1] > 0  # and takes it over once the first has gone
    workers[1].stop()


def test_a_consumer_of_some_types_passes_the_others_over_without_a_trace(db: Database) -> None:
    """The Web Push consumer wants `notification.created` alone: the other events cost it no transaction
    and no `processed_events` row, yet its position moves past them, and a wanted event that failed
    comes back on the next poll (found among the late ones by its type)."""
    from sqlalchemy import func

    from warden.cases.worker import Consumer, OutboxSource
    from warden.store.moderation_models import ProcessedEvent

    with db.write() as session:
        for kind in ("status.created", "notification.created", "status.deleted", "notification.created"):
            session.add(OutboxEvent(type=kind, subject_id=None, payload={}))
    with db.read() as session:
        ids = list(session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)))
    seen: set[int] = set()  # (a handler call inside a chunk that failed is made again, alone)
    fail = {ids[3]}

    def handler(_session: object, event: object) -> None:
        if event.id in fail:  # type: ignore[attr-defined]
            raise RuntimeError("not yet")
        seen.add(event.id)  # type: ignore[attr-defined]

    consumer = Consumer("types-test", db, OutboxSource(db), handler, retry_base=0.0,
                        types=frozenset({"notification.created"}))
    consumer.poll()
    assert seen == {ids[1]}
    assert consumer.position() == ids[2]  # past the unwanted ones, up to the failed one
    fail.clear()
    consumer.poll()
    assert seen == {ids[1], ids[3]}
    assert consumer.position() == ids[3]
    with db.read() as session:
        rows = set(session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == "types-test")))
        assert rows == {ids[1], ids[3]}
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)
                              .where(ProcessedEvent.consumer == "types-test")) == 2
