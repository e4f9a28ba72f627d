"""Grouped notifications (Mastodon 4.3's `/api/v2/notifications`) and unread counts.

Notifications of a groupable type (favourite, reblog, follow) carry the `group_key` that `notify()` gave
them: favourites or reblogs of one post, or follows, within a span of hours. A page is the newest
`limit` groups in the window; each group gives its total count, its newest notification and up to
eight of its newest senders. A notification of a type the client does not list in `grouped_types`
(or of a type never grouped) is a group of its own, `ungrouped-<id>`.

Unread counts are what lies after the reader's notifications marker (`/api/v1/markers`), as Mastodon
counts them; without a marker every notification is unread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from warden.errors import NotFound
from warden.platform.notifications import GROUPED_TYPES, visible
from warden.platform.pagination import window
from warden.store.models import Notification

SAMPLE_ACCOUNTS = 8
UNGROUPED = "ungrouped-"
_SCAN_BATCH = 200
_SCAN_MAX = 4000  # notifications read at most to fill one page of groups


@dataclass
class Group:
    key: str
    type: str
    newest: Notification  # the group's most recent notification (overall, not only on this page)
    count: int = 1
    page_ids: list[int] = field(default_factory=list)
    page_latest_at: datetime | None = None
    sample_account_ids: list[int] = field(default_factory=list)


def key_of(row: Notification, grouped_types: tuple[str, ...] | list[str]) -> str:
    if row.group_key and row.type in grouped_types:
        return row.group_key
    return f"{UNGROUPED}{row.id}"


@dataclass(frozen=True)
class Filters:
    types: list[str] | None = None
    exclude_types: list[str] | None = None
    from_account_id: int | None = None
    include_filtered: bool = False
    grouped_types: tuple[str, ...] = GROUPED_TYPES

    def query(self, account_id: int) -> Select[Any]:
        return visible(account_id, types=self.types, exclude_types=self.exclude_types,
                       from_account_id=self.from_account_id, include_filtered=self.include_filtered)


def page(session: Session, account_id: int, filters: Filters, *, max_id: int | None, since_id: int | None,
         min_id: int | None, limit: int) -> list[Group]:
    """The newest `limit` groups in the window (with min_id: the oldest after it), newest first."""
    groups: dict[str, Group] = {}
    cursor_max, cursor_min = max_id, min_id
    scanned = 0
    full = False
    while not full and scanned < _SCAN_MAX:
        query, ascending = window(filters.query(account_id), Notification.id, max_id=cursor_max,
                                  since_id=since_id, min_id=cursor_min, limit=_SCAN_BATCH)
        batch = list(session.scalars(query))
        scanned += len(batch)
        for row in batch:
            key = key_of(row, filters.grouped_types)
            group = groups.get(key)
            if group is None:
                if len(groups) == limit:
                    full = True
                    break
                group = groups[key] = Group(key, row.type, row)
            group.page_ids.append(row.id)
            if group.page_latest_at is None or row.created_at > group.page_latest_at:
                group.page_latest_at = row.created_at
        if len(batch) < _SCAN_BATCH:
            break
        if ascending:
            cursor_min = batch[-1].id
        else:
            cursor_max = batch[-1].id
    _complete(session, account_id, filters, list(groups.values()))
    return sorted(groups.values(), key=lambda g: max(g.page_ids), reverse=True)


def one(session: Session, account_id: int, group_key: str, filters: Filters | None = None) -> Group:
    filters = filters or Filters()
    rows = _members(session, account_id, group_key, filters)
    if not rows:
        raise NotFound()
    group = Group(group_key, rows[0].type, rows[0], page_ids=[r.id for r in rows],
                  page_latest_at=max(r.created_at for r in rows))
    _complete(session, account_id, filters, [group])
    return group


def _members(session: Session, account_id: int, group_key: str, filters: Filters) -> list[Notification]:
    query = filters.query(account_id)
    if group_key.startswith(UNGROUPED):
        ident = group_key[len(UNGROUPED):]
        if not ident.isdigit() or len(ident) > 19:
            return []
        query = query.where(Notification.id == int(ident))
    else:
        query = query.where(Notification.group_key == group_key)
    return list(session.scalars(query.order_by(Notification.id.desc())))


def _complete(session: Session, account_id: int, filters: Filters, groups: list[Group]) -> None:
    """Each group's totals over all its notifications: count, newest, newest senders."""
    keyed = {g.key: g for g in groups if not g.key.startswith(UNGROUPED)}
    for group in groups:
        if group.key not in keyed:
            group.count, group.sample_account_ids = 1, [group.newest.from_account_id]
    if not keyed:
        return
    base = filters.query(account_id).where(Notification.group_key.in_(keyed)).subquery()
    for key, count, newest_id in session.execute(
            select(base.c.group_key, func.count(), func.max(base.c.id)).group_by(base.c.group_key)):
        keyed[key].count = int(count)
        if newest_id != keyed[key].newest.id:
            keyed[key].newest = session.get(Notification, newest_id) or keyed[key].newest
    senders = session.execute(
        select(base.c.group_key, base.c.from_account_id, func.max(base.c.id).label("last"))
        .group_by(base.c.group_key, base.c.from_account_id).order_by(func.max(base.c.id).desc()))
    for key, sender, _ in senders:
        sample = keyed[key].sample_account_ids
        if len(sample) < SAMPLE_ACCOUNTS:
            sample.append(sender)


def accounts_of(session: Session, account_id: int, group_key: str) -> list[int]:
    """The senders of a group, newest first, each once."""
    seen: list[int] = []
    for row in _members(session, account_id, group_key, Filters()):
        if row.from_account_id not in seen:
            seen.append(row.from_account_id)
    if not seen and not session.scalar(select(func.count()).select_from(Notification).where(
            Notification.account_id == account_id, Notification.group_key == group_key)):
        raise NotFound()
    return seen


def dismiss(session: Session, account_id: int, group_key: str) -> None:
    """Dismiss every notification of a group (404 when the reader has none under that key)."""
    rows = _members(session, account_id, group_key, Filters())  # a pending request's notifications stay
    if not rows:
        raise NotFound()
    session.execute(delete(Notification).where(Notification.id.in_([r.id for r in rows])))


# --- unread counts ------------------------------------------------------------------------------


def last_read_id(session: Session, account_id: int) -> int:
    """The reader's notifications marker (0 without one)."""
    try:  # the markers table comes with /api/v1/markers (client API group 1)
        from warden.store.client_models import Marker  # type: ignore[import-not-found]
    except ImportError:
        return 0
    value = session.scalar(select(Marker.last_read_id).where(Marker.account_id == account_id,
                                                             Marker.timeline == "notifications"))
    return int(value or 0)


def unread_count(session: Session, account_id: int, filters: Filters, *, limit: int, grouped: bool) -> int:
    """Notifications (or, `grouped`, groups) newer than the marker, counted up to `limit`."""
    after = last_read_id(session, account_id)
    query = filters.query(account_id).where(Notification.id > after).order_by(Notification.id.desc())
    if not grouped:
        capped = query.with_only_columns(Notification.id).limit(limit).subquery()
        return int(session.scalar(select(func.count()).select_from(capped)) or 0)
    keys: set[str] = set()
    for row in session.scalars(query.limit(_SCAN_MAX)):
        keys.add(key_of(row, filters.grouped_types))
        if len(keys) >= limit:
            break
    return len(keys)
