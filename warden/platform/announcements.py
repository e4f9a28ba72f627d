"""Announcements: notices from the server's staff that clients show above the home timeline.
Staff create them through Warden's admin API; users read, dismiss and react to them."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform import content
from warden.platform.ids import parse_id
from warden.store.client2_models import Announcement, AnnouncementReaction, AnnouncementRead
from warden.store.db import insert_if_absent
from warden.store.models import utcnow


def create(session: Session, staff_id: int, text: str, *, starts_at: datetime | None = None,
           ends_at: datetime | None = None, all_day: bool = False, base_url: str = "") -> Announcement:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("Validation failed: Text can't be blank")
    if len(text) > 5000:
        raise ValidationFailed("Validation failed: Text is too long (maximum is 5000 characters)")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationFailed("Validation failed: Ends at must be after starts at")
    row = Announcement(text=text, content_html=content.render(text, base_url=base_url,
                                                               account_url=lambda _name: None).html,
                       starts_at=starts_at, ends_at=ends_at, all_day=all_day, created_by=staff_id)
    session.add(row)
    session.flush()
    return row


def withdraw(session: Session, announcement_id: int | str) -> None:
    row = session.get(Announcement, parse_id(announcement_id))
    if row is None:
        raise NotFound()
    session.delete(row)


def active(session: Session) -> list[Announcement]:
    now = utcnow()
    return list(session.scalars(select(Announcement).where(
        Announcement.published.is_(True), or_(Announcement.starts_at.is_(None), Announcement.starts_at <= now),
        or_(Announcement.ends_at.is_(None), Announcement.ends_at > now)).order_by(Announcement.id.desc())))


def _get_active(session: Session, announcement_id: int | str) -> Announcement:
    ident = parse_id(announcement_id)
    for row in active(session):
        if row.id == ident:
            return row
    raise NotFound()


def dismiss(session: Session, account_id: int, announcement_id: int | str) -> None:
    row = _get_active(session, announcement_id)
    insert_if_absent(session, AnnouncementRead, {"announcement_id": row.id, "account_id": account_id},
                     ["announcement_id", "account_id"])


def _emoji(name: str) -> str:
    """A reaction is one Unicode emoji (there are no custom emoji here): 422 otherwise, as Mastodon."""
    name = (name or "").strip()
    if not name or len(name) > 16 or any(unicodedata.category(ch)[0] in "LNZC" and ch not in "\u200d\ufe0f"
                                         for ch in name):
        raise ValidationFailed("Validation failed: Name is not a recognized emoji")
    return name


def react(session: Session, account_id: int, announcement_id: int | str, name: str) -> None:
    row = _get_active(session, announcement_id)
    insert_if_absent(session, AnnouncementReaction, {"announcement_id": row.id, "account_id": account_id,
                                                     "name": _emoji(name)}, ["announcement_id", "account_id", "name"])


def unreact(session: Session, account_id: int, announcement_id: int | str, name: str) -> None:
    row = _get_active(session, announcement_id)
    session.execute(delete(AnnouncementReaction).where(AnnouncementReaction.announcement_id == row.id,
                                                       AnnouncementReaction.account_id == account_id,
                                                       AnnouncementReaction.name == name))


def render(session: Session, rows: list[Announcement], viewer_id: int | None) -> list[dict[str, Any]]:
    from warden.api.serializers import iso

    ids = [r.id for r in rows]
    read = set(session.scalars(select(AnnouncementRead.announcement_id).where(
        AnnouncementRead.account_id == viewer_id, AnnouncementRead.announcement_id.in_(ids)))) if ids else set()
    counts: dict[int, list[tuple[str, int]]] = {}
    for announcement_id, name, n in session.execute(
            select(AnnouncementReaction.announcement_id, AnnouncementReaction.name, func.count())
            .where(AnnouncementReaction.announcement_id.in_(ids))
            .group_by(AnnouncementReaction.announcement_id, AnnouncementReaction.name)):
        counts.setdefault(announcement_id, []).append((name, n))
    mine = set(session.execute(select(AnnouncementReaction.announcement_id, AnnouncementReaction.name).where(
        AnnouncementReaction.account_id == viewer_id, AnnouncementReaction.announcement_id.in_(ids))).all()) \
        if ids else set()
    return [{
        "id": str(r.id), "content": r.content_html, "starts_at": iso(r.starts_at), "ends_at": iso(r.ends_at),
        "all_day": r.all_day, "published": r.published, "published_at": iso(r.created_at),
        "updated_at": iso(r.updated_at), "read": r.id in read, "mentions": [], "statuses": [], "tags": [],
        "emojis": [],
        "reactions": [{"name": name, "count": n, "me": (r.id, name) in mine, "url": None, "static_url": None}
                      for name, n in sorted(counts.get(r.id, []))],
    } for r in rows]
