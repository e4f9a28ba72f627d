"""Mastodon's id-window pagination (max_id / since_id / min_id / limit), shared by every list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

DEFAULT_LIMIT = 20


def clamp_limit(limit: int | None, default: int = DEFAULT_LIMIT, maximum: int = 40) -> int:
    """Mastodon's `limit_param`: no limit is the default; otherwise its absolute value, capped at
    `maximum` (so `limit=-1` is 1, never "no limit", which is what LIMIT -1 means to SQLite), and at
    least 1."""
    if limit is None:
        return default
    return max(1, min(abs(limit), maximum))


def window(query: Select[Any], id_column: Any, *, max_id: int | None, since_id: int | None,
           min_id: int | None, limit: int) -> tuple[Select[Any], bool]:
    """Apply the window to `query`. Returns the query and whether its rows come oldest first."""
    if max_id is not None:
        query = query.where(id_column < max_id)
    if since_id is not None:
        query = query.where(id_column > since_id)
    if min_id is not None:
        # The page just after min_id: read upwards, then flip to newest first.
        return query.where(id_column > min_id).order_by(id_column.asc()).limit(limit), True
    return query.order_by(id_column.desc()).limit(limit), False


def paginate(session: Session, query: Select[Any], id_column: Any, *, max_id: int | None, since_id: int | None,
             min_id: int | None, limit: int) -> list[Any]:
    """Rows of `query` in the window, newest first."""
    query, ascending = window(query, id_column, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    rows = list(session.execute(query).all())
    if ascending:
        rows.reverse()
    return rows
