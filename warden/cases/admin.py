"""Mastodon's admin operations on reports and accounts, expressed as Warden moderation actions.

Account actions (`none | sensitive | disable | silence | suspend`) become decisions with statements
of reasons like every other enforcement; report assignment and resolution are audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warden.cases import audit, decisions, outcomes
from warden.cases.cases import STAFF_ROLES, report_state
from warden.config import Settings
from warden.errors import NotFound, ValidationFailed
from warden.platform.ids import parse_id
from warden.platform.pagination import paginate
from warden.policy.engine import CompiledPolicy
from warden.store.models import Account, Report, utcnow
from warden.store.moderation_models import ModerationDecision, ReportState

ACCOUNT_ACTION = {"none": "warn", "sensitive": "sensitive", "disable": "suspend", "silence": "silence",
                  "suspend": "suspend"}


_int = parse_id


def report(session: Session, report_id: Any) -> tuple[Report, ReportState | None]:
    row = session.get(Report, _int(report_id))
    if row is None:
        raise NotFound()
    return row, session.get(ReportState, row.id)


def reports(session: Session, *, resolved: bool | None, account_id: int | None, target_account_id: int | None,
            max_id: int | None, since_id: int | None, min_id: int | None, limit: int) -> list[Report]:
    query = select(Report)
    if resolved is not None:
        query = query.where(Report.action_taken_at.is_not(None) if resolved else Report.action_taken_at.is_(None))
    if account_id is not None:
        query = query.where(Report.account_id == account_id)
    if target_account_id is not None:
        query = query.where(Report.target_account_id == target_account_id)
    rows = paginate(session, query, Report.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [r[0] for r in rows]


def assign(session: Session, report_id: Any, staff: Account | None) -> Report:
    row, _ = report(session, report_id)
    state = report_state(session, row.id)
    state.assigned_account_id, state.updated_at = (staff.id if staff else None), utcnow()
    audit.append(session, action="report.assigned" if staff else "report.unassigned", subject=f"report:{row.id}",
                 actor_id=staff.id if staff else None)
    return row


def resolve(session: Session, report_id: Any, staff: Account, *, decision: ModerationDecision | None = None,
            settings: Settings | None = None) -> Report:
    """Resolve a report (Mastodon's admin API); with `settings`, the reporter is told the outcome when
    this resolves it (cases/outcomes.py)."""
    row, _ = report(session, report_id)
    state = report_state(session, row.id)
    newly = row.action_taken_at is None or (decision is not None and state.decision_id != decision.id)
    row.action_taken_at = row.action_taken_at or utcnow()
    state.action_taken_by_account_id, state.updated_at = staff.id, utcnow()
    state.outcome = "actioned" if decision is not None and decision.action != "warn" else (state.outcome or "no_action")
    if decision is not None:
        state.decision_id = decision.id
    audit.append(session, action="report.resolved", subject=f"report:{row.id}", actor_id=staff.id,
                 data={"decision_id": decision.id if decision else None})
    if settings is not None and newly:
        told = session.get(ModerationDecision, state.decision_id) if state.decision_id else None
        outcomes.tell_reporter(session, settings, row, state, told)
    return row


def reopen(session: Session, report_id: Any, staff: Account) -> Report:
    row, _ = report(session, report_id)
    state = report_state(session, row.id)
    row.action_taken_at = None
    state.outcome, state.action_taken_by_account_id, state.updated_at = None, None, utcnow()
    audit.append(session, action="report.reopened", subject=f"report:{row.id}", actor_id=staff.id)
    return row


def accounts(session: Session, filters: dict[str, Any], *, max_id: int | None, since_id: int | None,
             min_id: int | None, limit: int) -> list[Account]:
    query = select(Account)
    if filters.get("remote"):
        return []
    if filters.get("suspended") or filters.get("disabled"):
        query = query.where(Account.suspended_at.is_not(None))
    if filters.get("silenced"):
        query = query.where(Account.silenced_at.is_not(None))
    if filters.get("active"):
        query = query.where(Account.suspended_at.is_(None))
    if filters.get("pending"):
        return []
    if filters.get("staff"):
        query = query.where(Account.role.in_(STAFF_ROLES))
    for field, column in (("username", Account.username_key), ("display_name", Account.display_name),
                          ("email", Account.email)):
        value = filters.get(field)
        if value:
            query = query.where(column.ilike(f"%{str(value).lower() if field == 'username' else value}%"))
    if filters.get("query"):
        needle = f"%{filters['query']}%"
        query = query.where(or_(Account.username_key.ilike(needle), Account.display_name.ilike(needle)))
    rows = paginate(session, query, Account.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [r[0] for r in rows]


def account_action(session: Session, settings: Settings, compiled: CompiledPolicy, account_id: Any, staff: Account,
                   *, type: str, text: str = "", report_id: Any = None) -> ModerationDecision:
    action = ACCOUNT_ACTION.get(type or "")
    if action is None:
        raise ValidationFailed(f"Validation failed: type must be one of {', '.join(ACCOUNT_ACTION)}")
    target = session.get(Account, _int(account_id))
    if target is None:
        raise NotFound()
    decision = decisions.enforce(session, settings, compiled, action=action, account_id=target.id, actor_id=staff.id,
                                 kind="account", explanation=text or "", source="moderator")
    if report_id not in (None, ""):
        resolve(session, report_id, staff, decision=decision, settings=settings)
    return decision


def unsuspend(session: Session, settings: Settings, compiled: CompiledPolicy, account_id: Any,
              staff: Account) -> Account:
    target = session.get(Account, _int(account_id))
    if target is None:
        raise NotFound()
    decisions.enforce(session, settings, compiled, action="unsuspend", account_id=target.id, actor_id=staff.id,
                      kind="account", source="moderator")
    return target
