"""Trends: the hashtags and posts most used and shared on this server in the last week, surfacing only
what the policy allows, and reviewed by moderators as Mastodon's trends review does.

Only published, public, unlimited posts (`local_public`) that carry no content warning, no
moderation label and no sensitive flag count, by authors who are not suspended or limited. A
moderator approves or rejects a tag or a post (`review`); a rejected one never trends. With
`WARDEN_TRENDS_REQUIRE_REVIEW=1` only approved ones do (Mastodon's "require review" setting); by
default unreviewed ones trend too, and moderators reject after the fact.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform.ids import parse_id
from warden.store.client2_models import TrendReview
from warden.store.models import Account, Status, StatusTag, Tag, utcnow

WINDOW_DAYS = 7


def require_review() -> bool:
    return os.environ.get("WARDEN_TRENDS_REQUIRE_REVIEW", "").lower() in ("1", "true", "on", "yes")


def _eligible(since: Any) -> list[Any]:
    """The conditions a post must meet to count towards any trend."""
    return [Status.local_public.is_(True), Status.created_at >= since, Status.sensitive.is_(False),
            Status.moderation_label.is_(None), Status.spoiler_text == "", Status.deleted_at.is_(None),
            Account.suspended_at.is_(None), Account.silenced_at.is_(None)]


def _review_filter(kind: str, column: Any, *, include_rejected: bool = False) -> Any:
    """What the reviews let through: for moderators everything (`include_rejected`), for everyone else
    never a rejected one, and with review required only approved ones."""
    reviewed = select(TrendReview.target_id).where(TrendReview.kind == kind)
    if include_rejected:
        return column.is_not(None)
    if require_review():
        return column.in_(reviewed.where(TrendReview.state == "approved"))
    return column.not_in(reviewed.where(TrendReview.state == "rejected"))


def tag_ranking(session: Session, *, limit: int, offset: int = 0, include_rejected: bool = False) -> list[tuple[Tag, int]]:
    """(tag, accounts that used it in the window), most accounts first."""
    since = utcnow() - timedelta(days=WINDOW_DAYS)
    accounts = func.count(func.distinct(Status.account_id))
    query = (select(Tag, accounts.label("accounts"))
             .join(StatusTag, StatusTag.tag_id == Tag.id).join(Status, Status.id == StatusTag.status_id)
             .join(Account, Account.id == Status.account_id)
             .where(*_eligible(since), _review_filter("tag", Tag.id, include_rejected=include_rejected))
             .group_by(Tag.id).order_by(accounts.desc(), Tag.id.desc()).offset(offset).limit(limit))
    return [(row[0], row[1]) for row in session.execute(query)]


def history(session: Session, tag_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Mastodon's tag history: uses and accounts per day for the last week, newest day first."""
    if not tag_ids:
        return {}
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=WINDOW_DAYS - 1)
    rows = session.execute(
        select(StatusTag.tag_id, Status.created_at, Status.account_id)
        .join(Status, Status.id == StatusTag.status_id).join(Account, Account.id == Status.account_id)
        .where(StatusTag.tag_id.in_(tag_ids), *_eligible(since)))
    days: dict[int, dict[int, tuple[int, set[int]]]] = {}
    for tag_id, created_at, account_id in rows:
        day = int((created_at.replace(hour=0, minute=0, second=0, microsecond=0)).timestamp())
        uses, who = days.setdefault(tag_id, {}).get(day, (0, set()))
        who.add(account_id)
        days[tag_id][day] = (uses + 1, who)
    out: dict[int, list[dict[str, str]]] = {}
    for tag_id in tag_ids:
        entries = []
        for n in range(WINDOW_DAYS):
            day = int((today - timedelta(days=n)).timestamp())
            uses, who = days.get(tag_id, {}).get(day, (0, set()))
            entries.append({"day": str(day), "uses": str(uses), "accounts": str(len(who))})
        out[tag_id] = entries
    return out


def status_ranking(session: Session, viewer_id: int | None, *, limit: int, offset: int = 0,
                   include_rejected: bool = False) -> list[Status]:
    """Posts of the window by how much they were favourited and reblogged (at least once)."""
    from warden.platform.timelines import _without_hidden

    since = utcnow() - timedelta(days=WINDOW_DAYS)
    score = Status.favourites_count + Status.reblogs_count
    query = (select(Status).join(Account, Account.id == Status.account_id)
             .where(*_eligible(since), score > 0, Status.reblog_of_id.is_(None),
                    _review_filter("status", Status.id, include_rejected=include_rejected)))
    query = _without_hidden(query, viewer_id)
    return list(session.scalars(query.order_by(score.desc(), Status.id.desc()).offset(offset).limit(limit)))


def reviews(session: Session, kind: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(TrendReview.target_id, TrendReview.state)
                                .where(TrendReview.kind == kind, TrendReview.target_id.in_(ids))).all())


def review(session: Session, reviewer_id: int, kind: str, target_id: int | str, state: str) -> Any:
    """Approve or reject a tag or a status for trends (durable before the caller answers)."""
    if kind not in ("tag", "status") or state not in ("approved", "rejected"):
        raise ValidationFailed("Validation failed: unknown trend review")
    ident = parse_id(target_id)
    target = session.get(Tag if kind == "tag" else Status, ident)
    if target is None:
        raise NotFound()
    row = session.scalar(select(TrendReview).where(and_(TrendReview.kind == kind, TrendReview.target_id == ident)))
    if row is None:
        row = TrendReview(kind=kind, target_id=ident, state=state, reviewer_id=reviewer_id, reviewed_at=utcnow())
        session.add(row)
    else:
        row.state, row.reviewer_id, row.reviewed_at = state, reviewer_id, utcnow()
    session.flush()
    return target
