"""Appeals: the author contests a decision; a senior moderator who did not take it decides.

Overturning reverses the decision's effect (content restored, suspension lifted, strike revoked) as a
new decision of its own, with its statement of reasons; upholding is recorded the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warden.cases import audit, decisions
from warden.cases.cases import require_staff
from warden.cases.lifecycle import APPEAL_STATES, advance
from warden.config import Settings
from warden.errors import Conflict, Forbidden, NotFound, ValidationFailed
from warden.platform.ids import parse_id
from warden.policy.engine import CompiledPolicy
from warden.store.models import Account, Status, utcnow
from warden.store.moderation_models import Appeal, ModerationDecision, Strike

APPEALABLE = ("block", "hold", "remove", "limit", "label", "strike", "suspend", "silence")
REVERSAL = {"remove": "restore", "hold": "restore", "limit": "restore", "label": "restore", "suspend": "unsuspend",
            "silence": "unsilence"}


def file(session: Session, author: Account, *, decision_id: str, text: str) -> Appeal:
    decision = session.get(ModerationDecision, decision_id or "")
    if decision is None or decision.shadow or decision.account_id != author.id:
        raise NotFound("No such decision on your content or account")
    if decision.action not in APPEALABLE:
        raise ValidationFailed(f"A decision to {decision.action} cannot be appealed")
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise ValidationFailed("Validation failed: text is required (at most 5000 characters)")
    if session.scalar(select(Appeal.id).where(Appeal.decision_id == decision.id)) is not None:
        raise Conflict("This decision has already been appealed")
    appeal = Appeal(decision_id=decision.id, account_id=author.id, text=text, state="open")
    session.add(appeal)
    session.flush()
    audit.append(session, action="appeal.filed", subject=f"appeal:{appeal.id}", actor_id=author.id,
                 data={"decision_id": decision.id})
    return appeal


def of_decision(session: Session, decision_id: str) -> Appeal | None:
    return session.scalar(select(Appeal).where(Appeal.decision_id == decision_id))


def get(session: Session, appeal_id: int | str) -> Appeal:
    ident = parse_id(appeal_id)
    appeal = session.get(Appeal, ident)
    if appeal is None:
        raise NotFound("No such appeal")
    return appeal


def decide(session: Session, settings: Settings, compiled: CompiledPolicy, appeal_id: int | str, staff: Account, *,
           outcome: str, explanation: str = "") -> tuple[Appeal, ModerationDecision]:
    if outcome not in ("upheld", "overturned"):
        raise ValidationFailed("Validation failed: outcome must be upheld or overturned")
    require_staff(staff, senior=True)
    appeal = session.scalar(select(Appeal).where(Appeal.id == get(session, appeal_id).id).with_for_update())
    assert appeal is not None
    original = decisions.get(session, appeal.decision_id)
    if original.actor_id == staff.id:
        raise Forbidden("You took the decision under appeal: another senior moderator must decide the appeal")
    if appeal.account_id == staff.id:
        raise Forbidden("You cannot decide your own appeal")
    state = advance("appeal", appeal.state, "overturn" if outcome == "overturned" else "uphold")
    status_id = original.status_id if original.status_id and session.get(Status, original.status_id) else None
    if outcome == "upheld":
        decision = decisions.enforce(
            session, settings, compiled, action="uphold", status_id=status_id, account_id=original.account_id,
            actor_id=staff.id, label=original.label, kind="appeal", parent_id=original.id, source="appeal",
            explanation=explanation or f"The appeal was reviewed and decision {original.id} stands.")
    else:
        action = REVERSAL.get(original.action, "no_violation")
        if action in ("restore",) and status_id is None:
            action = "no_violation"
        decision = decisions.enforce(
            session, settings, compiled, action=action, status_id=status_id if action != "unsuspend" else None,
            account_id=original.account_id, actor_id=staff.id, label=original.label, kind="appeal",
            parent_id=original.id, source="appeal",
            explanation=explanation or f"The appeal succeeded: decision {original.id} is reversed.")
        for strike in session.scalars(select(Strike).where(Strike.decision_id == original.id,
                                                           Strike.revoked_at.is_(None))):
            strike.revoked_at = utcnow()
    appeal.state, appeal.decided_by, appeal.decided_at = state, staff.id, utcnow()
    appeal.outcome_decision_id = decision.id
    audit.append(session, action=f"appeal.{state}", subject=f"appeal:{appeal.id}", actor_id=staff.id,
                 data={"decision_id": original.id, "outcome_decision_id": decision.id})
    return appeal, decision


def listing(session: Session, *, state: str = "open", limit: int = 100) -> list[Appeal]:
    query = select(Appeal)
    if state in APPEAL_STATES:
        query = query.where(Appeal.state == state)
    elif state != "all":
        raise ValidationFailed(f"Validation failed: status must be all or one of {', '.join(APPEAL_STATES)}")
    return list(session.scalars(query.order_by(Appeal.id).limit(min(max(limit, 1), 500))))


def as_json(session: Session, appeal: Appeal) -> dict[str, Any]:
    outcome = session.get(ModerationDecision, appeal.outcome_decision_id) if appeal.outcome_decision_id else None
    return {"id": str(appeal.id), "decision_id": appeal.decision_id, "account_id": str(appeal.account_id),
            "text": appeal.text, "state": appeal.state, "created_at": appeal.created_at.isoformat(),
            "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
            "outcome_decision": decisions.as_json(outcome) if outcome is not None else None}
