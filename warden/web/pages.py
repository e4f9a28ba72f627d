"""What an anonymous visitor of the public web pages may see: the data behind each page, without HTTP.

The rules are the API's for a reader without a token (`statuses.can_see(viewer=None)`,
`timelines.account_statuses(viewer=None)`), never looser:

* a post is shown when it is public or unlisted, published (not held, not removed), not deleted, and
  its author is not suspended; private and direct posts, held posts and unknown ids are all the same
  "not found", so a page reveals nothing about what exists;
* lists (a profile, a hashtag, the landing page) also leave out what a moderator limited (a limited
  post, or any post of a limited account), as the public timelines do; a limited post's own link
  still shows it, as `GET /api/v1/statuses/{id}` does;
* a post removed by moderation, if it was ever public or unlisted, and the profile of a suspended
  account get a notice with the decision's public reason: the statement of reasons' public fields
  (facts, category, ground, the rule, whether it was automated, the date), never who decided, the
  evidence, case notes or appeal text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warden.platform import accounts, statuses, timelines
from warden.platform.ids import as_id
from warden.store.models import Account, InstanceRule, Status
from warden.store.moderation_models import ModerationDecision

PAGE_SIZE = 20


class NotShown(Exception):
    """Nothing an anonymous visitor may see at this address (rendered as the 404 page)."""


@dataclass(frozen=True)
class PublicReason:
    """The public part of a statement of reasons."""

    decision_id: str
    action: str
    date: str
    facts: str
    category: str
    ground: str
    reference: str
    automated_detection: bool
    automated_decision: str


@dataclass
class Post:
    status: Status
    author: Account


@dataclass
class ProfileView:
    account: Account
    posts: list[Post] = field(default_factory=list)
    older: int | None = None  # max_id of the next page
    suspended: PublicReason | None = None
    is_suspended: bool = False
    limited: bool = False


@dataclass
class StatusView:
    post: Post
    ancestors: list[Post] = field(default_factory=list)
    descendants: list[Post] = field(default_factory=list)


@dataclass
class Gone:
    """A post removed by moderation, or one whose author is suspended: shown as a notice (HTTP 410)."""

    kind: str  # "removed" | "suspended"
    author: Account
    reason: PublicReason | None


def _humanise(value: str | None, prefix: str) -> str:
    if not value:
        return ""
    text = value.removeprefix(prefix).replace("_", " ").lower()
    return text[:1].upper() + text[1:]


GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT": "Illegal content",
           "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Incompatible with this server's rules"}
AUTOMATED = {"AUTOMATED_DECISION_FULLY": "fully automated", "AUTOMATED_DECISION_PARTIALLY": "partly automated",
             "AUTOMATED_DECISION_NOT_AUTOMATED": "taken by a person"}


def public_reason(decision: ModerationDecision) -> PublicReason:
    sor = decision.statement or {}
    return PublicReason(
        decision_id=decision.id, action=decision.action,
        date=str(sor.get("application_date") or decision.created_at.date().isoformat()),
        facts=str(sor.get("decision_facts") or decision.explanation or ""),
        category=_humanise(sor.get("category"), "STATEMENT_CATEGORY_"),
        ground=GROUNDS.get(str(sor.get("decision_ground")), _humanise(sor.get("decision_ground"), "DECISION_GROUND_")),
        reference=str(sor.get("incompatible_content_ground") or sor.get("illegal_content_legal_ground") or ""),
        automated_detection=sor.get("automated_detection") == "Yes",
        automated_decision=AUTOMATED.get(str(sor.get("automated_decision")), "taken by a person"),
    )


def _latest(session: Session, *conditions: Any) -> ModerationDecision | None:
    return session.scalar(select(ModerationDecision).where(ModerationDecision.shadow.is_(False), *conditions)
                          .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc()).limit(1))


def _account(session: Session, username: str) -> Account:
    account = accounts.by_username(session, username) if len(username) <= 30 else None
    if account is None:
        raise NotShown()
    return account


def _listable(status: Status, author: Account) -> bool:
    """In lists, also what the public timelines leave out: limited posts and limited accounts."""
    return not status.limited and author.silenced_at is None


def profile(session: Session, username: str, *, max_id: str | None = None) -> ProfileView:
    account = _account(session, username)
    if account.suspended_at is not None:
        decision = _latest(session, ModerationDecision.account_id == account.id,
                           ModerationDecision.action == "suspend")
        return ProfileView(account=account, is_suspended=True,
                           suspended=public_reason(decision) if decision is not None else None)
    view = ProfileView(account=account, limited=account.silenced_at is not None)
    if view.limited:
        return view
    cursor = as_id(max_id) if max_id else None
    rows = timelines.account_statuses(session, None, account, max_id=cursor, limit=PAGE_SIZE + 1,
                                      exclude_reblogs=True)
    view.posts = [Post(s, account) for s in rows[:PAGE_SIZE] if _listable(s, account)]
    if len(rows) > PAGE_SIZE:
        view.older = rows[PAGE_SIZE - 1].id
    return view


def _posts(session: Session, rows: list[Status]) -> list[Post]:
    authors = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_({s.account_id for s in rows})))} \
        if rows else {}
    return [Post(s, authors[s.account_id]) for s in rows if s.account_id in authors]


def status_page(session: Session, username: str, status_id: str) -> StatusView | Gone | int:
    """The post at /@username/id: a `StatusView`, a `Gone` notice, or the id of the original a reblog
    points to (the page redirects there)."""
    account = _account(session, username)
    ident = as_id(status_id)
    status = session.get(Status, ident) if ident is not None else None
    if status is None or status.account_id != account.id or status.deleted_at is not None \
            or status.visibility not in ("public", "unlisted") or status.state == "held":
        raise NotShown()
    if status.state == "removed":
        if not _was_published(session, status):
            raise NotShown()  # held until a moderator removed it: it never was public
        decision = _latest(session, ModerationDecision.status_id == status.id,
                           ModerationDecision.action.in_(("remove", "block")))
        return Gone("removed", account, public_reason(decision) if decision is not None else None)
    if account.suspended_at is not None:
        decision = _latest(session, ModerationDecision.account_id == account.id,
                           ModerationDecision.action == "suspend")
        return Gone("suspended", account, public_reason(decision) if decision is not None else None)
    if not statuses.can_see(session, None, status, account):
        raise NotShown()
    if status.reblog_of_id is not None:
        return status.reblog_of_id
    ancestors, descendants = statuses.context(session, None, status.id)
    return StatusView(Post(status, account), _posts(session, ancestors), _posts(session, descendants))


RELEASES = ("no_violation", "restore", "limit", "label", "strike", "unlimit", "unlabel")


def _was_published(session: Session, status: Status) -> bool:
    """Whether a post now removed was ever visible to everyone (not held by the gate until removed)."""
    gate = session.get(ModerationDecision, status.decision_id) if status.decision_id else None
    if gate is None or gate.action != "hold":
        return True
    return session.scalar(select(ModerationDecision.id).where(
        ModerationDecision.status_id == status.id, ModerationDecision.shadow.is_(False),
        ModerationDecision.action.in_(RELEASES)).limit(1)) is not None


def reblog_target(session: Session, status_id: int) -> tuple[str, int] | None:
    status = session.get(Status, status_id)
    author = session.get(Account, status.account_id) if status is not None else None
    return (author.username, status.id) if status is not None and author is not None else None


def tag(session: Session, name: str, *, max_id: str | None = None) -> tuple[list[Post], int | None]:
    cursor = as_id(max_id) if max_id else None
    rows = timelines.tag(session, None, name, max_id=cursor, limit=PAGE_SIZE + 1)
    posts = [p for p in _posts(session, rows[:PAGE_SIZE]) if _listable(p.status, p.author)]
    return posts, rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None


def recent(session: Session, limit: int = 10) -> list[Post]:
    return [p for p in _posts(session, timelines.public(session, None, limit=limit)) if _listable(p.status, p.author)]


def rules(session: Session) -> list[InstanceRule]:
    return list(session.scalars(select(InstanceRule).order_by(InstanceRule.position, InstanceRule.id)))


def stats(session: Session) -> dict[str, int]:
    users = session.scalar(select(func.count()).select_from(Account).where(Account.suspended_at.is_(None))) or 0
    posts = session.scalar(select(func.count()).select_from(Status).where(Status.deleted_at.is_(None))) or 0
    return {"users": users, "posts": posts}
