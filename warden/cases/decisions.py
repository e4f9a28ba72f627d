"""Decisions and enforcement: remove, restore, hold, limit, label, strike, suspend, unsuspend.

`enforce()` applies an action's effect, records the decision with its statement of reasons, tells
the author (a `moderation_warning` notification) and appends an audit entry, all in the caller's
transaction: the effect and its record commit together, before anything is acknowledged.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from warden.cases import audit, outcomes, statement
from warden.cases.authority import check_actor
from warden.config import Settings
from warden.errors import NotFound, ValidationFailed
from warden.platform import notifications
from warden.platform import console_sessions
from warden.platform.auth import login_changed
from warden.store.outbox import emit
from warden.policy.engine import CompiledPolicy, Evaluation
from warden.policy.gate import Draft
from warden.store.models import Account, Status, utcnow
from warden.store.moderation_models import ModerationDecision, Strike

CONTENT_ACTIONS = ("remove", "restore", "hold", "limit", "label", "unlimit", "unlabel")
ACCOUNT_ACTIONS = ("strike", "suspend", "unsuspend", "silence", "unsilence", "warn", "sensitive")
RECORD_ONLY = ("no_violation", "uphold", "allow", "review", "block")
ACTIONS = CONTENT_ACTIONS + ACCOUNT_ACTIONS + RECORD_ONLY


def new_id() -> str:
    """Time-ordered, unguessable: dec_<ms since epoch, hex><random>."""
    return f"dec_{int(utcnow().timestamp() * 1000):011x}{secrets.token_hex(5)}"  # utcnow: the demo's clock too


def decision_url(settings: Settings, decision_id: str) -> str:
    return f"{settings.base_url}/api/warden/v1/decisions/{decision_id}"


def _refresh_public(status: Status) -> None:
    status.local_public = (status.state == "published" and status.visibility == "public" and not status.limited
                           and status.reblog_of_id is None and status.deleted_at is None)


def evidence_of(session: Session, status: Status | None, *, scores: dict[str, Any] | None = None,
                text: str | None = None) -> dict[str, Any]:
    """What the decision was about, as it was: kept even after the content is removed."""
    if status is None:
        return {"text": text, "scores": scores or {}}
    parent_text = None
    if status.in_reply_to_id is not None:
        parent = session.get(Status, status.in_reply_to_id)
        parent_text = parent.text if parent is not None else None
    return {"status_id": status.id, "text": status.text, "spoiler_text": status.spoiler_text,
            "visibility": status.visibility, "created_at": status.created_at.isoformat(), "state": status.state,
            "in_reply_to_text": parent_text, "reblogs_count": status.reblogs_count,
            "replies_count": status.replies_count, "scores": scores or {}}


def _record(session: Session, settings: Settings, compiled: CompiledPolicy | None, *, kind: str, action: str,
            status: Status | None, account_id: int | None, label: str | None, explanation: str, source: str,
            actor_id: int | None, automated_detection: bool, automated_decision: str, rule: str | None = None,
            scores: dict[str, Any] | None = None, case_id: int | None = None, parent_id: str | None = None,
            shadow: bool = False, dedupe_key: str | None = None, evidence: dict[str, Any] | None = None,
            content_date: Any = None, content_types: list[str] | None = None) -> ModerationDecision:
    decision_id = new_id()
    now = utcnow()
    label_policy = compiled.policy.labels.get(label) if compiled is not None and label else None
    sor = statement.build(
        decision_id=decision_id, action=action, label_policy=label_policy, facts=explanation,
        source=source, automated_detection=automated_detection, automated_decision=automated_decision,
        content_date=content_date or (status.created_at if status is not None else now), application_date=now,
        territorial_scope=settings.dsa_territorial_scope, content_types=content_types,
    )
    decision = ModerationDecision(
        id=decision_id, kind=kind, action=action, status_id=status.id if status is not None else None,
        account_id=account_id, label=label, policy_version=compiled.version if compiled else None, rule=rule,
        scores=scores or None, actor_id=actor_id, automated=automated_decision == "fully", shadow=shadow,
        case_id=case_id, parent_id=parent_id, explanation=explanation, statement=sor, evidence=evidence,
        dedupe_key=dedupe_key, created_at=now,
    )
    session.add(decision)
    session.flush()
    audit.append(session, action=f"decision.{action}" if not shadow else f"shadow.{action}",
                 subject=f"decision:{decision_id}", actor_id=actor_id,
                 data={"kind": kind, "status_id": decision.status_id, "account_id": account_id, "label": label,
                       "policy_version": decision.policy_version, "rule": rule, "case_id": case_id,
                       "parent_id": parent_id, "automated": decision.automated})
    return decision


def system_account_id(session: Session, settings: Settings | None = None) -> int:
    """The account moderation notifications and messages come from (outcomes.moderation_account:
    created on first use, it cannot log in)."""
    return outcomes.moderation_account(session, settings).id


def notify_author(session: Session, settings: Settings, decision: ModerationDecision) -> None:
    """The author's `moderation_warning` notification: Mastodon's AccountWarning (the serializer adds
    `target_account` and `appeal`), whose `text` carries the statement's summary and the signed appeal page."""
    if decision.account_id is None or decision.shadow:
        return
    link = appeal_link(settings, decision)
    page = outcomes.appeal_page(settings, link)
    data = {"id": decision.id, "action": decision.action, "warden_action": decision.action,
            "explanation": decision.explanation,
            "status_ids": [str(decision.status_id)] if decision.status_id else [],
            "created_at": decision.created_at.isoformat(), "url": decision_url(settings, decision.id),
            "appeal_url": f"{settings.base_url}/api/warden/v1/appeals",
            "appeal_link": link, "appeal_page": page,
            "statement_of_reasons": decision.statement}
    data["text"] = outcomes.warning_text(data, page)
    notifications.notify(session, account_id=decision.account_id,
                         from_account_id=system_account_id(session, settings), type="moderation_warning",
                         status_id=None, data=data)


# --- the write-path gate -------------------------------------------------------------------------


def gate_facts(reason: str) -> str:
    """The facts of a decision the write-path gate took (or of a review it called for) on ``reason``."""
    return f"Automated check before publication: {reason}."


def record_gate(session: Session, settings: Settings, compiled: CompiledPolicy, draft: Draft, result: Evaluation,
                *, shadow: bool = False, content_type: str = "CONTENT_TYPE_TEXT",
                images: list[dict[str, Any]] | None = None,
                copy_of: dict[str, Any] | None = None) -> ModerationDecision:
    """The gate's verdict on a draft (the status does not exist yet; the worker links it afterwards).
    `content_type`: CONTENT_TYPE_IMAGE when an image drove it; `images`: what the gate saw of them;
    `copy_of`: the removed post the draft copies (warden/cases/copies.py)."""
    status = session.get(Status, draft.status_id) if draft.status_id else None
    facts = gate_facts(result.reason)
    decision = _record(
        session, settings, compiled, kind="gate", action=result.action, status=status, account_id=draft.account_id,
        label=result.label, explanation=facts, source="detector", actor_id=None,
        automated_detection=True, automated_decision="fully" if result.action != "review" else "partially",
        rule=result.rule, scores=result.scores, shadow=shadow,
        evidence={"text": draft.text, "spoiler_text": draft.spoiler_text, "visibility": draft.visibility,
                  "in_reply_to_id": draft.in_reply_to_id, "scores": result.scores, "spans": result.spans,
                  "model": result.model, **({"review": result.review} if result.review else {}),
                  **({"images": images} if images else {}), **({"copy_of": copy_of} if copy_of else {})},
        content_types=[content_type],
    )
    if not shadow and result.action in ("block", "hold", "limit", "label"):
        notify_author(session, settings, decision)
        if result.action == "block" and "block" in compiled.policy.strikes.on_actions:
            add_strike(session, settings, compiled, decision)
    return decision


# --- enforcement --------------------------------------------------------------------------------


def enforce(session: Session, settings: Settings, compiled: CompiledPolicy, *, action: str,
            status_id: int | None = None, account_id: int | None = None, actor_id: int | None = None,
            label: str | None = None, explanation: str = "", source: str = "moderator", kind: str = "case",
            case_id: int | None = None, parent_id: str | None = None, automated: bool = False,
            automated_detection: bool = False, dedupe_key: str | None = None, rule: str | None = None,
            scores: dict[str, Any] | None = None, notify: bool = True) -> ModerationDecision:
    """Apply `action` to a status (content actions) or an account, and record it."""
    if action not in ACTIONS:
        raise ValidationFailed(f"Unknown moderation action {action!r}: use one of {', '.join(ACTIONS)}")
    status: Status | None = None
    if status_id is not None:
        status = session.get(Status, status_id)
        if status is None:
            raise NotFound("That status does not exist")
        account_id = status.account_id
    if account_id is None:
        raise ValidationFailed("A moderation decision needs a status or an account")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("That account does not exist")
    if action in CONTENT_ACTIONS and status is None:
        raise ValidationFailed(f"{action} needs a status")
    if actor_id is not None:
        check_actor(session, actor_id, account)
    evidence = evidence_of(session, status, scores=scores) if status is not None else None
    _apply(session, compiled, action, status, account, label)
    _announce(session, action, status, account)
    if not explanation:
        explanation = _default_facts(action, label)
    decision = _record(
        session, settings, compiled, kind=kind, action=action, status=status, account_id=account.id, label=label,
        explanation=explanation, source=source, actor_id=actor_id,
        automated_detection=automated_detection or automated, automated_decision="fully" if automated else "not",
        rule=rule, scores=scores, case_id=case_id, parent_id=parent_id, dedupe_key=dedupe_key, evidence=evidence,
        content_types=_content_types(status) if status is not None else None,
    )
    if status is not None and action in ("remove", "restore"):
        # a removed post's images go on the block list and its text in the copies index; a restored one's leave them
        from warden.cases import copies, hashlist

        if action == "remove":
            hashlist.add_status_images(session, decision_id=decision.id, status_id=status.id, label=label)
            copies.add_status(session, decision, status)
        else:
            reason = f"the post was restored (decision {decision.id})"
            hashlist.withdraw_status_images(session, status_id=status.id, decision_id=decision.id, reason=reason)
            copies.withdraw_status(session, status_id=status.id, decision_id=decision.id, reason=reason)
    if notify and action not in ("no_violation", "review", "allow", "unlimit", "unlabel"):
        notify_author(session, settings, decision)
    if action == "strike" or action in compiled.policy.strikes.on_actions:
        add_strike(session, settings, compiled, decision)
    return decision


def _content_types(status: Status) -> list[str]:
    """What a decision about a post was about: its text, its images, or both (DSA content types)."""
    kinds = ["CONTENT_TYPE_TEXT"] if (status.text or "").strip() or not status.media_list else []
    return kinds + (["CONTENT_TYPE_IMAGE"] if status.media_list else [])


def _apply(session: Session, compiled: CompiledPolicy, action: str, status: Status | None, account: Account,
           label: str | None) -> None:
    now = utcnow()
    if status is not None:
        if action == "remove":
            status.state = "removed"
        elif action == "restore":
            status.state = "published"
            status.limited = False
            status.moderation_label = None
        elif action == "hold":
            status.state = "held"
        elif action == "limit":
            status.limited = True
        elif action == "unlimit":
            status.limited = False
        elif action == "label":
            label_policy = compiled.policy.labels.get(label or "")
            status.moderation_label = (label_policy.content_warning if label_policy else "") or label or \
                "Sensitive content"
            status.sensitive = True
        elif action == "unlabel":
            status.moderation_label = None
        if action in ("limit", "label", "no_violation", "strike") and status.state == "held":
            status.state = "published"  # a held post is released once a moderator decides
        _refresh_public(status)
    if action == "suspend":
        account.suspended_at = account.suspended_at or now
        login_changed(session, account.id)
        console_sessions.end_for_account(session, account.id)
    elif action == "unsuspend":
        account.suspended_at = None
        login_changed(session, account.id)
    elif action == "silence":
        account.silenced_at = account.silenced_at or now
        session.execute(update(Status).where(Status.account_id == account.id).values(local_public=False))
    elif action == "unsilence":
        account.silenced_at = None


def _announce(session: Session, action: str, status: Status | None, account: Account) -> None:
    """Outbox events for the effects open streams must undo at once (warden/streaming sends `delete`
    to every stream that showed the post): a removed or held post, a suspended author."""
    if status is not None and action in ("remove", "hold"):
        emit(session, "status.removed" if action == "remove" else "status.held", status.id,
             {"status_id": status.id, "account_id": status.account_id})
    elif action == "suspend":
        emit(session, "account.suspended", account.id, {"account_id": account.id})


def _default_facts(action: str, label: str | None) -> str:
    what = f" ({label})" if label else ""
    return {
        "remove": f"The content was removed because it breaks this server's rules{what}.",
        "restore": "The content was restored.",
        "limit": f"The content was kept out of public timelines{what}.",
        "label": f"The content was put behind a content warning{what}.",
        "strike": f"A strike was added to the account{what}.",
        "suspend": "The account was suspended.",
        "unsuspend": "The account suspension was lifted.",
        "no_violation": "The content was reviewed and does not break this server's rules.",
    }.get(action, f"Moderation action: {action}{what}.")


def add_strike(session: Session, settings: Settings, compiled: CompiledPolicy,
               decision: ModerationDecision) -> Strike | None:
    """A strike against the decision's account; enough of them suspend it, as the policy says."""
    if decision.account_id is None:
        return None
    strike = Strike(account_id=decision.account_id, decision_id=decision.id, label=decision.label)
    session.add(strike)
    session.flush()
    audit.append(session, action="strike.added", subject=f"account:{decision.account_id}",
                 actor_id=decision.actor_id, data={"decision_id": decision.id})
    limit = compiled.policy.strikes.suspend_at
    if limit <= 0:
        return strike
    count = session.scalar(select(func.count()).select_from(Strike).where(
        Strike.account_id == decision.account_id, Strike.revoked_at.is_(None))) or 0
    account = session.get(Account, decision.account_id)
    if count >= limit and account is not None and account.suspended_at is None:
        enforce(session, settings, compiled, action="suspend", account_id=account.id, kind="account",
                source="moderator", parent_id=decision.id, automated=True,
                explanation=f"The account was suspended automatically after {count} strikes "
                            f"(the policy suspends at {limit}).")
    return strike


def get(session: Session, decision_id: str) -> ModerationDecision:
    decision = session.get(ModerationDecision, decision_id)
    if decision is None:
        raise NotFound("No such decision")
    return decision


def of_account(session: Session, account_id: int, *, limit: int = 40) -> list[ModerationDecision]:
    """The decisions about an account and its content, newest first (shadow records left out): what
    its owner may read, suspended or not."""
    return list(session.scalars(
        select(ModerationDecision).where(ModerationDecision.account_id == account_id,
                                         ModerationDecision.shadow.is_(False))
        .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc())
        .limit(min(max(limit, 1), 200))))


def appeal_link(settings: Settings, decision: ModerationDecision) -> str | None:
    """The decision's signed appeal link, for its author only (cases/appeal_links.py)."""
    from warden.cases.appeal_links import link_for  # it builds on appeals, which builds on this module

    return link_for(settings, decision)


def as_json(decision: ModerationDecision, *, appeal_link: str | None = None) -> dict[str, Any]:
    """The decision as the API shows it; `appeal_link` only where its author is the reader."""
    return {
        "id": decision.id, "kind": decision.kind, "action": decision.action,
        "status_id": str(decision.status_id) if decision.status_id else None,
        "account_id": str(decision.account_id) if decision.account_id else None,
        "label": decision.label, "policy_version": decision.policy_version, "rule": decision.rule,
        "automated": decision.automated, "shadow": decision.shadow, "explanation": decision.explanation,
        "created_at": decision.created_at.isoformat(), "parent_id": decision.parent_id,
        "statement_of_reasons": decision.statement, "appeal_link": appeal_link,
    }
