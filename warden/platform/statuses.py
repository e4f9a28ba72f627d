"""Posts (statuses): the write path, who may see what, threads, favourites and reblogs.

The write path is `create()` / `edit()`: validate, render, pass the moderation gate, then store the
post, its moderation state and an outbox event in the caller's one transaction. An edit is never looser
than what moderators decided about the post (`moderator_floor`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from warden.config import Settings
from warden.errors import Conflict, Forbidden, NotFound, ValidationFailed
from warden.media import service as media_service
from warden.platform import accounts, content, conversations, notifications, polls, status_extras
from warden.platform.ids import parse_id
from warden.platform.moderator_floor import impose, moderator_floor
from warden.policy.gate import Assessed, Draft, DraftImage, ModerationGate, Verdict, assess, moderate
from warden.policy.model import STRICTNESS
from warden.store.db import insert_if_absent, insert_now
from warden.store.models import (
    Account,
    Favourite,
    Follow,
    IdempotencyKey,
    Mention,
    Status,
    StatusTag,
    Tag,
    utcnow,
)
from warden.store.outbox import emit

VISIBILITIES = ("public", "unlisted", "private", "direct")


def account_url(settings: Settings, username: str) -> str:
    return f"{settings.base_url}/@{username}"


def status_url(settings: Settings, username: str, status_id: int) -> str:
    return f"{settings.base_url}/@{username}/{status_id}"


# --- visibility ------------------------------------------------------------------------------


def can_see(session: Session, viewer_id: int | None, status: Status, author: Account | None = None) -> bool:
    """Whether `viewer_id` (None: anonymous) may see `status`."""
    if status.deleted_at is not None or status.state == "removed":
        return False
    author = author or session.get(Account, status.account_id)
    if author is None or author.suspended_at is not None:
        return False
    is_author = viewer_id == status.account_id
    if status.state == "held" and not is_author:
        return False
    if is_author:
        return True
    if viewer_id is not None and accounts.is_blocked_either_way(session, viewer_id, status.account_id):
        return False
    if status.visibility in ("public", "unlisted"):
        return True
    if viewer_id is None:
        return False
    mentioned = session.scalar(select(Mention.account_id).where(Mention.status_id == status.id,
                                                                Mention.account_id == viewer_id))
    if mentioned is not None:
        return True
    if status.visibility == "private":
        return session.scalar(select(Follow.id).where(Follow.account_id == viewer_id,
                                                      Follow.target_id == status.account_id)) is not None
    return False


def get_visible(session: Session, viewer_id: int | None, status_id: int | str) -> Status:
    status = session.get(Status, parse_id(status_id))
    if status is None or not can_see(session, viewer_id, status):
        raise NotFound()
    return status


# --- the write path --------------------------------------------------------------------------


class DuplicateRequest(Conflict):
    """Raised (rolling the transaction back) when a concurrent request with the same Idempotency-Key
    published first; retrying the request then returns that first post."""


@dataclass
class PostResult:
    """What `create()` did. `status` is None when the gate blocked the post."""

    status: Status | None
    verdict: Verdict
    replayed: bool = False
    #: A new post written just now (not an edit, not a replayed Idempotency-Key): nobody has
    #: favourited or reblogged it, so it renders without queries.
    created: bool = False


#: An ISO 639 code (two or three letters), optionally with a region or script subtag ("pt-BR", "zh-Hant"),
#: as Mastodon clients send it; the column holds 16 characters.
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")


def check_draft(settings: Settings, text: str, spoiler_text: str, language: str | None) -> None:
    """The checks a post's text needs neither the database nor the detector for. The API runs them
    before the gate's `prescore`, so an over-long post is refused before the detector spends anything
    on it (a 1 MB post cost 2.65 s of detector time before it was refused)."""
    if len(text) + len(spoiler_text) > settings.max_status_chars:
        raise ValidationFailed(f"Validation failed: Text character limit of {settings.max_status_chars} exceeded")
    if language and not _LANGUAGE.fullmatch(language):
        raise ValidationFailed("Validation failed: Language must be an ISO 639 code such as en or pt-BR")


def _validate(settings: Settings, author: Account, text: str, spoiler_text: str, visibility: str,
              language: str | None, *, has_media: bool = False) -> None:
    if author.suspended_at is not None:
        raise Forbidden("Your account is suspended and cannot post")
    if not text.strip() and not has_media:  # a post of images alone needs no text (as on Mastodon)
        raise ValidationFailed("Validation failed: Text can't be blank")
    check_draft(settings, text, spoiler_text, language)
    if visibility not in VISIBILITIES:
        raise ValidationFailed(f"Validation failed: Visibility must be one of {', '.join(VISIBILITIES)}")


def idempotency_digest(key: str) -> str:
    """What `idempotency_keys.key` stores: the SHA-256 of the whole key. Storing the key cut to the
    column's 200 characters made two keys sharing their first 200 characters the same request, so the
    second post was silently never created."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _apply_verdict(status: Status, verdict: Verdict) -> None:
    status.decision_id = verdict.decision_id
    status.state = "held" if verdict.action == "hold" else "published"
    status.limited = verdict.action == "limit"
    if verdict.action == "label":
        status.moderation_label = verdict.label or "Sensitive content"
        status.sensitive = True
    status.local_public = (status.state == "published" and status.visibility == "public"
                           and not status.limited and status.reblog_of_id is None and status.deleted_at is None)


def _mention_targets(session: Session, usernames: Iterable[str]) -> dict[str, Account]:
    names = list(usernames)
    if not names:
        return {}
    return {a.username_key: a for a in session.scalars(select(Account).where(Account.username_key.in_(names)))}


def _render(session: Session, settings: Settings, text: str) -> tuple[content.Rendered, dict[str, Account]]:
    targets = _mention_targets(session, content.extract_mentions(text))
    rendered = content.render(
        text, base_url=settings.base_url,
        account_url=lambda name: account_url(settings, targets[name].username) if name in targets else None,
    )
    return rendered, targets


# Statements of the write path, built once: building one cost about as much CPU as running it.
_TAG_ID = select(Tag.id).where(Tag.name == bindparam("name"))
_COUNT_NEW_STATUS = (update(Account).where(Account.id == bindparam("author_id"))
                     .values(statuses_count=Account.statuses_count + 1, last_status_at=bindparam("now"))
                     .returning(Account.statuses_count, Account.suspended_at))
_COUNT_REPLY = (update(Status).where(Status.id == bindparam("parent_id"))
                .values(replies_count=Status.replies_count + 1))
_ADD_STATUS_TAG = insert(StatusTag.__table__)


def _tag_id(session: Session, name: str) -> int:
    """The id of tag `name`, created if need be. Concurrent posts may create the same new tag at once
    (on PostgreSQL), so creation is an INSERT ... ON CONFLICT DO NOTHING followed by a read."""
    tag_id = session.scalar(_TAG_ID, {"name": name})
    if tag_id is None:
        insert_if_absent(session, Tag, {"name": name}, ["name"])
        tag_id = session.scalar(_TAG_ID, {"name": name})
    assert tag_id is not None
    return tag_id


def _attach_tags(session: Session, status_id: int, names: list[str]) -> None:
    for name in names[:20]:
        session.add(StatusTag(status_id=status_id, tag_id=_tag_id(session, name)))


@dataclass
class Prepared:
    """What a new post needs read before it is written (`prepare`): checked, rendered, and assessed by the
    gate. The API prepares a post in a read session, so its write transaction (on SQLite: the one write
    lock) holds only the writes."""

    draft: Draft
    parent: Status | None
    media_ids: list[str]
    #: the attachments, as the preparing session loaded them
    media: list[Any]
    rendered: content.Rendered
    targets: dict[str, Account]
    #: the post's tags by name, with their ids where the tag exists already
    tags: dict[str, int | None]
    assessed: Assessed | None


def prepare(session: Session, settings: Settings, author: Account, *, text: str, spoiler_text: str = "",
            visibility: str = "public", in_reply_to_id: int | str | None = None, language: str | None = None,
            gate: ModerationGate | None = None, media_ids: list[str] | None = None,
            poll: polls.PollSpec | None = None) -> Prepared:
    """The reads of `create`, in any session (no writes): validate the draft, find what it replies to and
    mentions, render it, and let the gate assess it."""
    text, spoiler_text, visibility = text or "", spoiler_text or "", visibility or "public"
    # the attachments are checked (own, unattached, at most four) before the gate spends anything
    media = media_service.claimable(session, author.id, media_ids or [])
    _validate(settings, author, text, spoiler_text, visibility, language, has_media=bool(media))
    parent: Status | None = None
    if in_reply_to_id not in (None, ""):
        parent = session.get(Status, parse_id(in_reply_to_id))
        if parent is None or not can_see(session, author.id, parent):
            raise NotFound("The status you are replying to does not exist or is not visible")
    draft = Draft(account_id=author.id, text=polls.scored_text(text, poll and poll.options),
                  spoiler_text=spoiler_text, visibility=visibility, in_reply_to_id=parent.id if parent else None,
                  language=language, images=_draft_images(media))
    rendered, targets = _render(session, settings, text)
    sql = session.connection()  # plain Core reads and writes where the ORM adds nothing but cost
    tags = {name: sql.scalar(_TAG_ID, {"name": name}) for name in dict.fromkeys(rendered.tags[:20])}
    return Prepared(draft=draft, parent=parent, media_ids=list(media_ids or []), media=media, rendered=rendered,
                    targets=targets, tags=tags, assessed=assess(session, draft, gate))


def create(session: Session, settings: Settings, author: Account, *, text: str, spoiler_text: str = "",
           visibility: str = "public", sensitive: bool = False, in_reply_to_id: int | str | None = None,
           language: str | None = None, idempotency_key: str | None = None,
           gate: ModerationGate | None = None, media_ids: list[str] | None = None,
           poll: polls.PollSpec | None = None, prepared: Prepared | None = None) -> PostResult:
    """Write a new post in `session`'s transaction. `prepared`: its `prepare()` with these same fields,
    done earlier in a read session (`author` may then be the account as that session loaded it)."""
    text = text or ""
    spoiler_text = spoiler_text or ""
    visibility = visibility or "public"
    idempotency_key = idempotency_digest(idempotency_key) if idempotency_key else None
    if idempotency_key:
        previous = session.scalar(select(IdempotencyKey.status_id).where(
            IdempotencyKey.account_id == author.id, IdempotencyKey.key == idempotency_key))
        if previous is not None:
            status = session.get(Status, previous)
            if status is not None:
                return PostResult(status=status, verdict=Verdict(action="allow", decision_id=status.decision_id),
                                  replayed=True)
    if prepared is None:
        prepared = prepare(session, settings, author, text=text, spoiler_text=spoiler_text, visibility=visibility,
                           in_reply_to_id=in_reply_to_id, language=language, gate=gate, media_ids=media_ids,
                           poll=poll)
        media = prepared.media
    else:  # claimed again in this transaction: a concurrent post may have taken an attachment since
        media = media_service.claimable(session, author.id, prepared.media_ids) if prepared.media_ids else []
    parent, rendered, targets = prepared.parent, prepared.rendered, prepared.targets

    verdict = moderate(session, prepared.draft, gate, prepared.assessed)
    if verdict.action == "block":
        emit(session, "status.blocked", None, {"account_id": author.id, "decision_id": verdict.decision_id,
                                               "label": verdict.label})
        return PostResult(status=None, verdict=verdict)

    # before the post is pending, so these reads flush nothing
    tag_ids = [tag_id if tag_id is not None else _tag_id(session, name) for name, tag_id in prepared.tags.items()]
    now = utcnow()
    status = Status(
        account_id=author.id, text=text, content_html=rendered.html, spoiler_text=spoiler_text,
        sensitive=bool(sensitive) or bool(spoiler_text), visibility=visibility, language=language,
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.account_id if parent else None, created_at=now,
        mention_list=[{"id": a.id, "username": a.username} for a in targets.values()],
        tag_list=rendered.tags[:20], media_list=[media_service.list_entry(m) for m in media] or None,
    )
    _apply_verdict(status, verdict)
    insert_now(session, status)  # written now, its id known, without a flush
    media_service.attach(session, status, media, new=True)

    # The counters and the tags through the connection: Core statements, without the ORM's bulk UPDATE
    # and unit of work (about a fifth of a post's CPU), and without autoflush (nothing is pending here).
    sql = session.connection()
    count, suspended_at = sql.execute(_COUNT_NEW_STATUS, {"author_id": author.id, "now": now}).one()
    if suspended_at is not None:  # suspended since the post was prepared: nothing of it is kept
        raise Forbidden("Your account is suspended and cannot post")
    _set_committed(author, statuses_count=count, last_status_at=now)
    if parent is not None:
        sql.execute(_COUNT_REPLY, {"parent_id": parent.id})
        if parent in session:  # prepared in this session: what it holds follows the row
            _set_committed(parent, replies_count=(parent.replies_count or 0) + 1)
    if tag_ids:
        sql.execute(_ADD_STATUS_TAG, [{"status_id": status.id, "tag_id": tag_id} for tag_id in tag_ids])
    if status.state == "published":
        for account in targets.values():
            notifications.notify(session, account_id=account.id, from_account_id=author.id, type="mention",
                                 status_id=status.id)
    session.add_all([Mention(status_id=status.id, account_id=account.id) for account in targets.values()])
    if status.visibility == "direct" and status.state == "published":
        conversations.record(session, status, {account.id for account in targets.values()})
    if poll is not None:
        status.warden_new_poll = polls.attach(session, status, poll)  # type: ignore[attr-defined]
    if idempotency_key:
        fresh = insert_if_absent(session, IdempotencyKey, {"account_id": author.id, "key": idempotency_key,
                                                           "status_id": status.id, "created_at": now},
                                 ["account_id", "key"])
        if not fresh:  # a concurrent request with this key committed first: this one must not publish
            raise DuplicateRequest("A request with this Idempotency-Key was processed concurrently")
    emit(session, "status.created", status.id, {
        "status_id": status.id, "account_id": author.id, "state": status.state, "action": verdict.action,
        "decision_id": verdict.decision_id, **({"media_ids": [m.id for m in media]} if media else {}),
    })
    session.flush()
    return PostResult(status=status, verdict=verdict, created=True)


def _draft_images(media: list[Any]) -> tuple[DraftImage, ...]:
    """The attachments as the gate reads them (their hashes and text, by id; their alt text)."""
    return tuple(DraftImage(m.id, m.description) for m in media)


def _set_committed(obj: Any, **values: Any) -> None:
    """Tell the session `obj` already holds these values in the database (after a Core UPDATE), so
    reading them later neither re-queries nor writes them back."""
    for key, value in values.items():
        set_committed_value(obj, key, value)


def edit(session: Session, settings: Settings, author: Account, status_id: int | str, *, text: str,
         spoiler_text: str = "", sensitive: bool = False, language: str | None = None,
         gate: ModerationGate | None = None, media_ids: list[str] | None = None) -> PostResult:
    """`media_ids`: the post's attachments after the edit (None: unchanged; [] removes them all)."""
    status = session.get(Status, parse_id(status_id))
    if status is None or status.deleted_at is not None or status.state == "removed":
        raise NotFound()
    if status.account_id != author.id:
        raise Forbidden("This action is not allowed")
    if status.reblog_of_id is not None:
        raise ValidationFailed("Validation failed: A reblog cannot be edited")
    media = None if media_ids is None else media_service.claimable(session, author.id, media_ids,
                                                                   status_id=status.id)
    _validate(settings, author, text or "", spoiler_text or "", status.visibility, language,
              has_media=bool(media) if media is not None else bool(status.media_list))
    poll = polls.for_status(session, status.id)
    verdict = moderate(session, Draft(account_id=author.id, text=polls.scored_text(text, poll and poll.options),
                                      spoiler_text=spoiler_text or "",
                                      visibility=status.visibility, in_reply_to_id=status.in_reply_to_id,
                                      status_id=status.id, language=language,
                                      images=_draft_images(media) if media is not None else tuple(
                                          DraftImage(int(e["id"]), e.get("description"))
                                          for e in status.media_list or [])), gate)
    if verdict.action == "block":
        emit(session, "status.blocked", status.id, {"account_id": author.id, "decision_id": verdict.decision_id,
                                                    "label": verdict.label})
        return PostResult(status=None, verdict=verdict)
    # what moderators decided stays: the edit is at least as strict (before anything changes, so the
    # label read here is the moderator's, and the query flushes nothing)
    floor, moderator_label = moderator_floor(session, status.id), status.moderation_label
    status_extras.before_edit(session, status)
    rendered, targets = _render(session, settings, text)
    status.text, status.content_html = text, rendered.html
    status.spoiler_text = spoiler_text or ""
    status.sensitive = bool(sensitive) or bool(spoiler_text)
    status.language = language or status.language
    status.edited_at = utcnow()
    _apply_verdict(status, verdict)
    impose(status, floor, moderator_label)
    action = max(verdict.action, floor.action, key=lambda a: STRICTNESS.get(a, 0))
    session.execute(delete(StatusTag).where(StatusTag.status_id == status.id))
    session.execute(delete(Mention).where(Mention.status_id == status.id))
    for account in targets.values():
        session.add(Mention(status_id=status.id, account_id=account.id))
    status.mention_list = [{"id": a.id, "username": a.username} for a in targets.values()]
    status.tag_list = rendered.tags[:20]
    _attach_tags(session, status.id, rendered.tags)
    if media is not None:
        media_service.attach(session, status, media)
    status_extras.after_edit(session, status)
    emit(session, "status.updated", status.id, {
        "status_id": status.id, "account_id": author.id, "state": status.state, "action": action,
        "decision_id": verdict.decision_id,
    })
    session.flush()
    return PostResult(status=status, verdict=verdict)


def delete_status(session: Session, author: Account, status_id: int | str) -> Status:
    status = session.get(Status, parse_id(status_id))
    if status is None or status.deleted_at is not None:
        raise NotFound()
    if status.account_id != author.id:
        raise Forbidden("This action is not allowed")
    status.deleted_at = utcnow()
    status.local_public = False
    if status.visibility == "direct":
        conversations.forget(session, status)
    session.execute(update(Account).where(Account.id == author.id)
                    .values(statuses_count=Account.statuses_count - 1))
    if status.in_reply_to_id is not None:
        session.execute(update(Status).where(Status.id == status.in_reply_to_id)
                        .values(replies_count=Status.replies_count - 1))
    if status.reblog_of_id is not None:
        session.execute(update(Status).where(Status.id == status.reblog_of_id)
                        .values(reblogs_count=Status.reblogs_count - 1))
    emit(session, "status.deleted", status.id, {"status_id": status.id, "account_id": author.id})
    return status


# --- threads ----------------------------------------------------------------------------------


def context(session: Session, viewer_id: int | None, status_id: int | str) -> tuple[list[Status], list[Status]]:
    """(ancestors oldest first, descendants in thread order) that the viewer may see."""
    status = get_visible(session, viewer_id, status_id)
    ancestors: list[Status] = []
    parent_id = status.in_reply_to_id
    seen = {status.id}
    while parent_id is not None and parent_id not in seen and len(ancestors) < 100:
        seen.add(parent_id)
        parent = session.get(Status, parent_id)
        if parent is None:
            break
        if can_see(session, viewer_id, parent):
            ancestors.append(parent)
        parent_id = parent.in_reply_to_id
    ancestors.reverse()

    descendants: list[Status] = []
    frontier = [status.id]
    while frontier and len(descendants) < 200:
        children = list(session.scalars(
            select(Status).where(Status.in_reply_to_id.in_(frontier)).order_by(Status.id)))
        frontier = []
        for child in children:
            if child.id in seen:
                continue
            seen.add(child.id)
            frontier.append(child.id)
            if can_see(session, viewer_id, child):
                descendants.append(child)
    return ancestors, descendants


# --- favourites and reblogs -------------------------------------------------------------------


def favourite(session: Session, me: Account, status_id: int | str) -> Status:
    status = get_visible(session, me.id, status_id)
    if status.reblog_of_id is not None:
        status = get_visible(session, me.id, status.reblog_of_id)
    if insert_if_absent(session, Favourite, {"account_id": me.id, "status_id": status.id, "created_at": utcnow()},
                        ["account_id", "status_id"]):
        session.execute(update(Status).where(Status.id == status.id)
                        .values(favourites_count=Status.favourites_count + 1))
        notifications.notify(session, account_id=status.account_id, from_account_id=me.id, type="favourite",
                             status_id=status.id)
        session.flush()
        session.refresh(status)
    return status


def unfavourite(session: Session, me: Account, status_id: int | str) -> Status:
    status = get_visible(session, me.id, status_id)
    removed = session.execute(delete(Favourite).where(Favourite.account_id == me.id, Favourite.status_id == status.id))
    if removed.rowcount:
        session.execute(update(Status).where(Status.id == status.id)
                        .values(favourites_count=Status.favourites_count - 1))
        session.flush()
        session.refresh(status)
    return status


def reblog(session: Session, me: Account, status_id: int | str, visibility: str = "public") -> Status:
    """Reblog a status; returns the reblog (a status wrapping the original)."""
    if me.suspended_at is not None:
        raise Forbidden("Your account is suspended and cannot post")
    original = get_visible(session, me.id, status_id)
    if original.reblog_of_id is not None:
        original = get_visible(session, me.id, original.reblog_of_id)
    if original.visibility in ("private", "direct") or original.state != "published":
        raise Forbidden("This action is not allowed")
    existing = session.scalar(select(Status).where(Status.account_id == me.id, Status.reblog_of_id == original.id,
                                                   Status.deleted_at.is_(None)))
    if existing is not None:
        return existing
    visibility = visibility if visibility in ("public", "unlisted", "private") else "public"
    wrapper = Status(account_id=me.id, reblog_of_id=original.id, reblog_of_account_id=original.account_id,
                     visibility=visibility, state="published", local_public=False)
    session.add(wrapper)
    session.execute(update(Status).where(Status.id == original.id).values(reblogs_count=Status.reblogs_count + 1))
    session.execute(update(Account).where(Account.id == me.id).values(statuses_count=Account.statuses_count + 1))
    session.flush()
    notifications.notify(session, account_id=original.account_id, from_account_id=me.id, type="reblog",
                         status_id=original.id)
    emit(session, "status.reblogged", wrapper.id, {"status_id": original.id, "account_id": me.id})
    session.flush()
    return wrapper


def unreblog(session: Session, me: Account, status_id: int | str) -> Status:
    original = get_visible(session, me.id, status_id)
    if original.reblog_of_id is not None:
        original = get_visible(session, me.id, original.reblog_of_id)
    wrapper = session.scalar(select(Status).where(Status.account_id == me.id, Status.reblog_of_id == original.id,
                                                  Status.deleted_at.is_(None)))
    if wrapper is not None:
        delete_status(session, me, wrapper.id)
        session.flush()
        session.refresh(original)
    return original
