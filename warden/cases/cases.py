"""Cases: every report, partner notice and detector flag about one piece of content, decided once.

A case is opened by the first signal about a status (or an account, for reports without statuses)
and joined by later ones while undecided. Its priority is severity(label) x reach x source weight;
its due time is the earliest per-source SLA of its signals (both from the policy). Moderators claim
it (a lock that expires), escalate it to a senior moderator, and decide it; the decision answers
every notice and report on it.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warden.cases import audit, decisions, outcomes, reputation
from warden.cases.authority import rank
from warden.cases.lifecycle import CASE_STATES, CASE_UNDECIDED, advance
from warden.config import Settings
from warden.errors import Conflict, Forbidden, NotFound, ValidationFailed
from warden.platform.ids import parse_id
from warden.policy.engine import CompiledPolicy
from warden.policy.model import DEFAULT_QUEUE, QUEUE_ROLES
from warden.store.db import insert_if_absent
from warden.store.models import Account, Report, Status, utcnow
from warden.store.moderation_models import (
    CaseSignal,
    ModerationCase,
    ModerationDecision,
    Notice,
    ReportState,
    Strike,
)

STAFF_ROLES = ("moderator", "senior", "admin")
SENIOR_ROLES = ("senior", "admin")
CLAIM_LOCK = timedelta(minutes=15)
#: Staff decisions on a case (POST /api/warden/v1/cases/{id}/decision).
CASE_ACTIONS = ("remove", "no_violation", "limit", "label", "strike", "suspend")
SOURCE_RANK = {"trusted_flagger": 4, "partner": 3, "user": 2, "detector": 1}


def require_staff(account: Account, *, senior: bool = False) -> None:
    roles = SENIOR_ROLES if senior else STAFF_ROLES
    if account.role not in roles:
        raise Forbidden("This action needs a senior moderator" if senior else "This action needs a moderator")


# --- opening and joining --------------------------------------------------------------------------


def reporter_weight(session: Session, reporter_id: int) -> float:
    """0.06 .. 1.5: the reporter's reputation (past reports upheld or dismissed, account age; reputation.py)."""
    return reputation.reporter(session, reporter_id).weight


def partner_weight(session: Session, partner_id: int) -> float:
    rows = session.execute(select(Notice.state, func.count()).where(
        Notice.partner_id == partner_id, Notice.state.in_(("actioned", "no_action"))).group_by(Notice.state)).all()
    counts = {state: n for state, n in rows}
    actioned, total = counts.get("actioned", 0), sum(counts.values())
    return 0.5 + (actioned + 1) / (total + 2)


def _severity(compiled: CompiledPolicy, label: str | None) -> float:
    label_policy = compiled.policy.labels.get(label or "")
    return label_policy.severity if label_policy else -1.0


def _priority(session: Session, compiled: CompiledPolicy, case: ModerationCase) -> float:
    severity = max(_severity(compiled, case.label), 1.0)
    author = session.get(Account, case.account_id)
    followers = author.followers_count if author else 0
    reposts = replies = 0
    if case.status_id is not None:
        status = session.get(Status, case.status_id)
        if status is not None:
            reposts, replies = status.reblogs_count, status.replies_count
    reach = 1.0 + math.log10(1 + max(followers, 0) + 3 * max(reposts, 0) + max(replies, 0))
    source = reputation.strength(session, case.id)  # reporters' reputation; a brigade counts once
    return round(severity * reach * source, 4)


def _snapshot(session: Session, case: ModerationCase, scores: dict[str, Any] | None) -> dict[str, Any]:
    status = session.get(Status, case.status_id) if case.status_id else None
    author = session.get(Account, case.account_id)
    if status is not None and not scores and status.decision_id:
        gate = session.get(ModerationDecision, status.decision_id)
        scores = gate.scores if gate is not None else None
    strikes = session.scalar(select(func.count()).select_from(Strike).where(
        Strike.account_id == case.account_id, Strike.revoked_at.is_(None))) or 0
    return {
        "taken_at": utcnow().isoformat(),
        "content": decisions.evidence_of(session, status, scores=scores) if status is not None else None,
        "author": {"id": case.account_id, "username": author.username if author else None,
                   "followers_count": author.followers_count if author else 0,
                   "created_at": author.created_at.isoformat() if author else None, "strikes": strikes},
        "signals": [],
    }


def open_or_join(session: Session, settings: Settings, compiled: CompiledPolicy, *, status_id: int | None,
                 account_id: int, source_type: str, source_ref: str, label: str | None, weight_factor: float = 1.0,
                 detail: dict[str, Any] | None = None, scores: dict[str, Any] | None = None,
                 key: str | None = None) -> ModerationCase:
    """The undecided case about this content, with this signal added (idempotent per source_ref).
    `key`: the open key of the case to join instead of the content's own (copies of a removed post
    join one case: warden/cases/copies.py); a case opened under it is about this content."""
    known = session.scalar(select(CaseSignal.case_id).where(CaseSignal.source_type == source_type,
                                                            CaseSignal.source_ref == source_ref))
    if known is not None:
        case = session.get(ModerationCase, known)
        assert case is not None
        return case
    key = key or (f"status:{status_id}" if status_id is not None else f"account:{account_id}")
    now = utcnow()
    case = session.scalar(select(ModerationCase).where(ModerationCase.open_key == key).with_for_update())
    if case is None:
        case = ModerationCase(open_key=key, status_id=status_id, account_id=account_id, state="open", label=label,
                              due_at=now + compiled.policy.sla(source_type, label), sources=[], evidence={},
                              created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
        except IntegrityError:  # another process opened it a moment ago
            case = session.scalar(select(ModerationCase).where(ModerationCase.open_key == key).with_for_update())
            if case is None:
                raise
        else:
            case.evidence = _snapshot(session, case, scores)
            audit.append(session, action="case.opened", subject=f"case:{case.id}",
                         data={"status_id": status_id, "account_id": account_id, "source": source_type,
                               "ref": source_ref, "label": label})
    weight = compiled.policy.source_weights.get(source_type, 1.0) * weight_factor
    due = now + compiled.policy.sla(source_type, label)
    session.add(CaseSignal(case_id=case.id, source_type=source_type, source_ref=source_ref, label=label,
                           weight=weight, due_at=due, created_at=now))
    session.flush()
    if due < case.due_at:
        case.due_at = due
    if label and _severity(compiled, label) > _severity(compiled, case.label):
        case.label = label  # a case carries its most severe label
    case.sources = sorted(set(case.sources or []) | {source_type}, key=lambda s: -SOURCE_RANK.get(s, 0))
    file_in_queue(compiled, case, str((detail or {}).get("category") or source_type))
    evidence = dict(case.evidence or {})
    evidence["signals"] = [*evidence.get("signals", []),
                           {"source": source_type, "ref": source_ref, "label": label, "at": now.isoformat(),
                            **(detail or {})}][-50:]
    case.evidence = evidence
    case.priority = _priority(session, compiled, case)
    case.updated_at = now
    return case


def file_in_queue(compiled: CompiledPolicy, case: ModerationCase, report_type: str) -> None:
    """Put the case in the queue of this signal's report type when that queue is more restricted than
    its current one (a case is seen by the staff of its most restricted signal's queue)."""
    name, role = compiled.policy.queue_for(report_type)
    current = case.queue_role or "moderator"
    if rank(role) > rank(current) or (rank(role) == rank(current) and (case.queue or DEFAULT_QUEUE) == DEFAULT_QUEUE):
        case.queue, case.queue_role = name, role


def visible_roles(role: str | None) -> tuple[str, ...]:
    """The queue roles whose cases a staff member of `role` may see: their own and those below it."""
    return tuple(r for r in QUEUE_ROLES if rank(r) <= rank(role))


def check_queue(case: ModerationCase, staff: Account) -> None:
    """Forbidden unless `staff` may see the case's queue (policy `queues`: min_role per report type)."""
    if rank(staff.role) < rank(case.queue_role or "moderator"):
        raise Forbidden(f"Case {case.id} is in the {case.queue} queue, which needs a {case.queue_role} "
                        f"(you are a {staff.role})")


# --- staff actions --------------------------------------------------------------------------------


def get(session: Session, case_id: int | str, *, lock: bool = False) -> ModerationCase:
    ident = parse_id(case_id)
    query = select(ModerationCase).where(ModerationCase.id == ident)
    case = session.scalar(query.with_for_update() if lock else query)
    if case is None:
        raise NotFound("No such case")
    return case


def _check_tier(case: ModerationCase, staff: Account) -> None:
    require_staff(staff, senior=case.tier == "senior")
    check_queue(case, staff)


def _held_by_other(case: ModerationCase, staff: Account) -> bool:
    return (case.assignee_id not in (None, staff.id) and case.claimed_until is not None
            and case.claimed_until > utcnow())


def claim(session: Session, case_id: int | str, staff: Account) -> ModerationCase:
    case = get(session, case_id, lock=True)
    _check_tier(case, staff)
    if _held_by_other(case, staff):
        raise Conflict(f"Case {case.id} is claimed by another moderator until {case.claimed_until:%H:%M:%S} UTC")
    case.state = advance("case", case.state, "claim")
    case.assignee_id, case.claimed_until, case.updated_at = staff.id, utcnow() + CLAIM_LOCK, utcnow()
    audit.append(session, action="case.claimed", subject=f"case:{case.id}", actor_id=staff.id)
    return case


def release(session: Session, case_id: int | str, staff: Account) -> ModerationCase:
    case = get(session, case_id, lock=True)
    require_staff(staff)
    check_queue(case, staff)
    if _held_by_other(case, staff) and staff.role not in SENIOR_ROLES:
        raise Conflict("Only the moderator holding a case (or a senior moderator) can release it")
    case.state = advance("case", case.state, "release")
    case.assignee_id, case.claimed_until, case.updated_at = None, None, utcnow()
    audit.append(session, action="case.released", subject=f"case:{case.id}", actor_id=staff.id)
    return case


def escalate(session: Session, case_id: int | str, staff: Account, note: str = "") -> ModerationCase:
    case = get(session, case_id, lock=True)
    require_staff(staff)
    check_queue(case, staff)
    case.state = advance("case", case.state, "escalate")
    case.tier, case.escalation_note = "senior", note or ""
    case.assignee_id, case.claimed_until, case.updated_at = None, None, utcnow()
    audit.append(session, action="case.escalated", subject=f"case:{case.id}", actor_id=staff.id, data={"note": note})
    return case


def decide(session: Session, settings: Settings, compiled: CompiledPolicy, case_id: int | str, staff: Account, *,
           action: str, label: str | None = None, explanation: str = "") -> tuple[ModerationCase, ModerationDecision]:
    if action not in CASE_ACTIONS:
        raise ValidationFailed(f"Validation failed: action must be one of {', '.join(CASE_ACTIONS)}")
    case = get(session, case_id, lock=True)
    _check_tier(case, staff)
    if _held_by_other(case, staff):
        raise Conflict(f"Case {case.id} is claimed by another moderator")
    state = advance("case", case.state, "decide")
    if label is not None and label not in compiled.policy.labels:
        raise ValidationFailed(f"Validation failed: policy must be one of {', '.join(compiled.policy.labels)}")
    label = label or case.label
    status_id = case.status_id
    # held until enforce has run: the session keeps only what is referenced, and enforce needs it again
    status = session.get(Status, status_id) if status_id is not None else None
    if status is None:
        status_id = None
    source = (case.sources or ["moderator"])[0]
    decision = decisions.enforce(
        session, settings, compiled, action=action, status_id=status_id,
        account_id=case.account_id, actor_id=staff.id, label=label, explanation=explanation, source=source,
        kind="case", case_id=case.id, automated_detection="detector" in (case.sources or []),
    )
    decide_copies(session, settings, compiled, case, decision, staff=staff, label=label, explanation=explanation,
                  source=source)
    now = utcnow()
    case.state, case.open_key, case.decision_id, case.decided_at, case.updated_at = state, None, decision.id, now, now
    case.claimed_until = None
    answer_signals(session, case, decision, staff_id=staff.id, settings=settings)
    audit.append(session, action="case.decided", subject=f"case:{case.id}", actor_id=staff.id,
                 data={"decision_id": decision.id, "action": action, "label": label})
    return case, decision


def decide_copies(session: Session, settings: Settings, compiled: CompiledPolicy, case: ModerationCase,
                  decision: ModerationDecision, *, staff: Account, label: str | None, explanation: str,
                  source: str) -> list[ModerationDecision]:
    """The case's decision applied to each copy of a removed post that joined it and is still held
    (warden/cases/copies.py): each gets its own decision, statement of reasons and notification, as
    if it had been decided on its own, with the case's decision as parent."""
    from warden.cases.copies import copy_status_ids

    taken: list[ModerationDecision] = []
    for status_id in copy_status_ids(session, case.id):
        status = session.get(Status, status_id)
        if status_id == case.status_id or status is None or status.deleted_at is not None or status.state != "held":
            continue  # the case's own content, gone, or decided since it joined
        taken.append(decisions.enforce(
            session, settings, compiled, action=decision.action, status_id=status_id, actor_id=staff.id,
            label=label, explanation=explanation, source=source, kind="case", case_id=case.id,
            parent_id=decision.id, automated_detection=True))
    return taken


def answer_signals(session: Session, case: ModerationCase, decision: ModerationDecision, *,
                   staff_id: int | None, settings: Settings | None = None) -> None:
    """Answer every notice and report on the case with the decision; with `settings`, each reporter is
    also sent the outcome as a direct message (cases/outcomes.py), in the same transaction."""
    actioned = decision.action != "no_violation"
    now = utcnow()
    refs = list(session.scalars(select(CaseSignal.source_ref).where(CaseSignal.case_id == case.id)))
    notice_ids = [int(r.split(":")[1]) for r in refs if r.startswith("notice:")]
    report_ids = sorted({int(r.split(":")[1]) for r in refs if r.startswith("report:")})
    for notice in session.scalars(select(Notice).where(Notice.id.in_(notice_ids))) if notice_ids else []:
        if notice.state in ("received", "in_review"):
            notice.state = advance("notice", notice.state, "action" if actioned else "dismiss")
            notice.decision_id, notice.updated_at = decision.id, now
    for report_id in report_ids:
        report = session.get(Report, report_id)
        if report is None:
            continue
        report.action_taken_at = report.action_taken_at or now
        state = report_state(session, report_id)
        state.case_id, state.outcome, state.decision_id = case.id, "actioned" if actioned else "no_action", decision.id
        state.action_taken_by_account_id, state.updated_at = staff_id, now
        if settings is not None:
            outcomes.tell_reporter(session, settings, report, state, decision)


def report_state(session: Session, report_id: int) -> ReportState:
    """The report's moderation bookkeeping row, created if it is missing.

    The case worker (linking the case) and a moderator (assigning, resolving) may both be first to
    touch a new report; the row is made with INSERT ... ON CONFLICT DO NOTHING so neither fails on
    the primary key, and each then updates only the columns it sets."""
    state = session.get(ReportState, report_id)
    if state is None:
        insert_if_absent(session, ReportState, {"report_id": report_id, "updated_at": utcnow()}, ["report_id"])
        state = session.get(ReportState, report_id)
    assert state is not None
    return state


def listing(session: Session, *, state: str = "open", limit: int = 100, offset: int = 0,
            where: list[Any] | None = None) -> list[ModerationCase]:
    """Cases by priority; `where` adds conditions (warden.cases.search: a search, the viewer's queues)."""
    query = select(ModerationCase).where(*(where or []))
    if state == "open":
        query = query.where(ModerationCase.state.in_(CASE_UNDECIDED))
    elif state in CASE_STATES:
        query = query.where(ModerationCase.state == state)
    elif state != "all":
        raise ValidationFailed(f"Validation failed: status must be open, all or one of {', '.join(CASE_STATES)}")
    query = query.order_by(ModerationCase.priority.desc(), ModerationCase.due_at.asc(), ModerationCase.id.asc())
    return list(session.scalars(query.offset(max(offset, 0)).limit(min(max(limit, 1), 500))))


def as_json(case: ModerationCase, *, evidence: bool = False, copies: list[int] | None = None) -> dict[str, Any]:
    """`copies`: the copies of a removed post that joined the case (`copies.copy_status_ids`), listed
    in `status_ids` after the case's own post and in `copy_status_ids`."""
    own = [case.status_id] if case.status_id else []
    data: dict[str, Any] = {
        "id": str(case.id), "state": case.state, "tier": case.tier, "priority": case.priority,
        "due_at": case.due_at.isoformat(), "overdue": case.state != "decided" and case.due_at < utcnow(),
        "status_ids": [str(i) for i in own + [c for c in copies or [] if c not in own]],
        "copy_status_ids": [str(i) for i in copies or []], "account_id": str(case.account_id),
        "sources": list(case.sources or []), "label": case.label, "queue": case.queue,
        "assignee_id": str(case.assignee_id) if case.assignee_id else None,
        "claimed_until": case.claimed_until.isoformat() if case.claimed_until else None,
        "decision_id": case.decision_id, "created_at": case.created_at.isoformat(),
    }
    if evidence:
        data["evidence"] = case.evidence
        data["escalation_note"] = case.escalation_note
    return data
