"""Read-side queries for the console pages (the moderation services own every write).

Each function takes a session and returns plain data for one page; nothing here changes a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from warden.cases.cases import SOURCE_RANK
from warden.cases.search import CaseSearch, conditions
from warden.cases.lifecycle import APPEAL_STATES, CASE_UNDECIDED
from warden.config import Settings
from warden.console import metrics
from warden.errors import NotFound
from warden.policy.engine import CompiledPolicy, draft_text
from warden.policy.model import QUEUE_ROLES
from warden.store.models import Account, Report, Status, utcnow
from warden.store.moderation_models import (
    Appeal,
    AuditEntry,
    CaseSignal,
    ModerationCase,
    ModerationDecision,
    Notice,
    Partner,
    PolicyVersion,
    Strike,
)

PAGE_SIZE = 50
SOURCES = tuple(sorted(SOURCE_RANK, key=lambda s: -SOURCE_RANK[s]))
QUEUE_STATES = ("undecided", *CASE_UNDECIDED)
#: Enforced actions that make an item count as violent content on the dashboard.
VIOLENT_ACTIONS = ("block", "hold", "remove", "limit", "label")
#: Labels whose text is blurred until the moderator reveals it, and the score that blurs any post.
BLUR_LABELS = ("violence",)
BLUR_SCORE = 0.5


# --- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    label: str | None = None
    source: str | None = None
    state: str = "undecided"
    page: int = 1
    queue: str | None = None
    account: str | None = None
    text: str | None = None
    partner: str | None = None

    @classmethod
    def parse(cls, params: dict[str, str], labels: list[str], queues: list[str] | None = None) -> "QueueFilters":
        found = CaseSearch.parse(params)
        try:
            page = max(1, min(int(params.get("page") or 1), 10_000))
        except ValueError:
            page = 1
        return cls(label=found.label if found.label in labels else None, source=found.source,
                   state=found.state if found.state in QUEUE_STATES else "undecided", page=page,
                   queue=found.queue if found.queue in (queues or []) else None, account=found.account,
                   text=found.text, partner=found.partner)

    @property
    def search(self) -> CaseSearch:
        return CaseSearch(state=self.state, label=self.label, source=self.source, queue=self.queue,
                          account=self.account, text=self.text, partner=self.partner)

    def query_string(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {"label": self.label, "source": self.source, "state": self.state, "queue": self.queue,
                  "account": self.account, "text": self.text, "partner": self.partner, "page": self.page, **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "", "undecided", 1)})


@dataclass(frozen=True)
class QueueRow:
    id: int
    state: str
    tier: str
    label: str | None
    queue: str
    sources: list[str]
    priority: float
    due_at: datetime
    created_at: datetime
    assignee: str | None
    author: str | None
    excerpt: str
    status_id: int | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


QUEUE_ORDER = (ModerationCase.priority.desc(), ModerationCase.due_at.asc(), ModerationCase.id.asc())


def queue(session: Session, filters: QueueFilters, roles: tuple[str, ...]) -> QueuePage:
    """Undecided cases by priority (then deadline), one page of them, with the filters and search applied,
    in the queues whose role is one of `roles` (the viewer's own and below)."""
    where = conditions(filters.search, roles)
    total = session.scalar(select(func.count()).select_from(ModerationCase).where(*where)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(filters.page, pages)
    # Two steps, as for home timelines: the page's ids from the (state, priority) index, sorted without
    # touching other tables; then only those rows, joined with their post and people.
    ids = list(session.scalars(select(ModerationCase.id).where(*where).order_by(*QUEUE_ORDER)
                               .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    author = Account.__table__.alias("author")
    assignee = Account.__table__.alias("assignee")
    rows = session.execute(
        select(ModerationCase.id, ModerationCase.state, ModerationCase.tier, ModerationCase.label, ModerationCase.queue,
               ModerationCase.sources, ModerationCase.priority, ModerationCase.due_at, ModerationCase.created_at,
               ModerationCase.status_id, assignee.c.username, author.c.username, func.substr(Status.text, 1, 160))
        .join(author, author.c.id == ModerationCase.account_id)
        .outerjoin(assignee, assignee.c.id == ModerationCase.assignee_id)
        .outerjoin(Status, Status.id == ModerationCase.status_id)
        .where(ModerationCase.id.in_(ids)).order_by(*QUEUE_ORDER)
    ).all() if ids else []
    return QueuePage(rows=[QueueRow(id=r[0], state=r[1], tier=r[2], label=r[3], queue=r[4], sources=list(r[5] or []),
                                    priority=r[6], due_at=r[7], created_at=r[8], status_id=r[9], assignee=r[10],
                                    author=r[11], excerpt=r[12] or "") for r in rows],
                     total=total, page=page, pages=pages)


def case_rows(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """Cases by id (in the given order) with their author's name and the post's first words."""
    if not ids:
        return []
    found = {row[0].id: row for row in session.execute(
        select(ModerationCase, Account.username, func.substr(Status.text, 1, 160))
        .join(Account, Account.id == ModerationCase.account_id)
        .outerjoin(Status, Status.id == ModerationCase.status_id).where(ModerationCase.id.in_(ids))).all()}
    return [{"case": found[i][0], "author": found[i][1], "excerpt": found[i][2] or ""} for i in ids if i in found]


def neighbours(session: Session, case: ModerationCase,
               roles: tuple[str, ...] = QUEUE_ROLES) -> tuple[int | None, int | None]:
    """(previous, next) undecided case ids around `case` in queue order, in the queues of `roles`."""
    p, d, i = case.priority, case.due_at, case.id
    after = or_(ModerationCase.priority < p, and_(ModerationCase.priority == p, ModerationCase.due_at > d),
                and_(ModerationCase.priority == p, ModerationCase.due_at == d, ModerationCase.id > i))
    before = or_(ModerationCase.priority > p, and_(ModerationCase.priority == p, ModerationCase.due_at < d),
                 and_(ModerationCase.priority == p, ModerationCase.due_at == d, ModerationCase.id < i))
    undecided = and_(ModerationCase.state.in_(CASE_UNDECIDED), ModerationCase.queue_role.in_(roles))
    nxt = session.scalar(select(ModerationCase.id).where(undecided, after).order_by(*QUEUE_ORDER).limit(1))
    prev = session.scalar(select(ModerationCase.id).where(undecided, before).order_by(
        ModerationCase.priority.asc(), ModerationCase.due_at.desc(), ModerationCase.id.desc()).limit(1))
    return prev, nxt


# --- one case ----------------------------------------------------------------------------------


def _post(session: Session, status: Status, names: dict[int, str]) -> dict[str, Any]:
    if status.account_id not in names:
        account = session.get(Account, status.account_id)
        names[status.account_id] = account.username if account else "?"
    return {"id": status.id, "author": names[status.account_id], "text": status.text,
            "spoiler_text": status.spoiler_text, "state": status.state, "created_at": status.created_at,
            "deleted": status.deleted_at is not None, "limited": status.limited}


def should_blur(label: str | None, scores: dict[str, Any]) -> bool:
    """Violent text is blurred until revealed: a violence case, or a violence score of 0.5 or more."""
    if label in BLUR_LABELS:
        return True
    try:
        return any(float(scores.get(lab, 0) or 0) >= BLUR_SCORE for lab in BLUR_LABELS)
    except (TypeError, ValueError):
        return False


def case_detail(session: Session, case_id: int | str, roles: tuple[str, ...] = QUEUE_ROLES) -> dict[str, Any]:
    """Everything the case page shows. The caller records the evidence view in the audit log."""
    try:
        case = session.get(ModerationCase, int(case_id))
    except (TypeError, ValueError):
        case = None
    if case is None:
        raise NotFound("No such case")
    names: dict[int, str] = {}
    author = session.get(Account, case.account_id)
    status = session.get(Status, case.status_id) if case.status_id else None
    snapshot = dict(case.evidence or {})
    content = dict(snapshot.get("content") or {})

    # The scored text and the spans that drove the scores: from the gate's decision when there is one.
    scores: dict[str, Any] = dict(content.get("scores") or {})
    spans: list[dict[str, Any]] = []
    model = None
    text = status.text if status is not None else content.get("text") or ""
    spoiler = status.spoiler_text if status is not None else content.get("spoiler_text") or ""
    gate = session.get(ModerationDecision, status.decision_id) if status is not None and status.decision_id else None
    if gate is not None and gate.evidence and gate.evidence.get("spans") is not None:
        evidence = gate.evidence
        spans = list(evidence.get("spans") or [])
        scores = dict(evidence.get("scores") or gate.scores or scores)
        model = evidence.get("model")
        scored_text = draft_text(evidence.get("text") or "", evidence.get("spoiler_text") or "")
    else:
        scored_text = draft_text(text, spoiler)

    thread: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []
    if status is not None:
        parent_id, seen = status.in_reply_to_id, 0
        while parent_id is not None and seen < 5:
            parent = session.get(Status, parent_id)
            if parent is None:
                break
            thread.insert(0, _post(session, parent, names))
            parent_id, seen = parent.in_reply_to_id, seen + 1
        replies = [_post(session, s, names) for s in session.scalars(
            select(Status).where(Status.in_reply_to_id == status.id).order_by(Status.id).limit(10))]

    history = list(session.scalars(
        select(ModerationDecision).where(ModerationDecision.account_id == case.account_id,
                                         ModerationDecision.shadow.is_(False),
                                         ModerationDecision.action.not_in(("allow", "review")))
        .order_by(ModerationDecision.created_at.desc()).limit(20)))
    strikes = list(session.scalars(select(Strike).where(Strike.account_id == case.account_id)
                                   .order_by(Strike.id.desc()).limit(50)))

    details = {s.get("ref"): s for s in snapshot.get("signals", []) if isinstance(s, dict)}
    signals = []
    for signal in session.scalars(select(CaseSignal).where(CaseSignal.case_id == case.id).order_by(CaseSignal.id)):
        kind, _, rest = signal.source_ref.partition(":")
        item: dict[str, Any] = {"source": signal.source_type, "ref": signal.source_ref, "label": signal.label,
                                "due_at": signal.due_at, "created_at": signal.created_at,
                                "detail": details.get(signal.source_ref) or {}}
        if kind == "report":
            report = session.get(Report, int(rest.split(":")[0]))
            if report is not None:
                reporter = session.get(Account, report.account_id)
                item["report"] = {"id": report.id, "reporter": reporter.username if reporter else "?",
                                  "category": report.category, "comment": report.comment,
                                  "created_at": report.created_at}
        elif kind == "copy":  # a copy of a removed post that joined the case (warden/cases/copies.py)
            copy = session.get(Status, int(rest))
            if copy is not None:
                item["copy"] = {**_post(session, copy, names), "held": copy.state == "held",
                                "similarity": (item["detail"].get("copy_of") or {}).get("similarity")}
        elif kind == "notice":
            notice = session.get(Notice, int(rest))
            if notice is not None:
                partner = session.get(Partner, notice.partner_id)
                item["notice"] = {"id": notice.id, "partner": partner.name if partner else "?",
                                  "trusted": bool(partner and partner.trusted), "category": notice.category,
                                  "explanation": notice.explanation, "url": notice.url, "state": notice.state}
        signals.append(item)

    copy_of = _copy_of(session, snapshot.get("copy_of"))
    decision = session.get(ModerationDecision, case.decision_id) if case.decision_id else None
    actors = {a.id: a.username for a in session.scalars(select(Account).where(Account.id.in_(
        {d.actor_id for d in history if d.actor_id} | {case.assignee_id or 0} |
        {decision.actor_id if decision and decision.actor_id else 0})))}
    prev_id, next_id = neighbours(session, case, roles)
    earlier = list(session.scalars(select(ModerationCase).where(ModerationCase.account_id == case.account_id,
                                                                ModerationCase.id != case.id,
                                                                ModerationCase.queue_role.in_(roles))
                                   .order_by(ModerationCase.id.desc()).limit(20)))
    return {
        "earlier_cases": earlier,
        "case": case, "author": author, "status": status, "text": text, "spoiler_text": spoiler,
        "scored_text": scored_text, "spans": spans, "scores": scores, "model": model,
        "blurred": should_blur(case.label, scores), "thread": thread, "replies": replies,
        "history": [d for d in history if d.case_id != case.id or d.id != case.decision_id],
        "strikes": strikes, "active_strikes": sum(1 for s in strikes if s.revoked_at is None),
        "signals": signals, "snapshot": snapshot, "decision": decision, "actors": actors,
        "prev_id": prev_id, "next_id": next_id, "copy_of": copy_of,
        "copies": [s["copy"] for s in signals if "copy" in s],
    }


def _copy_of(session: Session, found: Any) -> dict[str, Any] | None:
    """The removed post a case of copies is about: the removal decision, its case and the text it kept."""
    if not isinstance(found, dict) or not found.get("decision_id"):
        return None
    removal = session.get(ModerationDecision, str(found["decision_id"]))
    if removal is None:
        return {"decision_id": found["decision_id"], "status_id": found.get("status_id"), "text": None,
                "case_id": None, "restored": False}
    restored = session.scalar(select(ModerationDecision.id).where(
        ModerationDecision.status_id == removal.status_id, ModerationDecision.action == "restore",
        ModerationDecision.created_at >= removal.created_at).limit(1)) is not None
    return {"decision_id": removal.id, "status_id": removal.status_id, "case_id": removal.case_id,
            "text": (removal.evidence or {}).get("text"), "label": removal.label, "at": removal.created_at,
            "restored": restored}


# --- an author's history, and a post as followers saw it -------------------------------------------


def account_history(session: Session, account_id: int, roles: tuple[str, ...] = QUEUE_ROLES) -> dict[str, Any]:
    """An author's recent posts (every state), decisions, strikes and cases (in the viewer's queues)."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("No such account")
    posts = list(session.scalars(select(Status).where(Status.account_id == account_id, Status.reblog_of_id.is_(None))
                                 .order_by(Status.id.desc()).limit(40)))
    decisions = list(session.scalars(
        select(ModerationDecision).where(ModerationDecision.account_id == account_id,
                                         ModerationDecision.shadow.is_(False),
                                         ModerationDecision.action.not_in(("allow", "review")))
        .order_by(ModerationDecision.created_at.desc()).limit(50)))
    strikes = list(session.scalars(select(Strike).where(Strike.account_id == account_id)
                                   .order_by(Strike.id.desc()).limit(50)))
    case_rows = list(session.scalars(select(ModerationCase).where(ModerationCase.account_id == account_id,
                                                                  ModerationCase.queue_role.in_(roles))
                                     .order_by(ModerationCase.id.desc()).limit(50)))
    actors = {a.id: a.username for a in session.scalars(select(Account).where(Account.id.in_(
        {d.actor_id for d in decisions if d.actor_id} or {0})))}
    return {"account": account, "posts": posts, "decisions": decisions, "strikes": strikes, "cases": case_rows,
            "actors": actors, "active_strikes": sum(1 for s in strikes if s.revoked_at is None)}


def as_seen(session: Session, settings: Settings, status_id: int) -> dict[str, Any]:
    """A post as its author's followers' home timelines showed it: the Mastodon JSON a follower's client
    got (the same renderer as the API), and whether and how they saw it given its moderation state."""
    from warden.api.serializers import Presenter

    status = session.get(Status, status_id)
    if status is None:
        raise NotFound("No such post")
    author = session.get(Account, status.account_id)
    if author is None:
        raise NotFound("No such post")
    presenter = Presenter(session, settings, None)
    rendered = Presenter._render_status(settings.base_url, status, presenter.account(author), False, False, False)
    seen = status.visibility in ("public", "unlisted", "private")
    gate = session.get(ModerationDecision, status.decision_id) if status.decision_id else None
    held_at_write = gate is not None and gate.action in ("hold", "block")
    notes = []
    if status.visibility == "direct":
        notes.append("A direct message: only the people it mentions saw it, not the followers' home timelines.")
    elif held_at_write:
        notes.append("Held before publication: until a moderator released it, only its author saw it.")
    else:
        notes.append("Published to the followers' home timelines"
                     + (" and the public timelines." if status.visibility == "public" else "."))
    if status.limited:
        notes.append("Limited: kept out of public and tag timelines; followers still see it.")
    if status.moderation_label:
        notes.append("Shown behind a content warning the moderators added.")
    if status.state == "removed":
        notes.append("Removed by a moderator: no longer shown to anyone.")
    elif status.state == "held":
        notes.append("Held now: only its author sees it.")
    if status.deleted_at is not None:
        notes.append("Deleted by its author.")
    if author.suspended_at is not None:
        notes.append("Its author is suspended: nobody sees it now.")
    return {"status": status, "author": author, "json": rendered, "plain": text_of_html(rendered["content"] or ""),
            "notes": notes, "seen_by_followers": seen and not held_at_write}


def text_of_html(html: str) -> str:
    """The text a client shows for server-made status HTML (paragraphs and line breaks kept), unescaped
    once: the template escapes it again, so nothing in it is ever markup on the console."""
    import html as html_lib
    import re

    text = re.sub(r"<br\s*/?>", "\n", html, flags=re.IGNORECASE)
    text = re.sub(r"</p>\s*<p>", "\n\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]*>", "", text)
    return html_lib.unescape(text)


# --- appeals -----------------------------------------------------------------------------------


def appeals(session: Session, state: str = "open", limit: int = 100) -> list[dict[str, Any]]:
    query = select(Appeal)
    if state in APPEAL_STATES:
        query = query.where(Appeal.state == state)
    rows = list(session.scalars(query.order_by(Appeal.id.desc() if state != "open" else Appeal.id).limit(limit)))
    decision_ids = {a.decision_id for a in rows} | {a.outcome_decision_id for a in rows if a.outcome_decision_id}
    found = {d.id: d for d in session.scalars(select(ModerationDecision).where(
        ModerationDecision.id.in_(decision_ids)))} if decision_ids else {}
    people = {a.account_id for a in rows} | {a.decided_by for a in rows if a.decided_by} | \
        {d.actor_id for d in found.values() if d.actor_id}
    names = {a.id: a.username for a in session.scalars(select(Account).where(Account.id.in_(people)))} \
        if people else {}
    result = []
    for appeal in rows:
        original = found.get(appeal.decision_id)
        evidence = (original.evidence or {}) if original is not None else {}
        result.append({"appeal": appeal, "original": original, "outcome": found.get(appeal.outcome_decision_id or ""),
                       "appellant": names.get(appeal.account_id, "?"),
                       "decider": names.get(original.actor_id) if original and original.actor_id else None,
                       "decided_by": names.get(appeal.decided_by) if appeal.decided_by else None,
                       "text": evidence.get("text") or ""})
    return result


# --- audit log ---------------------------------------------------------------------------------


def audit_entries(session: Session, *, before: int | None = None, action: str | None = None,
                  subject: str | None = None, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    query = select(AuditEntry)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    if action:
        query = query.where(AuditEntry.action.like(action.replace("%", "").replace("_", r"\_") + "%", escape="\\"))
    if subject:
        query = query.where(AuditEntry.subject == subject)
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))
    people = {r.actor_id for r in rows if r.actor_id}
    names = {a.id: a.username for a in session.scalars(select(Account).where(Account.id.in_(people)))} \
        if people else {}
    return [{"entry": r, "actor": names.get(r.actor_id) if r.actor_id else None} for r in rows]


# --- partners ----------------------------------------------------------------------------------


def partner_notices(session: Session, partner_id: int, *, limit: int = 200) -> dict[str, Any]:
    """A partner's own notices (newest first) with their outcomes; nothing of any other partner."""
    rows = list(session.scalars(select(Notice).where(Notice.partner_id == partner_id, Notice.concealed.is_(False))
                                .order_by(Notice.id.desc()).limit(limit)))
    decision_ids = {n.decision_id for n in rows if n.decision_id}
    found = {d.id: d for d in session.scalars(select(ModerationDecision).where(
        ModerationDecision.id.in_(decision_ids)))} if decision_ids else {}
    counts = dict(session.execute(select(Notice.state, func.count()).where(
        Notice.partner_id == partner_id, Notice.concealed.is_(False)).group_by(Notice.state)).all())
    return {"notices": [{"notice": n, "decision": found.get(n.decision_id or "")} for n in rows],
            "summary": metrics.NoticeSummary("", {s: counts.get(s, 0) for s in metrics.NOTICE_OUTCOMES})}


def partners(session: Session) -> list[dict[str, Any]]:
    counts: dict[int, dict[str, int]] = {}
    for partner_id, state, n in session.execute(select(Notice.partner_id, Notice.state, func.count())
                                                .group_by(Notice.partner_id, Notice.state)):
        counts.setdefault(partner_id, {})[state] = n
    return [{"partner": p, "summary": metrics.NoticeSummary(p.name, {s: counts.get(p.id, {}).get(s, 0)
                                                                    for s in metrics.NOTICE_OUTCOMES})}
            for p in session.scalars(select(Partner).order_by(Partner.name))]


def staff(session: Session, since: datetime) -> list[dict[str, Any]]:
    decided = dict(session.execute(select(ModerationDecision.actor_id, func.count())
                                   .where(ModerationDecision.created_at >= since,
                                          ModerationDecision.actor_id.is_not(None))
                                   .group_by(ModerationDecision.actor_id)).all())
    return [{"account": a, "decisions": decided.get(a.id, 0)} for a in session.scalars(
        select(Account).where(Account.role.in_(("moderator", "senior", "admin"))).order_by(Account.username_key))]


# --- policy ------------------------------------------------------------------------------------


def policy_versions(session: Session) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.id.desc()).limit(50)))


def shadow_results(session: Session, since: datetime, *, limit: int = 30) -> dict[str, Any]:
    """What the policy in shadow mode would have done differently (its recorded, unenforced decisions)."""
    counts = session.execute(select(ModerationDecision.policy_version, ModerationDecision.action,
                                    ModerationDecision.label, func.count())
                             .where(ModerationDecision.shadow.is_(True), ModerationDecision.created_at >= since)
                             .group_by(ModerationDecision.policy_version, ModerationDecision.action,
                                       ModerationDecision.label)).all()
    recent = list(session.scalars(select(ModerationDecision).where(ModerationDecision.shadow.is_(True))
                                  .order_by(ModerationDecision.created_at.desc()).limit(limit)))
    return {"counts": [{"version": r[0], "action": r[1], "label": r[2], "count": r[3]} for r in counts],
            "recent": recent}


# --- the dashboard -----------------------------------------------------------------------------


def _day(column: Any, dialect: str) -> Any:
    """The UTC day of a timestamp column, as 'YYYY-MM-DD' text, on either backend."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def _per_day(session: Session, query: Any) -> dict[date, int]:
    return {date.fromisoformat(str(day)): int(n) for day, n in session.execute(query).all() if day}


def dashboard(session: Session, compiled: CompiledPolicy, *, days: int = 30,
              now: datetime | None = None) -> dict[str, Any]:
    """Every number on the dashboard, over the last `days` UTC days (history for the surge rule before)."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    today = now.date()
    first = today - timedelta(days=days - 1)
    start_history = datetime.combine(first - timedelta(days=metrics.SURGE_WINDOW), datetime.min.time(),
                                     tzinfo=now.tzinfo)
    window_start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)

    status_day = _day(Status.created_at, dialect)
    posts = _per_day(session, select(status_day, func.count()).where(
        Status.created_at >= start_history, Status.reblog_of_id.is_(None)).group_by(status_day))
    decision_day = _day(ModerationDecision.created_at, dialect)
    blocked = _per_day(session, select(decision_day, func.count()).where(
        ModerationDecision.created_at >= start_history, ModerationDecision.kind == "gate",
        ModerationDecision.action == "block", ModerationDecision.shadow.is_(False)).group_by(decision_day))
    for day, n in blocked.items():
        posts[day] = posts.get(day, 0) + n
    violent_rows = session.execute(select(ModerationDecision.id, ModerationDecision.status_id,
                                          ModerationDecision.created_at).where(
        ModerationDecision.created_at >= start_history, ModerationDecision.label == "violence",
        ModerationDecision.shadow.is_(False), ModerationDecision.action.in_(VIOLENT_ACTIONS))).all()
    items = metrics.first_days((f"s:{sid}" if sid else f"d:{did}", at) for did, sid, at in violent_rows)
    series = metrics.prevalence(metrics.days_between(first, today), posts, items)

    decided = session.execute(select(ModerationCase.sources, ModerationCase.created_at, ModerationCase.decided_at,
                                     ModerationCase.due_at)
                              .where(ModerationCase.state == "decided", ModerationCase.decided_at >= window_start)
                              ).all()
    undecided_due = session.execute(select(ModerationCase.sources, ModerationCase.due_at)
                                    .where(ModerationCase.state.in_(CASE_UNDECIDED))).all()

    def source(sources: Any) -> str:
        return (list(sources or []) or ["moderator"])[0]

    latency = metrics.time_to_action((source(s), c, d) for s, c, d, _ in decided)
    sla = metrics.sla_compliance([*((source(s), due, d) for s, _, d, due in decided),
                                  *((source(s), due, None) for s, due in undecided_due)], now)
    notices = metrics.notice_outcomes(session.execute(
        select(Partner.name, Notice.state).join(Partner, Partner.id == Notice.partner_id)
        .where(Notice.created_at >= window_start)).all())
    appeal_stats = metrics.appeal_stats(session.scalars(select(Appeal.state).where(Appeal.created_at >= window_start)))
    return {
        "days": days, "series": series, "latest": series[-1] if series else None,
        "latency": latency, "sla": sla, "notices": notices, "appeals": appeal_stats,
        "decided_count": len(decided), "open_count": len(undecided_due),
        "overdue_count": sum(1 for _, due in undecided_due if due < now),
        "decided_today": sum(1 for _, _, d, _ in decided if d is not None and d.date() == today),
    }


# --- the statement of reasons, before the decision is taken ---------------------------------------


def statement_preview(session: Session, settings: Settings, compiled: CompiledPolicy, case: ModerationCase, *,
                      action: str, label: str | None, reason: str) -> dict[str, Any]:
    """The statement of reasons the decision service would send for this action (same builder, same fields)."""
    from warden.cases import statement

    label = label if label in compiled.policy.labels else case.label
    status = session.get(Status, case.status_id) if case.status_id else None
    now = utcnow()
    sources = list(case.sources or []) or ["moderator"]
    return statement.build(
        decision_id="(assigned when applied)", action=action,
        label_policy=compiled.policy.labels.get(label or ""), facts=reason or "(your reason goes here)",
        source=sources[0], automated_detection="detector" in sources, automated_decision="not",
        content_date=status.created_at if status is not None else now, application_date=now,
        territorial_scope=settings.dsa_territorial_scope)
