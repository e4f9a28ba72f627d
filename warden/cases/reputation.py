"""Reporter reputation and brigade damping: how much the people behind a case's signals count.

A case's priority is severity x reach x source strength (cases.py). The source strength is where a
mass report must not buy its way up the queue:

* **Reporter reputation** (0.06 .. 1.5) is the weight of one user's report: the Laplace-smoothed share
  of their past reports that were upheld (a decision other than "no violation") rather than dismissed,
  times an account-age factor that starts at 0.25 for a brand-new account and reaches 1 at
  ``FULL_AGE_DAYS`` (a record of upheld reports vouches for a young account as age would).
  No history and an old account: 0.875; three upheld: 1.25; three dismissed: 0.5.
* **Coordination**: reports whose reporters look like one actor count once. Reporters are grouped
  when their accounts are young (under ``YOUNG_DAYS`` at the time of the report) and were created
  within ``COHORT_WINDOW`` of one another, or when their reports carry the same comment: a group is
  worth its strongest member.
* **Strength** = the strongest group's weight x (1 + 0.1 per further group, each group counting with
  its weight up to 1, at most 0.9 in all). A trusted flagger's notice is worth 3 (policy
  ``source_weights``) times its own accuracy factor; fifty reports from accounts made yesterday are
  worth one fresh reporter, about 0.22.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warden.store.models import Account, Report, utcnow
from warden.store.moderation_models import CaseSignal, ReportState

FULL_AGE_DAYS = 14.0
NEW_ACCOUNT_FACTOR = 0.25
YOUNG_DAYS = 30.0
COHORT_WINDOW = timedelta(days=1)
#: Each further independent group of signals adds up to this much (x its weight, at most 1)...
FURTHER_GROUP_BONUS = 0.1
#: ...and all of them together at most this much.
MAX_BONUS = 0.9


@dataclass(frozen=True)
class Reputation:
    upheld: int
    dismissed: int
    age_days: float
    weight: float

    def as_json(self) -> dict[str, float | int]:
        return {"upheld": self.upheld, "dismissed": self.dismissed, "age_days": round(self.age_days, 1),
                "weight": self.weight}


def _days(later: datetime, earlier: datetime) -> float:
    return max((later - earlier).total_seconds() / 86400.0, 0.0)


def score(upheld: int, dismissed: int, age_days: float) -> float:
    """The weight of one report from a reporter with this record and account age."""
    accuracy = (upheld + 1) / (upheld + dismissed + 2)
    history = 0.25 + 1.25 * accuracy
    age = min(1.0, NEW_ACCOUNT_FACTOR + (1 - NEW_ACCOUNT_FACTOR) * age_days / FULL_AGE_DAYS)
    age = max(age, min(1.0, NEW_ACCOUNT_FACTOR + 0.25 * upheld))
    return round(history * age, 4)


def reporter(session: Session, reporter_id: int, *, now: datetime | None = None) -> Reputation:
    """The reporter's record: their decided past reports and the age of their account."""
    rows = session.execute(select(ReportState.outcome, func.count()).join(Report, Report.id == ReportState.report_id)
                           .where(Report.account_id == reporter_id, ReportState.outcome.is_not(None))
                           .group_by(ReportState.outcome)).all()
    counts = {outcome: n for outcome, n in rows}
    upheld, dismissed = counts.get("actioned", 0), counts.get("no_action", 0)
    created = session.scalar(select(Account.created_at).where(Account.id == reporter_id))
    age = _days(now or utcnow(), created) if created is not None else 0.0
    return Reputation(upheld, dismissed, age, score(upheld, dismissed, age))


@dataclass
class _Signal:
    key: str
    weight: float
    reporter_id: int | None = None
    created: datetime | None = None
    at: datetime | None = None
    comment: str = ""


def _report_id(source_ref: str) -> int | None:
    parts = source_ref.split(":")
    return int(parts[1]) if len(parts) >= 2 and parts[0] == "report" and parts[1].isdigit() else None


def groups(session: Session, case_id: int) -> list[list[_Signal]]:
    """The case's signals in independent groups (one actor each, as far as can be told)."""
    rows = session.execute(select(CaseSignal.source_type, CaseSignal.source_ref, CaseSignal.weight,
                                  CaseSignal.created_at).where(CaseSignal.case_id == case_id)).all()
    signals = [_Signal(key=ref, weight=weight, at=at) for _, ref, weight, at in rows]
    by_report = {rid: s for s, (source, ref, _, _) in zip(signals, rows)
                 if source == "user" and (rid := _report_id(ref)) is not None}
    if by_report:
        for rid, account_id, comment, created in session.execute(
                select(Report.id, Report.account_id, Report.comment, Account.created_at)
                .join(Account, Account.id == Report.account_id).where(Report.id.in_(list(by_report)))):
            signal = by_report[rid]
            signal.reporter_id, signal.created = account_id, created
            signal.comment = " ".join((comment or "").lower().split())
    parent = list(range(len(signals)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    first_of: dict[tuple[str, object], int] = {}
    for i, s in enumerate(signals):
        if s.reporter_id is None:
            continue
        for key in (("reporter", s.reporter_id), ("comment", s.comment) if s.comment else None):
            if key is None:
                continue
            if key in first_of:
                union(i, first_of[key])
            else:
                first_of[key] = i
    young = sorted((i for i, s in enumerate(signals) if s.created is not None and s.at is not None
                    and _days(s.at, s.created) < YOUNG_DAYS), key=lambda i: signals[i].created)  # type: ignore[arg-type,return-value]
    for a, b in zip(young, young[1:]):
        if signals[b].created - signals[a].created <= COHORT_WINDOW:  # type: ignore[operator]
            union(a, b)
    grouped: dict[int, list[_Signal]] = {}
    for i, s in enumerate(signals):
        grouped.setdefault(find(i), []).append(s)
    return list(grouped.values())


def strength(session: Session, case_id: int) -> float:
    """How much the signals behind a case weigh together (the source term of its priority)."""
    weights = sorted((max(s.weight for s in group) for group in groups(session, case_id)), reverse=True)
    if not weights:
        return 1.0
    bonus = min(sum(min(w, 1.0) for w in weights[1:]) * FURTHER_GROUP_BONUS, MAX_BONUS)
    return weights[0] * (1 + bonus)
