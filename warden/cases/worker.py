"""The asynchronous path: an outbox consumer that opens cases and runs the checks too slow for the write path.

Delivery is at least once and handling is idempotent:

* `EventSource` is the small interface a consumer reads from. `OutboxSource` reads the
  `outbox_events` table of the database. With a broker (warden/broker/) the relay publishes the same
  rows to JetStream and `warden.broker.consumer` hands them to this module's `Consumer.deliver` /
  `_deliver_chunk` / `_dead_letter`, so both paths record handling the same way.
* `Consumer` keeps its position in `outbox_consumers` (every event with id <= position is handled)
  and records each handled event in `processed_events` *in the same transaction as its effects*. The
  primary key (consumer, event id) means a redelivered event - a crash between commit and position
  update, a second worker, a test calling `deliver()` twice - changes nothing the second time.
  Decisions taken from an event also carry a unique `dedupe_key` "event:<id>:<kind>".
* Events that arrive out of id order (PostgreSQL commits concurrent transactions in any order) are
  still handled: the consumer handles everything past its position that is not yet processed, and
  only moves its position over a gap once the gap is older than `GAP_SECONDS`.
* Up to `chunk` events share one transaction, which ends after `budget` seconds of work (the SQLite
  write lock is never held long). If a batch fails, its events are retried one per transaction; a
  failing event is retried with back-off and dead-lettered after `MAX_ATTEMPTS` (recorded as
  processed with outcome "failed", and audited) so it never stalls the others.

`ModerationWorker` is the thread `create_app` starts in the server process (`warden worker` runs one
as a process of its own).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warden.cases import audit, cases, copies, decisions
from warden.cases.lifecycle import advance
from warden.config import Settings
from warden.observability.metrics import WORKER_EVENTS
from warden.policy.engine import UNSCORED_REASON, UNSCORED_RULE, DetectorLike, PolicyStore, draft_text, evaluate, \
    is_unscored
from warden.policy.model import STRICTNESS
from warden.store.db import Database
from warden.store.leader import LeaderLock, lead
from warden.store.models import Account, OutboxEvent, Report, Status, utcnow
from warden.store.moderation_models import ConsumerPosition, ModerationDecision, Notice, Partner, ProcessedEvent
from warden.store.outbox import Event

log = logging.getLogger("warden.worker")
GAP_SECONDS = 10.0
MAX_ATTEMPTS = 5
#: How long the worker keeps retrying to score a post the gate held unscored (detection pool down)
#: before it opens a case for it instead; its retries back off (0.8, 3.2, 13, 51 s), so the last one
#: comes about a minute after the post, before the event would be dead-lettered.
UNSCORED_PATIENCE_SECONDS = 30.0


class DetectionUnavailable(RuntimeError):
    """The detector still cannot score a post held unscored: the event is retried later."""


class EventSource(Protocol):
    """What a consumer reads. `fetch` returns events after a position, in id order; `pending` returns
    events in (after, upto] the consumer has not handled (late commits, failed attempts); `ids` lists the
    event ids that exist in (after, upto], so the consumer can tell a gap from an unhandled event."""

    def fetch(self, after: int, limit: int) -> list[Event]: ...

    def pending(self, consumer: str, after: int, upto: int, limit: int,
                types: frozenset[str] | None = None) -> list[Event]: ...

    def ids(self, after: int, upto: int) -> list[int]: ...


def _event(row: Any) -> Event:
    return Event(row.id, row.type, row.subject_id, dict(row.payload or {}), row.created_at)


#: An outbox event's columns, read as rows: building an ORM object for every event a poll reads cost
#: more than the rest of the read.
_EVENT_COLUMNS = (OutboxEvent.id, OutboxEvent.type, OutboxEvent.subject_id, OutboxEvent.payload,
                  OutboxEvent.created_at)


class OutboxSource:
    """Events from the embedded `outbox_events` table, in id order."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def fetch(self, after: int, limit: int) -> list[Event]:
        with self.db.read() as session:
            rows = session.execute(select(*_EVENT_COLUMNS).where(OutboxEvent.id > after)
                                   .order_by(OutboxEvent.id).limit(limit))
            return [_event(r) for r in rows]

    def pending(self, consumer: str, after: int, upto: int, limit: int,
                types: frozenset[str] | None = None) -> list[Event]:
        handled = select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == consumer,
                                                        ProcessedEvent.event_id == OutboxEvent.id)
        query = select(*_EVENT_COLUMNS).where(OutboxEvent.id > after, OutboxEvent.id <= upto, ~handled.exists())
        if types is not None:
            query = query.where(OutboxEvent.type.in_(sorted(types)))
        with self.db.read() as session:
            rows = session.execute(query.order_by(OutboxEvent.id).limit(limit))
            return [_event(r) for r in rows]

    def ids(self, after: int, upto: int) -> list[int]:
        with self.db.read() as session:
            return list(session.scalars(select(OutboxEvent.id).where(OutboxEvent.id > after, OutboxEvent.id <= upto)
                                        .order_by(OutboxEvent.id)))

    def get_many(self, event_ids: list[int]) -> list[Event]:
        if not event_ids:
            return []
        with self.db.read() as session:
            rows = session.execute(select(*_EVENT_COLUMNS).where(OutboxEvent.id.in_(event_ids))
                                   .order_by(OutboxEvent.id))
            return [_event(r) for r in rows]

    def last_id(self) -> int:
        with self.db.read() as session:
            return session.scalar(select(func.max(OutboxEvent.id))) or 0

    def get(self, event_id: int) -> Event | None:
        with self.db.read() as session:
            row = session.get(OutboxEvent, event_id)
            return _event(row) if row is not None else None


Handler = Callable[[Session, Event], None]


class Consumer:
    """Reads events from `source` and hands each to `handler(session, event)` inside a write transaction.
    `types`: the event types the handler acts on; the others are passed over without a transaction or a
    `processed_events` row (the Web Push consumer wants one type of the dozens)."""

    def __init__(self, name: str, db: Database, source: EventSource, handler: Handler, *, batch: int = 500,
                 chunk: int = 100, budget: float = 0.05, retry_base: float = 0.2,
                 types: frozenset[str] | None = None) -> None:
        self.name = name
        self.types = types
        self.retry_base = retry_base
        self.chunk = chunk
        self.budget = budget
        self.db = db
        self.source = source
        self.handler = handler
        self.batch = batch
        self._attempts: dict[int, int] = {}
        self._gaps: dict[int, float] = {}
        self._retry_at: dict[int, float] = {}
        #: The highest event id fetched so far; events between the stored position and here that are
        #: not handled yet come back through `source.pending()`.
        self._high = 0

    def position(self) -> int:
        return stored_position(self.db, self.name)

    def deliver(self, event: Event) -> bool:
        """Handle one event exactly once in effect; False when it was already handled."""
        try:
            with self.db.write() as session:
                if session.get(ProcessedEvent, (self.name, event.id)) is not None:
                    return False
                session.add(ProcessedEvent(consumer=self.name, event_id=event.id))
                session.flush()
                self.handler(session, event)
            return True
        except IntegrityError:
            with self.db.read() as session:  # another consumer of the same name handled it meanwhile?
                if session.get(ProcessedEvent, (self.name, event.id)) is not None:
                    return False
            raise

    def _deliver_chunk(self, chunk: list[Event], position: int | None = None) -> tuple[int, int, bool]:
        """Several events in one transaction (far fewer commits under load), all or nothing. The
        transaction ends after `budget` seconds of work, so it never holds the (SQLite) write lock long.
        `position`: where the stored position may move once the whole chunk is handled (every event
        up to it is done), in the same transaction. Returns (events consumed, events handled, whether
        the position was stored)."""
        handled: list[int] = []
        consumed = 0
        started = time.monotonic()
        moved = False
        with self.db.write() as session:
            seen = set(session.scalars(select(ProcessedEvent.event_id).where(
                ProcessedEvent.consumer == self.name, ProcessedEvent.event_id.in_([e.id for e in chunk]))))
            prefetch = getattr(self.handler, "prefetch", None)
            loaded = prefetch(session, [e for e in chunk if e.id not in seen]) if prefetch else None
            for event in chunk:
                consumed += 1
                if event.id in seen:
                    continue
                self.handler(session, event)
                handled.append(event.id)
                if time.monotonic() - started > self.budget:
                    break
            del loaded
            if handled:  # one INSERT for the chunk, through the connection (no unit of work per row)
                now = utcnow()
                session.connection().execute(_PROCESSED, [{"consumer": self.name, "event_id": event_id,
                                                           "outcome": "done", "processed_at": now}
                                                          for event_id in handled])
            if position is not None and consumed == len(chunk):
                moved = move_position(session, self.name, position)
        return consumed, len(handled), moved

    def _deliver_alone(self, event: Event, done: set[int]) -> int:
        try:
            handled = int(self.deliver(event))
            done.add(event.id)
            self._attempts.pop(event.id, None)
            self._retry_at.pop(event.id, None)
            return handled
        except Exception as exc:  # retried on the next poll; a poison event is dead-lettered
            attempts = self._attempts.get(event.id, 0) + 1
            self._attempts[event.id] = attempts
            self._retry_at[event.id] = time.monotonic() + self.retry_base * 4 ** attempts  # 0.8, 3.2, 13, 51 s
            log.warning("outbox event %s (%s) failed (attempt %s): %s", event.id, event.type, attempts, exc)
            WORKER_EVENTS.labels(self.name, "failed").inc()
            if attempts >= MAX_ATTEMPTS:
                self._dead_letter(event, exc)
                done.add(event.id)
                self._attempts.pop(event.id, None)
                self._retry_at.pop(event.id, None)
            return 0

    def _dead_letter(self, event: Event, exc: Exception) -> None:
        log.error("giving up on outbox event %s (%s) after %s attempts: %s", event.id, event.type, MAX_ATTEMPTS, exc)
        WORKER_EVENTS.labels(self.name, "dead_letter").inc()
        with self.db.write() as session:
            if session.get(ProcessedEvent, (self.name, event.id)) is None:
                session.add(ProcessedEvent(consumer=self.name, event_id=event.id, outcome="failed"))
                audit.append(session, action="worker.dead_letter", subject=f"event:{event.id}",
                             data={"type": event.type, "error": f"{type(exc).__name__}: {exc}"[:500]})

    def poll(self) -> int:
        """Handle what is new (and what was skipped or failed before); returns how many events were handled."""
        position = self.position()
        high = max(self._high, position)
        late = self.source.pending(self.name, position, high, self.batch, self.types) if high > position else []
        fresh = self.source.fetch(high, self.batch)
        if not late and not fresh:
            self._advance(position, high)
            return 0
        wanted = [e for e in fresh if self.types is None or e.type in self.types]
        done: set[int] = set()
        if wanted:
            with self.db.read() as session:
                done = set(session.scalars(select(ProcessedEvent.event_id).where(
                    ProcessedEvent.consumer == self.name, ProcessedEvent.event_id.in_([e.id for e in wanted]))))
        now = time.monotonic()
        pending = [e for e in late + wanted if e.id not in done and self._retry_at.get(e.id, 0) <= now]
        handled = sum(self._deliver_alone(e, done) for e in pending if e.id in self._attempts)  # retries: alone
        pending = [e for e in pending if e.id not in self._attempts and e.id not in done]
        # every id after the stored position, none failed before: the last chunk's transaction stores the
        # position too (one write transaction fewer a poll)
        contiguous = bool(high == position and not late and fresh and fresh[-1].id - position == len(fresh))
        stored = False
        index = 0
        while index < len(pending):
            chunk = pending[index:index + self.chunk]
            last = index + len(chunk) >= len(pending)
            upto = fresh[-1].id if contiguous and last and not any(e.id in self._attempts for e in fresh) else None
            try:
                consumed, count, stored = self._deliver_chunk(chunk, upto)
            except Exception:  # isolate the failing event: one transaction per event for this chunk
                consumed, count = len(chunk), sum(self._deliver_alone(e, done) for e in chunk)
            handled += count
            index += consumed
        if handled:
            WORKER_EVENTS.labels(self.name, "handled").inc(handled)
        if fresh:
            self._high = max(high, fresh[-1].id)
        if stored:  # by the last chunk's transaction
            return handled
        if contiguous and not any(e.id in self._attempts for e in fresh):
            self.save_position(fresh[-1].id)  # every id after the position, and every one done: no gap to check
        else:
            self._advance(position, self._high)
        return handled

    def _advance(self, position: int, high: int) -> None:
        """Move the stored position over every handled event, and over gaps older than GAP_SECONDS (ids
        that never committed); stop at the first unhandled event or young gap."""
        if high <= position:
            return
        unhandled = self.source.pending(self.name, position, high, 1, self.types)
        upto = unhandled[0].id - 1 if unhandled else high
        new = contiguous_upto(position, self.source.ids(position, upto), self._gaps)
        if new != position:
            self.save_position(new)

    def save_position(self, new: int) -> None:
        store_position(self.db, self.name, new)


_PROCESSED = insert(ProcessedEvent.__table__)
_MOVE_POSITION = (update(ConsumerPosition.__table__)
                  .where(ConsumerPosition.__table__.c.name == bindparam("consumer"),
                         ConsumerPosition.__table__.c.position < bindparam("upto"))
                  .values(position=bindparam("upto"), updated_at=bindparam("moved_at")))


def stored_position(db: Database, name: str) -> int:
    """The stored position of consumer `name` (0 before its first event)."""
    with db.read() as session:
        return session.scalar(select(ConsumerPosition.position).where(ConsumerPosition.name == name)) or 0


def move_position(session: Session, name: str, new: int) -> bool:
    """In the caller's transaction, move consumer `name`'s stored position forward to `new`; False when it
    has no stored position yet (`store_position` creates it)."""
    moved = session.connection().execute(_MOVE_POSITION, {"consumer": name, "upto": new, "moved_at": utcnow()}).rowcount
    return bool(moved) or session.get(ConsumerPosition, name) is not None


def store_position(db: Database, name: str, new: int) -> None:
    """Store `new` as the position of `name` unless a position past it is stored already (several
    processes may share a consumer name: each only ever moves it forward)."""
    try:
        with db.write() as session:
            if not move_position(session, name, new):
                session.add(ConsumerPosition(name=name, position=new, updated_at=utcnow()))
    except IntegrityError:  # another process created the row at the same moment: moved on next time
        pass


def contiguous_upto(position: int, ids: list[int], gaps: dict[int, float]) -> int:
    """How far a position may move over `ids` (ascending, every one of them done): to the last id before
    the first missing id that has been missing for less than GAP_SECONDS (a transaction that has not
    committed yet: on PostgreSQL ids commit out of order). `gaps` remembers when each gap was first seen;
    the outbox relay (warden/broker/relay.py) moves its position by the same rule."""
    new = position
    now = time.monotonic()
    for event_id in ids:
        if event_id != new + 1:  # ids missing below this one: not yet committed, or rolled back
            first_seen = gaps.setdefault(new + 1, now)
            if now - first_seen < GAP_SECONDS:
                break
            gaps.pop(new + 1, None)
        new = event_id
    return new


# --- what the moderation consumer does with each event -------------------------------------------


class ModerationHandlers:
    """status.* -> link gate decisions, open cases for holds / reviews, async rules;
    report.created and notices.received -> cases; policy.activated -> re-score recent posts."""

    def __init__(self, settings: Settings, store: PolicyStore, detector: DetectorLike | None) -> None:
        self.settings = settings
        self.store = store
        self.detector = detector

    def prefetch(self, session: Session, events: list[Event]) -> list[Any]:
        """Load the statuses and gate decisions of a chunk of events, and the authors of the posts the
        gate acted on (a case or a decision may need them), in three queries (kept alive by the caller).
        The authors of allowed posts are not loaded: their handling needs none."""
        status_ids = [e.payload.get("status_id") for e in events if e.type.startswith("status.")]
        decision_ids = [e.payload.get("decision_id") for e in events if e.payload.get("decision_id")]
        loaded: list[Any] = []
        if status_ids:
            loaded += session.scalars(select(Status).where(Status.id.in_([i for i in status_ids if i]))).all()
            acted_on = {e.payload.get("status_id") for e in events if e.payload.get("decision_id")}
            authors = {s.account_id for s in loaded if isinstance(s, Status) and s.id in acted_on}
            if authors:
                loaded += session.scalars(select(Account).where(Account.id.in_(authors))).all()
        if decision_ids:
            loaded += session.scalars(select(ModerationDecision).where(ModerationDecision.id.in_(decision_ids))).all()
        return loaded

    def __call__(self, session: Session, event: Event) -> None:
        method = getattr(self, "on_" + event.type.replace(".", "_"), None)
        if method is not None:
            method(session, event)

    def on_status_created(self, session: Session, event: Event) -> None:
        status = session.get(Status, event.payload.get("status_id") or 0)
        if status is None or status.deleted_at is not None:
            return
        compiled = self.store.active(session)
        decision_id = event.payload.get("decision_id")
        if decision_id:
            decision = session.get(ModerationDecision, decision_id)
            if decision is not None:
                if decision.status_id is None:
                    decision.status_id = status.id
                if decision.rule == UNSCORED_RULE:  # held because the detector could not score it
                    if status.state == "held" and status.decision_id == decision.id:
                        self._score_held_unscored(session, event, status, decision)
                    return
                if copies.is_copy_hold(decision):  # a copy of a removed post: into that removal's case
                    copies.join_case(session, self.settings, compiled, status, decision)
                    return
                # a labelled or limited post that another signal wanted reviewed gets its case as well
                review = (decision.evidence or {}).get("review")
                if decision.action in ("hold", "review") or review:
                    cases.open_or_join(session, self.settings, compiled, status_id=status.id,
                                       account_id=status.account_id, source_type="detector",
                                       source_ref=f"decision:{decision.id}",
                                       label=review["label"] if review else decision.label, scores=decision.scores,
                                       detail={"reason": decisions.gate_facts(review["reason"])
                                               if review else decision.explanation})
        if status.state != "published":
            return
        result = evaluate(compiled, draft_text(status.text, status.spoiler_text), None, None, stage="async")
        if result.action == "allow":
            return
        if result.action in ("review", "hold"):
            cases.open_or_join(session, self.settings, compiled, status_id=status.id, account_id=status.account_id,
                               source_type="detector", source_ref=f"event:{event.id}:async", label=result.label,
                               detail={"reason": result.reason, "rule": result.rule})
            if result.action == "review":
                return
        action = "remove" if result.action == "block" else result.action
        if STRICTNESS.get(result.action, 0) <= STRICTNESS.get(event.payload.get("action") or "allow", 0):
            return
        key = f"event:{event.id}:async"
        if session.scalar(select(ModerationDecision.id).where(ModerationDecision.dedupe_key == key)) is not None:
            return  # taken already (by another consumer of the same event)
        decisions.enforce(session, self.settings, compiled, action=action, status_id=status.id, label=result.label,
                          explanation=f"Automated check after publication: {result.reason}.", source="detector",
                          kind="async", automated=True, rule=result.rule, dedupe_key=key)

    on_status_updated = on_status_created

    def _score_held_unscored(self, session: Session, event: Event, status: Status,
                             held: ModerationDecision) -> None:
        """Score a post the gate held unscored and apply the policy's outcome, as the gate would
        have: publish it (a "restore", or the label or limit the policy asks for), keep it held
        with a case, or remove it where the gate would have refused it; a case too where the policy
        calls for review. While the detector still cannot score it, raise ``DetectionUnavailable``
        (the consumer retries with back-off); after ``UNSCORED_PATIENCE_SECONDS``, open a case so a
        moderator decides instead. Each outcome is an automated decision with the scores."""
        compiled = self.store.active(session)
        text = draft_text(status.text, status.spoiler_text)
        detection = self.detector.score(text) if self.detector is not None else None
        if detection is None or is_unscored(detection):
            if _age_seconds(event.created_at) < UNSCORED_PATIENCE_SECONDS:
                raise DetectionUnavailable(f"status {status.id} is held unscored and the detector is still unavailable")
            cases.open_or_join(session, self.settings, compiled, status_id=status.id, account_id=status.account_id,
                               source_type="detector", source_ref=f"decision:{held.id}", label=None,
                               detail={"reason": f"{decisions.gate_facts(UNSCORED_REASON)} The detector was still "
                                                 f"unavailable {UNSCORED_PATIENCE_SECONDS:.0f} s later: a moderator "
                                                 "decides."})
            return
        key = f"event:{event.id}:scored"
        if session.scalar(select(ModerationDecision.id).where(ModerationDecision.dedupe_key == key)) is not None:
            return
        if session.scalar(select(ModerationDecision.id).where(  # decided since (ids are time-ordered)
                ModerationDecision.status_id == status.id, ModerationDecision.id > held.id,
                ModerationDecision.shadow.is_(False)).limit(1)) is not None:
            return
        result = evaluate(compiled, text, detection, getattr(self.detector, "thresholds", None))
        author = session.get(Account, status.account_id)
        if STRICTNESS[result.action] < STRICTNESS["limit"] and author is not None and author.silenced_at is not None:
            result = replace(result, action="limit", reason="the account is limited by a moderator",
                             review=result.case_call())
        action = {"block": "remove", "allow": "restore", "review": "restore"}.get(result.action, result.action)
        reason = result.reason or "no rule or threshold of the policy was reached"
        decision = decisions.enforce(
            session, self.settings, compiled, action=action, status_id=status.id, label=result.label,
            explanation=f"Automated check once the detector was available again: {reason}.", source="detector",
            kind="async", automated=True, rule=result.rule, scores=result.scores, dedupe_key=key,
            parent_id=held.id, notify=action != "hold")  # the author was told of the hold already
        call = {"label": result.label, "reason": result.reason} if result.action == "hold" else result.case_call()
        if call is not None:
            cases.open_or_join(session, self.settings, compiled, status_id=status.id, account_id=status.account_id,
                               source_type="detector", source_ref=f"decision:{decision.id}", label=call["label"],
                               scores=result.scores, detail={"reason": decisions.gate_facts(call["reason"])})

    def on_report_created(self, session: Session, event: Event) -> None:
        report = session.get(Report, event.payload.get("report_id") or event.subject_id or 0)
        if report is None:
            return
        compiled = self.store.active(session)
        weight = cases.reporter_weight(session, report.account_id)
        reported_label = {"violation": None, "legal": None, "spam": "other"}.get(report.category)
        detail = {"reporter_id": report.account_id, "category": report.category, "comment": report.comment[:500],
                  "rule_ids": list(report.rule_ids or [])}
        targets = list(report.status_ids or []) or [None]
        first = None
        for status_id in targets:
            scores = None
            label = reported_label
            if status_id is not None and self.detector is not None:
                status = session.get(Status, status_id)
                if status is not None:
                    scores = dict(self.detector.score(draft_text(status.text, status.spoiler_text)).scores)
                    label = label or _top_label(compiled.policy.labels, scores,
                                                getattr(self.detector, "thresholds", None))
            case = cases.open_or_join(session, self.settings, compiled, status_id=status_id,
                                      account_id=report.target_account_id, source_type="user",
                                      source_ref=f"report:{report.id}" + (f":{status_id}" if status_id else ""),
                                      label=label, weight_factor=weight, detail=detail, scores=scores)
            first = first or case
        cases.report_state(session, report.id).case_id = first.id if first else None

    def on_notices_received(self, session: Session, event: Event) -> None:
        compiled = self.store.active(session)
        partner = session.get(Partner, event.payload.get("partner_id") or 0)
        if partner is None:
            return
        source = "trusted_flagger" if partner.trusted else "partner"
        weight = cases.partner_weight(session, partner.id)
        notices = session.scalars(select(Notice).where(Notice.id.in_(event.payload.get("notice_ids") or []),
                                                       Notice.state == "received").order_by(Notice.id))
        now = utcnow()
        for notice in notices:
            status = session.get(Status, notice.status_id or 0)
            if status is None or status.deleted_at is not None:  # gone before anyone looked: nothing to do
                notice.state, notice.updated_at = advance("notice", notice.state, "dismiss"), now
                continue
            if status.state == "removed":  # already acted on: answer with the decision that removed it
                removal = session.scalar(select(ModerationDecision.id).where(
                    ModerationDecision.status_id == status.id, ModerationDecision.action == "remove",
                    ModerationDecision.shadow.is_(False)).order_by(ModerationDecision.created_at.desc()).limit(1))
                if removal is not None:
                    notice.state, notice.decision_id = advance("notice", notice.state, "action"), removal
                    notice.updated_at = now
                    continue
            label = compiled.policy.label_for_category(notice.category)
            case = cases.open_or_join(session, self.settings, compiled, status_id=status.id,
                                      account_id=status.account_id, source_type=source,
                                      source_ref=f"notice:{notice.id}", label=label, weight_factor=weight,
                                      detail={"partner": partner.name, "category": notice.category,
                                              "explanation": notice.explanation[:1000]})
            notice.case_id, notice.state, notice.updated_at = case.id, advance("notice", notice.state, "review"), now

    def on_policy_activated(self, session: Session, event: Event) -> None:
        """Re-score recently published posts under the new policy; what it would block or hold becomes a case."""
        self.store.invalidate()  # the activation committed just now: do not trust the cached version
        compiled = self.store.active(session)
        if compiled.version != event.payload.get("version") or event.payload.get("mode") != "active" \
                or self.detector is None:
            return  # superseded by a later activation, or shadow mode (nothing to act on)
        since = event.payload.get("rescore_since_id") or 0
        rows = session.scalars(select(Status).where(Status.id > since, Status.state == "published",
                                                    Status.deleted_at.is_(None), Status.reblog_of_id.is_(None))
                               .order_by(Status.id.desc()).limit(int(event.payload.get("limit") or 1000)))
        for status in rows:
            text = draft_text(status.text, status.spoiler_text)
            result = evaluate(compiled, text, self.detector.score(text), self.detector.thresholds)
            if result.action in ("block", "hold"):
                cases.open_or_join(session, self.settings, compiled, status_id=status.id,
                                   account_id=status.account_id, source_type="detector",
                                   source_ref=f"rescore:{compiled.version}:{status.id}", label=result.label,
                                   scores=result.scores, detail={"reason": result.reason, "policy": compiled.version})


def _age_seconds(when: datetime) -> float:
    """Seconds since ``when`` (stored naive on SQLite: UTC)."""
    return (datetime.now(UTC) - (when if when.tzinfo else when.replace(tzinfo=UTC))).total_seconds()


def _top_label(labels: dict[str, Any], scores: dict[str, float],
               thresholds: dict[str, dict[str, float]] | None) -> str | None:
    """The highest-scoring policy label whose score reaches the detector's review threshold for it.

    Content the detector finds unremarkable gets no label from it (the case keeps the report's own
    category), so a report on an ordinary post does not become a high-severity violence case.
    """
    reached = {k: v for k, v in scores.items()
               if k in labels and v >= (thresholds or {}).get(k, {}).get("review", 0.5)}
    return max(reached, key=reached.__getitem__) if reached else None


class ModerationWorker:
    """A background thread polling the outbox: again at once while a poll fills a whole batch, otherwise
    every `idle` seconds. Polling again after every post that trickles in cost more CPU than handling
    the posts (each poll is about eight queries), and took it from the server's request handling."""

    NAME = "moderation"

    def __init__(self, db: Database, settings: Settings, store: PolicyStore, detector: DetectorLike | None, *,
                 idle: float = 0.05, standby: float = 1.0) -> None:
        self.consumer = Consumer(self.NAME, db, OutboxSource(db), ModerationHandlers(settings, store, detector))
        self.idle, self.standby = idle, standby
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="warden-moderation-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        # Several server processes on one database (`warden serve --workers N`): one of them consumes
        # the outbox at a time, and another takes over within a second of it dying. Two consumers would
        # each handle every event, the second only to find it done (processed_events) after the work;
        # a poll that was not a whole batch has caught up, so events may gather (a poll is ~8 queries).
        lead(LeaderLock(self.consumer.db, "worker"), self._stop,
             lambda: self.consumer.poll() >= self.consumer.batch, idle=self.idle, standby=self.standby)
