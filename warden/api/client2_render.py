"""Mastodon JSON for the client API's second group (issue 33): the `poll`, `pinned` and `muted` of
statuses, and the StatusEdit, StatusSource, ScheduledStatus, FeaturedTag, Announcement, Suggestion
and admin Tag entities. `Presenter.statuses` calls `decorate` on every list it renders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from warden.platform import polls, status_extras
from warden.store.client2_models import ConversationMute, Poll, StatusPin


def _targets(rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for data in rendered:
        out.append(data)
        if data.get("reblog"):
            out.append(data["reblog"])
    return out


def decorate(session: Session, viewer_id: int | None, rendered: list[dict[str, Any]], rows: list[Any]) -> None:
    """Fill `poll`, `pinned` and `muted` of rendered statuses (two or three queries per page)."""
    targets = _targets(rendered)
    if not targets:
        return
    ids = [int(d["id"]) for d in targets]
    found = list(session.scalars(select(Poll).where(Poll.status_id.in_(ids))))
    entities = polls.render(session, found, viewer_id) if found else {}
    pinned: set[int] = set()
    roots: set[int] = set()
    if viewer_id is not None:  # the viewer's pins among these and muted threads, in one query
        for status_id, kind in session.execute(union_all(
                select(StatusPin.status_id, literal("p")).where(StatusPin.account_id == viewer_id,
                                                                StatusPin.status_id.in_(ids)),
                select(ConversationMute.root_id, literal("m")).where(ConversationMute.account_id == viewer_id))):
            (pinned if kind == "p" else roots).add(status_id)
    by_id = {r.id: r for r in rows if getattr(r, "id", None) is not None}
    for data in targets:
        status_id = int(data["id"])
        if status_id in entities:
            data["poll"] = entities[status_id]
        if viewer_id is not None:
            data["pinned"] = status_id in pinned
            if roots:
                row = by_id.get(status_id)
                if status_id in roots:
                    data["muted"] = True
                elif data.get("in_reply_to_id") and row is not None:
                    data["muted"] = status_extras.thread_root(session, row) in roots


def row_needs_general(row: Any) -> bool:
    """Whether a home page row must take the general rendering path: it has a poll, the viewer pinned
    it, or the viewer muted conversations (the cached per-status JSON shows none of these). The page
    statement brings the three flags (`timelines._page_rows`)."""
    return bool(row.has_poll or row.viewer_pinned or row.viewer_mutes_threads)


def status_edit(presenter: Any, edit: Any, account: dict[str, Any]) -> dict[str, Any]:
    from warden.api.serializers import iso

    return {"content": edit.content_html, "spoiler_text": edit.spoiler_text, "sensitive": edit.sensitive,
            "created_at": iso(edit.created_at), "account": account,
            "poll": {"options": [{"title": t} for t in edit.poll_options]} if edit.poll_options else None,
            "media_attachments": [], "emojis": []}


def scheduled_status(row: Any) -> dict[str, Any]:
    from warden.api.serializers import iso

    p = row.params or {}
    failure = {"warden": {"failure": row.failure}} if row.failure else {}
    return failure | {
        "id": str(row.id), "scheduled_at": iso(row.scheduled_at), "media_attachments": [],
        "params": {"text": p.get("text", ""), "poll": p.get("poll"), "media_ids": p.get("media_ids"),
                   "sensitive": p.get("sensitive"), "spoiler_text": p.get("spoiler_text") or None,
                   "visibility": p.get("visibility", "public"), "scheduled_at": None,
                   "in_reply_to_id": p.get("in_reply_to_id"), "language": p.get("language"),
                   "application_id": None, "idempotency": p.get("idempotency"), "with_rate_limit": False},
    }
