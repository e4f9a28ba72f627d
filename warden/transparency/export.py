"""The statements export: one Transparency Database API body per enforcement decision, in decision-id order.

Each line is ``{"statement": <API body>, "warden": <Warden's own fields>}``; ``statement`` is posted as
is (``POST /api/v1/statement``, or up to 100 of them as ``{"statements": [...]}``). Decision ids are
time-ordered (``dec_<ms hex><random>``), so ordering by id is stable and a batch submission resumes
from the last ``puid`` it sent (``after``).

An id is taken when the decision is made, a moment before its transaction commits: a decision made
just before another may become visible just after it. So the export leaves out the newest `settle`
seconds of decisions (the CLI: one minute); past that, no decision can still appear behind the cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warden.cases import statement
from warden.config import Settings
from warden.store.models import utcnow
from warden.store.moderation_models import ModerationDecision
from warden.transparency import rules

PAGE = 500


@dataclass(frozen=True)
class Exported:
    decision: ModerationDecision
    body: dict[str, Any]
    violations: list[rules.Violation]

    def line(self, settings: Settings) -> dict[str, Any]:
        d = self.decision
        return {"statement": self.body, "warden": {
            "decision_id": d.id, "kind": d.kind, "action": d.action, "label": d.label,
            "policy_version": d.policy_version, "rule": d.rule, "automated": d.automated,
            "case_id": str(d.case_id) if d.case_id else None,
            "status_id": str(d.status_id) if d.status_id else None,
            "account_id": str(d.account_id) if d.account_id else None,
            "parent_id": d.parent_id, "created_at": d.created_at.isoformat(),
            "url": f"{settings.base_url}/api/warden/v1/decisions/{d.id}"}}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def body_of(decision: ModerationDecision, settings: Settings) -> dict[str, Any]:
    return statement.api_body(decision.statement or {}, puid=decision.id,
                              territorial_scope=settings.dsa_territorial_scope)


def statements(session: Session, settings: Settings, *, since: date | None = None, until: date | None = None,
               after: str | None = None, limit: int | None = None, settle: float = 0.0) -> Iterator[Exported]:
    """Enforcement decisions (not shadow records) from `since` to `until` (UTC days, both included),
    with ids after `after`, older than `settle` seconds, at most `limit` of them, each with its body and
    the rules it breaks."""
    query = select(ModerationDecision).where(ModerationDecision.shadow.is_(False),
                                             ModerationDecision.action.in_(sorted(statement.RESTRICTIONS)))
    if settle > 0:
        query = query.where(ModerationDecision.created_at < utcnow() - timedelta(seconds=settle))
    if since is not None:
        query = query.where(ModerationDecision.created_at >= day_start(since))
    if until is not None:
        query = query.where(ModerationDecision.created_at < day_start(until + timedelta(days=1)))
    cursor, left = after, limit
    while left is None or left > 0:
        page = query if cursor is None else query.where(ModerationDecision.id > cursor)
        size = PAGE if left is None else min(PAGE, left)
        rows = list(session.scalars(page.order_by(ModerationDecision.id).limit(size)))
        for decision in rows:
            body = body_of(decision, settings)
            yield Exported(decision, body, rules.validate(body))
        if len(rows) < size:
            return
        cursor = rows[-1].id
        if left is not None:
            left -= len(rows)
