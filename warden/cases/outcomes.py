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
    # The account itself is kept (the session's identity map holds only what is referenced): every
    # decision of a bulk decision notifies from it, without loading it again.
    cached = session.info.get(("warden_moderation_account", name))
    if cached is not None and cached in session:
        return cached
    for username in dict.fromkeys([name, FALLBACK_USERNAME]):
        key = username.lower()
        found = session.scalar(select(Account).where(Account.username_key == key))
        if found is None:
            found = _create(session, username, settings)
        if found is not None and _is_system(found):
            session.info[("warden_moderation_account", name)] = found
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
    in the caller's transaction (so it commits with the decision). None when there is nobody to tell.

    Inside `combined_messages` the report is only noted, and told with the others of its reporter
    when that transaction ends (`tell_combined`)."""
    if state.outcome is None:
        return None
    if _COMBINED in session.info:
        session.info[_COMBINED].append((report.id, decision.id if decision is not None else None))
        return None
    reporter = session.get(Account, report.account_id)
    if reporter is None:
        return None
    sender = moderation_account(session, settings)
    if sender.id == reporter.id:
        return None
    text = message(session, settings, report, reporter, state, decision)
    result = statuses.create(session, settings, sender, text=text, visibility="direct")
    return result.status


# --- one message per reporter for many decisions (a bulk decision) --------------------------------

#: session.info key: the (report id, decision id) pairs decided in this transaction, not yet told.
_COMBINED = "warden_reporter_outcomes"


def combine_messages(session: Session) -> None:
    """From now on in this transaction, `tell_reporter` notes the reports; `tell_combined` (before the
    commit) then sends each reporter ONE message for all of theirs. A bulk decision uses it: a raid's
    reporter who reported 25 posts reads one message, not 25. The notes live in `session.info`, which a
    bulk decision restores when it rolls a case back to its savepoint, so a refused case is not told."""
    session.info.setdefault(_COMBINED, [])


def tell_combined(session: Session, settings: Settings) -> list[Status]:
    """Send the noted outcomes, one message per reporter (more only when they do not fit in one post),
    in the caller's transaction; the noting stops. A reporter told of a single report reads the same
    message as for a single decision."""
    noted = session.info.pop(_COMBINED, [])
    if not noted:
        return []
    decision_of = dict(noted)
    reports = _load(session, Report, list(decision_of))
    found_states = _load(session, ReportState, list(decision_of))
    decisions = _load(session, ModerationDecision, [d for d in decision_of.values() if d is not None])
    per_reporter: dict[int, list[Report]] = {}
    for report_id in decision_of:
        report = reports.get(report_id)
        if report is not None and report_id in found_states:
            per_reporter.setdefault(report.account_id, []).append(report)
    reporters = _load(session, Account, list(per_reporter))
    sender = moderation_account(session, settings)
    sent: list[Status] = []
    for reporter_id, theirs in per_reporter.items():
        reporter = reporters.get(reporter_id)
        if reporter is None or reporter.id == sender.id:
            continue
        told = [(r, found_states[r.id], decisions.get(decision_of[r.id] or "")) for r in theirs]
        if len(told) == 1:
            texts = [message(session, settings, told[0][0], reporter, told[0][1], told[0][2])]
        else:
            texts = combined_texts(settings, reporter, told)
        for text in texts:
            result = statuses.create(session, settings, sender, text=text, visibility="direct")
            if result.status is not None:
                sent.append(result.status)
    return sent


def _load(session: Session, model: Any, keys: list[Any]) -> dict[Any, Any]:
    """Rows by primary key, many at a time (what the session holds already costs no query)."""
    key = model.__mapper__.primary_key[0]
    found: dict[Any, Any] = {}
    for start in range(0, len(keys), 500):
        found.update({getattr(row, key.key): row
                      for row in session.scalars(select(model).where(key.in_(keys[start:start + 500])))})
    return found


def combined_texts(settings: Settings, reporter: Account,
                   told: list[tuple[Report, ReportState, ModerationDecision | None]]) -> list[str]:
    """The message(s) telling `reporter` the outcomes of several reports: the reports grouped by
    outcome and rule, as numbers (each report's own page, GET /api/warden/v1/reports/{id}, names what
    it was about). Only what a reporter may know, as `message`. As many posts as the length limit needs."""
    groups: dict[tuple[str, str], list[int]] = {}
    for report, state, decision in sorted(told, key=lambda t: t[0].id):
        reason = public_reason(decision)
        rule = _inert(f"Rule: {reason}")[:200] if reason else ""
        groups.setdefault((outcome_text(state, decision) or CLOSED, rule), []).append(report.id)
    decided_on = max(state.updated_at for _, state, _ in told)

    def head(n: int) -> str:
        return f"@{reporter.username} " + ("Your report has" if n == 1 else f"Your {n} reports have") + " been reviewed."

    tail = (f"Decided on {decided_on:%Y-%m-%d}. Each report's outcome is also at "
            f"{settings.base_url}/api/warden/v1/reports/<number>. Thank you for helping keep this server safe.")
    limit = settings.max_status_chars
    texts: list[str] = []
    blocks: list[str] = []
    count = 0

    def size(extra: list[str], n: int) -> int:
        return len("\n\n".join([head(n), *extra, tail]))

    def close() -> None:
        nonlocal blocks, count
        if blocks:
            texts.append("\n\n".join([head(count), *blocks, tail]))
        blocks, count = [], 0

    for (outcome, rule), ids in groups.items():
        pending = list(ids)
        while pending:
            taken: list[int] = []
            for report_id in pending:
                block = _block(taken + [report_id], outcome, rule)
                if size(blocks + [block], count + len(taken) + 1) > limit and taken:
                    break
                taken.append(report_id)
            block = _block(taken, outcome, rule)
            if blocks and size(blocks + [block], count + len(taken)) > limit:
                close()
                continue
            blocks.append(block)
            count += len(taken)
            pending = pending[len(taken):]
            if pending:
                close()
    close()
    return [t if len(t) <= limit else t[:limit - 1] + "…" for t in texts]


def _block(ids: list[int], outcome: str, rule: str) -> str:
    numbers = ", ".join(f"#{i}" for i in ids)
    line = f"Report {numbers}: {outcome}" if len(ids) == 1 else f"Reports {numbers}: {outcome}"
    return f"{line}\n{rule}" if rule else line


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
