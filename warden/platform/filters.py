"""Filters (Mastodon 4's server-side filters, v2, and the v1 view of them): a filter group has a title,
the contexts it applies in (home, notifications, public, thread, account), an action (`warn`: the
status carries `filtered` and clients show a warning; `hide`: the server leaves it out; `blur`: clients
blur its media), an optional expiry, keywords and statuses.

Matching follows Mastodon's `CustomFilter`: a keyword matches case-insensitively anywhere, or, with
`whole_word`, only at word boundaries (a boundary is required only on a side where the keyword starts
or ends with a word character, so `#tag` and `c++` still match as words). The text matched is the
content warning and the post's text (its HTML reduced to text), as Mastodon's `searchable_text`.
A v1 filter is one keyword of a group: its id is the keyword's id (`/api/v1/filters/:id`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform.ids import as_id, parse_id
from warden.store.client_models import FILTER_ACTIONS, FILTER_CONTEXTS, CustomFilter, FilterKeyword, FilterStatus
from warden.store.models import Status, utcnow

MAX_KEYWORD = 512
MAX_FILTERS = 200
_TAGS = re.compile(r"<[^>]*>")
_BREAKS = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)
_WORD_START = re.compile(r"^\w")
_WORD_END = re.compile(r"\w$")


# --- matching ---------------------------------------------------------------------------------


def keyword_pattern(keyword: str, whole_word: bool) -> re.Pattern[str]:
    escaped = re.escape(keyword)
    if whole_word:
        start = r"\b" if _WORD_START.search(keyword) else ""
        end = r"\b" if _WORD_END.search(keyword) else ""
        return re.compile(f"{start}{escaped}{end}", re.IGNORECASE)
    return re.compile(escaped, re.IGNORECASE)


def searchable_text(content_html: str | None, spoiler_text: str | None) -> str:
    """The text filters match: the content warning, then the post's text from its rendered HTML."""
    body = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", content_html or "")))
    return f"{spoiler_text or ''}\n\n{body}"


@dataclass
class ActiveFilter:
    """A filter group as matching needs it, loaded once per request (or per stream event)."""

    row: CustomFilter
    keywords: list[FilterKeyword] = field(default_factory=list)
    statuses: list[FilterStatus] = field(default_factory=list)
    status_ids: set[int] = field(default_factory=set)
    patterns: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.row.filter_action


@dataclass
class FilterMatch:
    filter: ActiveFilter
    keyword_matches: list[str] | None
    status_matches: list[str] | None


def active_filters(session: Session, account_ids: Collection[int], context: str | None,
                   now: datetime | None = None) -> dict[int, list[ActiveFilter]]:
    """The unexpired filter groups of each of `account_ids` that apply in `context` (None: any), with
    their keywords and statuses: three queries whatever the number of accounts."""
    if not account_ids:
        return {}
    now = now or utcnow()
    rows = list(session.scalars(select(CustomFilter).where(
        CustomFilter.account_id.in_(list(account_ids)),
        or_(CustomFilter.expires_at.is_(None), CustomFilter.expires_at > now)).order_by(CustomFilter.id)))
    rows = [r for r in rows if context is None or context in (r.context or [])]
    if not rows:
        return {}
    by_id = {r.id: ActiveFilter(r) for r in rows}
    for keyword in session.scalars(select(FilterKeyword).where(FilterKeyword.filter_id.in_(list(by_id)))
                                   .order_by(FilterKeyword.id)):
        entry = by_id[keyword.filter_id]
        entry.keywords.append(keyword)
        entry.patterns.append((keyword.keyword, keyword_pattern(keyword.keyword, keyword.whole_word)))
    for row in session.scalars(select(FilterStatus).where(FilterStatus.filter_id.in_(list(by_id)))
                               .order_by(FilterStatus.id)):
        by_id[row.filter_id].statuses.append(row)
        by_id[row.filter_id].status_ids.add(row.status_id)
    out: dict[int, list[ActiveFilter]] = {}
    for entry in by_id.values():
        out.setdefault(entry.row.account_id, []).append(entry)
    return out


def match(filters: Iterable[ActiveFilter], status_id: int, text: str) -> list[FilterMatch]:
    found = []
    for entry in filters:
        keywords = [keyword for keyword, pattern in entry.patterns if pattern.search(text)]
        statuses = [str(status_id)] if status_id in entry.status_ids else []
        if keywords or statuses:
            found.append(FilterMatch(entry, keywords or None, statuses or None))
    return found


def apply_to_statuses(filters: list[ActiveFilter], rendered: list[dict[str, Any]], iso: Any) -> list[dict[str, Any]]:
    """Set `filtered` (FilterResults) on each rendered Status (a reblog is matched by its original) and
    drop those a `hide` filter matches. `iso` formats the filters' timestamps."""
    if not filters:
        return rendered
    out = []
    for data in rendered:
        target = data["reblog"] if data.get("reblog") else data
        results = match(filters, int(target["id"]), searchable_text(target.get("content"), target.get("spoiler_text")))
        if any(m.filter.action == "hide" for m in results):
            continue
        if results:
            entity = [{"filter": filter_json(m.filter.row, m.filter.keywords, m.filter.statuses, iso),
                       "keyword_matches": m.keyword_matches, "status_matches": m.status_matches} for m in results]
            data["filtered"] = entity
            if target is not data:
                target["filtered"] = entity
        out.append(data)
    return out


def filter_json(entry: CustomFilter, keywords: list[FilterKeyword], status_filters: list[FilterStatus],
                iso: Any) -> dict[str, Any]:
    """Mastodon's Filter entity."""
    return {"id": str(entry.id), "title": entry.title, "context": list(entry.context or []),
            "expires_at": iso(entry.expires_at), "filter_action": entry.filter_action,
            "keywords": [keyword_json(k) for k in keywords],
            "statuses": [status_filter_json(s) for s in status_filters]}


def keyword_json(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": bool(keyword.whole_word)}


def status_filter_json(row: FilterStatus) -> dict[str, Any]:
    return {"id": str(row.id), "status_id": str(row.status_id)}


def v1_json(keyword: FilterKeyword, entry: CustomFilter, iso: Any) -> dict[str, Any]:
    """Mastodon's V1::Filter: one keyword of a group, in its group's contexts."""
    return {"id": str(keyword.id), "phrase": keyword.keyword, "context": list(entry.context or []),
            "whole_word": bool(keyword.whole_word), "expires_at": iso(entry.expires_at),
            "irreversible": entry.filter_action == "hide"}


# --- validation -------------------------------------------------------------------------------


def _contexts(values: list[str]) -> list[str]:
    contexts = list(dict.fromkeys(values))
    if not contexts or any(c not in FILTER_CONTEXTS for c in contexts):
        raise ValidationFailed("Validation failed: Context can't be blank, Context None or invalid context supplied"
                               if not contexts else "Validation failed: Context None or invalid context supplied")
    return contexts


def _action(value: str | None) -> str:
    value = value or "warn"
    if value == "blur_media":
        value = "blur"
    if value not in FILTER_ACTIONS:
        raise ValidationFailed("Validation failed: Filter action is not included in the list")
    return value


def _expiry(expires_in: int | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= 0 or expires_in > 10 * 365 * 86400:
        raise ValidationFailed("Validation failed: Expires in must be a positive number of seconds")
    return utcnow() + timedelta(seconds=expires_in)


def _keyword_text(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed("Validation failed: Keyword can't be blank")
    if len(text) > MAX_KEYWORD:
        raise ValidationFailed(f"Validation failed: Keyword is too long (maximum is {MAX_KEYWORD} characters)")
    return text


def _title(value: str | None) -> str:
    title = (value or "").strip()
    if not title:
        raise ValidationFailed("Validation failed: Title can't be blank")
    if len(title) > 200:
        raise ValidationFailed("Validation failed: Title is too long (maximum is 200 characters)")
    return title


# --- filter groups (v2) -----------------------------------------------------------------------


def owned(session: Session, account_id: int, filter_id: int | str) -> CustomFilter:
    entry = session.get(CustomFilter, parse_id(filter_id))
    if entry is None or entry.account_id != account_id:
        raise NotFound()
    return entry


def listing(session: Session, account_id: int) -> list[CustomFilter]:
    return list(session.scalars(select(CustomFilter).where(CustomFilter.account_id == account_id)
                                .order_by(CustomFilter.id)))


def children(session: Session, filter_ids: list[int]) -> tuple[dict[int, list[FilterKeyword]],
                                                                dict[int, list[FilterStatus]]]:
    keywords: dict[int, list[FilterKeyword]] = {i: [] for i in filter_ids}
    statuses: dict[int, list[FilterStatus]] = {i: [] for i in filter_ids}
    if filter_ids:
        for k in session.scalars(select(FilterKeyword).where(FilterKeyword.filter_id.in_(filter_ids))
                                 .order_by(FilterKeyword.id)):
            keywords[k.filter_id].append(k)
        for s in session.scalars(select(FilterStatus).where(FilterStatus.filter_id.in_(filter_ids))
                                 .order_by(FilterStatus.id)):
            statuses[s.filter_id].append(s)
    return keywords, statuses


@dataclass
class KeywordChange:
    keyword: str | None = None
    whole_word: bool | None = None
    id: int | str | None = None
    destroy: bool = False


def create(session: Session, account_id: int, *, title: str | None, context: list[str], filter_action: str | None,
           expires_in: int | None, keywords: list[KeywordChange]) -> CustomFilter:
    if session.query(CustomFilter).filter(CustomFilter.account_id == account_id).count() >= MAX_FILTERS:
        raise ValidationFailed(f"Validation failed: You cannot have more than {MAX_FILTERS} filters")
    entry = CustomFilter(account_id=account_id, title=_title(title), context=_contexts(context),
                         filter_action=_action(filter_action), expires_at=_expiry(expires_in))
    pending = []
    for change in keywords:
        if change.id not in (None, ""):
            raise NotFound()
        if change.destroy:
            continue
        pending.append(FilterKeyword(keyword=_keyword_text(change.keyword),
                                     whole_word=True if change.whole_word is None else change.whole_word))
    session.add(entry)
    session.flush()
    for keyword in pending:
        keyword.filter_id = entry.id
    session.add_all(pending)
    session.flush()
    return entry


def update(session: Session, account_id: int, filter_id: int | str, *, title: str | None = None,
           context: list[str] | None = None, filter_action: str | None = None, expires_in: int | None = None,
           expires_set: bool = False, keywords: list[KeywordChange] | None = None) -> CustomFilter:
    entry = owned(session, account_id, filter_id)
    if title is not None:
        entry.title = _title(title)
    if context:
        entry.context = _contexts(context)
    if filter_action:
        entry.filter_action = _action(filter_action)
    if expires_set:
        entry.expires_at = _expiry(expires_in)
    for change in keywords or []:
        if change.id not in (None, ""):
            keyword = session.get(FilterKeyword, parse_id(change.id))
            if keyword is None or keyword.filter_id != entry.id:
                raise NotFound()
            if change.destroy:
                session.delete(keyword)
                continue
            if change.keyword is not None:
                keyword.keyword = _keyword_text(change.keyword)
            if change.whole_word is not None:
                keyword.whole_word = change.whole_word
        elif not change.destroy:
            session.add(FilterKeyword(filter_id=entry.id, keyword=_keyword_text(change.keyword),
                                      whole_word=True if change.whole_word is None else change.whole_word))
    session.flush()
    return entry


def remove(session: Session, account_id: int, filter_id: int | str) -> None:
    session.delete(owned(session, account_id, filter_id))
    session.flush()


# --- keywords and statuses --------------------------------------------------------------------


def owned_keyword(session: Session, account_id: int, keyword_id: int | str) -> tuple[FilterKeyword, CustomFilter]:
    keyword = session.get(FilterKeyword, parse_id(keyword_id))
    entry = session.get(CustomFilter, keyword.filter_id) if keyword is not None else None
    if keyword is None or entry is None or entry.account_id != account_id:
        raise NotFound()
    return keyword, entry


def add_keyword(session: Session, account_id: int, filter_id: int | str, keyword: str | None,
                whole_word: bool | None) -> FilterKeyword:
    entry = owned(session, account_id, filter_id)
    row = FilterKeyword(filter_id=entry.id, keyword=_keyword_text(keyword),
                        whole_word=True if whole_word is None else whole_word)
    session.add(row)
    session.flush()
    return row


def update_keyword(session: Session, account_id: int, keyword_id: int | str, keyword: str | None,
                   whole_word: bool | None) -> FilterKeyword:
    row, _ = owned_keyword(session, account_id, keyword_id)
    row.keyword = _keyword_text(keyword)
    if whole_word is not None:
        row.whole_word = whole_word
    session.flush()
    return row


def remove_keyword(session: Session, account_id: int, keyword_id: int | str) -> None:
    row, _ = owned_keyword(session, account_id, keyword_id)
    session.delete(row)
    session.flush()


def owned_status(session: Session, account_id: int, row_id: int | str) -> FilterStatus:
    row = session.get(FilterStatus, parse_id(row_id))
    entry = session.get(CustomFilter, row.filter_id) if row is not None else None
    if row is None or entry is None or entry.account_id != account_id:
        raise NotFound()
    return row


def add_status(session: Session, account_id: int, filter_id: int | str, status_id: str | None,
               visible: Any) -> FilterStatus:
    """`visible(status_id) -> Status`: the status, if the account may see it (else NotFound)."""
    entry = owned(session, account_id, filter_id)
    ident = as_id(status_id)
    if ident is None:
        raise ValidationFailed("Validation failed: Status can't be blank") if not status_id else NotFound()
    status: Status = visible(ident)
    existing = session.scalar(select(FilterStatus).where(FilterStatus.filter_id == entry.id,
                                                         FilterStatus.status_id == status.id))
    if existing is not None:
        raise ValidationFailed("Validation failed: Status has already been taken")
    row = FilterStatus(filter_id=entry.id, status_id=status.id)
    session.add(row)
    session.flush()
    return row


def remove_status(session: Session, account_id: int, row_id: int | str) -> None:
    session.delete(owned_status(session, account_id, row_id))
    session.flush()


# --- v1: one keyword per filter ---------------------------------------------------------------


def v1_listing(session: Session, account_id: int) -> list[tuple[FilterKeyword, CustomFilter]]:
    rows = session.execute(select(FilterKeyword, CustomFilter).join(CustomFilter, CustomFilter.id ==
                                                                   FilterKeyword.filter_id)
                           .where(CustomFilter.account_id == account_id).order_by(FilterKeyword.id)).all()
    return [(k, f) for k, f in rows]


def v1_create(session: Session, account_id: int, *, phrase: str | None, context: list[str], irreversible: bool,
              whole_word: bool, expires_in: int | None) -> tuple[FilterKeyword, CustomFilter]:
    text = _keyword_text(phrase).strip()
    entry = create(session, account_id, title=text, context=context,
                   filter_action="hide" if irreversible else "warn", expires_in=expires_in,
                   keywords=[KeywordChange(keyword=text, whole_word=whole_word)])
    keyword = session.scalar(select(FilterKeyword).where(FilterKeyword.filter_id == entry.id))
    assert keyword is not None
    return keyword, entry


def v1_update(session: Session, account_id: int, keyword_id: int | str, *, phrase: str | None,
              context: list[str], irreversible: bool | None, whole_word: bool | None, expires_in: int | None,
              expires_set: bool) -> tuple[FilterKeyword, CustomFilter]:
    keyword, entry = owned_keyword(session, account_id, keyword_id)
    siblings = session.query(FilterKeyword).filter(FilterKeyword.filter_id == entry.id).count()
    changes_group = bool(context) or irreversible is not None or expires_set
    if siblings > 1 and changes_group and (
            (context and _contexts(context) != list(entry.context or []))
            or (irreversible is not None and (entry.filter_action == "hide") != irreversible)
            or expires_set):
        raise ValidationFailed("Validation failed: This filter has several keywords: change its contexts, "
                               "action or expiry with the v2 filters API")
    if phrase is not None:
        keyword.keyword = _keyword_text(phrase)
    if whole_word is not None:
        keyword.whole_word = whole_word
    if context:
        entry.context = _contexts(context)
    if irreversible is not None:
        entry.filter_action = "hide" if irreversible else "warn"
    if expires_set:
        entry.expires_at = _expiry(expires_in)
    session.flush()
    return keyword, entry


def v1_remove(session: Session, account_id: int, keyword_id: int | str) -> None:
    """Delete the keyword only (as Mastodon does since 4.0); its group stays for the v2 API."""
    keyword, _entry = owned_keyword(session, account_id, keyword_id)
    session.delete(keyword)
    session.flush()
