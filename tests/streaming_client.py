"""A small WebSocket client for the streaming tests (the `websockets` library, synchronous API).

Absence is never asserted by waiting: a test posts what must not arrive, then a marker that must, and
checks the marker is the first thing that came. Streams deliver in outbox order, one event at a time.
"""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.helpers import LiveServer, User, eventually


class Stream:
    def __init__(self, server: LiveServer, user: User | None, *, query: str = "", token: str | None = None,
                 subprotocol: bool = False) -> None:
        url = server.url.replace("http://", "ws://") + "/api/v1/streaming" + (f"?{query}" if query else "")
        token = token or (user.token if user else None)
        headers = {"Authorization": f"Bearer {token}"} if token and not subprotocol else None
        protocols = [token] if token and subprotocol else None
        self.ws: ClientConnection = connect(url, additional_headers=headers, subprotocols=protocols,  # type: ignore[arg-type]
                                            open_timeout=10).__enter__()

    def subscribe(self, stream: str, **extra: str) -> None:
        self.ws.send(json.dumps({"type": "subscribe", "stream": stream, **extra}))

    def unsubscribe(self, stream: str, **extra: str) -> None:
        self.ws.send(json.dumps({"type": "unsubscribe", "stream": stream, **extra}))

    def sync(self) -> None:
        """Wait until the server has handled every message sent so far: it answers a subscription to an
        unknown stream with an error frame, after the ones before it."""
        self.ws.send(json.dumps({"type": "subscribe", "stream": "no-such-stream"}))
        frame = self.next()
        assert frame == {"error": "Unknown stream type", "status": 400}, frame

    def next(self, timeout: float = 15.0) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout))

    def next_event(self, event: str | None = None, timeout: float = 15.0) -> dict[str, Any]:
        """The next frame (of type `event`); frames of other types in between fail the test."""
        frame = self.next(timeout)
        if event is not None:
            assert frame.get("event") == event, frame
        return frame

    def close(self) -> None:
        self.ws.__exit__(None, None, None)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def payload(frame: dict[str, Any]) -> Any:
    return json.loads(frame["payload"])


def post(user: User, text: str, **fields: Any) -> dict[str, Any]:
    response = user.post("/api/v1/statuses", data={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


__all__ = ["Stream", "payload", "post", "eventually"]
