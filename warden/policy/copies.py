"""The gate's look for copies of removed posts, in the same call as the text's own evaluation
(`PolicyGate.moderate`): a draft whose text is a near-duplicate of a post a decision removed is held,
with reasons naming that post and decision, and joins that decision's case (warden/cases/copies.py).

A draft the policy refuses anyway (block) is not looked up; one it would publish, label, limit or
hold is, and a copy is held whatever the detector made of it, so that every copy of a raid lands in
the one case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from warden.config import Settings
from warden.policy.model import STRICTNESS


@dataclass(frozen=True)
class CopyFinding:
    #: the hold that replaces the evaluation
    result: Any
    #: what the gate's decision keeps about the original (its evidence's `copy_of`)
    copy_of: dict[str, Any]


def assess(session: Session, settings: Settings, compiled: Any, text: str, result: Any, *,
           exclude_status_id: int | None = None, detection: Any = None) -> CopyFinding | None:
    """The hold for a draft that copies a removed post, or None (not a copy, or refused anyway).
    `detection`: the detector's reading of `text`, whose normalised text is reused."""
    from warden.cases import copies
    from warden.policy.engine import Evaluation

    if not settings.copies_enabled or STRICTNESS.get(result.action, 0) > STRICTNESS["hold"]:
        return None
    normalised = getattr(detection, "normalized", None)
    found = copies.match(session, text, threshold=settings.copy_threshold, exclude_status_id=exclude_status_id,
                         normalised=normalised.text if normalised is not None and normalised.original == text else None)
    if found is None:
        return None
    label = found.label if found.label in compiled.policy.labels else None
    reason = (f"it copies post {found.status_id}, which decision {found.decision_id} removed "
              f"(estimated similarity {found.similarity:.2f}): held for the moderators deciding that decision's case")
    hold = Evaluation(action="hold", label=label, rule=f"{copies.RULE_PREFIX}{found.decision_id}", reason=reason,
                      scores=result.scores, model=result.model, spans=[])
    return CopyFinding(result=hold, copy_of=found.as_evidence())
