"""From one outbox event to the frames of the open streams it concerns.

Events are handled one at a time, in the order they arrive, by one task per process (so a post's
`update` always goes out before its `delete`). Status and notification events are planned in a worker
thread with one read session: the status is loaded once, the viewers are narrowed by stream and by
`filter.may_see`, and the Status entity is serialized once per viewer class (the author, who may see
Warden's moderation state of their own post, and everyone else). Deletions, removals, holds and
suspensions need no database: each connection remembers what it was shown and retracts it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from warden.api.serializers import Presenter, iso
from warden.config import Settings
from warden.platform import conversations, filters, lists
from warden.platform.scopes import grants
from warden.store.db import Database
from warden.store.models import Account, Notification, Status
from warden.store.outbox import Event
from warden.streaming.filter import followers_among, may_see, stream_wants
from warden.streaming.hub import NOTIFICATION_STREAMS, Connection, Frame, Hub, Shown, Subscription

log = logging.getLogger("warden.streaming")

STATUS_EVENTS = {"status.created": "update", "status.reblogged": "update", "status.updated": "status.update"}
RETRACTING_EVENTS = ("status.deleted", "status.removed", "status.held")
#: The filter context of each stream that carries statuses (as Mastodon's streaming server applies them).
FILTER_CONTEXTS = {"user": "home", "list": "home", "public": "public", "public:local": "public",
                   "hashtag": "public", "hashtag:local": "public"}
#: Every event type the streams act on; feeds drop the rest before queueing.
HANDLED = frozenset([*STATUS_EVENTS, *RETRACTING_EVENTS, "account.suspended", "notification.created"])


@dataclass(frozen=True)
class Target:
    """A connection as the planning thread sees it: a snapshot taken on the event loop."""

    connection: Connection
    account_id: int
    subscriptions: tuple[Subscription, ...]
    notifications: bool


@dataclass
class Delivery:
    connection: Connection
    frame: Frame
    status_id: int | None = None
    shown: Shown | None = None


class Fanout:
    def __init__(self, hub: Hub, db: Database, settings: Settings) -> None:
        self.hub = hub
        self.db = db
        self.settings = settings

    async def handle_many(self, events: list[Event]) -> None:
        """Events in order. A run of new or reblogged posts is planned in one worker-thread trip (a
        backlog, under load, would otherwise pay a thread hand-off per event); the rest one by one."""
        run: list[tuple[int, str]] = []
        for event in events:
            status_id = event.subject_id if event.type == "status.reblogged" else event.payload.get("status_id")
            if event.type in ("status.created", "status.reblogged") and status_id is not None and len(self.hub):
                run.append((int(status_id), STATUS_EVENTS[event.type]))
                continue
            await self._flush(run)
            run = []
            try:
                await self.handle(event)
            except Exception:  # one bad event must not stop the others
                log.exception("streaming: event %s (%s) failed", event.id, event.type)
        await self._flush(run)

    async def _flush(self, run: list[tuple[int, str]]) -> None:
        if not run:
            return
        planned = await asyncio.to_thread(self._plan_run, run, self._targets())
        for deliveries in planned:
            self._deliver(deliveries)

    async def handle(self, event: Event) -> None:
        if not len(self.hub):
            return
        kind = event.type
        if kind in STATUS_EVENTS:
            status_id = event.subject_id if kind == "status.reblogged" else event.payload.get("status_id")
            if status_id is None:
                return
            targets = self._targets()
            deliveries = await asyncio.to_thread(self.plan_status, int(status_id), STATUS_EVENTS[kind], targets)
            reached = self._deliver(deliveries)
            if kind == "status.updated":  # an edit that now hides the post (held): retract it where shown
                for connection in self.hub:
                    if connection not in reached and int(status_id) in connection.shown:
                        connection.retract(int(status_id))
        elif kind in RETRACTING_EVENTS:
            status_id = event.payload.get("status_id", event.subject_id)
            if status_id is not None:
                for connection in self.hub:
                    connection.retract(int(status_id))
        elif kind == "account.suspended":
            account_id = event.payload.get("account_id", event.subject_id)
            if account_id is not None:
                for connection in self.hub:
                    connection.retract_account(int(account_id))
                for connection in self.hub.of_account(int(account_id)):  # a suspended login streams no more
                    connection.close()
        elif kind == "notification.created":
            account_id = event.payload.get("account_id")
            notification_id = event.payload.get("notification_id", event.subject_id)
            if account_id is None or notification_id is None:
                return
            targets = [t for t in self._targets(self.hub.of_account(int(account_id))) if t.notifications and any(
                s.stream in NOTIFICATION_STREAMS for s in t.subscriptions)]
            if targets:
                self._deliver(await asyncio.to_thread(self.plan_notification, int(notification_id), targets))

    def _targets(self, connections: list[Connection] | None = None) -> list[Target]:
        return [Target(c, c.account_id, tuple(c.subscriptions), grants(c.scopes, "read:notifications"))
                for c in (connections if connections is not None else self.hub)
                if c.subscriptions and not c.closed]

    @staticmethod
    def _deliver(deliveries: list[Delivery]) -> set[Connection]:
        reached: set[Connection] = set()
        for d in deliveries:
            d.connection.send(d.frame)
            if d.status_id is not None and d.shown is not None:
                d.connection.remember(d.status_id, d.shown, d.frame.stream)
            reached.add(d.connection)
        return reached

    # --- planning (a worker thread, one read session) -------------------------------------------

    def plan_status(self, status_id: int, event: str, targets: list[Target]) -> list[Delivery]:
        with self.db.read() as session:
            return self._plan_status(session, status_id, event, targets)

    def _plan_run(self, run: list[tuple[int, str]], targets: list[Target]) -> list[list[Delivery]]:
        """A run of posts planned in one read session (one snapshot: each post committed before its event)."""
        planned: list[list[Delivery]] = []
        with self.db.read() as session:
            for status_id, kind in run:
                try:
                    planned.append(self._plan_status(session, status_id, kind, targets))
                except Exception:  # one bad post must not cost the others in its run
                    log.exception("streaming: planning status %s failed", status_id)
                    session.rollback()
                    planned.append([])
        return planned

    def _plan_status(self, session: Any, status_id: int, event: str, targets: list[Target]) -> list[Delivery]:
        status = session.get(Status, status_id)
        if status is None:
            return []
        author = session.get(Account, status.account_id)
        if author is None:
            return []
        original = session.get(Status, status.reblog_of_id) if status.reblog_of_id is not None else None
        if status.reblog_of_id is not None and original is None:
            return []
        tags = set(status.tag_list or [])
        followers = followers_among(session, status.account_id, {t.account_id for t in targets})
        followers -= lists.exclusive_owners(session, status.account_id, followers)  # read on their lists
        list_ids = {int(s.param) for t in targets for s in t.subscriptions if s.stream == "list" and s.param}
        on_lists = {str(i) for i in lists.lists_carrying(session, sorted(list_ids), status)}
        wanted: list[tuple[Target, list[Subscription]]] = []
        for target in targets:
            subs = [s for s in target.subscriptions
                    if stream_wants(s, status, viewer_id=target.account_id, tags=tags, lists=on_lists,
                                    follows_author=target.account_id in followers)]
            if subs:
                wanted.append((target, subs))
        allowed = may_see(session, status, author, {t.account_id for t, _ in wanted}, original=original)
        if not allowed:
            return []

        rendered: dict[int | None, dict[str, Any] | None] = {}

        def entity(viewer_id: int) -> dict[str, Any] | None:
            key = viewer_id if viewer_id == status.account_id else None  # the author's view, or everyone's
            if key not in rendered:
                found = Presenter(session, self.settings, key).statuses([status])
                rendered[key] = found[0] if found else None
            return rendered[key]

        shown = Shown(account_ids=frozenset({status.account_id} | ({original.account_id} if original else set())),
                      reblog_of_id=status.reblog_of_id)
        # viewers' filters (platform/filters.py): their frames are their own, with `filtered`, and a
        # `hide` match is not sent at all
        viewer_filters = filters.active_filters(session, {t.account_id for t, _ in wanted
                                                          if t.account_id in allowed}, None)
        payloads: dict[int | None, str] = {}
        frames: dict[tuple[Any, ...], Frame] = {}
        deliveries: list[Delivery] = []
        for target, subs in wanted:
            if target.account_id not in allowed:
                continue
            data = entity(target.account_id)
            if data is None:
                continue
            key = target.account_id if target.account_id == status.account_id else None
            if key not in payloads:
                payloads[key] = orjson.dumps(data).decode()
            for sub in subs:
                if sub.stream == "direct":
                    frame = Frame(stream=sub.names, event="conversation",
                                  payload=self._conversation(session, status, target.account_id, data))
                elif target.account_id in viewer_filters and FILTER_CONTEXTS.get(sub.stream):
                    context = FILTER_CONTEXTS[sub.stream]
                    mine = [f for f in viewer_filters[target.account_id] if context in (f.row.context or [])]
                    if mine:
                        kept = filters.apply_to_statuses(mine, [orjson.loads(payloads[key])], iso)
                        if not kept:
                            continue
                        frame = Frame(stream=sub.names, event=event, payload=orjson.dumps(kept[0]).decode())
                    else:
                        frame = Frame(stream=sub.names, event=event, payload=payloads[key])
                else:  # one frame object per stream and viewer class, so its text is encoded once
                    frame_key = (*sub.names, key)
                    frame = frames.get(frame_key)  # type: ignore[assignment]
                    if frame is None:
                        frame = frames[frame_key] = Frame(stream=sub.names, event=event, payload=payloads[key])
                deliveries.append(Delivery(target.connection, frame, status.id, shown))
        return deliveries

    def _conversation(self, session: Any, status: Status, viewer_id: int, last_status: dict[str, Any]) -> str:
        """Mastodon's Conversation entity for a direct post: the viewer's conversation row, which the
        post's write transaction brought up to date (`platform/conversations.py`)."""
        row = conversations.for_status(session, viewer_id, status)
        participants = {status.account_id} | {int(m["id"]) for m in status.mention_list or []}
        if row is not None:
            participants |= {int(i) for i in row.participant_ids or []}
        others = [a for a in session.scalars(select(Account).where(Account.id.in_(participants - {viewer_id})))]
        presenter = Presenter(session, self.settings, viewer_id)
        return orjson.dumps({"id": str(row.id if row is not None else conversations.root_of(session, status)),
                             "unread": bool(row.unread) if row is not None else viewer_id != status.account_id,
                             "accounts": [presenter.account(a) for a in others],
                             "last_status": last_status}).decode()

    def plan_notification(self, notification_id: int, targets: list[Target]) -> list[Delivery]:
        with self.db.read() as session:
            notification = session.get(Notification, notification_id)
            if notification is None or notification.dismissed_at is not None:
                return []
            found = Presenter(session, self.settings, notification.account_id).notifications([notification])
            if not found:
                return []
            payload = orjson.dumps(found[0]).decode()
        return [Delivery(t.connection, Frame(stream=s.names, event="notification", payload=payload))
                for t in targets for s in t.subscriptions if s.stream in NOTIFICATION_STREAMS]
