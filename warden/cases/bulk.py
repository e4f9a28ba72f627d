"""One decision applied to many cases (a raid), and what it will do before it is applied.

`decide_many` decides each case through `cases.decide`, the service behind a single decision, so
every case gets the same authority, queue and claim checks, its own decision with a statement of
reasons, its notifications, strikes and audit entries. Cases are decided in chunks, one transaction
per chunk. A chunk is first tried straight through; if any of its cases is refused (decided already,
someone else's claim, one's own post, a queue above one's role) the chunk rolls back and is decided
again with each case in a savepoint, so the refused case is rolled back alone and reported and the
others go on. (A savepoint for every case cost about a tenth more CPU in bench/bench_bulk.py's raid,
where every case goes through.) The results are returned only after their chunk has committed.

Reporters are told in the chunk's transaction, one message per reporter for all their reports the
chunk decided (`outcomes.combine_messages` / `tell_combined`), not one per case: a raid's reporter
reads one message, and the moderation account's row (its post count) is locked only at the end of
the chunk, so PostgreSQL's lanes do not queue behind it.

`consequences` is the preview: per author, the strikes the decision adds and whether that reaches
the policy's suspension threshold, or the suspension itself; the console shows it before applying
(for one case or for many) and the API returns it with `"preview": true`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from warden.cases import cases, outcomes
from warden.config import Settings
from warden.errors import NotFound, ValidationFailed, WardenError
from warden.platform.ids import parse_id
from warden.policy.engine import CompiledPolicy
from warden.store.db import Database
from warden.store.models import Account
from warden.store.moderation_models import ModerationCase, Strike

log = logging.getLogger(__name__)

#: The most cases one bulk decision takes (a filter matching more is refused, with its count).
MAX_CASES = 1000
#: Cases per transaction: big enough that commits cost little and a reporter's reports share one
#: message, small enough that the SQLite write lock is never held for long (other writers, posts
#: included, wait for it: about 0.7 s for 100 cases on the 2-core development machine).
CHUNK = 100
#: Concurrent transactions on PostgreSQL (SQLite: one writer, one lane).
LANES = 4


@dataclass(frozen=True)
class Result:
    case_id: str
    ok: bool
    decision_id: str | None = None
    error: str | None = None
    status: int | None = None  # the HTTP status the single decision would have answered, on error

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def case_ids(raw: Iterable[Any]) -> list[int]:
    """Unique case ids in their given order; a malformed id is a 422 (nothing is decided)."""
    seen: dict[int, None] = {}
    for value in raw:
        try:
            seen.setdefault(parse_id(value), None)
        except NotFound:
            raise ValidationFailed(f"Validation failed: {str(value)[:40]!r} is not a case id") from None
    if not seen:
        raise ValidationFailed("Validation failed: no cases given")
    if len(seen) > MAX_CASES:
        raise ValidationFailed(f"Validation failed: at most {MAX_CASES} cases in one bulk decision "
                               f"({len(seen)} given)")
    return list(seen)


def matching(session: Session, where: list[Any]) -> tuple[int, list[int]]:
    """(how many cases match, their ids in queue order up to MAX_CASES)."""
    total = session.scalar(select(func.count()).select_from(ModerationCase).where(*where)) or 0
    ids = list(session.scalars(select(ModerationCase.id).where(*where).order_by(*cases_order()).limit(MAX_CASES)))
    return total, ids


def cases_order() -> tuple[Any, ...]:
    return (ModerationCase.priority.desc(), ModerationCase.due_at.asc(), ModerationCase.id.asc())


def _validate(compiled: CompiledPolicy, action: str, label: str | None) -> None:
    if action not in cases.CASE_ACTIONS:
        raise ValidationFailed(f"Validation failed: action must be one of {', '.join(cases.CASE_ACTIONS)}")
    if label is not None and label not in compiled.policy.labels:
        raise ValidationFailed(f"Validation failed: policy must be one of {', '.join(compiled.policy.labels)}")


def decide_many(db: Database, settings: Settings, policy_of: Callable[[Session], CompiledPolicy], staff_id: int,
                ids: list[int], *, action: str, label: str | None = None, explanation: str = "",
                chunk: int = CHUNK, lanes: int | None = None) -> list[Result]:
    """Decide every case in `ids` with one action and reason; one result per case, in order.

    On PostgreSQL the cases are shared out by author over `lanes` (default LANES) concurrent
    transactions: every case of one author stays in one lane, in order, so the strikes that add up to a
    suspension are counted in one place; different authors' cases touch different rows. SQLite has one
    writer at a time: one lane."""
    with db.read() as session:
        _validate(policy_of(session), action, label)
        authors = _authors(session, ids)
    lanes = 1 if db.is_sqlite else max(1, lanes or LANES)

    def work(lane_ids: list[int]) -> list[Result]:
        done: list[Result] = []
        for start in range(0, len(lane_ids), chunk):
            part = lane_ids[start:start + chunk]
            try:
                decided = _decide_chunk(db, settings, policy_of, staff_id, part, action, label, explanation,
                                        careful=False)
            except _Refused:  # one case was refused: the chunk rolled back whole; again, each case on its own
                decided = _decide_chunk(db, settings, policy_of, staff_id, part, action, label, explanation,
                                        careful=True)
            done.extend(decided)  # committed: only now are they reported
        return done

    if lanes == 1:
        return work(ids)
    shares: list[list[int]] = [[] for _ in range(lanes)]
    by_author: dict[int | None, list[int]] = {}
    for case_id in ids:
        by_author.setdefault(authors.get(case_id), []).append(case_id)
    for group in sorted(by_author.values(), key=len, reverse=True):  # the biggest first, each to the lightest
        min(shares, key=len).extend(group)
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="bulk-decision") as pool:
        found = {r.case_id: r for done in pool.map(work, [s for s in shares if s]) for r in done}
    return [found[str(case_id)] for case_id in ids]


def _authors(session: Session, ids: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        found.update(dict(session.execute(select(ModerationCase.id, ModerationCase.account_id)
                                          .where(ModerationCase.id.in_(ids[start:start + 500]))).all()))
    return found


def _authors_of(session: Session, ids: list[int]) -> list[Account]:
    """The chunk's authors, loaded with one query. The session's identity map keeps only objects that
    something references, so without this list each case would load its author again (a raid's 50
    authors have 10 cases each in a chunk); read in the chunk's transaction, as each case would."""
    authors = select(ModerationCase.account_id).where(ModerationCase.id.in_(ids))
    return list(session.scalars(select(Account).where(Account.id.in_(authors))))


class _Refused(Exception):
    """A case of an optimistic chunk was refused: roll the chunk back and decide it carefully."""


def _decide_chunk(db: Database, settings: Settings, policy_of: Callable[[Session], CompiledPolicy], staff_id: int,
                  ids: list[int], action: str, label: str | None, explanation: str, *,
                  careful: bool) -> list[Result]:
    """One transaction. Optimistic (`careful=False`): the cases straight after each other, and any
    refusal raises _Refused (the transaction rolls back). Careful: each case in a savepoint, so a
    refused case is rolled back alone and reported."""
    part: list[Result] = []
    with db.write() as session:
        compiled = policy_of(session)
        staff = session.get(Account, staff_id)
        if staff is None:
            raise NotFound("The acting account does not exist")
        held = _authors_of(session, ids)  # noqa: F841 (kept: each of their cases finds them in the session)
        outcomes.combine_messages(session)  # one message per reporter for the whole chunk
        for case_id in ids:
            if careful:
                part.append(_decide_one(session, settings, compiled, staff, case_id, action, label, explanation))
                continue
            try:
                _, decision = cases.decide(session, settings, compiled, case_id, staff, action=action, label=label,
                                           explanation=explanation)
            except WardenError as exc:
                raise _Refused() from exc
            part.append(Result(case_id=str(case_id), ok=True, decision_id=decision.id))
        outcomes.tell_combined(session, settings)  # in the chunk's transaction: told when decided
    return part


def _decide_one(session: Session, settings: Settings, compiled: CompiledPolicy, staff: Account, case_id: int,
                action: str, label: str | None, explanation: str) -> Result:
    # What the session remembers (queued audit entries, cached ids) goes back with a rolled-back case.
    saved = {key: list(value) if isinstance(value, list) else value for key, value in session.info.items()}
    try:
        with session.begin_nested():
            _, decision = cases.decide(session, settings, compiled, case_id, staff, action=action, label=label,
                                       explanation=explanation)
        return Result(case_id=str(case_id), ok=True, decision_id=decision.id)
    except (WardenError, SQLAlchemyError) as exc:
        session.info.clear()
        session.info.update(saved)
        if isinstance(exc, WardenError):
            return Result(case_id=str(case_id), ok=False, error=exc.message, status=exc.status_code)
        log.exception("bulk decision: case %s failed", case_id)
        return Result(case_id=str(case_id), ok=False, error="The database refused this case's decision; "
                                                             "try it again on its own", status=500)


# --- what a decision will do, before it is applied ------------------------------------------------


@dataclass(frozen=True)
class Consequence:
    account_id: int
    username: str
    cases: int
    strikes_before: int
    strikes_added: int
    suspend_at: int
    suspended_already: bool
    suspends: bool  # the decision suspends the account (directly, or by reaching suspend_at)
    at_strike: int | None  # which strike suspends it (None: not by strikes)

    @property
    def summary(self) -> str:
        parts = []
        if self.strikes_added:
            which = ", ".join(_ordinal(self.strikes_before + i + 1) for i in range(min(self.strikes_added, 3)))
            more = "" if self.strikes_added <= 3 else f" … {_ordinal(self.strikes_before + self.strikes_added)}"
            noun = "a strike" if self.strikes_added == 1 else f"{self.strikes_added} strikes"
            parts.append(f"this will add {noun} to @{self.username} ({which}{more}"
                         + (f"; the {_ordinal(self.at_strike)} means suspension" if self.at_strike else "")
                         + ")")
        if self.suspended_already:
            parts.append(f"@{self.username} is suspended already")
        elif self.suspends and not self.at_strike:
            parts.append(f"this will suspend @{self.username}")
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {"account_id": str(self.account_id), "username": self.username, "cases": self.cases,
                "strikes_before": self.strikes_before, "strikes_added": self.strikes_added,
                "suspend_at": self.suspend_at, "suspended_already": self.suspended_already,
                "suspends": self.suspends, "summary": self.summary}


def _ordinal(n: int | None) -> str:
    n = n or 0
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def consequences(session: Session, compiled: CompiledPolicy, ids: list[int], action: str) -> list[Consequence]:
    """Per author of the undecided cases in `ids`: the strikes and suspension `action` brings.

    The same rules as `decisions.enforce` / `add_strike`: a strike for `strike` and for each action in
    the policy's `strikes.on_actions`; suspension when the unrevoked strikes reach `suspend_at`."""
    if action not in cases.CASE_ACTIONS or not ids:
        return []
    per_author: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        for account_id, n in session.execute(
                select(ModerationCase.account_id, func.count()).where(
                    ModerationCase.id.in_(ids[start:start + 500]), ModerationCase.decision_id.is_(None))
                .group_by(ModerationCase.account_id)).all():
            per_author[account_id] = per_author.get(account_id, 0) + n
    if not per_author:
        return []
    strikes = compiled.policy.strikes
    striking = action == "strike" or action in strikes.on_actions
    if not striking and action != "suspend":
        return []
    authors = list(per_author)
    found: dict[int, Account] = {}
    before: dict[int, int] = {}
    for start in range(0, len(authors), 500):
        part = authors[start:start + 500]
        found.update({a.id: a for a in session.scalars(select(Account).where(Account.id.in_(part)))})
        before.update(dict(session.execute(select(Strike.account_id, func.count()).where(
            Strike.account_id.in_(part), Strike.revoked_at.is_(None)).group_by(Strike.account_id)).all()))
    result = []
    for account_id, n in per_author.items():
        account = found.get(account_id)
        if account is None:
            continue
        had, added = before.get(account_id, 0), n if striking else 0
        at_strike = None
        if striking and strikes.suspend_at > 0 and had + added >= strikes.suspend_at and account.suspended_at is None:
            at_strike = max(strikes.suspend_at, had + 1)
        result.append(Consequence(
            account_id=account_id, username=account.username, cases=n, strikes_before=had, strikes_added=added,
            suspend_at=strikes.suspend_at, suspended_already=account.suspended_at is not None,
            suspends=account.suspended_at is None and (action == "suspend" or at_strike is not None),
            at_strike=at_strike))
    result.sort(key=lambda c: (not c.suspends, -c.strikes_added, c.username))
    return result
