"""User reports (POST /api/v1/reports): stored, and announced on the outbox for the case system."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform import accounts
from warden.platform.ids import parse_id
from warden.platform.statuses import can_see
from warden.store.models import Account, InstanceRule, Report, Status
from warden.store.outbox import emit

CATEGORIES = ("spam", "legal", "violation", "other")


def file_report(session: Session, reporter: Account, *, account_id: int | str, status_ids: list[str] | None = None,
                comment: str = "", forward: bool = False, category: str | None = None,
                rule_ids: list[str] | None = None) -> Report:
    target = accounts.get(session, account_id)
    category = category or ("violation" if rule_ids else "other")
    if category not in CATEGORIES:
        raise ValidationFailed(f"Validation failed: Category must be one of {', '.join(CATEGORIES)}")
    if len(comment or "") > 1000:
        raise ValidationFailed("Validation failed: Comment is too long (maximum is 1000 characters)")
    ids: list[int] = []
    for raw in status_ids or []:
        status = session.get(Status, _int(raw))
        if status is None or status.account_id != target.id or not can_see(session, reporter.id, status):
            raise NotFound(f"Status {raw} was not found for this account")
        ids.append(status.id)
    rules: list[int] = []
    if rule_ids:
        known = set(session.scalars(select(InstanceRule.id)))
        for raw in rule_ids:
            if _int(raw) not in known:
                raise ValidationFailed(f"Validation failed: Rule {raw} does not exist")
            rules.append(_int(raw))
    if category == "violation" and not rules:
        raise ValidationFailed("Validation failed: A violation report must name the rules broken (rule_ids)")
    report = Report(account_id=reporter.id, target_account_id=target.id, status_ids=ids, rule_ids=rules,
                    category=category, comment=comment or "", forward=bool(forward))
    session.add(report)
    session.flush()
    emit(session, "report.created", report.id, {"report_id": report.id, "reporter_id": reporter.id,
                                                 "account_id": target.id, "status_ids": ids, "category": category})
    return report


_int = parse_id
