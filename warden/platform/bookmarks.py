"""Bookmarks (private: only their owner sees them) and the viewer's own lists of favourites, blocks and
mutes. Each list pages by the id of the bookmark, favourite, block or mute row, as Mastodon's do, so
the `Link` header's cursors are those ids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warden.platform.pagination import paginate
from warden.platform.statuses import can_see, get_visible
from warden.store.client_models import Bookmark
from warden.store.db import insert_if_absent
from warden.store.models import Account, Block, Favourite, Mute, Status, utcnow


def bookmark(session: Session, me: Account, status_id: int | str) -> Status:
    status = get_visible(session, me.id, status_id)
    if status.reblog_of_id is not None:
        status = get_visible(session, me.id, status.reblog_of_id)
    insert_if_absent(session, Bookmark, {"account_id": me.id, "status_id": status.id, "created_at": utcnow()},
                     ["account_id", "status_id"])
    session.flush()
    return status


def unbookmark(session: Session, me: Account, status_id: int | str) -> Status:
    status = get_visible(session, me.id, status_id)
    if status.reblog_of_id is not None:
        status = get_visible(session, me.id, status.reblog_of_id)
    session.execute(delete(Bookmark).where(Bookmark.account_id == me.id, Bookmark.status_id == status.id))
    return status


def _statuses_page(session: Session, viewer_id: int, query: Any, id_column: Any, window: dict[str, Any]
                   ) -> tuple[list[Status], list[int]]:
    """The page's visible statuses, and the page's cursors (all rows' ids, hidden ones too, so paging
    goes on past them)."""
    rows = paginate(session, query, id_column, **window)
    cursors = [row[0] for row in rows]
    statuses = [row[1] for row in rows if can_see(session, viewer_id, row[1])]
    return statuses, cursors


def bookmarked(session: Session, viewer_id: int, window: dict[str, Any]) -> tuple[list[Status], list[int]]:
    query = (select(Bookmark.id, Status).join(Status, Status.id == Bookmark.status_id)
             .where(Bookmark.account_id == viewer_id))
    return _statuses_page(session, viewer_id, query, Bookmark.id, window)


def favourited(session: Session, viewer_id: int, window: dict[str, Any]) -> tuple[list[Status], list[int]]:
    query = (select(Favourite.id, Status).join(Status, Status.id == Favourite.status_id)
             .where(Favourite.account_id == viewer_id))
    return _statuses_page(session, viewer_id, query, Favourite.id, window)


def blocked(session: Session, viewer_id: int, window: dict[str, Any]) -> list[tuple[int, Account]]:
    query = select(Block.id, Account).join(Account, Account.id == Block.target_id).where(Block.account_id == viewer_id)
    return [(row[0], row[1]) for row in paginate(session, query, Block.id, **window)]


def muted(session: Session, viewer_id: int, window: dict[str, Any]) -> list[tuple[int, Account]]:
    query = select(Mute.id, Account).join(Account, Account.id == Mute.target_id).where(Mute.account_id == viewer_id)
    return [(row[0], row[1]) for row in paginate(session, query, Mute.id, **window)]
