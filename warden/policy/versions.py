"""Policy versions in the database: activation (or shadow mode) and backtesting against stored posts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warden.cases import audit
from warden.errors import Conflict
from warden.store.outbox import emit
from warden.policy.engine import CompiledPolicy, DetectorLike, draft_text, evaluate
from warden.policy.model import digest, parse_policy
from warden.store.models import Status, utcnow
from warden.store.moderation_models import PolicyVersion


def activate(session: Session, body: str, *, shadow: bool = False, actor: str = "cli") -> PolicyVersion:
    """Store the policy (if new) and put it in force, or in shadow mode (decide and record, never act)."""
    policy = parse_policy(body)
    row = session.scalar(select(PolicyVersion).where(PolicyVersion.version == policy.version))
    if row is not None and row.digest != digest(body):
        raise Conflict(f"policy version {policy.version!r} is already stored with different content: "
                       f"give the changed policy a new version")
    if row is None:
        row = PolicyVersion(version=policy.version, name=policy.name, body=body, digest=digest(body))
        session.add(row)
        session.flush()
    state = "shadow" if shadow else "active"
    session.execute(update(PolicyVersion).where(PolicyVersion.state == state, PolicyVersion.id != row.id)
                    .values(state="retired"))
    row.state, row.activated_at, row.activated_by = state, utcnow(), actor
    last = session.scalar(select(Status.id).order_by(Status.id.desc()).limit(1)) or 0
    emit(session, "policy.activated", row.id, {"version": row.version, "mode": state,
                                               "rescore_since_id": max(last - 1000, 0), "limit": 1000})
    audit.append(session, action=f"policy.{state}", subject=f"policy:{row.version}",
                 data={"digest": row.digest, "by": actor})
    return row


STATE_OF_ACTION = {"block": "removed", "hold": "held", "limit": "limited", "label": "labelled", "review": "published",
                   "allow": "published"}


def current_state(status: Status) -> str:
    if status.state in ("removed", "held"):
        return status.state
    if status.limited:
        return "limited"
    if status.moderation_label:
        return "labelled"
    return "published"


@dataclass
class Backtest:
    replayed: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    would: Counter[str] = field(default_factory=Counter)


def backtest(session: Session, compiled: CompiledPolicy, detector: DetectorLike | None, *, limit: int = 10000,
             batch: int = 256) -> Backtest:
    """Replay the newest `limit` stored posts through `compiled`; report every post whose state would change."""
    result = Backtest()
    rows = list(session.scalars(select(Status).where(Status.deleted_at.is_(None), Status.reblog_of_id.is_(None))
                                .order_by(Status.id.desc()).limit(limit)))
    thresholds = getattr(detector, "thresholds", None)
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        texts = [draft_text(s.text, s.spoiler_text) for s in chunk]
        scorer = getattr(detector, "score_batch", None)
        detections = (scorer(texts) if scorer else [detector.score(t) for t in texts]) if detector else [None] * len(chunk)
        for status, text, detection in zip(chunk, texts, detections, strict=True):
            outcome = evaluate(compiled, text, detection, thresholds)
            async_outcome = evaluate(compiled, text, None, None, stage="async")
            if async_outcome.action != "allow" and (outcome.action in ("allow", "review")):
                outcome = async_outcome
            result.replayed += 1
            result.would[outcome.action] += 1
            before, after = current_state(status), STATE_OF_ACTION[outcome.action]
            if before != after and not (before == "removed" and status.state == "removed"):
                result.changes.append({"status_id": status.id, "from": before, "to": after, "action": outcome.action,
                                       "label": outcome.label, "reason": outcome.reason, "text": status.text[:80]})
    return result
