"""Conversations: direct-message threads as each participant sees them (`/api/v1/conversations`).

A published direct post updates, in its own write transaction (`statuses.create`), one row per
participant (its author and everyone it mentions) for its thread, named by the thread's first post:
the other participants, the newest post, and whether this participant has read it (the author has;
the others have not until `POST /api/v1/conversations/:id/read`). Deleting a conversation removes only
the reader's row; a new post in the thread brings it back, as in Mastodon. Deleting a post takes it
out of its conversations (`forget`). Pages go by the newest
post's id (`last_status_id`), which is what the `Link` header's cursors are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warden.errors import NotFound
from warden.platform.ids import parse_id
from warden.platform.pagination import paginate
from warden.store.client_models import AccountConversation
from warden.store.db import insert_if_absent
from warden.store.models import Status, utcnow

MAX_DEPTH = 500


def root_of(session: Session, status: Status) -> int:
    """The first post of `status`'s thread (itself when it replies to nothing)."""
    current, parent = status.id, status.in_reply_to_id
    seen = {current}
    while parent is not None and parent not in seen and len(seen) < MAX_DEPTH:
        seen.add(parent)
        up = session.scalar(select(Status.in_reply_to_id).where(Status.id == parent))
        current, parent = parent, up
        if up is None:
            break
    return current


def record(session: Session, status: Status, participant_ids: set[int]) -> None:
    """A published direct post: bring each participant's conversation row up to date."""
    root = root_of(session, status)
    everyone = set(participant_ids) | {status.account_id}
    now = utcnow()
    for account_id in everyone:
        others = sorted(everyone - {account_id})
        unread = account_id != status.account_id
        added = insert_if_absent(session, AccountConversation, {
            "account_id": account_id, "root_id": root, "participant_ids": others, "last_status_id": status.id,
            "status_ids": [status.id], "unread": unread, "updated_at": now}, ["account_id", "root_id"])
        if not added:
            row = session.scalar(select(AccountConversation).where(AccountConversation.account_id == account_id,
                                                                   AccountConversation.root_id == root))
            if row is None:
                continue
            row.participant_ids = sorted(set(row.participant_ids or []) | set(others))
            row.last_status_id = max(row.last_status_id, status.id)
            row.status_ids = sorted(set(row.status_ids or []) | {status.id})
            row.unread = row.unread or unread
            row.updated_at = now


def forget(session: Session, status: Status) -> None:
    """A deleted direct post leaves its thread's conversations: each falls back to its newest remaining
    post, or goes when none is left (as Mastodon's AccountConversation does)."""
    rows = session.scalars(select(AccountConversation).where(AccountConversation.root_id == root_of(session, status)))
    for row in list(rows):
        remaining = [i for i in row.status_ids or [] if i != status.id]
        if len(remaining) == len(row.status_ids or []):
            continue
        if not remaining:
            session.delete(row)
        else:
            row.status_ids = remaining
            row.last_status_id = max(remaining)


def page(session: Session, account_id: int, window: dict[str, Any]) -> list[AccountConversation]:
    query = select(AccountConversation).where(AccountConversation.account_id == account_id)
    rows = paginate(session, query, AccountConversation.last_status_id, **window)
    return [row[0] for row in rows]


def owned(session: Session, account_id: int, conversation_id: int | str) -> AccountConversation:
    row = session.get(AccountConversation, parse_id(conversation_id))
    if row is None or row.account_id != account_id:
        raise NotFound()
    return row


def for_status(session: Session, account_id: int, status: Status) -> AccountConversation | None:
    return session.scalar(select(AccountConversation).where(AccountConversation.account_id == account_id,
                                                            AccountConversation.root_id == root_of(session, status)))


def mark_read(session: Session, account_id: int, conversation_id: int | str) -> AccountConversation:
    row = owned(session, account_id, conversation_id)
    session.execute(update(AccountConversation).where(AccountConversation.id == row.id).values(unread=False))
    session.refresh(row)
    return row


def remove(session: Session, account_id: int, conversation_id: int | str) -> None:
    session.delete(owned(session, account_id, conversation_id))
    session.flush()
