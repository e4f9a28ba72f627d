"""Finding cases: by state, label, source and queue, and a search by account, text and partner.

One `CaseSearch` serves the console's queue, `GET /api/warden/v1/cases` and the bulk decision's
"every case matching this filter", so what a moderator sees counted is what a bulk decision takes.
`conditions()` turns it into SQL conditions on `moderation_cases` that work on SQLite and PostgreSQL;
the viewer's role always narrows it to the queues that role may see.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import String, cast, func, select

from warden.cases.cases import SOURCE_RANK
from warden.cases.lifecycle import CASE_STATES, CASE_UNDECIDED
from warden.errors import ValidationFailed
from warden.store.models import Account, Status
from warden.store.moderation_models import ModerationCase, Notice, Partner

#: `state` values: "undecided" (open, claimed or escalated), each state, or "all".
SEARCH_STATES = ("undecided", *CASE_STATES, "all")
MAX_TERM = 200


def _like(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, its own % and _ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class CaseSearch:
    state: str = "undecided"
    label: str | None = None
    source: str | None = None
    queue: str | None = None
    #: The author: a username, with or without the leading @ (exact, case aside).
    account: str | None = None
    #: Words in the post (a substring, case aside): one raid's copied text finds all its posts.
    text: str | None = None
    #: A partner's name, or part of it: cases with a notice from that partner.
    partner: str | None = None

    @classmethod
    def parse(cls, values: dict[str, Any], *, strict: bool = False) -> "CaseSearch":
        """From query parameters or JSON. `strict`: refuse bad values (the API) instead of dropping them."""
        clean: dict[str, Any] = {}
        for f in fields(cls):
            raw = values.get(f.name)
            if raw is None or raw == "":
                continue
            if not isinstance(raw, str):
                if strict:
                    raise ValidationFailed(f"Validation failed: {f.name} must be a string")
                continue
            value = raw.strip()[:MAX_TERM]
            if f.name == "account":
                value = value.lstrip("@")
            if value:
                clean[f.name] = value
        state = clean.get("state", "undecided")
        if state not in SEARCH_STATES:
            if strict:
                raise ValidationFailed(f"Validation failed: state must be one of {', '.join(SEARCH_STATES)}")
            clean["state"] = "undecided"
        if clean.get("source") and clean["source"] not in SOURCE_RANK:
            if strict:
                raise ValidationFailed(f"Validation failed: source must be one of {', '.join(SOURCE_RANK)}")
            clean.pop("source")
        return cls(**clean)

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) not in (None, "") and not (f.name == "state" and self.state == "undecided")}

    @property
    def searching(self) -> bool:
        """Whether a search term (not only the queue's own filters) is set."""
        return bool(self.account or self.text or self.partner)


def conditions(search: CaseSearch, roles: tuple[str, ...]) -> list[Any]:
    """SQL conditions for the cases matching `search` in the queues whose role is one of `roles`."""
    where: list[Any] = [ModerationCase.queue_role.in_(roles)]
    if search.state == "undecided":
        where.append(ModerationCase.state.in_(CASE_UNDECIDED))
    elif search.state != "all":
        where.append(ModerationCase.state == search.state)
    if search.label:
        where.append(ModerationCase.label == search.label)
    if search.source:  # the JSON list as text: '["partner", "user"]' on both backends
        where.append(cast(ModerationCase.sources, String).like(f'%"{search.source}"%'))
    if search.queue:
        where.append(ModerationCase.queue == search.queue)
    if search.account:
        where.append(ModerationCase.account_id.in_(
            select(Account.id).where(Account.username_key == search.account.lower())))
    if search.text:
        where.append(ModerationCase.status_id.in_(
            select(Status.id).where(func.lower(Status.text).like(_like(search.text.lower()), escape="\\"))))
    if search.partner:
        where.append(ModerationCase.id.in_(
            select(Notice.case_id).join(Partner, Partner.id == Notice.partner_id)
            .where(Notice.case_id.is_not(None),
                   func.lower(Partner.name).like(_like(search.partner.lower()), escape="\\"))))
    return where
