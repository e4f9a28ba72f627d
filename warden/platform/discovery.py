"""Finding people and topics: followed and featured hashtags, follow suggestions, the profile
directory, familiar followers, and users' domain blocks (stored and listed; no federation yet)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform import accounts
from warden.platform.ids import parse_id
from warden.platform.pagination import paginate
from warden.store.client2_models import DomainBlock, FeaturedTag, SuggestionDismissal, TagFollow
from warden.store.db import insert_if_absent
from warden.store.models import Account, Block, Follow, Mute, Status, StatusTag, Tag, utcnow

TAG_NAME = re.compile(r"^[\w]{1,100}$", re.UNICODE)
MAX_FEATURED_TAGS = 10


# --- hashtags -------------------------------------------------------------------------------------


def tag_by_name(session: Session, name: str, *, create: bool = False) -> Tag:
    key = (name or "").strip().lstrip("#").lower()
    if not TAG_NAME.match(key):
        raise (ValidationFailed("Validation failed: Name is not a valid hashtag") if create else NotFound())
    tag = session.scalar(select(Tag).where(Tag.name == key))
    if tag is None:
        if not create:
            raise NotFound()
        insert_if_absent(session, Tag, {"name": key}, ["name"])
        tag = session.scalar(select(Tag).where(Tag.name == key))
    assert tag is not None
    return tag


def followed_tag_ids(session: Session, account_id: int | None, tag_ids: list[int]) -> set[int]:
    if account_id is None or not tag_ids:
        return set()
    return set(session.scalars(select(TagFollow.tag_id).where(TagFollow.account_id == account_id,
                                                             TagFollow.tag_id.in_(tag_ids))))


def featured_tag_ids(session: Session, account_id: int | None, tag_ids: list[int]) -> set[int]:
    if account_id is None or not tag_ids:
        return set()
    return set(session.scalars(select(FeaturedTag.tag_id).where(FeaturedTag.account_id == account_id,
                                                               FeaturedTag.tag_id.in_(tag_ids))))


def follow_tag(session: Session, me: Account, name: str) -> Tag:
    tag = tag_by_name(session, name, create=True)
    insert_if_absent(session, TagFollow, {"account_id": me.id, "tag_id": tag.id, "created_at": utcnow()},
                     ["account_id", "tag_id"])
    session.flush()
    return tag


def unfollow_tag(session: Session, me: Account, name: str) -> Tag:
    tag = tag_by_name(session, name)
    session.execute(delete(TagFollow).where(TagFollow.account_id == me.id, TagFollow.tag_id == tag.id))
    return tag


def followed_tags(session: Session, me: int, *, max_id: int | None, since_id: int | None, min_id: int | None,
                  limit: int) -> list[tuple[int, Tag]]:
    query = select(TagFollow.id, Tag).join(Tag, Tag.id == TagFollow.tag_id).where(TagFollow.account_id == me)
    rows = paginate(session, query, TagFollow.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [(row[0], row[1]) for row in rows]


def follows_any_tag(session: Session, account_id: int) -> bool:
    return session.scalar(select(TagFollow.id).where(TagFollow.account_id == account_id).limit(1)) is not None


# --- featured tags --------------------------------------------------------------------------------


def feature_tag(session: Session, me: Account, name: str) -> FeaturedTag:
    tag = tag_by_name(session, name, create=True)
    existing = session.scalar(select(FeaturedTag).where(FeaturedTag.account_id == me.id, FeaturedTag.tag_id == tag.id))
    if existing is not None:
        return existing
    count = session.scalar(select(func.count()).select_from(FeaturedTag).where(FeaturedTag.account_id == me.id)) or 0
    if count >= MAX_FEATURED_TAGS:
        raise ValidationFailed(f"Validation failed: You can feature at most {MAX_FEATURED_TAGS} hashtags")
    row = FeaturedTag(account_id=me.id, tag_id=tag.id)
    session.add(row)
    session.flush()
    return row


def unfeature_tag(session: Session, me: Account, name: str) -> Tag:
    tag = tag_by_name(session, name)
    session.execute(delete(FeaturedTag).where(FeaturedTag.account_id == me.id, FeaturedTag.tag_id == tag.id))
    return tag


def delete_featured_tag(session: Session, me: Account, featured_id: int | str) -> None:
    row = session.get(FeaturedTag, parse_id(featured_id))
    if row is None or row.account_id != me.id:
        raise NotFound()
    session.delete(row)


def featured_tags(session: Session, account_id: int) -> list[tuple[FeaturedTag, Tag, int, Any]]:
    """(featured tag, tag, the account's visible posts with it, the last one's time), oldest first."""
    rows = list(session.execute(select(FeaturedTag, Tag).join(Tag, Tag.id == FeaturedTag.tag_id)
                                .where(FeaturedTag.account_id == account_id).order_by(FeaturedTag.id)))
    out = []
    for featured, tag in rows:
        count, last = session.execute(
            select(func.count(), func.max(Status.created_at)).join(StatusTag, StatusTag.status_id == Status.id)
            .where(StatusTag.tag_id == tag.id, Status.account_id == account_id, Status.deleted_at.is_(None),
                   Status.state == "published", Status.visibility.in_(("public", "unlisted")))).one()
        out.append((featured, tag, int(count or 0), last))
    return out


def featured_tag_suggestions(session: Session, account_id: int, limit: int = 10) -> list[Tag]:
    """The hashtags the account used most recently and has not featured yet."""
    featured = select(FeaturedTag.tag_id).where(FeaturedTag.account_id == account_id)
    uses = func.count()
    return [row[0] for row in session.execute(
        select(Tag, uses).join(StatusTag, StatusTag.tag_id == Tag.id).join(Status, Status.id == StatusTag.status_id)
        .where(Status.account_id == account_id, Status.deleted_at.is_(None), Tag.id.not_in(featured))
        .group_by(Tag.id).order_by(uses.desc(), Tag.id.desc()).limit(limit))]


# --- people ---------------------------------------------------------------------------------------


def _not_for(session: Session, me: int) -> Any:
    """Accounts never suggested to `me`: themselves, followed, blocked either way, muted, dismissed."""
    from sqlalchemy import union_all

    return union_all(select(Follow.target_id).where(Follow.account_id == me),
                     select(Block.target_id).where(Block.account_id == me),
                     select(Block.account_id).where(Block.target_id == me),
                     select(Mute.target_id).where(Mute.account_id == me),
                     select(SuggestionDismissal.target_id).where(SuggestionDismissal.account_id == me))


def suggestions(session: Session, me: int, limit: int) -> list[tuple[str, Account]]:
    """(source, account): first accounts followed by people `me` follows ("friends_of_friends"), then
    the most followed active accounts ("global"). Only discoverable, unsuspended, unlimited accounts."""
    excluded = _not_for(session, me)
    base = [Account.id != me, Account.id.not_in(excluded), Account.discoverable.is_(True),
            Account.suspended_at.is_(None), Account.silenced_at.is_(None)]
    mine = select(Follow.target_id).where(Follow.account_id == me)
    fof_count = func.count()
    friends = [row[0] for row in session.execute(
        select(Account, fof_count).join(Follow, Follow.target_id == Account.id)
        .where(Follow.account_id.in_(mine), *base).group_by(Account.id)
        .order_by(fof_count.desc(), Account.id.desc()).limit(limit))]
    out: list[tuple[str, Account]] = [("friends_of_friends", a) for a in friends]
    if len(out) < limit:
        seen = [a.id for a in friends] or [0]
        popular = session.scalars(select(Account).where(*base, Account.id.not_in(seen), Account.statuses_count > 0)
                                  .order_by(Account.followers_count.desc(), Account.id.desc())
                                  .limit(limit - len(out)))
        out.extend(("global", a) for a in popular)
    return out


def dismiss_suggestion(session: Session, me: Account, target_id: int | str) -> None:
    target = accounts.get(session, target_id)
    insert_if_absent(session, SuggestionDismissal, {"account_id": me.id, "target_id": target.id},
                     ["account_id", "target_id"])


def directory(session: Session, viewer_id: int | None, *, order: str, offset: int, limit: int) -> list[Account]:
    """Discoverable local accounts that have posted: most recently active first, or newest ("new")."""
    query = select(Account).where(Account.discoverable.is_(True), Account.suspended_at.is_(None),
                                  Account.silenced_at.is_(None), Account.statuses_count > 0)
    if viewer_id is not None:
        from sqlalchemy import union_all

        hidden = union_all(select(Block.target_id).where(Block.account_id == viewer_id),
                           select(Block.account_id).where(Block.target_id == viewer_id))
        query = query.where(Account.id.not_in(hidden))
    if order == "new":
        query = query.order_by(Account.created_at.desc(), Account.id.desc())
    else:
        query = query.order_by(Account.last_status_at.desc().nulls_last(), Account.id.desc())
    return list(session.scalars(query.offset(offset).limit(limit)))


def familiar_followers(session: Session, me: int, ids: list[int]) -> dict[int, list[Account]]:
    """For each account in `ids`: the accounts `me` follows that follow it."""
    mine = select(Follow.target_id).where(Follow.account_id == me)
    out: dict[int, list[Account]] = {i: [] for i in ids}
    for target, account in session.execute(
            select(Follow.target_id, Account).join(Account, Account.id == Follow.account_id)
            .where(Follow.target_id.in_(ids), Follow.account_id.in_(mine), Account.suspended_at.is_(None))
            .order_by(Follow.id.desc())):
        out[target].append(account)
    return out


# --- domain blocks --------------------------------------------------------------------------------

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def _domain(value: str | None) -> str:
    domain = (value or "").strip().lower().rstrip(".")
    if domain.startswith(("http://", "https://")):
        domain = domain.split("://", 1)[1].split("/", 1)[0]
    if not DOMAIN.match(domain):
        raise ValidationFailed("Validation failed: Domain is not a valid domain name")
    return domain


def block_domain(session: Session, me: Account, value: str | None) -> None:
    insert_if_absent(session, DomainBlock, {"account_id": me.id, "domain": _domain(value), "created_at": utcnow()},
                     ["account_id", "domain"])


def unblock_domain(session: Session, me: Account, value: str | None) -> None:
    session.execute(delete(DomainBlock).where(DomainBlock.account_id == me.id, DomainBlock.domain == _domain(value)))


def blocked_domains(session: Session, me: int, *, max_id: int | None, since_id: int | None, min_id: int | None,
                    limit: int) -> list[tuple[int, str]]:
    query = select(DomainBlock.id, DomainBlock.domain).where(DomainBlock.account_id == me)
    rows = paginate(session, query, DomainBlock.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [(row[0], row[1]) for row in rows]


def weekly_activity(session: Session, weeks: int = 12) -> list[dict[str, str]]:
    """Mastodon's instance activity: posts, active posters (as "logins") and sign-ups per week."""
    now = utcnow()
    start_of_week = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for n in range(weeks):
        start = start_of_week - timedelta(weeks=n)
        end = start + timedelta(weeks=1)
        posts, posters = session.execute(select(func.count(), func.count(func.distinct(Status.account_id)))
                                         .where(Status.created_at >= start, Status.created_at < end,
                                                Status.deleted_at.is_(None))).one()
        signups = session.scalar(select(func.count()).select_from(Account)
                                 .where(Account.created_at >= start, Account.created_at < end)) or 0
        out.append({"week": str(int(start.timestamp())), "statuses": str(posts or 0), "logins": str(posters or 0),
                    "registrations": str(signups)})
    return out
