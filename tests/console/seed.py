"""Past activity written straight into the database, so the dashboard has history to show.

Only for days before today: the posts, violent-content decisions, decided cases, notices and appeals
of earlier weeks. Everything a test does today goes through the HTTP API and the moderation engine.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta

from warden.cases import statement
from warden.config import Settings
from warden.store.db import Database
from warden.store.models import Status
from warden.store.moderation_models import Appeal, ModerationCase, ModerationDecision, Notice, Partner

#: Violent items per past day (oldest first): about 1 in 200 posts, with ordinary ups and downs.
PAST_VIOLENT = [1, 0, 2, 1, 1, 0, 2, 1, 1, 1, 0, 2, 1, 1, 1, 0, 1, 2, 1, 1]
POSTS_PER_DAY = 200


def _decision_id(at: datetime) -> str:
    return f"dec_{int(at.timestamp() * 1000):011x}{secrets.token_hex(5)}"


def _seeded(decision_id: str, action: str, at: datetime, *, automated: bool) -> dict:
    """The statement of reasons a real decision would carry (it must pass the Transparency Database's
    rules like every other statement the tests write: tests/conftest.py checks them)."""
    return statement.build(decision_id=decision_id, action=action, label_policy=None, facts="seeded",
                           source="detector" if automated else "moderator", automated_detection=automated,
                           automated_decision="fully" if automated else "not", content_date=at,
                           application_date=at)


def seed_history(db: Database, *, author_id: int, partner_id: int | None = None,
                 now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    today = now.date()
    with db.write() as session:
        for back, violent in enumerate(reversed(PAST_VIOLENT), start=1):
            day = today - timedelta(days=back)
            noon = datetime.combine(day, time(12, 0), tzinfo=UTC)
            statuses = [Status(account_id=author_id, text=f"An ordinary post {i} on {day}", content_html="",
                               visibility="public", created_at=noon + timedelta(seconds=i), state="published",
                               local_public=True, mention_list=[], tag_list=[]) for i in range(POSTS_PER_DAY)]
            session.add_all(statuses)
            session.flush()
            for i in range(violent):
                at = noon + timedelta(minutes=30 + i)
                decision_id = _decision_id(at)
                session.add(ModerationDecision(
                    id=decision_id, kind="gate", action="hold", status_id=statuses[i].id, account_id=author_id,
                    label="violence", automated=True, explanation="seeded",
                    statement=_seeded(decision_id, "hold", at, automated=True), created_at=at))
            # Cases decided that day: a user report (slowish) and a trusted flagger (fast), one late.
            for j, (source, opened_hours, took_minutes, sla_hours) in enumerate(
                    (("user", 2, 180 + 10 * back, 12), ("trusted_flagger", 3, 20 + back, 1),
                     ("detector", 4, 60, 4 if back % 5 else 0.5))):
                opened = noon - timedelta(hours=opened_hours)
                decided = opened + timedelta(minutes=took_minutes)
                session.add(ModerationCase(
                    open_key=None, status_id=statuses[10 + j].id, account_id=author_id, state="decided",
                    label="violence" if source != "user" else "harassment", priority=1.0,
                    due_at=opened + timedelta(hours=sla_hours), sources=[source], evidence={},
                    created_at=opened, updated_at=decided, decided_at=decided))
            if partner_id is not None and back <= 10:
                session.add(Notice(partner_id=partner_id, url=f"https://example.test/{back}",
                                   status_id=statuses[20].id, category="incitement", explanation="seeded",
                                   state="actioned" if back % 3 else "no_action", created_at=noon, updated_at=noon))
        # Two appeals from last week: one upheld, one overturned.
        for k, outcome in enumerate(("upheld", "overturned")):
            at = datetime.combine(today - timedelta(days=3 + k), time(9, 0), tzinfo=UTC)
            decision_id = _decision_id(at)
            decision = ModerationDecision(id=decision_id, kind="case", action="remove", account_id=author_id,
                                          label="harassment", explanation="seeded",
                                          statement=_seeded(decision_id, "remove", at, automated=False), created_at=at)
            session.add(decision)
            session.flush()
            session.add(Appeal(decision_id=decision.id, account_id=author_id, text="seeded appeal", state=outcome,
                               created_at=at, decided_at=at + timedelta(hours=5)))


def seed_today_violence(db: Database, *, author_id: int, count: int = 8) -> None:
    """Today's posts, `count` of them held as violent by the gate: a surge against the history above."""
    now = datetime.now(UTC)
    start = datetime.combine(now.date(), time(0, 5), tzinfo=UTC)
    with db.write() as session:
        statuses = [Status(account_id=author_id, text=f"Another post {i} today", content_html="",
                           visibility="public", created_at=min(start + timedelta(seconds=i), now), state="published",
                           local_public=True, mention_list=[], tag_list=[]) for i in range(POSTS_PER_DAY)]
        session.add_all(statuses)
        session.flush()
        for i in range(count):
            at = min(start + timedelta(minutes=10 + i), now)
            decision_id = _decision_id(at)
            session.add(ModerationDecision(id=decision_id, kind="gate", action="hold", status_id=statuses[i].id,
                                           account_id=author_id, label="violence", automated=True, explanation="seeded",
                                           statement=_seeded(decision_id, "hold", at, automated=True), created_at=at))


def partner_id(db: Database, name: str) -> int:
    from sqlalchemy import select

    with db.read() as session:
        found = session.scalar(select(Partner.id).where(Partner.name == name))
        assert found is not None
        return found


def seed_raid(db: Database, settings: Settings, *, authors: list[int], reporters: list[int], n: int,
              text: str, label: str = "harassment", chunk: int = 100) -> list[int]:
    """A raid as the moderation worker leaves it: `n` copies of `text` posted by `authors` in turn, each
    reported by one of `reporters`, each an open case (opened through `cases.open_or_join`, as the
    worker opens them). Returns the case ids."""
    from warden.cases import cases
    from warden.policy.engine import PolicyStore
    from warden.store.models import Report

    store = PolicyStore()
    case_ids: list[int] = []
    now = datetime.now(UTC)
    for start in range(0, n, chunk):
        with db.write() as session:
            compiled = store.active(session)
            statuses = [Status(account_id=authors[i % len(authors)], text=f"{text} ({i})", content_html=f"<p>{text}</p>",
                               visibility="public", created_at=now - timedelta(seconds=n - i), state="published",
                               local_public=True, mention_list=[], tag_list=[])
                        for i in range(start, min(start + chunk, n))]
            session.add_all(statuses)
            session.flush()
            reports = [Report(account_id=reporters[(start + j) % len(reporters)], target_account_id=s.account_id,
                              status_ids=[s.id], category="other", comment="raid")
                       for j, s in enumerate(statuses)]
            session.add_all(reports)
            session.flush()
            for status, report in zip(statuses, reports, strict=True):
                case = cases.open_or_join(session, settings, compiled, status_id=status.id, account_id=status.account_id,
                                          source_type="user", source_ref=f"report:{report.id}:{status.id}",
                                          label=label, detail={"reporter_id": report.account_id, "category": "other",
                                                               "comment": "raid"})
                case_ids.append(case.id)
    return case_ids
