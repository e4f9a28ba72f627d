"""Mastodon JSON shapes for Warden's models.

`Presenter` renders lists in a fixed number of queries (authors, reblogged originals, the viewer's
favourites and reblogs, mentions and tags are each loaded once per page), which keeps timeline reads fast.
The home timeline goes further (`page_json`): its one query brings every rendered value, and each
status's JSON is cached by those values, so a busy page is mostly joined from bytes already encoded.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from html import escape
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from warden import __version__
from warden.cases import outcomes
from warden.api import client2_render
from warden.config import Settings
from warden.media.service import attachment_json
from warden.platform import filters
from warden.platform.accounts import Relationship
from warden.platform.statuses import can_see
from warden.platform.timelines import AUTHOR_COLUMNS, PAGE_BOOLEANS, PAGE_DATETIMES
from warden.store.client_models import AccountConversation, Bookmark
from warden.store.models import Account, Favourite, Notification, Report, Status, Tag

MASTODON_COMPAT_VERSION = "4.2.0"
DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


#: Rows (columns by name) are enough to render; they are much cheaper than ORM instances on hot paths.
_STATUS_ROWS = select(Status.__table__).where(Status.__table__.c.id.in_(bindparam("ids", expanding=True)))
_ACCOUNT_ROWS = select(Account.__table__).where(Account.__table__.c.id.in_(bindparam("ids", expanding=True)))


def iso(value: datetime | None) -> str | None:
    """Mastodon's timestamp format: UTC, milliseconds, a trailing Z."""
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


def note_html(note: str) -> str:
    return "".join(f"<p>{escape(p).replace(chr(10), '<br />')}</p>" for p in note.split("\n\n") if p.strip())


def _render_account(base: str, account: Any, *, source: bool = False) -> dict[str, Any]:
    url = f"{base}/@{account.username}"
    data: dict[str, Any] = {
        "id": str(account.id),
        "username": account.username,
        "acct": account.username,
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "group": False,
        "created_at": iso(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": note_html(account.note),
        "url": url,
        "uri": f"{base}/users/{account.username}",
        "avatar": base + DEFAULT_AVATAR,
        "avatar_static": base + DEFAULT_AVATAR,
        "header": base + DEFAULT_HEADER,
        "header_static": base + DEFAULT_HEADER,
        "followers_count": max(account.followers_count, 0),
        "following_count": max(account.following_count, 0),
        "statuses_count": max(account.statuses_count, 0),
        "last_status_at": account.last_status_at.date().isoformat() if account.last_status_at else None,
        "noindex": False,
        "emojis": [],
        "fields": [],
        "roles": ([{"id": account.role, "name": account.role.capitalize(), "color": ""}]
                  if account.role != "user" else []),
    }
    if account.suspended_at is not None:
        data["suspended"] = True
    if source:
        data["source"] = {"privacy": "public", "sensitive": False, "language": account.locale,
                          "note": account.note, "fields": [], "follow_requests_count": 0}
        data["role"] = {"id": account.role, "name": account.role, "permissions": "0", "color": "",
                        "highlighted": False}
    return data


@functools.lru_cache(maxsize=50_000)
def _account_json(base: str, row: Row[Any]) -> dict[str, Any]:
    """Rendered account rows, shared by every request (callers must not modify the result)."""
    return _render_account(base, row)


@functools.lru_cache(maxsize=10_000)
def _page_status_json(base: str, row: Row[Any], own: bool) -> bytes:
    """One status of a `timelines.home_page` row, rendered to JSON bytes and shared by every request.

    The row holds everything the JSON shows (the status, its author, the viewer's flags), so it is its
    own cache key: a changed counter, a new display name or a favourite is a different key, never a
    stale entry. `own`: whether the viewer wrote it (they alone see its moderation state)."""
    values = dict(row._mapping)
    for name in PAGE_DATETIMES:
        values[name] = page_datetime(values[name])
    for name in PAGE_BOOLEANS:  # SQLite's 0 and 1 on a direct read (`timelines.home_page_direct`)
        values[name] = None if values[name] is None else bool(values[name])
    status = SimpleNamespace(**values)
    status.mention_list = orjson.loads(row.mention_json) if row.mention_json else []
    status.tag_list = orjson.loads(row.tag_json) if row.tag_json else []
    status.media_list = orjson.loads(row.media_json) if row.media_json else None
    author = SimpleNamespace(**{name: values[f"author_{name}"] for name in AUTHOR_COLUMNS})
    data = Presenter._render_status(base, status, _account_json(base, _AuthorKey(author)),
                                    row.favourited, row.reblogged, own, bookmarked=row.bookmarked)
    return orjson.dumps(data)


def page_needs_general(rows: list[Any]) -> bool:
    """Whether a home page must be rendered for its viewer, not from the cache: it has reblogs, polls,
    pins or muted threads, or the viewer has filters."""
    return any(row.reblog_of_id is not None or client2_render.row_needs_general(row) for row in rows) \
        or bool(rows and rows[0].viewer_filters)


def cached_page_json(base: str, viewer_id: int | None, rows: list[Any]) -> bytes:
    """A home page that needs nothing but its rows (not `page_needs_general`) from cached statuses."""
    return b"[" + b",".join(_page_status_json(base, row, row.account_id == viewer_id) for row in rows) + b"]"


def page_datetime(value: str | datetime | None) -> datetime | None:
    """A page row's timestamp as the model's columns give it (aware, UTC): SQLite returns the stored
    text, PostgreSQL a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _AuthorKey:
    """An author read from a page row, hashable by its values, for `_account_json`'s cache."""

    __slots__ = ("account", "_key")

    def __init__(self, account: SimpleNamespace) -> None:
        self.account = account
        self._key = tuple(vars(account).values())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.account, name)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _AuthorKey) and self._key == other._key


class Presenter:
    def __init__(self, session: Session, settings: Settings, viewer_id: int | None) -> None:
        self.session = session
        self.settings = settings
        self.viewer_id = viewer_id

    # --- accounts ---------------------------------------------------------------------------

    def account(self, account: Account | Row[Any], *, source: bool = False) -> dict[str, Any]:
        if isinstance(account, Row) and not source:
            # A row's values are its cache key: any change to the account is a different key.
            return _account_json(self.settings.base_url, account)
        return _render_account(self.settings.base_url, account, source=source)

    def accounts(self, rows: list[Account]) -> list[dict[str, Any]]:
        return [self.account(a) for a in rows]

    # --- statuses ---------------------------------------------------------------------------

    def statuses(self, rows: list[Status], *, context: str | None = None) -> list[dict[str, Any]]:
        """Mastodon Status entities for `rows` (reblogs of things the viewer cannot see are dropped).
        With a filter `context`, the viewer's filters for it apply (`apply_filters`).

        Three queries at most, whatever the page size: reblogged originals, authors, and the viewer's
        own favourites and reblogs. Mentions and tags are stored on the status itself.
        """
        if not rows:
            return []
        session = self.session
        originals_ids = {s.reblog_of_id for s in rows if s.reblog_of_id is not None}
        conn = session.connection()
        originals = ({s.id: s for s in conn.execute(_STATUS_ROWS, {"ids": list(originals_ids)})}
                     if originals_ids else {})
        everything = list(rows) + list(originals.values())
        ids = [s.id for s in everything]
        account_ids = {s.account_id for s in everything}
        authors = {a.id: a for a in conn.execute(_ACCOUNT_ROWS, {"ids": list(account_ids)})}
        favourited: set[int] = set()
        reblogged: set[int] = set()
        bookmarked: set[int] = set()
        if self.viewer_id is not None:
            flags = session.execute(union_all(
                select(Favourite.status_id, literal("f")).where(Favourite.account_id == self.viewer_id,
                                                                 Favourite.status_id.in_(ids)),
                select(Status.reblog_of_id, literal("r")).where(
                    Status.account_id == self.viewer_id, Status.reblog_of_id.in_(ids), Status.deleted_at.is_(None)),
                select(Bookmark.status_id, literal("b")).where(Bookmark.account_id == self.viewer_id,
                                                               Bookmark.status_id.in_(ids)),
            )).all()
            for status_id, kind in flags:
                {"f": favourited, "r": reblogged, "b": bookmarked}[kind].add(status_id)

        def render(status: Status) -> dict[str, Any]:
            return self._status(status, authors[status.account_id], status.id in favourited,
                                status.id in reblogged, bookmarked=status.id in bookmarked)

        out: list[dict[str, Any]] = []
        for status in rows:
            if status.reblog_of_id is None:
                out.append(render(status))
                continue
            original = originals.get(status.reblog_of_id)
            if original is None or not can_see(session, self.viewer_id, original, authors.get(original.account_id)):
                continue
            wrapper = self._status(status, authors[status.account_id], False, False)
            wrapper["reblog"] = render(original)
            wrapper["content"] = ""
            wrapper["reblogged"] = original.id in reblogged
            wrapper["favourited"] = original.id in favourited
            wrapper["bookmarked"] = original.id in bookmarked
            out.append(wrapper)
        client2_render.decorate(session, self.viewer_id, out, everything)
        if context is not None:
            out = self.apply_filters(out, context)
        return out

    def apply_filters(self, rendered: list[dict[str, Any]], context: str) -> list[dict[str, Any]]:
        """The viewer's filters for `context` (home, public, thread, account, notifications) applied to
        rendered statuses: `filtered` set, `hide` matches dropped (`platform/filters.py`)."""
        if self.viewer_id is None or not rendered:
            return rendered
        active = filters.active_filters(self.session, [self.viewer_id], context).get(self.viewer_id, [])
        return filters.apply_to_statuses(active, rendered, iso)

    def new_status(self, status: Status, author: Account) -> dict[str, Any]:
        """A post the viewer (`author`) has just written, in its write transaction: no queries, since
        nobody can have favourited or reblogged it yet and the author is loaded already."""
        data = self._status(status, author, False, False)
        if getattr(status, "warden_new_poll", None) is not None:  # a poll written with it (statuses.create)
            client2_render.decorate(self.session, self.viewer_id, [data], [status])
        return data

    def status(self, status: Status) -> dict[str, Any]:
        rendered = self.statuses([status])
        if not rendered:
            raise LookupError("status not visible")
        return rendered[0]

    def page_json(self, rows: list[Row[Any]]) -> bytes:
        """A home page (`timelines.home_page` rows) as the JSON list of Mastodon statuses, built from
        cached per-status JSON. A page with reblogs takes the general path (`statuses`), which loads
        and checks the reblogged originals."""
        if page_needs_general(rows):
            ids = [row.id for row in rows]
            full = {row.id: row for row in self.session.connection().execute(_STATUS_ROWS, {"ids": ids})}
            return orjson.dumps(self.statuses([full[i] for i in ids if i in full], context="home"),
                                option=orjson.OPT_NON_STR_KEYS)
        return cached_page_json(self.settings.base_url, self.viewer_id, rows)

    def _status(self, status: Status, author: Account, favourited: bool, reblogged: bool, *,
                bookmarked: bool = False) -> dict[str, Any]:
        return self._render_status(self.settings.base_url, status, self.account(author), favourited, reblogged,
                                   self.viewer_id == status.account_id, bookmarked=bookmarked)

    @staticmethod
    def _render_status(base: str, status: Any, account: dict[str, Any], favourited: bool, reblogged: bool,
                       own: bool, *, bookmarked: bool = False) -> dict[str, Any]:
        url = f"{base}/@{account['username']}/{status.id}"
        spoiler = status.spoiler_text or (status.moderation_label or "")
        data: dict[str, Any] = {
            "id": str(status.id),
            "uri": f"{base}/users/{account['username']}/statuses/{status.id}",
            "url": url,
            "created_at": iso(status.created_at),
            "edited_at": iso(status.edited_at),
            "account": account,
            "content": status.content_html,
            "text": None,
            "visibility": status.visibility,
            "sensitive": bool(status.sensitive) or bool(spoiler),
            "spoiler_text": spoiler,
            "media_attachments": [attachment_json(base, entry) for entry in status.media_list or ()],
            "application": None,
            "mentions": [{"id": str(m["id"]), "username": m["username"], "acct": m["username"],
                          "url": f"{base}/@{m['username']}"} for m in status.mention_list or []],
            "tags": [{"name": name, "url": f"{base}/tags/{name}"} for name in status.tag_list or []],
            "emojis": [],
            "reblogs_count": max(status.reblogs_count, 0),
            "favourites_count": max(status.favourites_count, 0),
            "replies_count": max(status.replies_count, 0),
            "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
            "in_reply_to_account_id": str(status.in_reply_to_account_id) if status.in_reply_to_account_id else None,
            "reblog": None,
            "poll": None,
            "card": None,
            "language": status.language,
            "favourited": bool(favourited),
            "reblogged": bool(reblogged),
            "muted": False,
            "bookmarked": bool(bookmarked),
            "pinned": False,
            "filtered": [],
        }
        if own and (status.state != "published" or status.limited):
            data["warden"] = {"state": status.state, "limited": bool(status.limited),
                              "decision_id": status.decision_id}
        return data

    # --- the rest ---------------------------------------------------------------------------

    def notifications(self, rows: list[Notification]) -> list[dict[str, Any]]:
        if not rows:
            return []
        senders = {a.id: a for a in self.session.scalars(
            select(Account).where(Account.id.in_({n.from_account_id for n in rows})))}
        status_ids = [n.status_id for n in rows if n.status_id is not None]
        statuses = {s.id: s for s in self.session.scalars(select(Status).where(Status.id.in_(status_ids)))} \
            if status_ids else {}
        visible = {s.id: s for s in statuses.values() if can_see(self.session, self.viewer_id, s)}
        rendered = {int(d["id"]): d for d in self.statuses(list(visible.values()), context="notifications")}
        out = []
        warnings: tuple[dict[str, Any], dict[str, Any]] | None = None
        for n in rows:
            entry: dict[str, Any] = {"id": str(n.id), "type": n.type, "created_at": iso(n.created_at),
                                     "account": self.account(senders[n.from_account_id]), "status": None}
            if n.status_id is not None:
                entry["status"] = rendered.get(n.status_id)
                if entry["status"] is None and n.type != "moderation_warning":
                    continue
            if n.data:
                if n.type == "moderation_warning":  # Mastodon's AccountWarning (cases/outcomes.py)
                    warnings = warnings if warnings is not None else self._warning_context(rows)
                    entry["moderation_warning"] = outcomes.account_warning(
                        n.data, target_account=warnings[0], appeal=warnings[1].get(str(n.data.get("id"))))
                else:
                    entry["moderation_warning"] = n.data
            out.append(entry)
        return out

    def _warning_context(self, rows: list[Notification]) -> tuple[dict[str, Any], dict[str, Any]]:
        """For moderation warnings: the reader's account (their `target_account`) and appeals by decision."""
        reader = self.session.get(Account, rows[0].account_id)
        ids = [str(n.data.get("id")) for n in rows if n.type == "moderation_warning" and n.data]
        return (self.account(reader) if reader is not None else {}), outcomes.appeals_of(self.session, ids)
    def conversations(self, rows: list[AccountConversation]) -> list[dict[str, Any]]:
        """Mastodon Conversation entities: the other participants and the newest post the viewer may
        still see (None when it was deleted or removed)."""
        if not rows:
            return []
        participant_ids = {int(i) for row in rows for i in row.participant_ids or []}
        people = {a.id: a for a in self.session.scalars(select(Account).where(Account.id.in_(participant_ids)))} \
            if participant_ids else {}
        last = {s.id: s for s in self.session.scalars(select(Status).where(
            Status.id.in_([row.last_status_id for row in rows])))}
        visible = [s for s in last.values() if can_see(self.session, self.viewer_id, s)]
        rendered = {int(d["id"]): d for d in self.statuses(visible)}
        return [{"id": str(row.id), "unread": bool(row.unread),
                 "accounts": [self.account(people[int(i)]) for i in row.participant_ids or [] if int(i) in people],
                 "last_status": rendered.get(row.last_status_id)} for row in rows]

    def relationship(self, rel: Relationship) -> dict[str, Any]:
        return {
            "id": str(rel.id), "following": rel.following, "showing_reblogs": rel.showing_reblogs,
            "notifying": rel.notifying, "languages": None, "followed_by": rel.followed_by,
            "blocking": rel.blocking, "blocked_by": rel.blocked_by, "muting": rel.muting,
            "muting_notifications": rel.muting_notifications, "requested": rel.requested,
            "requested_by": rel.requested_by, "domain_blocking": False, "endorsed": rel.endorsed, "note": rel.note,
        }

    def tag(self, tag: Tag) -> dict[str, Any]:
        return {"name": tag.name, "url": f"{self.settings.base_url}/tags/{tag.name}", "history": [],
                "following": False}

    def report(self, report: Report, target: Account) -> dict[str, Any]:
        return {
            "id": str(report.id), "action_taken": report.action_taken_at is not None,
            "action_taken_at": iso(report.action_taken_at), "category": report.category,
            "comment": report.comment, "forwarded": report.forward, "created_at": iso(report.created_at),
            "status_ids": [str(i) for i in report.status_ids] or None,
            "rule_ids": [str(i) for i in report.rule_ids] or None,
            "target_account": self.account(target),
        }


def version_string() -> str:
    return f"{MASTODON_COMPAT_VERSION} (compatible; Warden {__version__})"
