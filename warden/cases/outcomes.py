"""Everyone told the outcome, in the apps they already use.

* **Reporters** (mastodon#1685): when a report is decided (a case decision, or a moderator resolving
  it through Mastodon's admin API), the reporter gets a direct message from the server's moderation
  account, which every Mastodon client shows (a `mention` notification and the direct timeline), and
  can read the outcome at `GET /api/warden/v1/reports/{id}`. The message says only what the reporter
  may know: the report's own number and date, the post or account they reported (as its URL), what
  became of it as anyone can see it (removed, put behind a warning, suspended), or that no violation
  was found, and the public rule the decision relied on. Never the moderator's notes, strikes, the
  author's other decisions or anything from the evidence.
* **Authors** get Mastodon's `moderation_warning` notification; `account_warning()` gives it the shape
  of Mastodon's AccountWarning entity (action from Mastodon's enumeration, `target_account`, `appeal`),
  with the statement's summary and the signed appeal page in `text`, which stock clients show.

The moderation account (`Settings.moderation_account`, default ``moderation``) is a system account:
no password, no email (it cannot log in), a bot, locked, not discoverable.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warden.config import Settings
from warden.errors import NotFound
from warden.platform import statuses
from warden.platform.ids import parse_id
from warden.store.models import Account, Report, Status
from warden.store.moderation_models import Appeal, ModerationDecision, ReportState

log = logging.getLogger("warden.outcomes")

#: The account moderation notices came from before it could be configured; reserved since the start,
#: so it is the fallback when the configured name belongs to someone else.
FALLBACK_USERNAME = "warden"

#: Warden's actions as Mastodon's AccountWarning `action` enumeration
#: (none | disable | mark_statuses_as_sensitive | delete_statuses | sensitive | silence | suspend).
MASTODON_ACTION = {
    "block": "delete_statuses", "remove": "delete_statuses", "label": "mark_statuses_as_sensitive",
    "sensitive": "sensitive", "silence": "silence", "suspend": "suspend",
}
#: Appeal states as Mastodon's Appeal entity `state` (approved | rejected | pending).
APPEAL_STATE = {"open": "pending", "overturned": "approved", "upheld": "rejected"}

#: What the author is told happened, one line (the start of AccountWarning.text).
AUTHOR_SUMMARY = {
    "block": "Your post was not published because it breaks this server's rules.",
    "remove": "Your post was removed because it breaks this server's rules.",
    "hold": "Your post is hidden from others until a moderator has reviewed it.",
    "limit": "Your post was kept out of public timelines.",
    "label": "Your post was put behind a content warning.",
    "strike": "Your account received a strike.",
    "warn": "Your account received a warning.",
    "sensitive": "Your posts will be marked sensitive.",
    "silence": "Your account was limited: its posts are kept out of public timelines.",
    "suspend": "Your account was suspended.",
    "unsuspend": "The suspension of your account was lifted.",
    "unsilence": "The limit on your account was lifted.",
    "restore": "Your post was restored.",
    "uphold": "Your appeal was reviewed and the decision stands.",
}

#: What a reporter is told became of what they reported: only effects anyone can see.
REPORTER_OUTCOME = {
    "remove": "The post was removed for breaking this server's rules.",
    "block": "The post was removed for breaking this server's rules.",
    "hold": "The post was hidden for breaking this server's rules.",
    "label": "The post was put behind a content warning.",
    "limit": "The post was kept out of public timelines.",
    "suspend": "The account was suspended for breaking this server's rules.",
    "silence": "The account was limited: its posts are kept out of public timelines.",
    "sensitive": "The account's posts will be marked sensitive.",
}
ACTION_TAKEN = "We took action under this server's rules."
NO_VIOLATION = "We reviewed it and found no violation of this server's rules, so no action was taken."
CLOSED = "The report was closed without action."


# --- the moderation account ----------------------------------------------------------------------


def _is_system(account: Account) -> bool:
    return account.password_hash is None and account.email is None


def moderation_account(session: Session, settings: Settings | None = None) -> Account:
    """The server's moderation account (created on first use). If the configured name is an ordinary
    user's account, the reserved ``warden`` is used instead: a user never speaks for the moderators."""
    name = (settings.moderation_account if settings is not None else "") or FALLBACK_USERNAME
    cached = session.info.get(("warden_moderation_account", name))
    if cached is not None:
        account = session.get(Account, cached)
        if account is not None:
            return account
    for username in dict.fromkeys([name, FALLBACK_USERNAME]):
        key = username.lower()
        found = session.scalar(select(Account).where(Account.username_key == key))
        if found is None:
            found = _create(session, username, settings)
        if found is not None and _is_system(found):
            session.info[("warden_moderation_account", name)] = found.id
            return found
        log.warning("the moderation account name %r belongs to a user; using %r", username, FALLBACK_USERNAME)
    raise RuntimeError("no system account for moderation notices (the reserved name 'warden' is taken by a user)")


def _create(session: Session, username: str, settings: Settings | None) -> Account | None:
    title = settings.instance_title if settings is not None else "Warden"
    try:
        with session.begin_nested():
            account = Account(username=username, username_key=username.lower(), email=None, password_hash=None,
                              role="user", display_name=f"{title} moderation", bot=True, locked=True,
                              discoverable=False,
                              note="Moderation notices from this server's trust & safety team. "
                                   "This account does not read replies.")
            session.add(account)
            session.flush()
            return account
    except IntegrityError:  # created concurrently
        return session.scalar(select(Account).where(Account.username_key == username.lower()))


# --- reporters ------------------------------------------------------------------------------------


def _inert(text: str) -> str:
    """Policy text quoted in a message, so that it can neither mention anyone nor tag anything."""
    return text.replace("@", "@\u200b").replace("#", "#\u200b")


def public_reason(decision: ModerationDecision | None) -> str | None:
    """The rule a decision relied on, as the policy states it publicly (no facts of the case)."""
    if decision is None or decision.action == "no_violation":
        return None
    statement = decision.statement or {}
    return statement.get("incompatible_content_ground") or statement.get("illegal_content_legal_ground") or None


def outcome_text(state: ReportState | None, decision: ModerationDecision | None) -> str | None:
    if state is None or state.outcome is None:
        return None
    if state.outcome != "actioned":
        return NO_VIOLATION if decision is not None else CLOSED
    return REPORTER_OUTCOME.get(decision.action if decision is not None else "", ACTION_TAKEN)


def _subject_url(session: Session, settings: Settings, report: Report) -> str | None:
    """The post or account the reporter reported, as a URL (it mentions no one)."""
    for status_id in report.status_ids or []:
        status = session.get(Status, status_id)
        author = session.get(Account, status.account_id) if status is not None else None
        if author is not None:
            return statuses.status_url(settings, author.username, status_id)
    target = session.get(Account, report.target_account_id)
    return statuses.account_url(settings, target.username) if target is not None else None


def message(session: Session, settings: Settings, report: Report, reporter: Account, state: ReportState,
            decision: ModerationDecision | None) -> str:
    """The direct message telling `reporter` the outcome of `report` (plain text; rendered escaped)."""
    about = _subject_url(session, settings, report)
    lines = [f"@{reporter.username} Your report #{report.id} of {report.created_at:%Y-%m-%d}"
             + (f" about {about}" if about else "") + " has been reviewed."]
    lines.append(f"Outcome: {outcome_text(state, decision)}")
    reason = public_reason(decision)
    if reason:
        lines.append(_inert(f"Rule: {reason}")[:200])
    lines.append(f"Decided on {state.updated_at:%Y-%m-%d}. Thank you for helping keep this server safe.")
    text = "\n\n".join(lines)
    return text if len(text) <= settings.max_status_chars else text[:settings.max_status_chars - 1] + "…"


def tell_reporter(session: Session, settings: Settings, report: Report, state: ReportState,
                  decision: ModerationDecision | None) -> Status | None:
    """Send the reporter the outcome of their report as a direct message from the moderation account,
    in the caller's transaction (so it commits with the decision). None when there is nobody to tell."""
    reporter = session.get(Account, report.account_id)
    if reporter is None or state.outcome is None:
        return None
    sender = moderation_account(session, settings)
    if sender.id == reporter.id:
        return None
    text = message(session, settings, report, reporter, state, decision)
    result = statuses.create(session, settings, sender, text=text, visibility="direct")
    return result.status


def report_json(session: Session, settings: Settings, report_id: int | str, viewer_id: int) -> dict[str, Any]:
    """A report as its reporter may read it (GET /api/warden/v1/reports/{id}); anyone else: 404."""
    report = session.get(Report, parse_id(report_id))
    if report is None or report.account_id != viewer_id:
        raise NotFound("No such report")
    state = session.get(ReportState, report.id)
    decision = session.get(ModerationDecision, state.decision_id) if state is not None and state.decision_id else None
    resolved = report.action_taken_at is not None
    return {
        "id": str(report.id), "status": "resolved" if resolved else "open",
        "outcome": state.outcome if state is not None and resolved else None,
        "outcome_text": outcome_text(state, decision) if resolved else None,
        "reason": public_reason(decision) if resolved else None,
        "category": report.category,
        "status_ids": [str(i) for i in report.status_ids or []],
        "target_account_id": str(report.target_account_id),
        "created_at": report.created_at.isoformat(),
        "resolved_at": report.action_taken_at.isoformat() if report.action_taken_at else None,
        "updated_at": (state.updated_at if state is not None else report.created_at).isoformat(),
    }


# --- authors --------------------------------------------------------------------------------------


def warning_text(data: dict[str, Any], link: str | None) -> str:
    """AccountWarning.text: what happened, the rule, the facts, and where to read the statement and appeal."""
    action = str(data.get("warden_action") or data.get("action") or "")
    statement = data.get("statement_of_reasons") or {}
    parts = [AUTHOR_SUMMARY.get(action, f"Moderation decision: {action}.")]
    ground = statement.get("incompatible_content_ground") or statement.get("illegal_content_legal_ground")
    if ground:
        parts.append(f"Rule: {ground}.")
    facts = data.get("explanation") or data.get("text") or ""
    if facts and not str(facts).startswith(parts[0]):
        parts.append(str(facts))
    if link:
        parts.append(f"Statement of reasons and appeal: {link}")
    return " ".join(parts)


def appeal_page(settings: Settings, appeal_link: str | None) -> str | None:
    """The signed appeal page (HTML) for the JSON appeal link of the same token."""
    from warden.cases.appeal_links import PATH

    if not appeal_link or PATH not in appeal_link:
        return None
    return f"{settings.base_url}/appeal/{appeal_link.rsplit('/', 1)[-1]}"


def account_warning(data: dict[str, Any], *, target_account: dict[str, Any], appeal: Appeal | None) -> dict[str, Any]:
    """A `moderation_warning` notification's data as Mastodon's AccountWarning (plus Warden's fields)."""
    action = str(data.get("warden_action") or data.get("action") or "")
    out = dict(data)
    out.update({
        "id": str(data.get("id")), "action": MASTODON_ACTION.get(action, "none"), "warden_action": action,
        "text": data.get("text") or "", "status_ids": list(data.get("status_ids") or []),
        "target_account": target_account, "created_at": data.get("created_at"),
        "appeal": {"text": appeal.text, "state": APPEAL_STATE.get(appeal.state, "pending")}
        if appeal is not None else None,
    })
    return out


def appeals_of(session: Session, decision_ids: list[str]) -> dict[str, Appeal]:
    if not decision_ids:
        return {}
    return {a.decision_id: a for a in session.scalars(select(Appeal).where(Appeal.decision_id.in_(decision_ids)))}
