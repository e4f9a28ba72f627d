"""Signed appeal links: a suspended author appeals without a token.

Suspension refuses every token of the account, and a user who never had one (or lost it) must still be
able to contest the decision (DSA Art. 20). So the author is sent a link signed with the server's
secret key (itsdangerous) and bound to the decision and the account: anyone holding the link can read
the statement of reasons and file the one appeal the decision allows, under the same rules as the
token route (cases/appeals.py), until the appeal window closes.

The link carries no timestamp: the window is counted from the decision, so the same link is sent in
the notification and shown by GET /api/warden/v1/decisions/{id}. It goes to the author only, never
into the statement of reasons that notifiers see, since it is the author's right to appeal.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from warden.cases.appeals import APPEALABLE
from warden.config import Settings
from warden.errors import Forbidden, NotFound
from warden.platform.server_key import secret_key
from warden.store.models import Account, utcnow
from warden.store.moderation_models import ModerationDecision

#: How long after a decision it may be appealed through its link (the DSA asks for at least six months).
APPEAL_WINDOW = timedelta(days=183)
SALT = "warden.appeal-link"
PATH = "/api/warden/v1/appeal-links/"


class LinkExpired(Forbidden):
    """The appeal window of the decision has closed."""


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(settings), salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def token_for(settings: Settings, decision: ModerationDecision) -> str | None:
    """The signed token of the decision's appeal link; None for a decision that cannot be appealed."""
    if decision.account_id is None or decision.shadow or decision.action not in APPEALABLE:
        return None
    return str(_serializer(settings).dumps({"d": decision.id, "a": decision.account_id}))


def link_for(settings: Settings, decision: ModerationDecision) -> str | None:
    token = token_for(settings, decision)
    return f"{settings.base_url}{PATH}{token}" if token else None


def open_link(session: Session, settings: Settings, token: str) -> tuple[ModerationDecision, Account]:
    """The decision and account a link was signed for; NotFound for a link not signed by this server
    (or for a decision or account since deleted), LinkExpired once the appeal window has closed."""
    try:
        payload: Any = _serializer(settings).loads(token or "")
    except BadSignature:
        raise NotFound("This appeal link is not valid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("d"), str) or not isinstance(payload.get("a"), int):
        raise NotFound("This appeal link is not valid")
    decision = session.get(ModerationDecision, payload["d"])
    account = session.get(Account, payload["a"])
    if decision is None or account is None or decision.account_id != account.id:
        raise NotFound("This appeal link is not valid")
    if decision.created_at + APPEAL_WINDOW <= utcnow():
        raise LinkExpired("The time to appeal this decision has passed")
    return decision, account
