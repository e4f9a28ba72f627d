"""Tables of the client API's third group (issue 33): notification policies and requests, the senders a
reader accepted, Web Push subscriptions and the server's VAPID key pair. Migration 0012 creates them
(and the `filtered` flag on notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warden.store.models import Base, BigID, utcnow

#: What a policy does with a notification from a sender in that category (Mastodon 4.3+).
POLICY_ACTIONS = ("accept", "filter", "drop")


class NotificationPolicy(Base):
    """How the reader's notifications from unknown senders are handled; no row: Mastodon's defaults."""

    __tablename__ = "notification_policies"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    for_not_following: Mapped[str] = mapped_column(String(8), default="accept")
    for_not_followers: Mapped[str] = mapped_column(String(8), default="accept")
    for_new_accounts: Mapped[str] = mapped_column(String(8), default="accept")
    for_private_mentions: Mapped[str] = mapped_column(String(8), default="filter")
    for_limited_accounts: Mapped[str] = mapped_column(String(8), default="filter")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationRequest(Base):
    """Filtered notifications from one sender, waiting for the reader to accept or dismiss them."""

    __tablename__ = "notification_requests"
    __table_args__ = (UniqueConstraint("account_id", "from_account_id"),
                      Index("ix_notification_requests_account_id_id", "account_id", "id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    last_status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPermission(Base):
    """A sender whose notifications the reader accepted (an accepted request): never filtered again."""

    __tablename__ = "notification_permissions"
    __table_args__ = (UniqueConstraint("account_id", "from_account_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(Base):
    """A Web Push subscription: one per access token, as Mastodon keeps them."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("oauth_tokens.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    key_p256dh: Mapped[str] = mapped_column(String(200))
    key_auth: Mapped[str] = mapped_column(String(100))
    alerts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy: Mapped[str] = mapped_column(String(16), default="all")
    standard: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ServerKeyPair(Base):
    """A key pair the server generates once and keeps (the VAPID key that signs Web Push deliveries)."""

    __tablename__ = "server_key_pairs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(200))  # base64url, uncompressed P-256 point
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
