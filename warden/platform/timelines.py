"""Timelines: home, public (local), hashtag and an account's own statuses.

Home timelines are computed on read ("fan-out on read"): the newest statuses whose author is in the
reader's follow list, walked backwards on the `(account_id, id)` index. No per-reader copy is kept,
so a moderation action (remove, limit, suspend) changes every timeline at once, and a post costs
the same to write whatever its author's follower count. docs/architecture.md says why.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from warden.platform.pagination import paginate
from warden.platform.statuses import blocked_ids
from warden.store.models import Account, Follow, Mute, Status, StatusTag, Tag


def _excluded_authors(session: Session, viewer_id: int | None) -> set[int]:
    if viewer_id is None:
        return set()
    out = blocked_ids(session, viewer_id)
    out.update(session.scalars(select(Mute.target_id).where(Mute.account_id == viewer_id)))
    return out


def _page(session: Session, query, *, max_id, since_id, min_id, limit) -> list[Status]:  # type: ignore[no-untyped-def]
    rows = paginate(session, query, Status.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [row[0] for row in rows]


def home(session: Session, viewer_id: int, *, max_id: int | None = None, since_id: int | None = None,
         min_id: int | None = None, limit: int = 20) -> list[Status]:
    followed = select(Follow.target_id).where(Follow.account_id == viewer_id)
    excluded = _excluded_authors(session, viewer_id)
    query = (
        select(Status)
        .join(Account, Account.id == Status.account_id)
        .where(
            or_(Status.account_id.in_(followed), Status.account_id == viewer_id),
            Status.deleted_at.is_(None),
            or_(Status.state == "published", and_(Status.state == "held", Status.account_id == viewer_id)),
            Status.visibility != "direct",
            Account.suspended_at.is_(None),
        )
    )
    if excluded:
        query = query.where(Status.account_id.not_in(excluded),
                            or_(Status.reblog_of_account_id.is_(None), Status.reblog_of_account_id.not_in(excluded)))
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def public(session: Session, viewer_id: int | None, *, max_id: int | None = None, since_id: int | None = None,
           min_id: int | None = None, limit: int = 20) -> list[Status]:
    query = (
        select(Status)
        .join(Account, Account.id == Status.account_id)
        .where(Status.local_public.is_(True), Account.suspended_at.is_(None))
    )
    excluded = _excluded_authors(session, viewer_id)
    if excluded:
        query = query.where(Status.account_id.not_in(excluded))
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def tag(session: Session, viewer_id: int | None, name: str, *, max_id: int | None = None,
        since_id: int | None = None, min_id: int | None = None, limit: int = 20) -> list[Status]:
    query = (
        select(Status)
        .join(StatusTag, StatusTag.status_id == Status.id)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .join(Account, Account.id == Status.account_id)
        .where(Tag.name == name.lower().lstrip("#"), Status.local_public.is_(True), Account.suspended_at.is_(None))
    )
    excluded = _excluded_authors(session, viewer_id)
    if excluded:
        query = query.where(Status.account_id.not_in(excluded))
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def account_statuses(session: Session, viewer_id: int | None, account: Account, *, max_id: int | None = None,
                     since_id: int | None = None, min_id: int | None = None, limit: int = 20,
                     exclude_replies: bool = False, exclude_reblogs: bool = False,
                     tagged: str | None = None) -> list[Status]:
    if account.suspended_at is not None:
        return []
    if viewer_id is not None and viewer_id != account.id and account.id in blocked_ids(session, viewer_id):
        return []
    visible = ["public", "unlisted"]
    if viewer_id == account.id:
        visible = ["public", "unlisted", "private", "direct"]
    elif viewer_id is not None and session.scalar(
        select(Follow.id).where(Follow.account_id == viewer_id, Follow.target_id == account.id)
    ):
        visible.append("private")
    states = ["published", "held"] if viewer_id == account.id else ["published"]
    query = select(Status).where(Status.account_id == account.id, Status.deleted_at.is_(None),
                                 Status.state.in_(states), Status.visibility.in_(visible))
    if exclude_replies:
        query = query.where(or_(Status.in_reply_to_id.is_(None), Status.in_reply_to_account_id == account.id))
    if exclude_reblogs:
        query = query.where(Status.reblog_of_id.is_(None))
    if tagged:
        query = query.join(StatusTag, StatusTag.status_id == Status.id).join(Tag, Tag.id == StatusTag.tag_id).where(
            Tag.name == tagged.lower().lstrip("#"))
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
