"""What a status carries beyond its text: its edit history and source, pins on its author's profile,
and muted conversations (no notifications from a thread the reader muted)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform.ids import parse_id
from warden.store.client2_models import ConversationMute, Poll, StatusEdit, StatusPin
from warden.store.db import insert_if_absent
from warden.store.models import Account, Status, utcnow

MAX_PINS = 5


# --- edit history -------------------------------------------------------------------------------


def _snapshot(status: Status, poll: Poll | None, when: Any) -> StatusEdit:
    return StatusEdit(status_id=status.id, account_id=status.account_id, text=status.text,
                      content_html=status.content_html, spoiler_text=status.spoiler_text or "",
                      sensitive=bool(status.sensitive), poll_options=list(poll.options) if poll else None,
                      created_at=when)


def before_edit(session: Session, status: Status) -> None:
    """Called by `statuses.edit` before the text changes: the first edit keeps the original version."""
    if session.scalar(select(StatusEdit.id).where(StatusEdit.status_id == status.id).limit(1)) is None:
        poll = session.scalar(select(Poll).where(Poll.status_id == status.id))
        session.add(_snapshot(status, poll, status.created_at))


def after_edit(session: Session, status: Status) -> None:
    """Called by `statuses.edit` once the new version is in place."""
    poll = session.scalar(select(Poll).where(Poll.status_id == status.id))
    session.add(_snapshot(status, poll, status.edited_at or utcnow()))


def history(session: Session, status: Status) -> list[StatusEdit]:
    """Every version, oldest first (a never-edited status: its one current version, as Mastodon)."""
    rows = list(session.scalars(select(StatusEdit).where(StatusEdit.status_id == status.id).order_by(StatusEdit.id)))
    if not rows:
        poll = session.scalar(select(Poll).where(Poll.status_id == status.id))
        rows = [_snapshot(status, poll, status.created_at)]
    return rows


def own_status(session: Session, me: Account, status_id: int | str) -> Status:
    status = session.get(Status, parse_id(status_id))
    if status is None or status.deleted_at is not None or status.state == "removed" or status.account_id != me.id:
        raise NotFound()
    return status


# --- pins ---------------------------------------------------------------------------------------


def pin(session: Session, me: Account, status_id: int | str) -> Status:
    """Pin one's own public or unlisted post (not a reblog), at most `MAX_PINS` (422 beyond, as Mastodon)."""
    from warden.platform.statuses import get_visible

    status = get_visible(session, me.id, status_id)
    if status.account_id != me.id:
        raise ValidationFailed("Validation failed: Only your own posts can be pinned")
    if status.reblog_of_id is not None:
        raise ValidationFailed("Validation failed: A reblog cannot be pinned")
    if status.visibility not in ("public", "unlisted"):
        raise ValidationFailed("Validation failed: Only public and unlisted posts can be pinned")
    exists = session.scalar(select(StatusPin.id).where(StatusPin.account_id == me.id, StatusPin.status_id == status.id))
    if exists is None:
        count = session.scalar(select(func.count()).select_from(StatusPin).where(StatusPin.account_id == me.id)) or 0
        if count >= MAX_PINS:
            raise ValidationFailed(f"Validation failed: You have already pinned the maximum number of posts ({MAX_PINS})")
        insert_if_absent(session, StatusPin, {"account_id": me.id, "status_id": status.id, "created_at": utcnow()},
                         ["account_id", "status_id"])
        session.flush()
    return status


def unpin(session: Session, me: Account, status_id: int | str) -> Status:
    from warden.platform.statuses import get_visible

    status = get_visible(session, me.id, status_id)
    session.execute(delete(StatusPin).where(StatusPin.account_id == me.id, StatusPin.status_id == status.id))
    return status


def pinned_statuses(session: Session, viewer_id: int | None, account: Account) -> list[Status]:
    """`account`'s pinned posts the viewer may see, most recently pinned first."""
    from warden.platform.statuses import can_see

    rows = session.scalars(select(Status).join(StatusPin, StatusPin.status_id == Status.id)
                           .where(StatusPin.account_id == account.id, Status.account_id == account.id)
                           .order_by(StatusPin.id.desc()))
    return [s for s in rows if can_see(session, viewer_id, s, account)]


# --- muted conversations ------------------------------------------------------------------------


def thread_root(session: Session, status: Any) -> int:
    """The first post of `status`'s thread (the reply chain walked up, at most 100 steps)."""
    current, parent, seen = status.id, status.in_reply_to_id, set()
    while parent is not None and parent not in seen and len(seen) < 100:
        seen.add(parent)
        row = session.execute(select(Status.id, Status.in_reply_to_id).where(Status.id == parent)).first()
        if row is None:
            break
        current, parent = row[0], row[1]
    return current


def _can_mute(session: Session, me: Account, status: Status) -> None:
    # Mastodon lets you mute a conversation you take part in: your post, or one that mentions you
    if status.account_id == me.id or any(m.get("id") == me.id for m in status.mention_list or []):
        return
    raise ValidationFailed("Validation failed: You can only mute conversations you take part in")


def mute(session: Session, me: Account, status_id: int | str) -> Status:
    from warden.platform.statuses import get_visible

    status = get_visible(session, me.id, status_id)
    _can_mute(session, me, status)
    insert_if_absent(session, ConversationMute, {"account_id": me.id, "root_id": thread_root(session, status),
                                                 "created_at": utcnow()}, ["account_id", "root_id"])
    session.flush()
    return status


def unmute(session: Session, me: Account, status_id: int | str) -> Status:
    from warden.platform.statuses import get_visible

    status = get_visible(session, me.id, status_id)
    session.execute(delete(ConversationMute).where(ConversationMute.account_id == me.id,
                                                   ConversationMute.root_id == thread_root(session, status)))
    return status


def muted_roots(session: Session, account_id: int) -> set[int]:
    return set(session.scalars(select(ConversationMute.root_id).where(ConversationMute.account_id == account_id)))


def is_muted_thread(session: Session, account_id: int, status_id: int | None) -> bool:
    """Whether `account_id` muted the conversation `status_id` belongs to (for notifications)."""
    if status_id is None:
        return False
    roots = muted_roots(session, account_id)
    if not roots:
        return False
    status = session.get(Status, status_id)
    return status is not None and thread_root(session, status) in roots
