"""The operator's texts clients show: privacy policy and terms of service (`/api/v1/instance/...`).

Each is a plain-text file the operator writes (`WARDEN_PRIVACY_POLICY_FILE`, `WARDEN_TERMS_OF_SERVICE_FILE`
with `WARDEN_TERMS_EFFECTIVE_DATE`, YYYY-MM-DD, default the file's modification date). It is shown as
HTML paragraphs with every character escaped: the operator's words, never markup. Without a privacy
policy file Warden serves its own default, which says what this software stores, as Mastodon serves its
default policy; without a terms file there are no terms (404, as Mastodon answers when none are published).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path

DEFAULT_POLICY_DATE = datetime(2026, 12, 1, tzinfo=UTC)
DEFAULT_POLICY = """What this server keeps about you

Your account: your username, e-mail address, a hash of your password (never the password itself), your profile and your settings.

What you post: your posts, their edits, what you favourite, repost, bookmark and report, whom you follow, block and mute. Direct messages are visible to the server's moderators only when they are reported or held for review.

Moderation records: when a post or an account is reviewed, the decision, its statement of reasons and the scores of the automated checks are kept, so that you can read why and appeal, and so that the server can answer for what it did.

Access tokens are stored only as hashes. Push subscriptions keep the address and keys your app gave, to deliver your notifications, until you or your app remove them.

Ask the server's contact address to export or delete your data."""


@dataclass(frozen=True)
class Text:
    updated: datetime
    html: str


def to_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs (blank lines separate paragraphs)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _read(variable: str) -> tuple[str, datetime] | None:
    name = os.environ.get(variable, "").strip()
    if not name:
        return None
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8"), datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def privacy_policy() -> Text:
    found = _read("WARDEN_PRIVACY_POLICY_FILE")
    if found is None:
        return Text(DEFAULT_POLICY_DATE, to_html(DEFAULT_POLICY))
    return Text(found[1], to_html(found[0]))


@dataclass(frozen=True)
class Terms:
    effective_date: date
    html: str


def terms_of_service() -> Terms | None:
    found = _read("WARDEN_TERMS_OF_SERVICE_FILE")
    if found is None:
        return None
    configured = os.environ.get("WARDEN_TERMS_EFFECTIVE_DATE", "").strip()
    try:
        effective = date.fromisoformat(configured) if configured else found[1].date()
    except ValueError:
        effective = found[1].date()
    return Terms(effective, to_html(found[0]))
