"""Web Push (docs.joinmastodon.org/methods/push): subscriptions per access token, the server's VAPID key,
and delivery of notifications to the push services apps registered.

- One subscription per access token: creating one replaces the token's previous one. It keeps the
  endpoint, the browser's or app's keys (`p256dh`, `auth`), which notification types to push
  (`alerts`) and from whom (`policy`: all, followed, follower, none).
- The VAPID key pair (ECDSA P-256) is generated once, stored in the database so every node signs with
  the same key, and published as `server_key` / `vapid_key`.
- Delivery: the outbox's `notification.created` event, handled by the worker, hands the work to a small
  sender thread (`Sender`), so neither the request that caused the notification nor the moderation
  worker waits on a push service. Each message is encrypted as RFC 8291 says (`aes128gcm`; the legacy
  `aesgcm` draft for subscriptions that did not say `standard`) and signed with VAPID (RFC 8292; draft
  01's headers for legacy subscriptions, as Mastodon sends them) by pywebpush. A subscription the push service answers 404 or 410 is deleted, as Mastodon does.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.store.client3_models import PushSubscription, ServerKeyPair
from warden.store.db import Database
from warden.store.models import Account, Follow, Notification, OAuthToken, Status

log = logging.getLogger(__name__)

ALERT_TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
               "admin.sign_up", "admin.report")
POLICIES = ("all", "followed", "follower", "none")
VAPID_NAME = "vapid"
TTL_SECONDS = 48 * 3600  # Mastodon's


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the VAPID key ------------------------------------------------------------------------------

_KEY_CACHE: dict[str, tuple[str, str]] = {}
_KEY_LOCK = threading.Lock()


def vapid_keys(db: Database) -> tuple[str, str]:
    """(private key PEM, public key base64url): made on first use, then the stored pair for ever."""
    with _KEY_LOCK:
        cached = _KEY_CACHE.get(db.url)
        if cached is not None:
            return cached
        with db.read() as session:
            row = session.get(ServerKeyPair, VAPID_NAME)
            found = (row.private_pem, row.public_key) if row is not None else None
        if found is None:
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode("ascii")
            public = _b64url(key.public_key().public_bytes(serialization.Encoding.X962,
                                                           serialization.PublicFormat.UncompressedPoint))
            try:
                with db.write() as session:
                    if session.get(ServerKeyPair, VAPID_NAME) is None:
                        session.add(ServerKeyPair(name=VAPID_NAME, private_pem=pem, public_key=public))
            except IntegrityError:
                pass  # another process stored one first: use theirs
            with db.read() as session:
                row = session.get(ServerKeyPair, VAPID_NAME)
                assert row is not None
                found = (row.private_pem, row.public_key)
        _KEY_CACHE[db.url] = found
        return found


def vapid_public_key(db: Database) -> str:
    return vapid_keys(db)[1]


# --- subscriptions ------------------------------------------------------------------------------


def _alerts(raw: dict[str, Any] | None, base: dict[str, bool] | None = None) -> dict[str, bool]:
    alerts = dict(base or {t: False for t in ALERT_TYPES})
    for name, value in (raw or {}).items():
        if name in ALERT_TYPES:
            alerts[name] = str(value).lower() in ("1", "true", "on", "yes")
    return alerts


def _check_policy(policy: str | None, default: str) -> str:
    policy = policy or default
    if policy not in POLICIES:
        raise ValidationFailed("Validation failed: Policy is not included in the list")
    return policy


def subscribe(session: Session, *, token_id: int, account_id: int, subscription: dict[str, Any],
              data: dict[str, Any]) -> PushSubscription:
    """Create the token's subscription, replacing its previous one."""
    endpoint = str(subscription.get("endpoint") or "")
    keys = subscription.get("keys") if isinstance(subscription.get("keys"), dict) else {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(endpoint) > 2048:
        raise ValidationFailed("Validation failed: Endpoint is not a valid URL")
    try:
        point, secret = _unb64url(p256dh), _unb64url(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, binascii.Error):
        raise ValidationFailed("Validation failed: Keys are not a valid P-256 key and authentication secret") from None
    if len(secret) != 16:
        raise ValidationFailed("Validation failed: Keys are not a valid P-256 key and authentication secret")
    standard = str(subscription.get("standard", "false")).lower() in ("1", "true", "on", "yes")
    policy = _check_policy(data.get("policy"), "all")
    session.execute(delete(PushSubscription).where(PushSubscription.token_id == token_id))
    row = PushSubscription(token_id=token_id, account_id=account_id, endpoint=endpoint, key_p256dh=p256dh,
                           key_auth=auth, alerts=_alerts(data.get("alerts") if isinstance(data.get("alerts"), dict)
                                                         else None), policy=policy, standard=standard, failures=0)
    session.add(row)
    session.flush()
    return row


def current(session: Session, token_id: int) -> PushSubscription:
    row = session.scalar(select(PushSubscription).where(PushSubscription.token_id == token_id))
    if row is None:
        raise NotFound()
    return row


def change(session: Session, token_id: int, data: dict[str, Any]) -> PushSubscription:
    """Change alerts and policy only (Mastodon's PUT)."""
    row = current(session, token_id)
    alerts = data.get("alerts") if isinstance(data.get("alerts"), dict) else None
    if alerts is not None:
        row.alerts = _alerts(alerts, row.alerts)
    row.policy = _check_policy(data.get("policy"), row.policy)
    session.flush()
    return row


def unsubscribe(session: Session, token_id: int) -> None:
    session.execute(delete(PushSubscription).where(PushSubscription.token_id == token_id))


def subscription_json(row: PushSubscription, server_key: str) -> dict[str, Any]:
    return {"id": str(row.id), "endpoint": row.endpoint, "standard": row.standard,
            "alerts": {t: bool(row.alerts.get(t, False)) for t in ALERT_TYPES}, "policy": row.policy,
            "server_key": server_key}


# --- delivery -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str
    standard: bool
    payload: bytes


def _wanted(session: Session, sub: PushSubscription, notification: Notification) -> bool:
    if not sub.alerts.get(notification.type, False):
        return False
    if sub.policy == "none":
        return False
    if sub.policy == "followed":  # from accounts the reader follows
        return bool(session.scalar(select(exists().where(Follow.account_id == notification.account_id,
                                                         Follow.target_id == notification.from_account_id))))
    if sub.policy == "follower":  # from the reader's followers
        return bool(session.scalar(select(exists().where(Follow.account_id == notification.from_account_id,
                                                         Follow.target_id == notification.account_id))))
    return True


_TITLES = {"mention": "{name} mentioned you", "status": "{name} just posted", "reblog": "{name} boosted your post",
           "follow": "{name} is now following you", "follow_request": "{name} has requested to follow you",
           "favourite": "{name} favourited your post", "poll": "A poll has ended", "update": "{name} edited a post",
           "admin.sign_up": "{name} signed up", "admin.report": "{name} filed a report"}


def messages_for(session: Session, notification_id: int, base_url: str) -> list[Message]:
    """What to push for a notification: one message per subscription that wants it (Mastodon's payload:
    notification id and type, title, body, icon; never the access token, which Warden keeps only hashed)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.filtered:
        return []
    subs = list(session.scalars(select(PushSubscription).join(OAuthToken, OAuthToken.id == PushSubscription.token_id)
                                .where(PushSubscription.account_id == notification.account_id,
                                       OAuthToken.revoked_at.is_(None))))
    subs = [s for s in subs if _wanted(session, s, notification)]
    if not subs:
        return []
    sender = session.get(Account, notification.from_account_id)
    reader = session.get(Account, notification.account_id)
    name = (sender.display_name or sender.username) if sender is not None else ""
    body = ""
    if notification.status_id is not None:
        status = session.get(Status, notification.status_id)
        body = (status.text if status is not None else "")[:140]
    payload = json.dumps({
        "notification_id": str(notification.id), "notification_type": notification.type,
        "preferred_locale": reader.locale if reader is not None else "en",
        "icon": f"{base_url}/static/avatar.png",
        "title": _TITLES.get(notification.type, "{name}").format(name=name), "body": body,
    }).encode("utf-8")
    return [Message(s.id, s.endpoint, s.key_p256dh, s.key_auth, s.standard, payload) for s in subs]


def send(db: Database, message: Message, *, subject: str, timeout: float = 10.0) -> int:
    """Encrypt, sign and POST one message; returns the push service's status (0: no answer)."""
    from pywebpush import WebPushException, webpush  # imported here: only the sender needs it

    private_pem, _ = vapid_keys(db)
    info = {"endpoint": message.endpoint, "keys": {"p256dh": message.p256dh, "auth": message.auth}}
    try:
        response = webpush(info, data=message.payload, vapid_private_key=_vapid(private_pem, legacy=not message.standard),
                           vapid_claims={"sub": subject}, ttl=TTL_SECONDS, timeout=timeout,
                           content_encoding="aes128gcm" if message.standard else "aesgcm")
        status = int(response.status_code)
    except WebPushException as exc:
        status = int(exc.response.status_code) if exc.response is not None else 0
    except Exception as exc:  # a push service that does not answer must not stop the sender
        log.warning("push delivery to %s failed: %s", urlsplit(message.endpoint).netloc, exc)
        status = 0
    if status in (404, 410):  # the subscription is gone for good: forget it
        with db.write() as session:
            session.execute(delete(PushSubscription).where(PushSubscription.id == message.subscription_id))
    elif status == 0 or status >= 400:
        with db.write() as session:
            row = session.get(PushSubscription, message.subscription_id)
            if row is not None:
                row.failures += 1
                row.last_error = f"HTTP {status}" if status else "no answer"
    return status


def _vapid(private_pem: str, *, legacy: bool) -> Any:
    """VAPID as Mastodon signs: RFC 8292 (`Authorization: vapid t=..., k=...`) for standard subscriptions;
    draft 01 for legacy ones (`Authorization: WebPush <jwt>`, `Crypto-Key: dh=...;p256ecdsa=<key>`), which
    is what apps that never said `standard` decrypt and check."""
    from py_vapid import Vapid01, Vapid02

    return (Vapid01 if legacy else Vapid02).from_pem(private_pem.encode("ascii"))


class Sender:
    """A daemon thread that delivers push messages in the background, in order, one at a time."""

    def __init__(self, db: Database, subject: str) -> None:
        self.db = db
        self.subject = subject
        self._queue: queue.Queue[Message | None] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, messages: list[Message]) -> None:
        if not messages:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="warden-push-sender", daemon=True)
                self._thread.start()
        for message in messages:
            try:
                self._queue.put_nowait(message)
            except queue.Full:
                log.warning("push queue full: a notification was not pushed")

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            send(self.db, message, subject=self.subject)

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)


class PushWorker:
    """Consumes the outbox (its own position, `push`) for `notification.created` and hands what to push to
    a `Sender`. Runs in the server process wherever the moderation worker does (the embedded default), and
in `warden worker --roles push` with a broker; one process of a database pushes at a time."""

    NAME = "push"

    def __init__(self, db: Database, base_url: str, *, idle: float = 0.25) -> None:
        from warden.cases.worker import Consumer, OutboxSource, stored_position, store_position

        self._source = source = OutboxSource(db)
        self._positions = (stored_position, store_position)
        self.db = db
        self.base_url = base_url
        self.sender = Sender(db, subject=f"{base_url}/about" if base_url.startswith("https://") else
                             "mailto:push@warden.invalid")
        self.consumer = Consumer(self.NAME, db, source, self._handle, types=frozenset({"notification.created"}))
        self.idle = idle
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _handle(self, session: Session, event: Any) -> None:
        if event.type == "notification.created":
            self.sender.submit(messages_for(session, int(event.payload.get("notification_id") or 0), self.base_url))

    def start(self) -> None:
        stored, store = self._positions
        if stored(self.db, self.NAME) == 0:  # first start: from now on, never the history before it
            store(self.db, self.NAME, self._source.last_id())
        self._thread = threading.Thread(target=self._run, name="warden-push-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sender.stop()

    def _run(self) -> None:
        # one pusher per database at a time (several `warden serve --workers`, or `warden worker --roles
        # push`): two would each send every notification
        from warden.store.leader import LeaderLock, lead

        lead(LeaderLock(self.db, "push"), self._stop, lambda: self.consumer.poll() >= self.consumer.batch,
             idle=self.idle)

    def around(self, inner: Any) -> Any:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def lifespan(app: Any) -> Any:
            async with inner(app):
                self.start()
                try:
                    yield
                finally:
                    self.stop()

        return lifespan
