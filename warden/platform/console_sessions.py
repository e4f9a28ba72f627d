"""Server-side console sessions: opened at login, ended by logout, and ended for an account whenever
what it may do changes (password, role, suspension).

A signed cookie cannot be taken back: a copy made before logout stays valid until it expires. So
the console's cookie holds only a random id, and the session is a row here found by that id's
SHA-256 (a leaked table cannot be replayed as cookies). Ending a session deletes its row; every
request looks the row up, so an ended session is refused on the next request, on every process.

A session lives at most `LIFETIME` from login and `IDLE` from its last request. Visitors who have not
logged in yet (the login form needs a CSRF token) get a short-lived anonymous session; expired rows
are swept whenever a session is opened.

Account changes call `end_for_account` in their own transaction (platform/accounts.py for role and
password, cases/decisions.py for suspension), so the sessions end exactly when the change commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from warden.platform.auth import digest
from warden.store.models import utcnow
from warden.store.moderation_models import ConsoleSession

#: The longest a login lasts, however busy.
LIFETIME = timedelta(hours=12)
#: A login unused this long is over.
IDLE = timedelta(hours=2)
#: An anonymous visit (the login form's CSRF token) lasts this long.
ANONYMOUS_LIFETIME = timedelta(hours=1)
#: `last_seen_at` is written at most this often per session (not on every request).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Found:
    """A live session as a request sees it."""

    account_id: int | None
    partner_id: int | None
    role: str | None
    data: dict[str, Any]


def new_id() -> str:
    return secrets.token_urlsafe(32)


def open_session(session: Session, data: dict[str, Any], *, account_id: int | None = None,
                 partner_id: int | None = None, role: str | None = None) -> str:
    """A new session (for a login when `account_id` or `partner_id` is given); returns the raw id for
    the cookie, which is stored nowhere."""
    now = utcnow()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    raw = new_id()
    logged_in = account_id is not None or partner_id is not None
    session.add(ConsoleSession(id_hash=digest(raw), account_id=account_id, partner_id=partner_id, role=role,
                               data=dict(data), created_at=now, last_seen_at=now,
                               expires_at=now + (LIFETIME if logged_in else ANONYMOUS_LIFETIME)))
    return raw


def find(session: Session, raw: str) -> tuple[Found, bool] | None:
    """The live session with this raw id, and whether its `last_seen_at` is due to be written; None
    when there is none (never was, logged out, ended, expired or idle too long)."""
    if not raw or len(raw) > 100:
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.id_hash == digest(raw)))
    now = utcnow()
    if row is None or row.expires_at <= now or row.last_seen_at + IDLE <= now:
        return None
    found = Found(row.account_id, row.partner_id, row.role, dict(row.data or {}))
    return found, row.last_seen_at + TOUCH_EVERY <= now


def touch(session: Session, raw: str) -> None:
    session.execute(update(ConsoleSession).where(ConsoleSession.id_hash == digest(raw)).values(last_seen_at=utcnow()))


def save(session: Session, raw: str, data: dict[str, Any]) -> None:
    session.execute(update(ConsoleSession).where(ConsoleSession.id_hash == digest(raw))
                    .values(data=dict(data), last_seen_at=utcnow()))


def close(session: Session, raw: str) -> None:
    """End one session (logout)."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == digest(raw)))


def end_for_account(session: Session, account_id: int) -> int:
    """End every console session of an account; returns how many there were."""
    result = session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_for_partner(session: Session, partner_id: int) -> int:
    """End every console session of a partner (its token was revoked or replaced)."""
    result = session.execute(delete(ConsoleSession).where(ConsoleSession.partner_id == partner_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
