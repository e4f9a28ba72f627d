"""Tables of the moderation engine (issue 5): policies, decisions, cases, notices, appeals, audit.

They share `Base` with the platform tables; migration 0002 creates them. Lifecycle columns
(`state`) hold the current state of an explicit state machine (see warden/cases/lifecycle.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from warden.store.models import Base, BigID, utcnow


class PolicyVersion(Base):
    """A policy file as it was checked in: the YAML text is kept verbatim, with its digest."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    #: draft | shadow (decides and records, never acts) | active | retired
    state: Mapped[str] = mapped_column(String(10), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(100))


class ModerationDecision(Base):
    """One moderation decision: what was decided, on what, by whom or what, and why.

    `statement` is the statement of reasons (DSA Art. 17 / transparency database fields) sent to
    the author and notifiers. `dedupe_key` makes a decision taken from an outbox event unique per
    (event, kind), so redelivery cannot record it twice.
    """

    __tablename__ = "moderation_decisions"
    __table_args__ = (
        Index("ix_moderation_decisions_status_id", "status_id"),
        Index("ix_moderation_decisions_account_id", "account_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: gate | async | case | appeal | account | backtest
    kind: Mapped[str] = mapped_column(String(16))
    #: allow | block | hold | limit | label | remove | restore | strike | suspend | unsuspend | silence |
    #: no_violation | warn | sensitive
    action: Mapped[str] = mapped_column(String(16))
    status_id: Mapped[int | None] = mapped_column(BigID)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    label: Mapped[str | None] = mapped_column(String(50))
    policy_version: Mapped[str | None] = mapped_column(String(100))
    rule: Mapped[str | None] = mapped_column(String(100))
    scores: Mapped[dict[str, Any] | None]
    #: Who decided: None for an automated decision.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Recorded only (shadow policy or backtest): nothing was enforced.
    shadow: Mapped[bool] = mapped_column(Boolean, default=False)
    case_id: Mapped[int | None] = mapped_column(BigID)
    #: The decision this one reverses or answers (appeal outcomes, restores).
    parent_id: Mapped[str | None] = mapped_column(String(40))
    explanation: Mapped[str] = mapped_column(Text, default="")
    statement: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The content as it was decided on (kept after removal; the only copy for a blocked post).
    evidence: Mapped[dict[str, Any] | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Strike(Base):
    __tablename__ = "account_strikes"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[str] = mapped_column(String(40))
    label: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ModerationCase(Base):
    """Everything reported or flagged about one piece of content (or one account), to be decided once."""

    __tablename__ = "moderation_cases"
    __table_args__ = (Index("ix_moderation_cases_state_priority", "state", "priority"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    #: "status:<id>" or "account:<id>" while the case is undecided; NULL afterwards, so a new case can open.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status_id: Mapped[int | None] = mapped_column(BigID)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: open | claimed | escalated | decided
    state: Mapped[str] = mapped_column(String(12), default="open")
    #: standard | senior (after escalation only a senior moderator may claim or decide it)
    tier: Mapped[str] = mapped_column(String(10), default="standard")
    label: Mapped[str | None] = mapped_column(String(50))
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    due_at: Mapped[datetime]
    sources: Mapped[list[Any]] = mapped_column(default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    claimed_until: Mapped[datetime | None]
    escalation_note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decision_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    #: The queue by report type (policy `queues`; "general" otherwise) and the least role that sees it.
    queue: Mapped[str] = mapped_column(String(40), default="general", server_default="general")
    queue_role: Mapped[str] = mapped_column(String(12), default="moderator", server_default="moderator")


class CaseSignal(Base):
    """One reason a case exists: a user report, a partner notice or a detector flag."""

    __tablename__ = "case_signals"
    __table_args__ = (Index("ix_case_signals_case_id", "case_id"),
                      UniqueConstraint("source_type", "source_ref", name="uq_case_signals_source"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_cases.id", ondelete="CASCADE"))
    #: user | trusted_flagger | partner | detector
    source_type: Mapped[str] = mapped_column(String(20))
    #: "report:<id>", "notice:<id>", "decision:<id>": one signal per source object.
    source_ref: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(50))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Partner(Base):
    """An organisation that sends notices (a trusted flagger when `trusted`)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Notice(Base):
    """A partner's notice about one URL (DSA Art. 16)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_partner_id", "partner_id", "id"), Index("ix_notices_state", "state"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    status_id: Mapped[int | None] = mapped_column(BigID)
    category: Mapped[str] = mapped_column(String(50))
    explanation: Mapped[str] = mapped_column(Text, default="")
    #: received | in_review | actioned | no_action
    state: Mapped[str] = mapped_column(String(12), default="received")
    case_id: Mapped[int | None] = mapped_column(BigID)
    decision_id: Mapped[str | None] = mapped_column(String(40))
    #: About a post the partner cannot see (private, direct, held): recorded for moderators, but the
    #: partner was answered as for a post that does not exist and never sees it (migration 0003).
    concealed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportState(Base):
    """Moderation bookkeeping for a user report (Mastodon's admin report fields)."""

    __tablename__ = "report_states"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(BigID)
    assigned_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    action_taken_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    #: None while open; actioned | no_action once resolved
    outcome: Mapped[str | None] = mapped_column(String(12))
    decision_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("moderation_decisions.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    #: open | upheld | overturned
    state: Mapped[str] = mapped_column(String(12), default="open")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    outcome_decision_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class AuditEntry(Base):
    """The append-only, hash-chained audit log. `entry` is canonical JSON; `hash` = sha256(prev_hash + entry)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigID)
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))
    entry: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the chain's last sequence number and hash, locked by each append (serialises writers)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigID, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class ConsumerPosition(Base):
    """How far an outbox consumer has read: every event with id <= position is handled."""

    __tablename__ = "outbox_consumers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigID, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedEvent(Base):
    """An event a consumer has handled; the primary key makes handling idempotent under redelivery."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    #: done | failed (gave up after repeated errors: a dead letter, logged and audited)
    outcome: Mapped[str] = mapped_column(String(8), default="done")
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleSession(Base):
    """A console login (or an anonymous visitor's login form), kept on the server so it can be ended.

    The browser's cookie holds only a random id; this row is found by the id's SHA-256, so a copy of
    the table cannot be replayed as cookies. `data` is what the console keeps per visit (CSRF token,
    flash message). A staff login records the role it logged in with: a session whose account has
    another role, or has been suspended, is refused (migration 0003).
    """

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
