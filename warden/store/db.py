"""Database connections: one `Database` per process, with read and write sessions.

SQLite (the embedded default) runs in WAL mode so readers never wait for the writer; writes go
through a single connection and start with `BEGIN IMMEDIATE`, so concurrent writers queue in
Python instead of failing with "database is locked". Writers in other processes (`warden serve
--workers N`, a `warden worker`) queue on an exclusive `flock` of `<database>.write.lock`: the kernel
wakes the next one the moment the lock is free, where SQLite's own busy handler would poll with
sleeps of 1, 2, 5, 10 ... ms (a writer that lost the race slept longer than most transactions last).
PostgreSQL uses an ordinary pool.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from warden.store import outbox


def _sqlite_engine(url: str, *, write: bool) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=1 if write else 8,
        max_overflow=0 if write else 8,
        pool_timeout=60,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    begin = "BEGIN IMMEDIATE" if write else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # on the DB-API connection itself: through `exec_driver_sql` it cost 16-20 us of SQLAlchemy's
        # statement machinery for every session
        conn.connection.dbapi_connection.execute(begin)

    return engine


class Database:
    """Owns the engines; hands out sessions that commit on success and roll back on error."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, write=True)
            self.read_engine = _sqlite_engine(url, write=False)
        else:
            self.write_engine = self.read_engine = create_engine(
                url, pool_size=10, max_overflow=20, pool_pre_ping=True, echo=echo
            )
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write_lock = threading.Lock() if self.is_sqlite else None
        database = make_url(url).database if self.is_sqlite else None
        self._write_file = f"{database}.write.lock" if database and database != ":memory:" else None
        self._write_fd: int | None = None
        self._direct_path = database if database and database != ":memory:" else None
        self._direct = threading.local()
        self._direct_all: list[sqlite3.Connection] = []

    def on_outbox_commit(self, callback: Callable[[list[outbox.Event]], None]) -> Callable[[], None]:
        """Call `callback(events)` right after each write transaction that emitted outbox events
        (`outbox.emit`) commits, in the thread that committed, with those events. Events emitted in a
        savepoint that was rolled back are left out, and a released savepoint waits for the outer
        commit. The callback must be quick and must not raise. Returns a function that stops the calls."""

        def committed(session: Session) -> None:
            if session.in_nested_transaction():  # a savepoint released: the outer transaction has not committed
                return
            events = outbox.emitted(session)
            if events:
                callback(events)

        event.listen(self._write_sessions, "after_commit", committed)

        def remove() -> None:
            if event.contains(self._write_sessions, "after_commit", committed):
                event.remove(self._write_sessions, "after_commit", committed)

        return remove

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction, committed (durably) when the block exits cleanly."""
        lock = self._write_lock
        if lock is None:
            with self._write_sessions() as session, session.begin():
                yield session
            return
        with lock:
            fd = self._process_lock()
            try:
                with self._write_sessions() as session, session.begin():
                    yield session
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def _process_lock(self) -> int | None:
        """Take the SQLite database's cross-process write lock (the caller holds the thread lock)."""
        if self._write_file is None:
            return None
        if self._write_fd is None:
            self._write_fd = os.open(self._write_file, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._write_fd, fcntl.LOCK_EX)  # blocks in the kernel, without the GIL
        return self._write_fd

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading: one consistent snapshot, never commits anything."""
        with self._read_sessions() as session:
            yield session  # closing releases the connection; loaded objects stay readable

    @property
    def direct_reads(self) -> bool:
        """Whether `direct_read` is available: a SQLite database in a file."""
        return self._direct_path is not None

    @contextmanager
    def direct_read(self) -> Iterator[sqlite3.Connection]:
        """SQLite only: this thread's own `sqlite3` connection (read-only, `PRAGMA query_only`) in a
        read transaction, one consistent snapshot, ended when the block exits.

        For the hottest reads, which run statements compiled for it (`store/direct.py`) on it:
        on a home page the ORM session and SQLAlchemy's per-statement work cost more CPU than
        SQLite's own. Anything else reads through `read()`."""
        if self._direct_path is None:
            raise RuntimeError("direct reads need a SQLite database in a file")
        conn = getattr(self._direct, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._direct_path, isolation_level=None, check_same_thread=False,
                                   timeout=30, cached_statements=256)
            for pragma in ("query_only=ON", "busy_timeout=30000", "cache_size=-65536", "temp_store=MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
            self._direct.conn = conn
            self._direct_all.append(conn)
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if conn.in_transaction:  # (an error may have ended it already)
                conn.execute("ROLLBACK")  # nothing to keep: it only read

    def dispose(self) -> None:
        for conn in self._direct_all:
            conn.close()
        self._direct_all.clear()
        self._direct = threading.local()
        if self._write_fd is not None:
            os.close(self._write_fd)
            self._write_fd = None
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def insert_if_absent(session: Session, model: Any, values: dict[str, Any], unique: list[str]) -> bool:
    """INSERT ... ON CONFLICT (unique) DO NOTHING, in the session's transaction; True when a row was added.

    For rows that concurrent requests may try to create at once (a tag, a follow, a favourite): on
    PostgreSQL a check-then-insert races and fails on the unique key, this does not."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = model.__table__
    statement = (insert(table).values(**values).on_conflict_do_nothing(index_elements=unique)
                 .returning(table.c[unique[0]]))
    return session.execute(statement).first() is not None  # no row comes back when it already existed


def insert_now(session: Session, obj: Any) -> None:
    """Write a new ORM object with one INSERT ... RETURNING through the session's connection, and put it
    in the session as if it had been loaded: persistent, clean, every column as stored (its id too).

    The same row `session.add(obj); session.flush()` writes, without the unit of work, which for one
    object costs several times its INSERT. For a hot path's single row (a new post); anything that
    relies on flush-time ORM events or on relationships being cascaded should add and flush instead."""
    state = inspect(obj)
    mapper = state.mapper
    values = {prop.columns[0].key: state.dict[prop.key] for prop in mapper.column_attrs if prop.key in state.dict}
    table = mapper.local_table
    row = session.connection().execute(_insert_returning(table), values).one()._mapping
    for prop in mapper.column_attrs:
        set_committed_value(obj, prop.key, row[prop.columns[0]])
    make_transient_to_detached(obj)
    session.add(obj)


@lru_cache(maxsize=None)
def _insert_returning(table: Any) -> Any:
    """One statement per table: built once, its cache key is not worked out again for every row."""
    return insert(table).returning(*table.c)
