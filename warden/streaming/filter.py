"""Who may see a status on which stream: the timelines' rules, applied to one post and its open streams.

A stream shows what the matching timeline would show on its next read, no more:
- `user` is the home timeline: published, non-direct posts (and reblogs) by the viewer and the
  accounts they follow (`platform/timelines.home`); held posts are on the author's profile only;
- `public`, `public:local` and `hashtag*` show local public posts (`Status.local_public`: published,
  public, not limited, not a reblog), as the public and tag timelines do; `public:media` and
  `public:local:media` those of them with media attachments;
- `direct` shows published direct posts to their author and the accounts they mention;
- on every stream the viewer must pass `statuses.can_see` (removed, deleted, suspended authors,
  blocks either way, private posts only to followers and the mentioned) and must not have muted the
  author, or, for a reblog, the reblogged author (`timelines._hidden_authors`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from warden.platform.statuses import can_see
from warden.store.models import Account, Block, Follow, Mute, Status
from warden.streaming.hub import Subscription


def stream_wants(subscription: Subscription, status: Status, *, viewer_id: int, follows_author: bool,
                 tags: Collection[str]) -> bool:
    """Whether `subscription` carries `status` at all, before anyone's visibility is checked."""
    if status.deleted_at is not None or status.state != "published":
        return False
    stream = subscription.stream
    if stream == "user":
        return status.visibility != "direct" and (follows_author or viewer_id == status.account_id)
    if stream in ("public", "public:local"):
        return bool(status.local_public)
    if stream in ("public:media", "public:local:media"):
        return bool(status.local_public) and bool(status.media_list)
    if stream in ("hashtag", "hashtag:local"):
        return bool(status.local_public) and subscription.param in tags
    if stream == "direct":
        return status.visibility == "direct" and status.reblog_of_id is None
    return False  # remote streams (Warden has no federation), lists (not yet in Warden)


def followers_among(session: Session, account_id: int, viewer_ids: Collection[int]) -> set[int]:
    if not viewer_ids:
        return set()
    return set(session.scalars(select(Follow.account_id).where(Follow.target_id == account_id,
                                                               Follow.account_id.in_(list(viewer_ids)))))


def hidden_from(session: Session, author_ids: Collection[int], viewer_ids: Collection[int]) -> set[int]:
    """The viewers who blocked, were blocked by or muted one of `author_ids`: `timelines._hidden_authors`
    for many viewers at once (one query, where `can_see` per viewer would cost one each)."""
    authors, viewers = list(author_ids), list(viewer_ids)
    rows = session.execute(union_all(
        select(Block.account_id).where(Block.account_id.in_(viewers), Block.target_id.in_(authors)),
        select(Block.target_id).where(Block.target_id.in_(viewers), Block.account_id.in_(authors)),
        select(Mute.account_id).where(Mute.account_id.in_(viewers), Mute.target_id.in_(authors)),
    )).all()
    return {row[0] for row in rows} - set(author_ids)


def may_see(session: Session, status: Status, author: Account, viewer_ids: Collection[int], *,
            original: Status | None = None) -> set[int]:
    """The viewers among `viewer_ids` who may see `status` (a reblog: its `original` too).

    Public and unlisted posts are visible to every viewer who may see them anonymously and is not
    hidden from their authors (blocks, mutes); other posts are checked viewer by viewer."""
    if not viewer_ids:
        return set()
    authors = {status.account_id} | ({original.account_id} if original is not None else set())
    original_author = session.get(Account, original.account_id) if original is not None else None
    viewers = set(viewer_ids) - hidden_from(session, authors, viewer_ids)
    posts = [(status, author)] + ([(original, original_author)] if original is not None else [])
    if all(post.visibility in ("public", "unlisted") for post, _ in posts) and \
            all(can_see(session, None, post, writer) for post, writer in posts):
        return viewers
    return {viewer_id for viewer_id in viewers
            if all(can_see(session, viewer_id, post, writer) for post, writer in posts)}
