"""The open streams of one server process: who is connected, to which streams, and what each was shown.

A `Connection` is one WebSocket (or server-sent events response) of one account. It subscribes to
Mastodon's streams (`user`, `public:local`, `hashtag` with a tag, ...) and owns a bounded queue of
`Frame`s that its transport writes out; a client too slow to drain it is disconnected rather than
allowed to grow the server's memory. Each connection remembers which statuses it was shown (and by
whom), so a later deletion, removal, hold or suspension can send `delete` to exactly the streams
that showed the post.

Everything here runs on the event loop; nothing touches the database.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from warden.observability.metrics import STREAM_CONNECTIONS

#: Mastodon's stream names (docs.joinmastodon.org/methods/streaming/#streams). Warden has no federation,
#: so the `:remote` streams are accepted and stay quiet.
STREAMS = ("user", "user:notification", "public", "public:media", "public:local", "public:local:media",
           "public:remote", "public:remote:media", "hashtag", "hashtag:local", "list", "direct")
#: The scope each stream needs besides a user token (`read` grants both).
NOTIFICATION_STREAMS = ("user", "user:notification")
QUEUE_FRAMES = 1000
REMEMBERED_STATUSES = 5000


@dataclass(frozen=True)
class Subscription:
    """One stream of a connection: its name and, for `hashtag*`, the (lower-cased) tag or, for `list`,
    the list id."""

    stream: str
    param: str | None = None

    @property
    def names(self) -> list[str]:
        """What a frame's `stream` field says, e.g. `["hashtag", "cats"]`."""
        return [self.stream, self.param] if self.param is not None else [self.stream]


@dataclass(frozen=True)
class Frame:
    """One event for one subscription; `payload` is already a string (a JSON document or an id)."""

    stream: list[str]
    event: str
    payload: str | None = None

    @functools.cached_property
    def websocket_text(self) -> str:
        """The frame as sent on a WebSocket (computed once: one frame object goes to many connections)."""
        body: dict[str, object] = {"stream": self.stream, "event": self.event}
        if self.payload is not None:
            body["payload"] = self.payload
        return orjson.dumps(body).decode()

    def sse_text(self) -> str:
        data = self.payload if self.payload is not None else "undefined"
        return f"event: {self.event}\ndata: {data}\n\n"


@dataclass
class Shown:
    """A status a connection was shown: whose it is (the author, and the reblogged author for a reblog),
    what it reblogs, and on which streams it went out."""

    account_ids: frozenset[int]
    reblog_of_id: int | None
    streams: list[list[str]] = field(default_factory=list)


class Connection:
    def __init__(self, account_id: int, scopes: frozenset[str], *, queue_frames: int = QUEUE_FRAMES) -> None:
        self.account_id = account_id
        self.scopes = scopes
        self.subscriptions: set[Subscription] = set()
        #: Frames waiting for the transport (a str: an error reply, sent as is on a WebSocket); None asks
        #: the transport to close the connection.
        self.queue: asyncio.Queue[Frame | str | None] = asyncio.Queue(maxsize=queue_frames)
        self.shown: OrderedDict[int, Shown] = OrderedDict()
        self.closed = False

    def send(self, frame: Frame | str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:  # a client that does not read: drop it, it can reconnect
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        while True:  # make room for the close marker
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    def remember(self, status_id: int, shown: Shown, stream: list[str]) -> None:
        entry = self.shown.get(status_id)
        if entry is None:  # a copy: `shown` describes the status for every connection it went to
            self.shown[status_id] = entry = Shown(shown.account_ids, shown.reblog_of_id, [])
            while len(self.shown) > REMEMBERED_STATUSES:
                self.shown.popitem(last=False)
        if stream not in entry.streams:
            entry.streams.append(stream)

    def retract(self, status_id: int) -> None:
        """Send `delete` for `status_id` and for reblogs of it that this connection was shown."""
        doomed = [sid for sid, entry in self.shown.items() if sid == status_id or entry.reblog_of_id == status_id]
        self._retract(doomed)

    def retract_account(self, account_id: int) -> None:
        """Send `delete` for everything shown that `account_id` wrote or that reblogs it."""
        self._retract([sid for sid, entry in self.shown.items() if account_id in entry.account_ids])

    def _retract(self, status_ids: Iterable[int]) -> None:
        for status_id in list(status_ids):
            entry = self.shown.pop(status_id)
            for stream in entry.streams:
                self.send(Frame(stream=stream, event="delete", payload=str(status_id)))


class Hub:
    """The connections of one app, indexed by account."""

    def __init__(self) -> None:
        self._connections: set[Connection] = set()
        self._by_account: dict[int, set[Connection]] = {}
        _HUBS.add(self)

    def add(self, connection: Connection) -> None:
        self._connections.add(connection)
        self._by_account.setdefault(connection.account_id, set()).add(connection)
        STREAM_CONNECTIONS.set(connection_count())  # this process's share of the livesum gauge

    def remove(self, connection: Connection) -> None:
        self._connections.discard(connection)
        peers = self._by_account.get(connection.account_id)
        if peers is not None:
            peers.discard(connection)
            if not peers:
                del self._by_account[connection.account_id]
        STREAM_CONNECTIONS.set(connection_count())

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._connections))

    def __len__(self) -> int:
        return len(self._connections)

    def of_account(self, account_id: int) -> list[Connection]:
        return list(self._by_account.get(account_id, ()))

    def close_all(self) -> None:
        for connection in self:
            connection.close()


_HUBS: weakref.WeakSet[Hub] = weakref.WeakSet()


def connection_count() -> int:
    """Open stream connections in this process (every app in it), for the metrics gauge."""
    return sum(len(hub) for hub in list(_HUBS))


def subscription_counts() -> dict[str, int]:
    """Subscriptions in this process by stream name (`user`, `public:local`, ...)."""
    counts = dict.fromkeys(STREAMS, 0)
    for hub in list(_HUBS):
        for connection in hub:
            for subscription in connection.subscriptions:
                counts[subscription.stream] += 1
    return counts
