"""Timelines: home, public (local), hashtag and an account's own statuses.

Home timelines are computed on read ("fan-out on read"): the newest statuses whose author is in the
reader's follow list, walked backwards on the `(account_id, id)` index. No per-reader copy is kept,
so a moderation action (remove, limit, suspend) changes every timeline at once, and a post costs
the same to write whatever its author's follower count. docs/architecture.md says why.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

from sqlalchemy import (Boolean, CompoundSelect, Integer, Row, Select, String, Text, bindparam, cast, exists, or_,
                        select, text, type_coerce, union_all)
from sqlalchemy.orm import Session

from warden.platform.accounts import is_blocked_either_way
from warden.platform.pagination import paginate, window
from warden.store.client_models import Bookmark, CustomFilter, ListAccount, UserList
from warden.store.direct import DirectStatement, compile_direct
from warden.store.client2_models import ConversationMute, Poll, StatusPin, TagFollow
from warden.store.models import HOME_INDEX_WHERE, Account, Block, Favourite, Follow, Mute, Status, StatusTag, Tag


def _hidden_authors(viewer_id: Any) -> CompoundSelect[tuple[int]]:
    """Accounts whose posts the viewer never sees: blocked (either way) or muted. A subquery."""
    return union_all(
        select(Block.target_id).where(Block.account_id == viewer_id),
        select(Block.account_id).where(Block.target_id == viewer_id),
        select(Mute.target_id).where(Mute.account_id == viewer_id),
    )


def _without_hidden(query: Select[Any], viewer_id: int | None) -> Select[Any]:
    if viewer_id is None:
        return query
    hidden = _hidden_authors(viewer_id)
    return query.where(Status.account_id.not_in(hidden),
                       or_(Status.reblog_of_account_id.is_(None), Status.reblog_of_account_id.not_in(hidden)))


def _page(session: Session, query, *, max_id, since_id, min_id, limit) -> list[Status]:  # type: ignore[no-untyped-def]
    rows = paginate(session, query, Status.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [row[0] for row in rows]


@functools.cache
def _home_statement(max_id: bool, since_id: bool, min_id: bool) -> tuple[Select[tuple[int]], bool]:
    """The home-timeline id query for one shape of window, built once and reused with new parameters."""
    viewer = bindparam("viewer", type_=Integer)
    # members of the viewer's exclusive lists are read on those lists, not at home
    exclusive = (select(ListAccount.account_id).join(UserList, UserList.id == ListAccount.list_id)
                 .where(UserList.account_id == viewer, UserList.exclusive.is_(True)))
    authors = (
        select(Follow.target_id)
        .join(Account, Account.id == Follow.target_id)
        .where(Follow.account_id == viewer, Account.suspended_at.is_(None), Follow.target_id.not_in(exclusive))
        .union_all(select(viewer))
    )
    hidden = _hidden_authors(viewer)
    query = select(Status.id).where(
        Status.account_id.in_(authors),
        text(HOME_INDEX_WHERE),
        Status.account_id.not_in(hidden),
        or_(Status.reblog_of_account_id.is_(None), Status.reblog_of_account_id.not_in(hidden)),
    )
    return window(query, Status.id, max_id=bindparam("max_id", type_=Integer) if max_id else None,
                  since_id=bindparam("since_id", type_=Integer) if since_id else None,
                  min_id=bindparam("min_id", type_=Integer) if min_id else None,
                  limit=bindparam("limit", type_=Integer))


def _home_ids(session: Session, viewer_id: int, *, max_id: int | None, since_id: int | None, min_id: int | None,
              limit: int) -> list[int]:
    """The ids of a home page, newest first: from the partial index, merged with the public posts of
    followed hashtags when the viewer follows any (`_followed_tags_ids`)."""
    statement, ascending = _home_statement(max_id is not None, since_id is not None, min_id is not None)
    params = {"viewer": viewer_id, "max_id": max_id, "since_id": since_id, "min_id": min_id, "limit": limit}
    bound = {k: v for k, v in params.items() if v is not None}
    page = [row[0] for row in session.connection().execute(statement, bound)]
    if session.connection().execute(_FOLLOWS_TAGS, {"viewer": viewer_id}).first() is not None:
        tagged_statement, _ = _followed_tags_statement(max_id is not None, since_id is not None, min_id is not None)
        page = sorted(set(page) | {row[0] for row in session.connection().execute(tagged_statement, bound)},
                      reverse=not ascending)[:limit]
    if ascending:
        page.reverse()
    return page


_FOLLOWS_TAGS = select(TagFollow.id).where(TagFollow.account_id == bindparam("viewer", type_=Integer)).limit(1)


@functools.cache
def _followed_tags_statement(max_id: bool, since_id: bool, min_id: bool) -> tuple[Select[tuple[int]], bool]:
    """Public posts (as the tag timeline shows them) carrying a hashtag the viewer follows."""
    viewer = bindparam("viewer", type_=Integer)
    hidden = _hidden_authors(viewer)
    query = (select(Status.id).join(StatusTag, StatusTag.status_id == Status.id)
             .join(Account, Account.id == Status.account_id)
             .where(StatusTag.tag_id.in_(select(TagFollow.tag_id).where(TagFollow.account_id == viewer)),
                    Status.local_public.is_(True), Account.suspended_at.is_(None), Status.account_id.not_in(hidden))
             .distinct())
    return window(query, Status.id, max_id=bindparam("max_id", type_=Integer) if max_id else None,
                  since_id=bindparam("since_id", type_=Integer) if since_id else None,
                  min_id=bindparam("min_id", type_=Integer) if min_id else None,
                  limit=bindparam("limit", type_=Integer))


#: Plain rows (not ORM objects) for the page: the serializer reads columns by name, and rows cost far
#: less to build than mapped instances on the hottest read path.
_ROWS_BY_ID = select(Status.__table__).where(Status.__table__.c.id.in_(bindparam("ids", expanding=True)))


def home(session: Session, viewer_id: int, *, max_id: int | None = None, since_id: int | None = None,
         min_id: int | None = None, limit: int = 20) -> list[Status]:
    """Newest published, non-direct statuses by the viewer and the (unsuspended) accounts they follow.

    Two steps: the page's ids come from the partial index `ix_statuses_home`, then only those rows are
    loaded. The viewer's own held posts are on their profile, not here.
    """
    page = _home_ids(session, viewer_id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    if not page:
        return []
    rows = {row.id: row for row in session.connection().execute(_ROWS_BY_ID, {"ids": page})}
    return [rows[i] for i in page if i in rows]  # type: ignore[misc]


#: What a rendered status shows of its author (`home_page` selects these as ``author_<name>``).
AUTHOR_COLUMNS = ("id", "username", "display_name", "locked", "bot", "discoverable", "created_at", "note",
                  "followers_count", "following_count", "statuses_count", "last_status_at", "role", "suspended_at")
#: What a rendered status shows of itself. The JSON lists are read as their text, so a whole row is
#: hashable and can key a cache of rendered statuses (`api/serializers.py`).
STATUS_COLUMNS = ("id", "account_id", "created_at", "edited_at", "content_html", "visibility", "sensitive",
                  "spoiler_text", "moderation_label", "reblogs_count", "favourites_count", "replies_count",
                  "in_reply_to_id", "in_reply_to_account_id", "reblog_of_id", "language", "state", "limited",
                  "decision_id")
#: The timestamps of a page row, read as the database returns them (SQLite: text) and turned into
#: datetimes only when a status is rendered (`api/serializers.py`: `page_datetime`): a page's rows
#: are mostly cache hits, and parsing five timestamps a row cost more than the rest of the hit.
PAGE_DATETIMES = ("created_at", "edited_at", "author_created_at", "author_last_status_at", "author_suspended_at")


def _raw(column: Any, name: str) -> Any:
    return type_coerce(column, String).label(name) if name in PAGE_DATETIMES else column.label(name)


@functools.cache
def _home_page_statement(max_id: bool, since_id: bool, min_id: bool) -> Select[Any]:
    """One statement for a whole home page: the ids from `_home_statement` as a subquery, each row
    with its author's columns and whether the viewer favourited or reblogged it."""
    ids, _ascending = _home_statement(max_id, since_id, min_id)
    return _page_rows(lambda statuses: statuses.c.id.in_(ids.scalar_subquery()))


@functools.cache
def _home_page_by_ids() -> Select[Any]:
    """`_home_page_statement` for a page whose ids are already known (bound as `ids`)."""
    return _page_rows(lambda statuses: statuses.c.id.in_(bindparam("ids", expanding=True)))


def _page_rows(which: Any) -> Select[Any]:
    statuses, authors = Status.__table__.alias("page"), Account.__table__.alias("author")
    reblogs = Status.__table__.alias("viewer_reblogs")
    viewer = bindparam("viewer", type_=Integer)
    return (
        select(*(_raw(statuses.c[name], name) for name in STATUS_COLUMNS),
               cast(statuses.c.mention_list, Text).label("mention_json"),
               cast(statuses.c.tag_list, Text).label("tag_json"),
               cast(statuses.c.media_list, Text).label("media_json"),
               *(_raw(authors.c[name], f"author_{name}") for name in AUTHOR_COLUMNS),
               exists().where(Favourite.__table__.c.account_id == viewer,
                              Favourite.__table__.c.status_id == statuses.c.id).label("favourited"),
               exists().where(reblogs.c.account_id == viewer, reblogs.c.reblog_of_id == statuses.c.id,
                              reblogs.c.deleted_at.is_(None)).label("reblogged"),
               exists().where(Bookmark.__table__.c.account_id == viewer,
                              Bookmark.__table__.c.status_id == statuses.c.id).label("bookmarked"),
               # whether the viewer has filters at all: then the page is rendered for them (serializers)
               exists().where(CustomFilter.__table__.c.account_id == viewer).label("viewer_filters"),
               # what the cached per-status JSON cannot show (api/client2_render.py: page_needs_general)
               exists().where(Poll.__table__.c.status_id == statuses.c.id).label("has_poll"),
               exists().where(StatusPin.__table__.c.account_id == viewer,
                              StatusPin.__table__.c.status_id == statuses.c.id).label("viewer_pinned"),
               exists().where(ConversationMute.__table__.c.account_id == viewer).label("viewer_mutes_threads"))
        .join_from(statuses, authors, authors.c.id == statuses.c.account_id)
        .where(which(statuses))
        .order_by(statuses.c.id.desc())
    )


def home_page(session: Session, viewer_id: int, *, max_id: int | None = None, since_id: int | None = None,
              min_id: int | None = None, limit: int = 20) -> list[Row[Any]]:
    """The statuses of `home()` in one query, newest first, as flat rows: the `STATUS_COLUMNS`, the
    JSON lists as text (`mention_json`, `tag_json`, `media_json`), the `PAGE_DATETIMES` as the database returns
    them, the author as ``author_<name>``, the viewer's
    `favourited` / `reblogged` / `bookmarked` flags and whether the viewer has filters (`viewer_filters`). The page's ids still come from the partial index first."""
    if session.connection().execute(_FOLLOWS_TAGS, {"viewer": viewer_id}).first() is not None:
        ids = _home_ids(session, viewer_id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
        if not ids:
            return []
        return list(session.connection().execute(_home_page_by_ids(), {"viewer": viewer_id, "ids": ids}))
    statement = _home_page_statement(max_id is not None, since_id is not None, min_id is not None)
    params = {"viewer": viewer_id, "max_id": max_id, "since_id": since_id, "min_id": min_id, "limit": limit}
    return list(session.connection().execute(statement, {k: v for k, v in params.items() if v is not None}))


#: The page columns SQLAlchemy reads as booleans; `home_page_direct` leaves them as SQLite's 0 and 1.
PAGE_BOOLEANS = frozenset(column.name for column in _home_page_statement(False, False, False).selected_columns
                          if isinstance(column.type, Boolean))


@functools.cache
def _direct_statement(max_id: bool, since_id: bool, min_id: bool) -> DirectStatement:
    return compile_direct(_home_page_statement(max_id, since_id, min_id), PAGE_BOOLEANS)


_DIRECT_FOLLOWS_TAGS = compile_direct(_FOLLOWS_TAGS)


def home_page_direct(conn: sqlite3.Connection, viewer_id: int, *, max_id: int | None = None,
                     since_id: int | None = None, min_id: int | None = None, limit: int = 20) -> list[Any] | None:
    """`home_page` on SQLite's own connection (`Database.direct_read`, `store/direct.py`): the same
    statement and rows, as named tuples, without the ORM session and SQLAlchemy's per-statement work,
    which cost more CPU than SQLite's. The `PAGE_BOOLEANS` stay 0 or 1 (the renderer reads them as
    booleans). None when the viewer follows hashtags: that page is merged by `home_page`."""
    if _DIRECT_FOLLOWS_TAGS.execute(conn, viewer=viewer_id).fetchone() is not None:
        return None
    direct = _direct_statement(max_id is not None, since_id is not None, min_id is not None)
    return direct.rows(conn, viewer=viewer_id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def public(session: Session, viewer_id: int | None, *, max_id: int | None = None, since_id: int | None = None,
           min_id: int | None = None, limit: int = 20, only_media: bool = False) -> list[Status]:
    query = (
        select(Status)
        .join(Account, Account.id == Status.account_id)
        .where(Status.local_public.is_(True), Account.suspended_at.is_(None))
    )
    query = _without_hidden(_media_only(query) if only_media else query, viewer_id)
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def _media_only(query: Select[Any]) -> Select[Any]:
    """Posts with media attachments (Mastodon's `only_media`)."""
    return query.where(Status.media_list.is_not(None))


def tag(session: Session, viewer_id: int | None, name: str, *, max_id: int | None = None,
        since_id: int | None = None, min_id: int | None = None, limit: int = 20,
        only_media: bool = False) -> list[Status]:
    query = (
        select(Status)
        .join(StatusTag, StatusTag.status_id == Status.id)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .join(Account, Account.id == Status.account_id)
        .where(Tag.name == name.lower().lstrip("#"), Status.local_public.is_(True), Account.suspended_at.is_(None))
    )
    query = _without_hidden(_media_only(query) if only_media else query, viewer_id)
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def account_statuses(session: Session, viewer_id: int | None, account: Account, *, max_id: int | None = None,
                     since_id: int | None = None, min_id: int | None = None, limit: int = 20,
                     exclude_replies: bool = False, exclude_reblogs: bool = False,
                     tagged: str | None = None, only_media: bool = False) -> list[Status]:
    if account.suspended_at is not None:
        return []
    if viewer_id is not None and viewer_id != account.id and is_blocked_either_way(session, viewer_id, account.id):
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
    if only_media:
        query = _media_only(query)
    if tagged:
        query = query.join(StatusTag, StatusTag.status_id == Status.id).join(Tag, Tag.id == StatusTag.tag_id).where(
            Tag.name == tagged.lower().lstrip("#"))
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
