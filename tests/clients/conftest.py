"""Stock clients (Mastodon.py, toot, masto.js), unmodified, against a live Warden server (issue 33).

The `watched` server is a live server like `server` (its own fresh database on each backend), whose
app is wrapped in `RequestLog`: a pure ASGI wrapper in the test harness only (Warden itself is not
changed) that notes the method, path and status of every answer and passes everything through
untouched. A flow opens a `window` on the log and ends with `window.assert_clean()`: no request the
client made while the flow ran was answered 404 (an endpoint Warden lacks or a route it misnames) or 5xx.
Reading the server's side covers every request a client makes, whether it runs in this process (Mastodon.py),
in a child process (the toot command line) or in Node.js (masto.js), with no hook in the libraries.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer
from warden.config import Settings


@dataclass(frozen=True)
class Answer:
    method: str
    path: str
    status: int

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class RequestLog:
    """Every HTTP answer the wrapped app gave, in order (appended from the server's thread)."""

    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def observed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def note(message: Message) -> None:
                if message["type"] == "http.response.start":
                    with self.lock:
                        self.answers.append(Answer(scope["method"], scope["path"], int(message["status"])))
                await send(message)

            await app(scope, receive, note)

        return observed

    def window(self) -> "Window":
        with self.lock:
            return Window(self, len(self.answers))


@dataclass
class Window:
    log: RequestLog
    start: int

    def answers(self) -> list[Answer]:
        with self.log.lock:
            return list(self.log.answers[self.start:])

    def assert_clean(self, *, at_least: int = 1) -> list[Answer]:
        """No 404 and no 5xx since the window opened (and the client did talk to the server)."""
        seen = self.answers()
        assert len(seen) >= at_least, f"only {len(seen)} requests reached the server"
        bad = [str(a) for a in seen if a.status == 404 or a.status >= 500]
        assert not bad, "answered 404 or 5xx during the flow:\n" + "\n".join(bad)
        return seen


@pytest.fixture(scope="session")
def watched(backend: str, tmp_data_dir: Path) -> Iterator[LiveServer]:
    """A live Warden server on this backend whose every answer is noted in `extras["log"]`."""
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False,
                        media_dir=str(tmp_data_dir / f"clients-media-{backend}"))  # media storage of its own
    log = RequestLog()
    server, thread, db = start_server(settings, wrap=log.wrap)
    yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend, extras={"log": log})
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


@pytest.fixture
def window(watched: LiveServer) -> Iterator[Window]:
    """The requests from now on (for `assert_clean()` at the end of a flow). A flow that stopped
    early (a library raising on a 404) still lists the server's 404 and 5xx answers on stderr."""
    opened = watched.extras["log"].window()
    yield opened
    bad = [str(a) for a in opened.answers() if a.status == 404 or a.status >= 500]
    if bad:
        print("answered 404 or 5xx during the flow:\n" + "\n".join(bad), file=sys.stderr)


def png_bytes(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    """A small real PNG image made by Pillow."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()
