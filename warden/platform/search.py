"""Search (v2): accounts by name, hashtags by prefix, public statuses by words."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from warden.store.models import Account, Status, Tag


@dataclass
class Results:
    accounts: list[Account] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    hashtags: list[Tag] = field(default_factory=list)


def _like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, viewer_id: int | None, q: str, *, type: str | None = None, limit: int = 20,
           offset: int = 0, account_id: int | None = None) -> Results:
    q = (q or "").strip()
    results = Results()
    if not q:
        return results
    if type in (None, "accounts"):
        term = _like(q.lstrip("@").split("@")[0].lower())
        results.accounts = list(session.scalars(
            select(Account)
            .where(Account.suspended_at.is_(None),
                   or_(Account.username_key.like(term + "%", escape="\\"),
                       func.lower(Account.display_name).like("%" + term + "%", escape="\\")))
            .order_by(Account.followers_count.desc(), Account.id).offset(offset).limit(limit)))
    if type in (None, "hashtags"):
        term = _like(q.lstrip("#").lower())
        results.hashtags = list(session.scalars(
            select(Tag).where(Tag.name.like(term + "%", escape="\\")).order_by(Tag.name).offset(offset).limit(limit)))
    if type in (None, "statuses"):
        query = (select(Status).join(Account, Account.id == Status.account_id)
                 .where(Status.local_public.is_(True), Account.suspended_at.is_(None)))
        for word in q.lower().split()[:5]:
            query = query.where(func.lower(Status.text).like("%" + _like(word) + "%", escape="\\"))
        if account_id is not None:
            query = query.where(Status.account_id == account_id)
        results.statuses = list(session.scalars(query.order_by(Status.id.desc()).offset(offset).limit(limit)))
    return results
