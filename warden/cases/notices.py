"""Partners (trusted flaggers) and their notices.

A batch of notices is stored in one transaction together with one `notices.received` outbox event,
so an accepted notice is never lost: the worker turns each into a case signal (state `in_review`),
and the case decision answers it (`actioned` or `no_action`, with the statement of reasons).
Invalid items get an error in their position of the response and are not stored.

A partner sees what was ever published to everyone: public and unlisted posts, including those since
removed or whose author is suspended (the late notice is answered with the decision). A notice about
a post it cannot see (private, direct, held) is answered exactly as one about a post that does not
exist, so the answer reveals nothing; it is still recorded (`concealed`) and reaches moderators like
any other, but the partner never sees it in its notices.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from warden.cases import audit, decisions
from warden.config import Settings
from warden.errors import Conflict, NotFound, ValidationFailed
from warden.platform.auth import digest
from warden.platform.ids import as_id, parse_id
from warden.store.outbox import emit
from warden.store.models import Account, Status, utcnow
from warden.store.moderation_models import ModerationDecision, Notice, Partner

MAX_BATCH = 500
MAX_EXPLANATION = 5000
#: The request body a full batch may need: 500 notices of a 5,000-character explanation, which a client
#: that escapes non-ASCII text (Python's json.dumps does) sends as up to 6 bytes a character, plus a URL.
MAX_BATCH_BYTES = 16 * 1024 * 1024
EVENT_CHUNK = 25
#: The one answer for a post that does not exist and for one the partner may not see.
NO_SUCH_STATUS = "url does not name a status you can see"
_STATUS_PATH = re.compile(r"^/@(?P<user>[A-Za-z0-9_]{1,30})/(?P<id>[0-9]{1,19})/?$|"
                          r"^/users/(?P<user2>[A-Za-z0-9_]{1,30})/statuses/(?P<id2>[0-9]{1,19})/?$")


def create_partner(session: Session, name: str, *, trusted: bool = False) -> tuple[Partner, str]:
    """A new partner and its bearer token (only the digest is stored: print the token now)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("A partner needs a name of 1 to 100 characters")
    if session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
        raise Conflict(f"A partner named {name!r} already exists")
    token = "wpt_" + secrets.token_urlsafe(32)
    partner = Partner(name=name, trusted=trusted, token_hash=digest(token))
    session.add(partner)
    session.flush()
    audit.append(session, action="partner.created", subject=f"partner:{partner.id}",
                 data={"name": name, "trusted": trusted})
    return partner, token


def partner_for_token(session: Session, token: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.token_hash == digest(token), Partner.revoked_at.is_(None)))


def _status_id(settings: Settings, url: str) -> tuple[str, int] | None:
    base = urlsplit(settings.base_url)
    parts = urlsplit(url.strip())
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    path = parts.path[len(base.path.rstrip("/")):] if base.path.strip("/") else parts.path
    match = _STATUS_PATH.match(path)
    if match is None:
        return None
    ident = as_id(match.group("id") or match.group("id2"))
    return None if ident is None else ((match.group("user") or match.group("user2")), ident)


def partner_may_see(status: Status) -> bool:
    """Whether the post was published to everyone (a held post never was; a removed one may have been)."""
    return status.visibility in ("public", "unlisted") and status.state != "held"


def submit(session: Session, settings: Settings, partner: Partner, items: list[Any]) -> list[dict[str, Any]]:
    """Store a batch; the answer has one entry per item, in order: {"id", "status"} or {"error"}."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed("Validation failed: notices must be a non-empty list")
    if len(items) > MAX_BATCH:
        raise ValidationFailed(f"Validation failed: at most {MAX_BATCH} notices per request")
    parsed: list[tuple[int, dict[str, Any], str, int] | dict[str, Any]] = []
    for index, item in enumerate(items):
        error = None
        if not isinstance(item, dict):
            error = "each notice must be an object with url, category and explanation"
        elif not isinstance(item.get("url"), str) or not item["url"].strip():
            error = "url is required"
        elif not isinstance(item.get("category"), str) or not item["category"].strip() or len(item["category"]) > 50:
            error = "category is required (at most 50 characters)"
        elif not isinstance(item.get("explanation", ""), str) or len(item.get("explanation", "")) > MAX_EXPLANATION:
            error = f"explanation must be a string of at most {MAX_EXPLANATION} characters"
        target = _status_id(settings, item["url"]) if error is None else None
        if error is None and target is None:
            error = f"url is not a status on this server (expected {settings.base_url}/@username/id)"
        if error is not None:
            parsed.append({"index": index, "error": error})
        else:
            assert target is not None
            parsed.append((index, item, target[0].lower(), target[1]))
    wanted = {p[3] for p in parsed if isinstance(p, tuple)}
    found: dict[int, tuple[str, bool]] = {}  # status id -> (author's username, visible to the partner)
    if wanted:
        rows = session.execute(select(Status, Account).join(Account, Account.id == Status.account_id)
                               .where(Status.id.in_(wanted), Status.deleted_at.is_(None))).all()
        found = {status.id: (author.username_key, partner_may_see(status)) for status, author in rows}
    now = utcnow()
    stored: list[tuple[int, Notice]] = []
    results: list[dict[str, Any]] = [{} for _ in items]
    for entry in parsed:
        if isinstance(entry, dict):
            results[entry["index"]] = {"error": entry["error"]}
            continue
        index, item, username, status_id = entry
        author, visible = found.get(status_id, ("", False))
        if author != username:
            results[index] = {"error": NO_SUCH_STATUS}
            continue
        notice = Notice(partner_id=partner.id, url=item["url"].strip(), status_id=status_id,
                        category=item["category"].strip().lower(), explanation=item.get("explanation", "") or "",
                        state="received", concealed=not visible, created_at=now, updated_at=now)
        stored.append((index, notice))
    if stored:
        session.add_all([n for _, n in stored])
        session.flush()
        ids = [n.id for _, n in stored]
        for start in range(0, len(ids), EVENT_CHUNK):  # small events: the worker's transactions stay short
            emit(session, "notices.received", None, {"partner_id": partner.id,
                                                     "notice_ids": ids[start:start + EVENT_CHUNK]})
        audit.append(session, action="notices.received", subject=f"partner:{partner.id}",
                     data={"count": len(ids), "first_id": ids[0], "last_id": ids[-1]})
        for index, notice in stored:
            results[index] = {"error": NO_SUCH_STATUS} if notice.concealed else \
                {"id": str(notice.id), "status": notice.state}
    return results


def get_notice(session: Session, partner: Partner, notice_id: int | str) -> dict[str, Any]:
    ident = parse_id(notice_id)
    notice = session.get(Notice, ident)
    if notice is None or notice.partner_id != partner.id or notice.concealed:
        raise NotFound("No such notice")
    return as_json(session, notice)


def as_json(session: Session, notice: Notice) -> dict[str, Any]:
    decision = session.get(ModerationDecision, notice.decision_id) if notice.decision_id else None
    return {"id": str(notice.id), "status": notice.state, "url": notice.url, "category": notice.category,
            "case_id": str(notice.case_id) if notice.case_id else None, "created_at": notice.created_at.isoformat(),
            "updated_at": notice.updated_at.isoformat(),
            "decision": decisions.as_json(decision) if decision is not None else None}
