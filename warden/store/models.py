"""The database schema: one SQLAlchemy model per table.

Alembic migrations under `warden/store/migrations/` create these tables; keep the two in step
(`alembic revision --autogenerate` against a fresh database shows any drift).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Integer primary keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigID = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: How far `utcnow()` is set back from the real clock. Only `warden demo` sets it (warden/store/clock.py),
#: to record its 30 days of history at the times they happened; everything else runs on real time.
CLOCK_OFFSET: ContextVar[timedelta | None] = ContextVar("warden_clock_offset", default=None)


def utcnow() -> datetime:
    offset = CLOCK_OFFSET.get()
    return datetime.now(UTC) if offset is None else datetime.now(UTC) + offset


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(30))
    #: Lower-cased username: usernames are unique regardless of case.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="user")  # user | moderator | senior | admin
    display_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    bot: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    silenced_at: Mapped[datetime | None]
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    statuses_count: Mapped[int] = mapped_column(Integer, default=0)


class OAuthApp(Base):
    __tablename__ = "oauth_apps"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    redirect_uris: Mapped[str] = mapped_column(Text)  # newline-separated
    scopes: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthCode(Base):
    """A one-time authorization code (OAuth 2 code flow, optionally PKCE)."""

    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(String(500))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(200))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OAuthToken(Base):
    """An access token; only its SHA-256 is stored."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    #: None for an app-only (client_credentials) token.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


#: The condition of the partial index behind home timelines. Queries repeat it as literal SQL
#: (not bound parameters), which is what lets SQLite and PostgreSQL match the partial index.
HOME_INDEX_WHERE = "deleted_at IS NULL AND state = 'published' AND visibility != 'direct'"
#: The reblog index holds reblogs only; every `reblog_of_id = ...` implies it (migration 0014).
REBLOGS_WHERE = "reblog_of_id IS NOT NULL"


class Status(Base):
    __tablename__ = "statuses"
    __table_args__ = (
        # Fan-out on read: a home timeline is "newest statuses of these accounts".
        Index("ix_statuses_account_id_id", "account_id", "id"),
        # Home timelines read only ids from this covering, partial index, then load the page's rows.
        Index("ix_statuses_home", "account_id", "id", "reblog_of_account_id",
              sqlite_where=text(HOME_INDEX_WHERE), postgresql_where=text(HOME_INDEX_WHERE)),
        Index("ix_statuses_in_reply_to_id", "in_reply_to_id"),
        # Did the viewer reblog it: one probe.
        Index("ix_statuses_reblog_of_id_account_id", "reblog_of_id", "account_id",
              sqlite_where=text(REBLOGS_WHERE), postgresql_where=text(REBLOGS_WHERE)),
        Index("ix_statuses_public", "local_public", "id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: The text exactly as written (never rendered back without escaping).
    text: Mapped[str] = mapped_column(Text, default="")
    #: Safe HTML rendered from `text` at write time.
    content_html: Mapped[str] = mapped_column(Text, default="")
    spoiler_text: Mapped[str] = mapped_column(String(500), default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[str] = mapped_column(String(10), default="public")  # public|unlisted|private|direct
    language: Mapped[str | None] = mapped_column(String(16))
    in_reply_to_id: Mapped[int | None] = mapped_column(BigID)
    in_reply_to_account_id: Mapped[int | None] = mapped_column(BigID)
    reblog_of_id: Mapped[int | None] = mapped_column(BigID)
    reblog_of_account_id: Mapped[int | None] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    #: Moderation state: published | held (author only, awaiting review) | removed.
    state: Mapped[str] = mapped_column(String(12), default="published")
    #: Moderation "limit": kept out of public and tag timelines.
    limited: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Moderation label shown as a content warning.
    moderation_label: Mapped[str | None] = mapped_column(String(200))
    #: Denormalised for the public timeline index: published, not deleted, public, not limited.
    local_public: Mapped[bool] = mapped_column(Boolean, default=False)
    replies_count: Mapped[int] = mapped_column(Integer, default=0)
    reblogs_count: Mapped[int] = mapped_column(Integer, default=0)
    favourites_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Denormalised for rendering without extra queries: [{"id", "username"}] and tag names.
    mention_list: Mapped[list[Any]] = mapped_column(default=list)
    tag_list: Mapped[list[Any]] = mapped_column(default=list)
    #: Denormalised media attachments in order (`warden.media.service.list_entry`); None: none.
    media_list: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    #: The decision id of the moderation verdict that let it through (or held it).
    decision_id: Mapped[str | None] = mapped_column(String(40))


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # lower-cased


class StatusTag(Base):
    __tablename__ = "status_tags"
    __table_args__ = (Index("ix_status_tags_tag_id_status_id", "tag_id", "status_id"),)

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_account_id", "account_id"),)

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)


class Favourite(Base):
    __tablename__ = "favourites"
    __table_args__ = (UniqueConstraint("account_id", "status_id"), Index("ix_favourites_status_id", "status_id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("account_id", "target_id"), Index("ix_follows_target_id", "target_id", "id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Block(Base):
    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("account_id", "target_id"), Index("ix_blocks_target_id", "target_id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mute(Base):
    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("account_id", "target_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_account_id_id", "account_id", "id"),
                      Index("ix_notifications_account_id_group_key", "account_id", "group_key"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))  # follow | mention | favourite | reblog | moderation_warning
    status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    #: Extra payload for Warden's own types (e.g. a moderation decision id).
    data: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None]
    #: Held back by the reader's notification policy (a notification request, warden/store/client3_models.py).
    filtered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    #: Grouped notifications (v2): favourites/reblogs of one post, or follows, close in time share a key.
    group_key: Mapped[str | None] = mapped_column(String(64))


class Report(Base):
    """A user's report (POST /api/v1/reports)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    status_ids: Mapped[list[Any]] = mapped_column(default=list)
    rule_ids: Mapped[list[Any]] = mapped_column(default=list)
    category: Mapped[str] = mapped_column(String(16), default="other")  # spam|legal|violation|other
    comment: Mapped[str] = mapped_column(Text, default="")
    forward: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    action_taken_at: Mapped[datetime | None]


class InstanceRule(Base):
    __tablename__ = "instance_rules"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(Base):
    """Remembers `Idempotency-Key` headers so a retried POST returns the first result."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    status_id: Mapped[int] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEvent(Base):
    """The transactional outbox: written in the same transaction as the change it describes.

    Consumers (the moderation worker, later a broker relay) read it in id order and keep their own
    position, so every event is delivered at least once.
    """

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))  # status.created | status.updated | status.deleted | report.created ...
    subject_id: Mapped[int | None] = mapped_column(BigID)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
