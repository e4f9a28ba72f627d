"""Accounts and the relations between them: sign-up, profiles, follows, blocks and mutes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from warden.errors import Forbidden, NotFound, ValidationFailed
from warden.platform import console_sessions, notifications
from warden.platform.ids import parse_id
from warden.platform.auth import hash_password
from warden.platform.pagination import paginate
from warden.store.client_models import ListAccount, UserList
from warden.store.db import insert_if_absent
from warden.store.models import Account, Block, Follow, Mute, Notification, utcnow

ROLES = ("user", "moderator", "senior", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESERVED = frozenset(["admin", "administrator", "root", "support", "help", "moderator", "warden", "webmaster",
                      "postmaster", "abuse", "security", "moderation"])


def _field_error(field: str, code: str, description: str) -> ValidationFailed:
    return ValidationFailed(
        f"Validation failed: {field.capitalize()} {description}",
        details={field: [{"error": code, "description": description}]},
    )


def register(session: Session, *, username: str, email: str, password: str, agreement: bool = True,
             locale: str = "en", role: str = "user", display_name: str | None = None,
             allow_reserved: bool = False, password_hash: str | None = None) -> Account:
    """Create an account. `password_hash` (an Argon2 hash of `password`) skips hashing again, for
    imports from another server and for test fixtures that create many accounts."""
    username = (username or "").strip()
    email = (email or "").strip().lower()
    if not username:
        raise _field_error("username", "ERR_BLANK", "can't be blank")
    if len(username) > 30:
        raise _field_error("username", "ERR_TOO_LONG", "is too long (maximum is 30 characters)")
    if not USERNAME.match(username):
        raise _field_error("username", "ERR_INVALID", "must contain only letters, numbers and underscores")
    if username.lower() in RESERVED and not allow_reserved:
        raise _field_error("username", "ERR_RESERVED", "is reserved")
    if not EMAIL.match(email):
        raise _field_error("email", "ERR_INVALID", "is invalid")
    if len(password or "") < 8:
        raise _field_error("password", "ERR_TOO_SHORT", "is too short (minimum is 8 characters)")
    if len(password) > 72:
        raise _field_error("password", "ERR_TOO_LONG", "is too long (maximum is 72 characters)")
    if not agreement:
        raise _field_error("agreement", "ERR_ACCEPTED", "must be accepted")
    if role not in ROLES:
        raise _field_error("role", "ERR_INCLUSION", f"must be one of {', '.join(ROLES)}")
    if session.scalar(select(Account.id).where(Account.username_key == username.lower())):
        raise _field_error("username", "ERR_TAKEN", "is already taken")
    if session.scalar(select(Account.id).where(Account.email == email)):
        raise _field_error("email", "ERR_TAKEN", "is already taken")
    account = Account(username=username, username_key=username.lower(), email=email,
                      password_hash=password_hash or hash_password(password), role=role, locale=locale or "en",
                      display_name=display_name if display_name is not None else username)
    session.add(account)
    session.flush()
    return account


def get(session: Session, account_id: int | str) -> Account:
    account = session.get(Account, _int_id(account_id))
    if account is None:
        raise NotFound()
    return account


def by_username(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username_key == username.lower()))


def lookup(session: Session, acct: str, local_domain: str) -> Account:
    name = (acct or "").lstrip("@")
    if "@" in name:
        name, domain = name.split("@", 1)
        if domain.lower() != local_domain.lower():
            raise NotFound()
    account = by_username(session, name)
    if account is None:
        raise NotFound()
    return account


_int_id = parse_id


def update_profile(session: Session, account: Account, changes: dict[str, object]) -> Account:
    if "display_name" in changes:
        name = str(changes["display_name"] or "")
        if len(name) > 30:
            raise _field_error("display_name", "ERR_TOO_LONG", "is too long (maximum is 30 characters)")
        account.display_name = name
    if "note" in changes:
        note = str(changes["note"] or "")
        if len(note) > 500:
            raise _field_error("note", "ERR_TOO_LONG", "is too long (maximum is 500 characters)")
        account.note = note
    was_locked = account.locked
    for flag in ("locked", "bot", "discoverable"):
        if flag in changes:
            setattr(account, flag, _truthy(changes[flag]))
    if was_locked and not account.locked:
        from warden.platform import follow_requests

        session.flush()
        follow_requests.authorize_all(session, account)
    return account


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "on", "yes")
    return bool(value)


def set_role(session: Session, account: Account, role: str) -> None:
    """Change an account's role; its console sessions end (it logs in again with the new role)."""
    if role not in ROLES:
        raise ValidationFailed(f"Unknown role {role!r}: use one of {', '.join(ROLES)}")
    if account.role != role:
        console_sessions.end_for_account(session, account.id)
    account.role = role


def set_password(session: Session, account: Account, password: str) -> None:
    """Change an account's password; every console session of the account ends."""
    if len(password or "") < 8:
        raise _field_error("password", "ERR_TOO_SHORT", "is too short (minimum is 8 characters)")
    if len(password) > 72:
        raise _field_error("password", "ERR_TOO_LONG", "is too long (maximum is 72 characters)")
    account.password_hash = hash_password(password)
    console_sessions.end_for_account(session, account.id)


# --- relations -------------------------------------------------------------------------------


@dataclass
class Relationship:
    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    requested: bool = False
    requested_by: bool = False
    endorsed: bool = False
    note: str = ""


def relationships(session: Session, me: int, ids: list[int]) -> list[Relationship]:
    if not ids:
        return []
    out = {i: Relationship(id=i) for i in ids}
    for f in session.scalars(select(Follow).where(Follow.account_id == me, Follow.target_id.in_(ids))):
        out[f.target_id].following = True
        out[f.target_id].showing_reblogs = f.show_reblogs
        out[f.target_id].notifying = f.notify
    for target in session.scalars(select(Follow.account_id).where(Follow.target_id == me, Follow.account_id.in_(ids))):
        out[target].followed_by = True
    for target in session.scalars(select(Block.target_id).where(Block.account_id == me, Block.target_id.in_(ids))):
        out[target].blocking = True
    for target in session.scalars(select(Block.account_id).where(Block.target_id == me, Block.account_id.in_(ids))):
        out[target].blocked_by = True
    for m in session.scalars(select(Mute).where(Mute.account_id == me, Mute.target_id.in_(ids))):
        out[m.target_id].muting = True
        out[m.target_id].muting_notifications = m.notifications
    from warden.platform import follow_requests  # follow requests and endorsements (issue 33)

    follow_requests.fill_relationships(session, me, out)
    return [out[i] for i in ids]


def is_blocked_either_way(session: Session, a: int, b: int) -> bool:
    return session.scalar(select(func.count()).select_from(Block).where(
        or_((Block.account_id == a) & (Block.target_id == b), (Block.account_id == b) & (Block.target_id == a))
    )) > 0


def follow(session: Session, me: Account, target_id: int | str, *, reblogs: bool = True,
           notify: bool = False) -> Relationship:
    target = get(session, target_id)
    if target.id == me.id:
        raise ValidationFailed("Validation failed: You cannot follow yourself")
    if target.suspended_at is not None:
        raise NotFound()
    if is_blocked_either_way(session, me.id, target.id):
        raise Forbidden("This action is not allowed")
    from warden.platform import follow_requests

    if target.locked and not session.scalar(select(Follow.id).where(Follow.account_id == me.id,
                                                                    Follow.target_id == target.id)):
        follow_requests.request(session, me, target, reblogs=reblogs, notify=notify)  # a locked account decides
        return relationships(session, me.id, [target.id])[0]
    return add_follow(session, me, target, reblogs=reblogs, notify=notify)


def add_follow(session: Session, me: Account, target: Account, *, reblogs: bool = True,
               notify: bool = False, notify_target: bool = True) -> Relationship:
    """`me` follows `target` now (a follow, or an authorized follow request)."""
    added = insert_if_absent(session, Follow, {"account_id": me.id, "target_id": target.id, "show_reblogs": reblogs,
                                               "notify": notify, "created_at": utcnow()}, ["account_id", "target_id"])
    if added:
        session.execute(update(Account).where(Account.id == me.id).values(following_count=Account.following_count + 1))
        session.execute(update(Account).where(Account.id == target.id).values(followers_count=Account.followers_count + 1))
        if notify_target:
            notifications.notify(session, account_id=target.id, from_account_id=me.id, type="follow")
    else:
        session.execute(update(Follow).where(Follow.account_id == me.id, Follow.target_id == target.id)
                        .values(show_reblogs=reblogs, notify=notify))
    session.flush()
    return relationships(session, me.id, [target.id])[0]


def _remove_follow(session: Session, follower: int, target: int) -> None:
    removed = session.execute(delete(Follow).where(Follow.account_id == follower, Follow.target_id == target))
    if removed.rowcount:
        # an account one no longer follows leaves one's lists, as in Mastodon
        session.execute(delete(ListAccount).where(ListAccount.account_id == target, ListAccount.list_id.in_(
            select(UserList.id).where(UserList.account_id == follower))))
        session.execute(update(Account).where(Account.id == follower).values(following_count=Account.following_count - 1))
        session.execute(update(Account).where(Account.id == target).values(followers_count=Account.followers_count - 1))


def unfollow(session: Session, me: Account, target_id: int | str) -> Relationship:
    target = get(session, target_id)
    _remove_follow(session, me.id, target.id)
    from warden.platform import follow_requests

    follow_requests.withdraw(session, me.id, target.id)
    return relationships(session, me.id, [target.id])[0]


def block(session: Session, me: Account, target_id: int | str) -> Relationship:
    target = get(session, target_id)
    if target.id == me.id:
        raise ValidationFailed("Validation failed: You cannot block yourself")
    if not session.scalar(select(Block.id).where(Block.account_id == me.id, Block.target_id == target.id)):
        session.add(Block(account_id=me.id, target_id=target.id))
        _remove_follow(session, me.id, target.id)
        _remove_follow(session, target.id, me.id)
        from warden.platform import follow_requests

        follow_requests.withdraw(session, me.id, target.id)
        follow_requests.withdraw(session, target.id, me.id)
        session.execute(delete(Notification).where(Notification.account_id == me.id,
                                                   Notification.from_account_id == target.id))
        session.flush()
    return relationships(session, me.id, [target.id])[0]


def unblock(session: Session, me: Account, target_id: int | str) -> Relationship:
    target = get(session, target_id)
    session.execute(delete(Block).where(Block.account_id == me.id, Block.target_id == target.id))
    return relationships(session, me.id, [target.id])[0]


def mute(session: Session, me: Account, target_id: int | str, *, notifications_too: bool = True) -> Relationship:
    target = get(session, target_id)
    if target.id == me.id:
        raise ValidationFailed("Validation failed: You cannot mute yourself")
    existing = session.scalar(select(Mute).where(Mute.account_id == me.id, Mute.target_id == target.id))
    if existing is None:
        session.add(Mute(account_id=me.id, target_id=target.id, notifications=notifications_too))
    else:
        existing.notifications = notifications_too
    session.flush()
    return relationships(session, me.id, [target.id])[0]


def unmute(session: Session, me: Account, target_id: int | str) -> Relationship:
    target = get(session, target_id)
    session.execute(delete(Mute).where(Mute.account_id == me.id, Mute.target_id == target.id))
    return relationships(session, me.id, [target.id])[0]


def followers(session: Session, account_id: int, *, max_id: int | None, since_id: int | None,
              min_id: int | None, limit: int) -> list[tuple[int, Account]]:
    """(follow id, follower) pairs, newest first; the follow id is the pagination cursor."""
    return _follow_page(session, Follow.target_id == account_id, Follow.account_id,
                        max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def following(session: Session, account_id: int, *, max_id: int | None, since_id: int | None,
              min_id: int | None, limit: int) -> list[tuple[int, Account]]:
    return _follow_page(session, Follow.account_id == account_id, Follow.target_id,
                        max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)


def _follow_page(session: Session, where: object, other: object, *, max_id: int | None, since_id: int | None,
                 min_id: int | None, limit: int) -> list[tuple[int, Account]]:
    query = select(Follow.id, Account).join(Account, Account.id == other).where(where, Account.suspended_at.is_(None))
    rows = paginate(session, query, Follow.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [(row[0], row[1]) for row in rows]


def suspend(session: Session, account: Account) -> None:
    account.suspended_at = account.suspended_at or utcnow()
    console_sessions.end_for_account(session, account.id)


def unsuspend(session: Session, account: Account) -> None:
    account.suspended_at = None
