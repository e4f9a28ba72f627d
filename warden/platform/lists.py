"""Lists: named groups of accounts their owner follows, each with its own timeline.

As in Mastodon, only followed accounts can be added, and unfollowing an account takes it off the
follower's lists (`accounts._remove_follow`). A list's `replies_policy` decides which replies its
timeline shows (`followed`: replies to anyone the owner follows; `list`: replies to the list's
members; `none`: no replies to others); an `exclusive` list's members are left out of the owner's home
timeline (`timelines._home_statement`). The list timeline applies the home timeline's visibility
rules: published, not direct, authors not suspended, blocked or muted.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, delete, exists, func, or_, select, union_all
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform.ids import as_id, parse_id
from warden.platform.pagination import paginate
from warden.platform.timelines import _page, _without_hidden
from warden.store.client_models import REPLIES_POLICIES, ListAccount, UserList
from warden.store.models import Account, Follow, Status

MAX_LISTS = 50
MAX_TITLE = 200


def _title(value: str | None) -> str:
    title = (value or "").strip()
    if not title:
        raise ValidationFailed("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(f"Validation failed: Title is too long (maximum is {MAX_TITLE} characters)")
    return title


def _policy(value: str | None) -> str:
    policy = value or "list"
    if policy not in REPLIES_POLICIES:
        raise ValidationFailed(f"Validation failed: Replies policy must be one of {', '.join(REPLIES_POLICIES)}")
    return policy


def owned(session: Session, account_id: int, list_id: int | str) -> UserList:
    row = session.get(UserList, parse_id(list_id))
    if row is None or row.account_id != account_id:
        raise NotFound()
    return row


def all_of(session: Session, account_id: int) -> list[UserList]:
    return list(session.scalars(select(UserList).where(UserList.account_id == account_id).order_by(UserList.id)))


def create(session: Session, account_id: int, *, title: str | None, replies_policy: str | None,
           exclusive: bool) -> UserList:
    if session.scalar(select(func.count()).select_from(UserList).where(UserList.account_id == account_id)) >= MAX_LISTS:
        raise ValidationFailed(f"Validation failed: You cannot have more than {MAX_LISTS} lists")
    row = UserList(account_id=account_id, title=_title(title), replies_policy=_policy(replies_policy),
                   exclusive=exclusive)
    session.add(row)
    session.flush()
    return row


def update(session: Session, account_id: int, list_id: int | str, *, title: str | None,
           replies_policy: str | None, exclusive: bool | None) -> UserList:
    row = owned(session, account_id, list_id)
    if title is not None:
        row.title = _title(title)
    if replies_policy is not None:
        row.replies_policy = _policy(replies_policy)
    if exclusive is not None:
        row.exclusive = exclusive
    session.flush()
    return row


def remove(session: Session, account_id: int, list_id: int | str) -> None:
    session.delete(owned(session, account_id, list_id))
    session.flush()


def _account_ids(values: list[str]) -> list[int]:
    if not values:
        raise ValidationFailed("Validation failed: account_ids can't be blank")
    ids = []
    for value in values:
        ident = as_id(value)
        if ident is None:
            raise NotFound()
        ids.append(ident)
    return list(dict.fromkeys(ids))


def add_accounts(session: Session, account_id: int, list_id: int | str, account_ids: list[str]) -> None:
    """Add followed accounts; any account not followed (or not existing) is a 404, one already in the
    list a 422, and then nothing is added."""
    row = owned(session, account_id, list_id)
    ids = _account_ids(account_ids)
    followed = set(session.scalars(select(Follow.target_id).join(Account, Account.id == Follow.target_id).where(
        Follow.account_id == account_id, Follow.target_id.in_(ids), Account.suspended_at.is_(None))))
    if set(ids) - followed:
        raise NotFound()
    if session.scalar(select(ListAccount.id).where(ListAccount.list_id == row.id, ListAccount.account_id.in_(ids))):
        raise ValidationFailed("Validation failed: Account has already been taken")
    session.add_all([ListAccount(list_id=row.id, account_id=ident) for ident in ids])
    session.flush()


def remove_accounts(session: Session, account_id: int, list_id: int | str, account_ids: list[str]) -> None:
    row = owned(session, account_id, list_id)
    ids = [i for i in (as_id(v) for v in account_ids) if i is not None]
    if ids:
        session.execute(delete(ListAccount).where(ListAccount.list_id == row.id, ListAccount.account_id.in_(ids)))


def members(session: Session, account_id: int, list_id: int | str, *, max_id: int | None, since_id: int | None,
            min_id: int | None, limit: int | None) -> list[tuple[int, Account]]:
    """(membership id, account) pairs, newest first; `limit` None: all of them."""
    row = owned(session, account_id, list_id)
    query = (select(ListAccount.id, Account).join(Account, Account.id == ListAccount.account_id)
             .where(ListAccount.list_id == row.id, Account.suspended_at.is_(None)))
    if limit is None:
        return [(r[0], r[1]) for r in session.execute(query.order_by(ListAccount.id.desc()))]
    rows = paginate(session, query, ListAccount.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [(r[0], r[1]) for r in rows]


def lists_with(session: Session, account_id: int, member_id: int | str) -> list[UserList]:
    """The owner's lists that `member_id` is on (`GET /api/v1/accounts/:id/lists`)."""
    member = session.get(Account, parse_id(member_id))
    if member is None:
        raise NotFound()
    return list(session.scalars(select(UserList).join(ListAccount, ListAccount.list_id == UserList.id).where(
        UserList.account_id == account_id, ListAccount.account_id == member.id).order_by(UserList.id)))


def member_ids(list_id: int, owner_id: int) -> Select[tuple[int]]:
    """The list's members that its owner still follows (a subquery)."""
    return (select(ListAccount.account_id)
            .join(Follow, (Follow.target_id == ListAccount.account_id) & (Follow.account_id == owner_id))
            .where(ListAccount.list_id == list_id))


def timeline(session: Session, row: UserList, *, max_id: int | None = None, since_id: int | None = None,
             min_id: int | None = None, limit: int = 20) -> list[Status]:
    owner = row.account_id
    authors = member_ids(row.id, owner)
    query = (select(Status).join(Account, Account.id == Status.account_id)
             .where(Status.account_id.in_(authors), Status.deleted_at.is_(None), Status.state == "published",
                    Status.visibility != "direct", Account.suspended_at.is_(None)))
    not_a_reply = or_(Status.in_reply_to_account_id.is_(None), Status.in_reply_to_account_id == Status.account_id)
    if row.replies_policy == "none":
        query = query.where(not_a_reply)
    elif row.replies_policy == "list":
        query = query.where(or_(not_a_reply, Status.in_reply_to_account_id.in_(
            union_all(member_ids(row.id, owner), select(Account.id).where(Account.id == owner)))))
    else:  # followed
        query = query.where(or_(not_a_reply, Status.in_reply_to_account_id == owner, exists().where(
            Follow.account_id == owner, Follow.target_id == Status.in_reply_to_account_id)))
    query = _without_hidden(query, owner)
    return _page(session, query, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def lists_carrying(session: Session, list_ids: list[int], status: Status) -> set[int]:
    """Which of `list_ids` carry `status` on their stream: the author is a member their owner follows,
    and a reply to someone else passes the list's replies policy (as `timeline` applies it)."""
    if not list_ids:
        return set()
    found = session.execute(
        select(UserList).join(ListAccount, ListAccount.list_id == UserList.id)
        .join(Follow, (Follow.target_id == ListAccount.account_id) & (Follow.account_id == UserList.account_id))
        .where(ListAccount.list_id.in_(list_ids), ListAccount.account_id == status.account_id)).scalars().all()
    target = status.in_reply_to_account_id
    if target is None or target == status.account_id:
        return {row.id for row in found}
    carrying = set()
    for row in found:
        if row.replies_policy == "none":
            continue
        if target == row.account_id:
            carrying.add(row.id)
        elif row.replies_policy == "list":
            if session.scalar(select(exists().where(ListAccount.list_id == row.id, ListAccount.account_id == target))):
                carrying.add(row.id)
        elif session.scalar(select(exists().where(Follow.account_id == row.account_id, Follow.target_id == target))):
            carrying.add(row.id)
    return carrying


def exclusive_owners(session: Session, author_id: int, owner_ids: Collection[int]) -> set[int]:
    """Which of `owner_ids` have `author_id` on one of their exclusive lists (so not on their home stream)."""
    if not owner_ids:
        return set()
    return set(session.scalars(
        select(UserList.account_id).join(ListAccount, ListAccount.list_id == UserList.id)
        .where(UserList.account_id.in_(list(owner_ids)), UserList.exclusive.is_(True),
               ListAccount.account_id == author_id)))


def list_json(row: UserList) -> dict[str, object]:
    """Mastodon's List entity."""
    return {"id": str(row.id), "title": row.title, "replies_policy": row.replies_policy,
            "exclusive": bool(row.exclusive)}
