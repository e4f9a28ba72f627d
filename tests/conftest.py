"""Shared test fixtures: a live Warden server per database backend.

Every test that uses `server` (or the fixtures built on it) runs twice: once against SQLite and
once against PostgreSQL (127.0.0.1:5432, database `test`). Each backend gets a fresh database for
the session, migrated with Alembic, and a real uvicorn server on a free loopback port, so tests
talk HTTP to the same stack production runs.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text

from tests.helpers import LiveServer
from warden.api.app import create_app
from warden.config import Settings
from warden.store.db import Database
from warden.store.migrate import upgrade

PG_ADMIN_URL = os.environ.get("WARDEN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def tmp_data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="warden-test-") as path:
        yield Path(path)


def _fresh_database_url(backend: str, data_dir: Path) -> tuple[str, object]:
    """A URL for an empty database of `backend`, and a callable that drops it afterwards."""
    if backend == "sqlite":
        path = data_dir / f"warden-{secrets.token_hex(4)}.sqlite3"
        return f"sqlite:///{path}", lambda: None
    name = f"warden_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


#: Statements of reasons checked against the DSA Transparency Database's rules as each test database
#: is dropped (issue 30: every statement the test suite's decisions produce must pass).
STATEMENTS_CHECKED = {"databases": 0, "statements": 0, "invalid": 0}


def invalid_statements(url: str) -> list[str]:
    """Every exported statement in the database at `url` that breaks a ported Transparency Database
    rule, as "puid: rule" lines; counts what it checked in STATEMENTS_CHECKED."""
    from sqlalchemy.orm import Session

    from warden.transparency import export

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            problems = []
            for item in export.statements(session, Settings(database_url=url)):
                STATEMENTS_CHECKED["statements"] += 1
                problems += [f"{item.decision.id}: {v}" for v in item.violations]
    finally:
        engine.dispose()
    STATEMENTS_CHECKED["databases"] += 1
    STATEMENTS_CHECKED["invalid"] += len({p.split(":", 1)[0] for p in problems})
    return problems


def make_database(backend: str, data_dir: Path) -> tuple[str, object]:
    url, drop = _fresh_database_url(backend, data_dir)
    upgrade(url)

    def checked_drop() -> None:
        try:
            problems = invalid_statements(url)
        finally:
            drop()  # type: ignore[operator]
        assert not problems, f"statements of reasons the Transparency Database would refuse: {problems[:10]}"

    return url, checked_drop


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STATEMENTS_CHECKED["databases"]:
        terminalreporter.write_line(
            f"statements of reasons checked against the DSA Transparency Database rules: "
            f"{STATEMENTS_CHECKED['statements']} from {STATEMENTS_CHECKED['databases']} test databases, "
            f"{STATEMENTS_CHECKED['invalid']} invalid (a database with an invalid one fails at teardown)")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_data_dir: Path) -> Iterator[str]:
    url, drop = make_database(backend, tmp_data_dir)
    yield url
    drop()  # type: ignore[operator]


def start_server(settings: Settings, *, wrap: Callable[[Any], Any] | None = None,
                 **app_kwargs: object) -> tuple[uvicorn.Server, threading.Thread, Database]:
    """Serve Warden on `settings.base_url`'s port in a thread; `wrap`: ASGI middleware a test puts
    around the app (tests/clients records every answer with it)."""
    db = Database(settings.database_url)
    app = create_app(settings, db=db, **app_kwargs)  # type: ignore[arg-type]
    if wrap is not None:
        app = wrap(app)
    port = int(settings.base_url.rsplit(":", 1)[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return server, thread, db


@contextmanager
def server_with_gate(database_url: str, backend: str, gate: Any) -> Iterator[LiveServer]:
    """Another live server on this backend's database whose moderation gate is `gate` (no worker)."""
    port = _free_port()
    settings = Settings(database_url=database_url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False)
    srv, thread, db = start_server(settings, gate=gate, worker=False)
    try:
        yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend)
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


@pytest.fixture(scope="session")
def server(database_url: str, backend: str, tmp_data_dir: Path) -> Iterator[LiveServer]:
    """A live Warden server on this backend (detection off: platform tests see an allow-all gate)."""
    port = _free_port()
    settings = Settings(database_url=database_url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False,
                        media_dir=str(tmp_data_dir / f"media-{backend}"))
    srv, thread, db = start_server(settings)
    live = LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend)
    yield live
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http
