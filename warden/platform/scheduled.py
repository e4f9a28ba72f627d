"""Scheduled statuses: a post kept with its parameters until `scheduled_at`, then published through
the moderation gate exactly as if it were posted at that moment (`statuses.create`).

Publication (`publish_due`) runs in the server's scheduler (`platform/scheduler.py`). A due row is
claimed by deleting it in the transaction that publishes the post, so with several server processes
each scheduled post is published once. A post the gate blocks is not published (the gate records its
decision, as for any post); one that cannot be published for another reason (its reply target was
deleted, the author was suspended) stays listed with the reason in `failure`, so nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from warden.config import Settings
from warden.errors import NotFound, ValidationFailed, WardenError
from warden.platform import polls, statuses
from warden.platform.ids import parse_id
from warden.platform.pagination import paginate
from warden.policy.gate import ModerationGate
from warden.store.client2_models import ScheduledStatus
from warden.store.db import Database
from warden.store.models import Account, utcnow

log = logging.getLogger("warden.scheduled")

MIN_LEAD = timedelta(minutes=5)      # Mastodon: at least five minutes ahead
MAX_PENDING = 300                    # Mastodon: 300 scheduled posts at most
MAX_PER_DAY = 25                     # Mastodon: 25 for any one day


def parse_time(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ValidationFailed("Validation failed: scheduled_at must be an ISO 8601 date and time") from None
    if when.tzinfo is None:
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    return when


def _check_time(session: Session, account_id: int, when: datetime, exclude: int | None = None) -> None:
    if when < utcnow() + MIN_LEAD:
        raise ValidationFailed("Validation failed: Scheduled at The scheduled date must be in the future "
                               "(at least 5 minutes ahead)")
    same_day = select(func.count()).select_from(ScheduledStatus).where(
        ScheduledStatus.account_id == account_id,
        ScheduledStatus.scheduled_at >= when.replace(hour=0, minute=0, second=0, microsecond=0),
        ScheduledStatus.scheduled_at < when.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1))
    if exclude is not None:
        same_day = same_day.where(ScheduledStatus.id != exclude)
    if (session.scalar(same_day) or 0) >= MAX_PER_DAY:
        raise ValidationFailed(f"Validation failed: You have exceeded the limit of {MAX_PER_DAY} scheduled posts "
                               f"for that day")


def schedule(session: Session, author: Account, when: datetime, params: dict[str, Any]) -> ScheduledStatus:
    """Keep a post for later. `params`: text, spoiler_text, visibility, sensitive, language,
    in_reply_to_id and poll, already validated by the caller as for an immediate post."""
    if author.suspended_at is not None:
        raise ValidationFailed("Validation failed: Your account is suspended and cannot post")
    if not (params.get("text") or "").strip():
        raise ValidationFailed("Validation failed: Text can't be blank")
    if params.get("visibility", "public") not in statuses.VISIBILITIES:
        raise ValidationFailed(f"Validation failed: Visibility must be one of {', '.join(statuses.VISIBILITIES)}")
    pending = session.scalar(select(func.count()).select_from(ScheduledStatus)
                             .where(ScheduledStatus.account_id == author.id)) or 0
    if pending >= MAX_PENDING:
        raise ValidationFailed(f"Validation failed: You have exceeded the limit of {MAX_PENDING} scheduled posts")
    _check_time(session, author.id, when)
    row = ScheduledStatus(account_id=author.id, scheduled_at=when, params=params)
    session.add(row)
    session.flush()
    return row


def page(session: Session, account_id: int, *, max_id: int | None, since_id: int | None, min_id: int | None,
         limit: int) -> list[ScheduledStatus]:
    query = select(ScheduledStatus).where(ScheduledStatus.account_id == account_id)
    rows = paginate(session, query, ScheduledStatus.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [row[0] for row in rows]


def get(session: Session, account_id: int, scheduled_id: int | str) -> ScheduledStatus:
    row = session.get(ScheduledStatus, parse_id(scheduled_id))
    if row is None or row.account_id != account_id:
        raise NotFound()
    return row


def reschedule(session: Session, account_id: int, scheduled_id: int | str, when: datetime) -> ScheduledStatus:
    row = get(session, account_id, scheduled_id)
    _check_time(session, account_id, when, exclude=row.id)
    row.scheduled_at = when
    row.failure = None
    session.flush()
    return row


def cancel(session: Session, account_id: int, scheduled_id: int | str) -> None:
    session.delete(get(session, account_id, scheduled_id))


# --- publication --------------------------------------------------------------------------------


def _due_ids(db: Database, limit: int) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(ScheduledStatus.id).where(
            ScheduledStatus.scheduled_at <= utcnow(), ScheduledStatus.failure.is_(None))
            .order_by(ScheduledStatus.scheduled_at).limit(limit)))


def publish_one(db: Database, settings: Settings, gate: ModerationGate | None, scheduled_id: int) -> int | None:
    """Publish one due scheduled post; the id of the new status, or None (blocked, failed or taken by
    another process)."""
    with db.read() as session:
        row = session.get(ScheduledStatus, scheduled_id)
        if row is None:
            return None
        params = dict(row.params or {})
        account_id, scheduled_at, created_at = row.account_id, row.scheduled_at, row.created_at
    spec = polls.PollSpec(**{k: (tuple(v) if k == "options" else v) for k, v in params["poll"].items()}) \
        if params.get("poll") else None
    text = params.get("text") or ""
    if gate is not None:  # score before the write transaction, as the API does
        gate.prescore(polls.scored_text(text, spec and spec.options), params.get("spoiler_text") or "")
    failure: str | None = None
    with db.write() as session:
        claimed = session.execute(delete(ScheduledStatus).where(ScheduledStatus.id == scheduled_id,
                                                                ScheduledStatus.failure.is_(None)))
        if not claimed.rowcount:
            return None
        author = session.get(Account, account_id)
        if author is None:
            return None
        savepoint = session.begin_nested()
        try:
            result = statuses.create(session, settings, author, text=text,
                                     spoiler_text=params.get("spoiler_text") or "",
                                     visibility=params.get("visibility") or "public",
                                     sensitive=bool(params.get("sensitive")), language=params.get("language"),
                                     in_reply_to_id=params.get("in_reply_to_id"), gate=gate, poll=spec,
                                     media_ids=params.get("media_ids") or None)
            savepoint.commit()
        except WardenError as exc:
            savepoint.rollback()
            failure = exc.message
        if failure is not None:  # keep it, with the reason, for its author to see, fix or cancel
            session.add(ScheduledStatus(id=scheduled_id, account_id=account_id, scheduled_at=scheduled_at,
                                        params=params, failure=failure, created_at=created_at))
            log.info("scheduled status %s not published: %s", scheduled_id, failure)
            return None
        return result.status.id if result.status is not None else None


def publish_due(db: Database, settings: Settings, gate: ModerationGate | None, limit: int = 50) -> int:
    """Publish every scheduled post whose time has come. Returns how many were handled."""
    due = _due_ids(db, limit)
    for scheduled_id in due:
        publish_one(db, settings, gate, scheduled_id)
    return len(due)
