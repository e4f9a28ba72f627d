"""Notifications: who is told what, and reading them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.orm import Session

from warden.errors import NotFound
from warden.platform import notification_requests
from warden.platform.pagination import paginate
from warden.store.models import Account, Block, Mute, Notification, utcnow
from warden.store.outbox import emit

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
         "admin.sign_up", "admin.report", "moderation_warning")


def notify(session: Session, *, account_id: int, from_account_id: int, type: str, status_id: int | None = None,
           data: dict[str, Any] | None = None) -> Notification | None:
    """Tell `account_id` about something `from_account_id` did, unless they block or mute them."""
    if account_id == from_account_id and type != "moderation_warning":
        return None
    silenced = session.scalar(select(
        exists().where(Block.account_id == account_id, Block.target_id == from_account_id)
        | exists().where(Mute.account_id == account_id, Mute.target_id == from_account_id,
                         Mute.notifications.is_(True))
    ))
    if silenced:
        return None
    if status_id is not None and type != "moderation_warning":
        from warden.platform.status_extras import is_muted_thread

        if is_muted_thread(session, account_id, status_id):  # the reader muted this conversation
            return None
    sender = session.get(Account, from_account_id)
    verdict = "accept" if sender is None else notification_requests.decide(
        session, account_id=account_id, sender=sender, type=type, status_id=status_id)
    if verdict == "drop":  # the reader's notification policy (platform/notification_requests.py)
        return None
    row = Notification(account_id=account_id, from_account_id=from_account_id, type=type, status_id=status_id,
                       data=data, filtered=verdict == "filter")
    row.group_key = _group_key(session, account_id, type, status_id)  # filtered too: grouped once accepted
    session.add(row)
    session.flush()  # the id, for the event that tells open streams (warden/streaming)
    if row.filtered:  # kept apart in a notification request: no stream, no push until accepted
        notification_requests.hold(session, row)
        return row
    emit(session, "notification.created", row.id, {"notification_id": row.id, "account_id": account_id})
    return row


GROUPED_TYPES = ("favourite", "reblog", "follow")
MAX_GROUP_SPAN_HOURS = 12


def _group_key(session: Session, account_id: int, type: str, status_id: int | None) -> str | None:
    """Mastodon's grouping: favourites or reblogs of one post, or follows, in the same hour bucket, a
    bucket extended while the group's first hour is less than 12 hours back."""
    if type not in GROUPED_TYPES:
        return None
    prefix = f"{type}-{status_id}" if type in ("favourite", "reblog") else type
    bucket = int(utcnow().timestamp() // 3600)
    candidates = [f"{prefix}-{b}" for b in range(bucket - MAX_GROUP_SPAN_HOURS + 1, bucket + 1)]
    previous = session.scalar(select(Notification.group_key).where(  # ix_notifications_account_id_group_key
        Notification.account_id == account_id, Notification.group_key.in_(candidates))
        .order_by(Notification.group_key).limit(1))  # the oldest open group: same-length keys sort by hour
    return previous or f"{prefix}-{bucket}"


def page(session: Session, account_id: int, *, types: list[str] | None, exclude_types: list[str] | None,
         from_account_id: int | None, max_id: int | None, since_id: int | None, min_id: int | None,
         limit: int, include_filtered: bool = False) -> list[Notification]:
    query = visible(account_id, types=types, exclude_types=exclude_types, from_account_id=from_account_id,
                    include_filtered=include_filtered)
    rows = paginate(session, query, Notification.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [row[0] for row in rows]


def visible(account_id: int, *, types: list[str] | None = None, exclude_types: list[str] | None = None,
            from_account_id: int | None = None, include_filtered: bool = False) -> Select[Any]:
    """The reader's notifications a list shows: not dismissed, not from a suspended account, not held
    back by their notification policy (unless `include_filtered`)."""
    query = (select(Notification)
             .join(Account, Account.id == Notification.from_account_id)
             .where(Notification.account_id == account_id, Notification.dismissed_at.is_(None),
                    Account.suspended_at.is_(None)))
    if not include_filtered:
        query = query.where(Notification.filtered.is_(False))
    if types:
        query = query.where(Notification.type.in_(types))
    if exclude_types:
        query = query.where(Notification.type.not_in(exclude_types))
    if from_account_id is not None:
        query = query.where(Notification.from_account_id == from_account_id)
    return query


def get(session: Session, account_id: int, notification_id: int) -> Notification:
    row = session.get(Notification, notification_id)
    if row is None or row.account_id != account_id or row.dismissed_at is not None:
        raise NotFound()
    return row


def dismiss(session: Session, account_id: int, notification_id: int) -> None:
    session.delete(get(session, account_id, notification_id))


def clear(session: Session, account_id: int) -> None:
    session.execute(delete(Notification).where(Notification.account_id == account_id))
