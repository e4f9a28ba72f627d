"""Notifications: who is told what, and reading them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from warden.errors import NotFound
from warden.platform.pagination import paginate
from warden.store.models import Account, Block, Mute, Notification, OutboxEvent

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
    row = Notification(account_id=account_id, from_account_id=from_account_id, type=type, status_id=status_id,
                       data=data)
    session.add(row)
    session.flush()  # the id, for the event that tells open streams (warden/streaming)
    session.add(OutboxEvent(type="notification.created", subject_id=row.id,
                            payload={"notification_id": row.id, "account_id": account_id}))
    return row


def page(session: Session, account_id: int, *, types: list[str] | None, exclude_types: list[str] | None,
         from_account_id: int | None, max_id: int | None, since_id: int | None, min_id: int | None,
         limit: int) -> list[Notification]:
    query = (select(Notification)
             .join(Account, Account.id == Notification.from_account_id)
             .where(Notification.account_id == account_id, Notification.dismissed_at.is_(None),
                    Account.suspended_at.is_(None)))
    if types:
        query = query.where(Notification.type.in_(types))
    if exclude_types:
        query = query.where(Notification.type.not_in(exclude_types))
    if from_account_id is not None:
        query = query.where(Notification.from_account_id == from_account_id)
    rows = paginate(session, query, Notification.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [row[0] for row in rows]


def get(session: Session, account_id: int, notification_id: int) -> Notification:
    row = session.get(Notification, notification_id)
    if row is None or row.account_id != account_id or row.dismissed_at is not None:
        raise NotFound()
    return row


def dismiss(session: Session, account_id: int, notification_id: int) -> None:
    session.delete(get(session, account_id, notification_id))


def clear(session: Session, account_id: int) -> None:
    session.execute(delete(Notification).where(Notification.account_id == account_id))
