"""The transparency report (DSA Art. 15 and 24) for a period, from the database.

The quantities follow the Commission's Implementing Regulation (EU) 2024/2835 templates for
transparency reports, as far as Warden has the facts:

- notices (Art. 15(1)(b)): user reports and partner notices received, by submitter type (user,
  partner, trusted flagger) and by category: decided with an action, decided without, pending, the
  median time from receipt to decision, and the actions taken;
- own-initiative moderation (Art. 15(1)(c)): enforcement decisions Warden took without a notice, by
  type of restriction, ground, category, detection and automation;
- complaints (Art. 15(1)(d)): appeals received, decided (upheld / overturned), median time to decide;
- suspensions (Art. 24(1)(b), Art. 23): accounts suspended, by moderators or automatically after strikes;
- automated means (Art. 15(1)(e)): automated enforcement decisions and the share reversed on appeal or
  on review (a later decision lifting the restriction or finding no violation), beside the same
  figures for human decisions.

A period is whole UTC days, both ends included; everything is counted by when it happened (a notice
when received, a decision when taken, an appeal when filed or decided).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warden.cases import statement
from warden.errors import ValidationFailed
from warden.policy.model import Policy
from warden.store.models import Report
from warden.store.moderation_models import Appeal, ModerationDecision, Notice, Partner, ReportState
from warden.transparency.export import day_start

#: Actions that lift an earlier restriction (an appeal's or a review's reversal).
LIFTS = ("restore", "unsuspend", "unsilence", "unlimit", "unlabel")
SUBMITTERS = ("user", "partner", "trusted_flagger")


def _hours(seconds: list[float]) -> float | None:
    return round(median(seconds) / 3600, 2) if seconds else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def parse_period(start: str | None, end: str | None, fmt: str | None = None,
                 *, today: date | None = None) -> tuple[date, date, str]:
    """A period from the console's query string: YYYY-MM-DD days (default: the 30 days to today) and
    `format` (html, json or csv). Bad input is a ValidationFailed (HTTP 422 with the reason)."""
    today = today or datetime.now(timezone.utc).date()
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=29)
    except ValueError:
        raise ValidationFailed("Validation failed: from and to must be dates as YYYY-MM-DD") from None
    if (fmt or "html") not in ("html", "json", "csv"):
        raise ValidationFailed("Validation failed: format must be html, json or csv")
    period(first, last)
    return first, last, fmt or "html"


def period(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise ValidationFailed(f"the period ends ({end}) before it starts ({start})")
    return day_start(start), day_start(end + timedelta(days=1))


def _dsa_category(policy: Policy | None, category: str | None, decision: ModerationDecision | None) -> str:
    """A notice's category in the API's terms: its decision's, else the policy label its category maps to."""
    if decision is not None and (decision.statement or {}).get("category"):
        return statement.category_of(decision.statement["category"])
    label = policy.label_for_category(category) if policy is not None and category else None
    label_policy = policy.labels.get(label) if policy is not None and label else None
    return statement.category_of(label_policy.category) if label_policy else "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"


def _notices(session: Session, lo: datetime, hi: datetime, policy: Policy | None) -> dict[str, Any]:
    """Every notice received in the period: (submitter, category, outcome, seconds to decision, action)."""
    items: list[tuple[str, str, str, float | None, str | None]] = []
    dsa_categories: list[str] = []
    rows = session.execute(
        select(Notice, Partner.trusted, ModerationDecision).join(Partner, Partner.id == Notice.partner_id)
        .outerjoin(ModerationDecision, ModerationDecision.id == Notice.decision_id)
        .where(Notice.created_at >= lo, Notice.created_at < hi)).all()
    reports = session.execute(
        select(Report, ReportState, ModerationDecision).outerjoin(ReportState, ReportState.report_id == Report.id)
        .outerjoin(ModerationDecision, ModerationDecision.id == ReportState.decision_id)
        .where(Report.created_at >= lo, Report.created_at < hi)).all()

    def outcome(state: str | None, decision: ModerationDecision | None, received: datetime,
                closed_at: datetime | None = None) -> tuple[str, float | None]:
        """A notice's outcome and seconds to it. A report that staff resolved through Mastodon's admin
        API without a decision is answered (no action) at the time it was resolved."""
        decided_at = decision.created_at if decision is not None else closed_at
        if decided_at is None or state not in ("actioned", "no_action"):
            return "pending", None
        return state, max((decided_at - received).total_seconds(), 0.0)

    for notice, trusted, decision in rows:
        state, seconds = outcome(notice.state, decision, notice.created_at)
        items.append(("trusted_flagger" if trusted else "partner", notice.category, state, seconds,
                      decision.action if decision is not None and state == "actioned" else None))
        dsa_categories.append(_dsa_category(policy, notice.category, decision))
    for report, report_state, decision in reports:
        state, seconds = outcome(report_state.outcome if report_state is not None else None, decision,
                                 report.created_at, report.action_taken_at)
        items.append(("user", report.category or "other", state, seconds,
                      decision.action if decision is not None and state == "actioned" else None))
        dsa_categories.append(_dsa_category(None, None, decision))

    def summary(group: list[tuple[str, str, str, float | None, str | None]]) -> dict[str, Any]:
        states = Counter(state for _, _, state, _, _ in group)
        return {"received": len(group), "actioned": states["actioned"], "no_action": states["no_action"],
                "pending": states["pending"],
                "median_hours_to_decision": _hours([s for _, _, _, s, _ in group if s is not None]),
                "actions_taken": dict(sorted(Counter(a for *_, a in group if a).items()))}

    by_submitter = {who: summary([i for i in items if i[0] == who]) for who in SUBMITTERS}
    categories = sorted({i[1] for i in items})
    by_category = {c: summary([i for i in items if i[1] == c]) for c in categories}
    rows_out = [{"submitter": who, "category": c, **summary([i for i in items if i[0] == who and i[1] == c])}
                for who in SUBMITTERS for c in categories if any(i[0] == who and i[1] == c for i in items)]
    by_dsa_category = {c: summary([i for i, d in zip(items, dsa_categories) if d == c])
                       for c in sorted(set(dsa_categories))}
    return {"total": summary(items), "by_submitter": by_submitter, "by_category": by_category,
            "by_dsa_category": by_dsa_category, "rows": rows_out}


def _decisions(session: Session, lo: datetime, hi: datetime) -> list[ModerationDecision]:
    return list(session.scalars(select(ModerationDecision).where(
        ModerationDecision.shadow.is_(False), ModerationDecision.created_at >= lo, ModerationDecision.created_at < hi)
        .order_by(ModerationDecision.id)))


def _source(decision: ModerationDecision) -> str:
    value = (decision.statement or {}).get("source_type", "SOURCE_VOLUNTARY")
    return statement.LEGACY_SOURCE_TYPES.get(value, value)


def _own_initiative(enforced: list[ModerationDecision]) -> dict[str, Any]:
    own = [d for d in enforced if _source(d) == "SOURCE_VOLUNTARY"]

    def count(key: Any) -> dict[str, int]:
        return dict(sorted(Counter(key(d) for d in own).items()))

    return {
        "total": len(own),
        "by_action": count(lambda d: d.action),
        "by_ground": count(lambda d: (d.statement or {}).get("decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT")),
        "by_category": count(lambda d: statement.category_of((d.statement or {}).get("category"))),
        "by_label": count(lambda d: d.label or "none"),
        "by_automated_detection": count(lambda d: (d.statement or {}).get("automated_detection", "No")),
        "by_automated_decision": count(lambda d: "AUTOMATED_DECISION_FULLY" if d.automated else
                                       (d.statement or {}).get("automated_decision", "AUTOMATED_DECISION_NOT_AUTOMATED")),
    }


def _complaints(session: Session, lo: datetime, hi: datetime) -> dict[str, Any]:
    received = list(session.scalars(select(Appeal).where(Appeal.created_at >= lo, Appeal.created_at < hi)))
    decided = list(session.scalars(select(Appeal).where(Appeal.decided_at.is_not(None), Appeal.decided_at >= lo,
                                                        Appeal.decided_at < hi)))
    originals = {d.id: d for d in session.scalars(select(ModerationDecision).join(
        Appeal, Appeal.decision_id == ModerationDecision.id).where(Appeal.created_at >= lo, Appeal.created_at < hi))}
    states = Counter(a.state for a in decided)
    return {
        "received": len(received),
        "received_by_action_appealed": dict(sorted(Counter(
            originals[a.decision_id].action for a in received if a.decision_id in originals).items())),
        "decided": len(decided), "upheld": states["upheld"], "overturned": states["overturned"],
        "overturned_share": _share(states["overturned"], len(decided)),
        "median_hours_to_decision": _hours([(a.decided_at - a.created_at).total_seconds()
                                            for a in decided if a.decided_at is not None]),
        "open_at_end": session.scalar(select(func.count()).select_from(Appeal).where(
            Appeal.created_at < hi, (Appeal.decided_at.is_(None)) | (Appeal.decided_at >= hi))) or 0,
    }


def _suspensions(decided: list[ModerationDecision]) -> dict[str, Any]:
    suspended = [d for d in decided if d.action == "suspend"]
    return {"total": len(suspended), "by_moderators": sum(1 for d in suspended if not d.automated),
            "automatic_after_strikes": sum(1 for d in suspended if d.automated),
            "accounts": len({d.account_id for d in suspended}),
            "lifted": sum(1 for d in decided if d.action == "unsuspend"),
            # Art. 23 suspensions for manifestly unfounded notices or complaints: Warden takes none.
            "for_unfounded_notices": 0, "for_unfounded_complaints": 0}


def _automated_means(session: Session, enforced: list[ModerationDecision], lo: datetime, hi: datetime) -> dict[str, Any]:
    """Joins and a window instead of IN lists, so a long period stays one query each."""
    appeals = {a.decision_id: a for a in session.scalars(
        select(Appeal).join(ModerationDecision, ModerationDecision.id == Appeal.decision_id)
        .where(ModerationDecision.created_at >= lo, ModerationDecision.created_at < hi))}
    later: dict[Any, list[ModerationDecision]] = defaultdict(list)
    for d in session.scalars(select(ModerationDecision).where(
            ModerationDecision.shadow.is_(False), ModerationDecision.kind != "appeal",
            ModerationDecision.action.in_(LIFTS + ("no_violation",)), ModerationDecision.created_at >= lo)):
        if d.parent_id:
            later[("parent", d.parent_id)].append(d)
        if d.status_id:
            later[("status", d.status_id)].append(d)

    def reversed_on_review(d: ModerationDecision) -> bool:
        followers = later.get(("parent", d.id), []) + (later.get(("status", d.status_id), []) if d.status_id else [])
        return any(f.id != d.id and f.created_at >= d.created_at and f.action in LIFTS + ("no_violation",)
                   for f in followers)

    def figures(group: list[ModerationDecision]) -> dict[str, Any]:
        appealed = [d for d in group if d.id in appeals]
        overturned = sum(1 for d in appealed if appeals[d.id].state == "overturned")
        reviewed = sum(1 for d in group if reversed_on_review(d) and
                       not (d.id in appeals and appeals[d.id].state == "overturned"))
        return {"decisions": len(group), "appealed": len(appealed), "overturned_on_appeal": overturned,
                "reversed_on_review": reviewed, "reversed_share": _share(overturned + reviewed, len(group)),
                "by_action": dict(sorted(Counter(d.action for d in group).items()))}

    automated = [d for d in enforced if d.automated]
    return {"automated": figures(automated), "human": figures([d for d in enforced if not d.automated])}


def build(session: Session, *, start: date, end: date, policy: Policy | None = None) -> dict[str, Any]:
    """The report for `start`..`end` (UTC days, both included). `policy` (default: the one in force)
    maps a pending notice's category to the API's categories."""
    lo, hi = period(start, end)
    if policy is None:
        from warden.policy.engine import PolicyStore

        policy = PolicyStore().active(session).policy
    decided = _decisions(session, lo, hi)
    enforced = [d for d in decided if statement.submittable(d.action)]
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "notices": _notices(session, lo, hi, policy),
        "own_initiative": _own_initiative(enforced),
        "restrictions_by_source": {
            source: dict(sorted(Counter(d.action for d in enforced if _source(d) == source).items()))
            for source in sorted({_source(d) for d in enforced})},
        "complaints": _complaints(session, lo, hi),
        "suspensions": _suspensions(decided),
        "automated_means": _automated_means(session, enforced, lo, hi),
        "statements": {"enforcement_decisions": len(enforced)},
    }


def flatten(report: dict[str, Any]) -> list[tuple[str, str]]:
    """`section.key.key` -> value pairs, in the report's order (for CSV and simple tables)."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                name = ".".join(str(inner.get(k)) for k in ("submitter", "category") if k in inner) \
                    if isinstance(inner, dict) else str(i)
                walk(f"{prefix}.{name or i}", {k: v for k, v in inner.items() if k not in ("submitter", "category")}
                     if isinstance(inner, dict) else inner)
        else:
            out.append((prefix, "" if value is None else str(value)))

    walk("", report)
    return out


def to_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "value"])
    writer.writerows(flatten(report))
    return buffer.getvalue()
