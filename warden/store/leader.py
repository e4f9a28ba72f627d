"""One holder at a time across processes: who runs the outbox relay, or the embedded moderation worker.

PostgreSQL: a session advisory lock held on a connection of its own (released by the server when the
process dies, or by `release`). SQLite: an exclusive `flock` on `<database>.<name>.lock` (released by
the kernel when the process dies). Either way a process that dies hands the role on without anyone
cleaning up, and the others, which keep trying, take it over.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from warden.store.db import Database

log = logging.getLogger("warden.leader")


class LeaderLock:
    """`try_acquire()` without waiting; `check()` whether it is still held; `release()`."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self.key = zlib.crc32(f"warden-{name}".encode())
        self._conn: Any = None
        self._file: int | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.db.is_sqlite:
            path = make_url(self.db.url).database or ":memory:"
            if path == ":memory:":  # a database no other process can open: this process is the only one
                self._file = -1
                return True
            fd = os.open(f"{path}.{self.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._file = fd
            return True
        conn = self.db.write_engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def check(self) -> bool:
        """Still held? (A PostgreSQL connection that broke took the lock with it.)"""
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            self._conn.invalidate()  # the server session (and with it the lock) is gone
            self._conn = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:  # the connection goes back to the pool: unlock first (a dead one is discarded instead)
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                self._conn.commit()
                self._conn.close()
            except Exception:
                self._conn.invalidate()
            self._conn = None
        if self._file is not None:
            if self._file >= 0:
                os.close(self._file)
            self._file = None


def lead(lock: LeaderLock, stop: threading.Event, poll: Callable[[], bool], *, idle: float,
         standby: float = 1.0, check_every: float = 5.0) -> None:
    """Run `poll` while this process holds `lock`, until `stop` is set: again at once while `poll` returns
    True (it had a full batch), otherwise after `idle` seconds. Without the lock, try again every `standby`
    seconds (so another process's holder is replaced within about that long of dying). Releases at the end."""
    checked = 0.0
    try:
        while not stop.is_set():
            if not lock.try_acquire():
                stop.wait(standby)
                continue
            if time.monotonic() - checked > check_every:
                checked = time.monotonic()
                if not lock.check():
                    continue
            try:
                more = poll()
            except Exception:
                log.exception("%s: poll failed", lock.name)
                more = False
            if not more:
                stop.wait(idle)
    finally:
        lock.release()
