"""Notification policy and requests (Mastodon 4.3+, docs.joinmastodon.org/methods/notifications/#get-policy).

Each reader has a policy that says, for five kinds of sender, whether their notifications are accepted,
filtered (kept apart as a *notification request*, one per sender, until the reader accepts or dismisses
it) or dropped (never created). A notification is judged once, when `notify()` creates it:

- only the types Mastodon lets a policy filter (`FILTERABLE`: mention, reblog, favourite, follow,
  follow_request); the reader's own, staff's and the server's own accounts' (the moderation account) are never filtered;
- a sender whose request the reader accepted (a `NotificationPermission`) is never filtered again;
- otherwise the strictest action among the categories the sender falls in wins: `for_not_following`
  (the reader does not follow them), `for_not_followers` (they do not follow the reader),
  `for_new_accounts` (younger than 30 days), `for_private_mentions` (a direct-visibility mention that
  does not answer the reader's own post, from someone the reader does not follow) and
  `for_limited_accounts` (a silenced sender).

Accepting a request unfilters its notifications and remembers the sender; dismissing it deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform.pagination import paginate
from warden.store.client3_models import (
    POLICY_ACTIONS,
    NotificationPermission,
    NotificationPolicy,
    NotificationRequest,
)
from warden.store.models import Account, Follow, Notification, Status, utcnow

FILTERABLE = frozenset({"mention", "reblog", "favourite", "follow", "follow_request"})
NEW_ACCOUNT_AGE = timedelta(days=30)
CATEGORIES = ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions",
              "for_limited_accounts")
#: The v1 policy's booleans and the v2 categories they stand for (true: filter, false: accept).
V1_FIELDS = {"filter_not_following": "for_not_following", "filter_not_followers": "for_not_followers",
             "filter_new_accounts": "for_new_accounts", "filter_private_mentions": "for_private_mentions"}
_STRICTNESS = {"accept": 0, "filter": 1, "drop": 2}
STAFF_ROLES = ("moderator", "senior", "admin")


def policy(session: Session, account_id: int) -> NotificationPolicy:
    """The reader's policy; Mastodon's defaults (not stored) when they never changed it."""
    row = session.get(NotificationPolicy, account_id)
    if row is None:
        row = NotificationPolicy(account_id=account_id, for_not_following="accept", for_not_followers="accept",
                                 for_new_accounts="accept", for_private_mentions="filter",
                                 for_limited_accounts="filter")
    return row


def update_policy(session: Session, account_id: int, changes: dict[str, str]) -> NotificationPolicy:
    """Apply `changes` (category -> accept|filter|drop); 422 for an unknown value, nothing saved."""
    for name, value in changes.items():
        if name not in CATEGORIES:
            continue
        if value not in POLICY_ACTIONS:
            raise ValidationFailed(f"Validation failed: {name.replace('_', ' ').capitalize()} is not included "
                                   f"in the list")
    row = session.get(NotificationPolicy, account_id)
    if row is None:
        row = policy(session, account_id)
        session.add(row)
    for name, value in changes.items():
        if name in CATEGORIES:
            setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    return row


def summary(session: Session, account_id: int) -> dict[str, int]:
    requests = session.scalar(select(func.count()).select_from(NotificationRequest)
                              .where(NotificationRequest.account_id == account_id)) or 0
    pending = session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.account_id == account_id, Notification.filtered.is_(True))) or 0
    return {"pending_requests_count": int(requests), "pending_notifications_count": int(pending)}


def _is_system(account: Account) -> bool:
    """The server's own accounts (the moderation account that tells reporters and authors the outcome)."""
    return account.password_hash is None and account.email is None


def _follows(session: Session, follower: int, target: int) -> bool:
    return bool(session.scalar(select(exists().where(Follow.account_id == follower, Follow.target_id == target))))


def decide(session: Session, *, account_id: int, sender: Account, type: str, status_id: int | None) -> str:
    """accept, filter or drop: what the reader's policy does with this notification. Conditions are
    evaluated only where the policy would act on them (the defaults cost no query for most types)."""
    if type not in FILTERABLE or sender.id == account_id or sender.role in STAFF_ROLES or _is_system(sender):
        return "accept"
    rules = policy(session, account_id)
    memo: dict[str, bool] = {}

    def following() -> bool:
        if "following" not in memo:
            memo["following"] = _follows(session, account_id, sender.id)
        return memo["following"]

    conditions = {
        "for_limited_accounts": lambda: sender.silenced_at is not None,
        "for_new_accounts": lambda: sender.created_at is not None and utcnow() - sender.created_at < NEW_ACCOUNT_AGE,
        "for_not_following": lambda: not following(),
        "for_not_followers": lambda: not _follows(session, sender.id, account_id),
        "for_private_mentions": lambda: type == "mention" and _private_mention_out_of_the_blue(
            session, account_id, status_id) and not following(),
    }
    verdict = "accept"
    for name, applies in conditions.items():
        action = getattr(rules, name)
        if _STRICTNESS[action] > _STRICTNESS[verdict] and applies():
            verdict = action
    if verdict != "accept" and session.scalar(select(exists().where(
            NotificationPermission.account_id == account_id, NotificationPermission.from_account_id == sender.id))):
        return "accept"  # the reader accepted this sender's request before
    return verdict


def _private_mention_out_of_the_blue(session: Session, account_id: int, status_id: int | None) -> bool:
    """A direct-visibility mention that does not answer one of the reader's own posts."""
    if status_id is None:
        return False
    status = session.get(Status, status_id)
    if status is None or status.visibility != "direct":
        return False
    if status.in_reply_to_id is None:
        return True
    parent_author = session.scalar(select(Status.account_id).where(Status.id == status.in_reply_to_id))
    return parent_author != account_id


def hold(session: Session, notification: Notification) -> None:
    """File a filtered notification under its sender's request (created or brought up to date)."""
    request = session.scalar(select(NotificationRequest).where(
        NotificationRequest.account_id == notification.account_id,
        NotificationRequest.from_account_id == notification.from_account_id))
    now = utcnow()
    if request is None:
        request = NotificationRequest(account_id=notification.account_id,
                                      from_account_id=notification.from_account_id, created_at=now)
        session.add(request)
    request.updated_at = now
    if notification.status_id is not None:
        request.last_status_id = notification.status_id


# --- requests ------------------------------------------------------------------------------------


@dataclass
class RequestView:
    request: NotificationRequest
    account: Account
    count: int
    last_status: Status | None


def _view(session: Session, rows: list[NotificationRequest]) -> list[RequestView]:
    if not rows:
        return []
    senders = {a.id: a for a in session.scalars(select(Account).where(
        Account.id.in_({r.from_account_id for r in rows})))}
    counts = dict(session.execute(
        select(Notification.from_account_id, func.count())
        .where(Notification.account_id == rows[0].account_id, Notification.filtered.is_(True),
               Notification.from_account_id.in_(senders))
        .group_by(Notification.from_account_id)).all())
    status_ids = [r.last_status_id for r in rows if r.last_status_id is not None]
    statuses = {s.id: s for s in session.scalars(select(Status).where(Status.id.in_(status_ids)))} if status_ids else {}
    return [RequestView(r, senders[r.from_account_id], int(counts.get(r.from_account_id, 0)),
                        statuses.get(r.last_status_id) if r.last_status_id else None)
            for r in rows if r.from_account_id in senders]


def page(session: Session, account_id: int, *, max_id: int | None, since_id: int | None, min_id: int | None,
         limit: int) -> list[RequestView]:
    query = (select(NotificationRequest)
             .join(Account, Account.id == NotificationRequest.from_account_id)
             .where(NotificationRequest.account_id == account_id, Account.suspended_at.is_(None)))
    rows = paginate(session, query, NotificationRequest.id, max_id=max_id, since_id=since_id, min_id=min_id,
                    limit=limit)
    return _view(session, [r[0] for r in rows])


def get(session: Session, account_id: int, request_id: int) -> RequestView:
    row = session.get(NotificationRequest, request_id)
    if row is None or row.account_id != account_id:
        raise NotFound()
    views = _view(session, [row])
    if not views:
        raise NotFound()
    return views[0]


def accept(session: Session, account_id: int, request_ids: list[int], *, strict: bool = True) -> None:
    """Accept requests: their notifications join the reader's list, the senders are never filtered again."""
    for request in _own(session, account_id, request_ids, strict=strict):
        if not session.scalar(select(exists().where(NotificationPermission.account_id == account_id,
                                                    NotificationPermission.from_account_id == request.from_account_id))):
            session.add(NotificationPermission(account_id=account_id, from_account_id=request.from_account_id))
        session.execute(update(Notification).where(
            Notification.account_id == account_id, Notification.from_account_id == request.from_account_id,
            Notification.filtered.is_(True)).values(filtered=False))
        session.delete(request)


def dismiss(session: Session, account_id: int, request_ids: list[int], *, strict: bool = True) -> None:
    """Dismiss requests: they and their filtered notifications are deleted."""
    for request in _own(session, account_id, request_ids, strict=strict):
        session.execute(delete(Notification).where(
            Notification.account_id == account_id, Notification.from_account_id == request.from_account_id,
            Notification.filtered.is_(True)))
        session.delete(request)


def _own(session: Session, account_id: int, request_ids: list[int], *, strict: bool) -> list[NotificationRequest]:
    rows = list(session.scalars(select(NotificationRequest).where(
        NotificationRequest.id.in_(request_ids), NotificationRequest.account_id == account_id)))
    if strict and len(rows) != len(set(request_ids)):
        raise NotFound()
    return rows


def policy_json(session: Session, account_id: int) -> dict[str, Any]:
    row = policy(session, account_id)
    return {**{name: getattr(row, name) for name in CATEGORIES}, "summary": summary(session, account_id)}


def policy_v1_json(session: Session, account_id: int) -> dict[str, Any]:
    row = policy(session, account_id)
    return {**{old: getattr(row, new) != "accept" for old, new in V1_FIELDS.items()},
            "summary": summary(session, account_id)}
