"""Locked accounts: a follow becomes a request the account authorizes or rejects; and what else a
relationship shows beside follows: endorsements (accounts featured on a profile), private notes, and
removing a follower."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform import accounts, notifications
from warden.platform.pagination import paginate
from warden.store.client2_models import AccountNote, Endorsement, FollowRequest
from warden.store.db import insert_if_absent
from warden.store.models import Account, Follow, Notification, utcnow


def request(session: Session, me: Account, target: Account, *, reblogs: bool, notify: bool) -> None:
    """Ask to follow the locked `target`; it is told with a `follow_request` notification (once)."""
    added = insert_if_absent(session, FollowRequest, {"account_id": me.id, "target_id": target.id,
                                                      "show_reblogs": reblogs, "notify": notify,
                                                      "created_at": utcnow()}, ["account_id", "target_id"])
    if added:
        notifications.notify(session, account_id=target.id, from_account_id=me.id, type="follow_request")
    session.flush()


def withdraw(session: Session, follower_id: int, target_id: int) -> None:
    """Drop a pending request (unfollow, block) and the notification that announced it."""
    removed = session.execute(delete(FollowRequest).where(FollowRequest.account_id == follower_id,
                                                          FollowRequest.target_id == target_id))
    if removed.rowcount:
        session.execute(delete(Notification).where(Notification.account_id == target_id,
                                                   Notification.from_account_id == follower_id,
                                                   Notification.type == "follow_request"))


def pending(session: Session, me: int, *, max_id: int | None, since_id: int | None, min_id: int | None,
            limit: int) -> list[tuple[int, Account]]:
    """(request id, requester) pairs, newest first; the request id is the pagination cursor."""
    query = (select(FollowRequest.id, Account).join(Account, Account.id == FollowRequest.account_id)
             .where(FollowRequest.target_id == me, Account.suspended_at.is_(None)))
    rows = paginate(session, query, FollowRequest.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [(row[0], row[1]) for row in rows]


def count(session: Session, me: int) -> int:
    return session.scalar(select(func.count()).select_from(FollowRequest).where(FollowRequest.target_id == me)) or 0


def _find(session: Session, me: Account, requester_id: int | str) -> tuple[FollowRequest, Account]:
    requester = accounts.get(session, requester_id)
    row = session.scalar(select(FollowRequest).where(FollowRequest.account_id == requester.id,
                                                     FollowRequest.target_id == me.id))
    if row is None:
        raise NotFound()
    return row, requester


def authorize(session: Session, me: Account, requester_id: int | str) -> accounts.Relationship:
    """`requester` now follows `me`. Returns `me`'s relationship with the requester, as Mastodon does."""
    row, requester = _find(session, me, requester_id)
    session.delete(row)
    session.flush()
    accounts.add_follow(session, requester, me, reblogs=row.show_reblogs, notify=row.notify, notify_target=False)
    return accounts.relationships(session, me.id, [requester.id])[0]


def reject(session: Session, me: Account, requester_id: int | str) -> accounts.Relationship:
    _row, requester = _find(session, me, requester_id)
    withdraw(session, requester.id, me.id)
    session.flush()
    return accounts.relationships(session, me.id, [requester.id])[0]


def authorize_all(session: Session, me: Account) -> None:
    """An account that unlocks accepts every pending request (as Mastodon does)."""
    for requester_id in list(session.scalars(select(FollowRequest.account_id).where(FollowRequest.target_id == me.id))):
        authorize(session, me, requester_id)


def fill_relationships(session: Session, me: int, out: dict[int, accounts.Relationship]) -> None:
    ids = list(out)
    for target in session.scalars(select(FollowRequest.target_id).where(FollowRequest.account_id == me,
                                                                      FollowRequest.target_id.in_(ids))):
        out[target].requested = True
    for source in session.scalars(select(FollowRequest.account_id).where(FollowRequest.target_id == me,
                                                                       FollowRequest.account_id.in_(ids))):
        out[source].requested_by = True
    for target in session.scalars(select(Endorsement.target_id).where(Endorsement.account_id == me,
                                                                    Endorsement.target_id.in_(ids))):
        out[target].endorsed = True
    for target, comment in session.execute(select(AccountNote.target_id, AccountNote.comment).where(
            AccountNote.account_id == me, AccountNote.target_id.in_(ids))):
        out[target].note = comment


MAX_NOTE = 2000


def set_note(session: Session, me: Account, target_id: int | str, comment: str) -> accounts.Relationship:
    """A private note on another account (empty: removed); only its writer sees it."""
    target = accounts.get(session, target_id)
    comment = comment or ""
    if len(comment) > MAX_NOTE:
        raise ValidationFailed(f"Validation failed: Comment is too long (maximum is {MAX_NOTE} characters)")
    session.execute(delete(AccountNote).where(AccountNote.account_id == me.id, AccountNote.target_id == target.id))
    if comment:
        session.add(AccountNote(account_id=me.id, target_id=target.id, comment=comment))
    session.flush()
    return accounts.relationships(session, me.id, [target.id])[0]


def remove_follower(session: Session, me: Account, follower_id: int | str) -> accounts.Relationship:
    """`follower` no longer follows `me` (Mastodon's remove_from_followers)."""
    follower = accounts.get(session, follower_id)
    accounts._remove_follow(session, follower.id, me.id)
    session.flush()
    return accounts.relationships(session, me.id, [follower.id])[0]


# --- endorsements ------------------------------------------------------------------------------------

MAX_ENDORSEMENTS = 20


def endorse(session: Session, me: Account, target_id: int | str) -> accounts.Relationship:
    """Feature `target` on `me`'s profile; only an account `me` follows (422 otherwise, as Mastodon)."""
    target = accounts.get(session, target_id)
    if not session.scalar(select(Follow.id).where(Follow.account_id == me.id, Follow.target_id == target.id)):
        raise ValidationFailed("Validation failed: You must be already following the account you want to feature")
    if not session.scalar(select(Endorsement.id).where(Endorsement.account_id == me.id,
                                                       Endorsement.target_id == target.id)):
        if (session.scalar(select(func.count()).select_from(Endorsement)
                           .where(Endorsement.account_id == me.id)) or 0) >= MAX_ENDORSEMENTS:
            raise ValidationFailed(f"Validation failed: You can feature at most {MAX_ENDORSEMENTS} accounts")
        insert_if_absent(session, Endorsement, {"account_id": me.id, "target_id": target.id, "created_at": utcnow()},
                         ["account_id", "target_id"])
    session.flush()
    return accounts.relationships(session, me.id, [target.id])[0]


def unendorse(session: Session, me: Account, target_id: int | str) -> accounts.Relationship:
    target = accounts.get(session, target_id)
    session.execute(delete(Endorsement).where(Endorsement.account_id == me.id, Endorsement.target_id == target.id))
    return accounts.relationships(session, me.id, [target.id])[0]


def endorsements(session: Session, account_id: int, *, max_id: int | None, since_id: int | None,
                 min_id: int | None, limit: int) -> list[tuple[int, Account]]:
    query = (select(Endorsement.id, Account).join(Account, Account.id == Endorsement.target_id)
             .where(Endorsement.account_id == account_id, Account.suspended_at.is_(None)))
    rows = paginate(session, query, Endorsement.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [(row[0], row[1]) for row in rows]
