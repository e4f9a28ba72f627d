"""Tables of the client API's per-user state (issue 33): lists, filters, markers, bookmarks and
direct-message conversations. Each is owned by one account and deleted with it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warden.store.models import Base, BigID, utcnow

REPLIES_POLICIES = ("followed", "list", "none")
FILTER_CONTEXTS = ("home", "notifications", "public", "thread", "account")
FILTER_ACTIONS = ("warn", "hide", "blur")
MARKER_TIMELINES = ("home", "notifications")


class UserList(Base):
    """A list of accounts its owner follows (`/api/v1/lists`), with its own timeline."""

    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    replies_policy: Mapped[str] = mapped_column(String(10), default="list")  # followed | list | none
    #: Members' posts are left out of the owner's home timeline.
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ListAccount(Base):
    __tablename__ = "list_accounts"
    __table_args__ = (UniqueConstraint("list_id", "account_id"), Index("ix_list_accounts_account_id", "account_id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))


class CustomFilter(Base):
    """A filter group (`/api/v2/filters`): keywords and statuses, matched server-side."""

    __tablename__ = "filters"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    context: Mapped[list[Any]] = mapped_column(default=list)
    filter_action: Mapped[str] = mapped_column(String(10), default="warn")  # warn | hide | blur
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FilterKeyword(Base):
    __tablename__ = "filter_keywords"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"), index=True)
    keyword: Mapped[str] = mapped_column(Text)
    whole_word: Mapped[bool] = mapped_column(Boolean, default=True)


class FilterStatus(Base):
    __tablename__ = "filter_statuses"
    __table_args__ = (UniqueConstraint("filter_id", "status_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))


class Marker(Base):
    """The last read position in a timeline (`/api/v1/markers`)."""

    __tablename__ = "markers"
    __table_args__ = (UniqueConstraint("account_id", "timeline"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    timeline: Mapped[str] = mapped_column(String(20))
    last_read_id: Mapped[int] = mapped_column(BigID, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Bookmark(Base):
    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("account_id", "status_id"), Index("ix_bookmarks_status_id", "status_id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountConversation(Base):
    """One participant's view of a direct-message thread (Mastodon's AccountConversation): the thread
    is named by its first post (`root_id`); `unread` is this participant's own state."""

    __tablename__ = "account_conversations"
    __table_args__ = (UniqueConstraint("account_id", "root_id"),
                      Index("ix_account_conversations_account_id_last", "account_id", "last_status_id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    root_id: Mapped[int] = mapped_column(BigID)
    #: The other participants' account ids.
    participant_ids: Mapped[list[Any]] = mapped_column(default=list)
    last_status_id: Mapped[int] = mapped_column(BigID)
    #: The thread's direct posts this participant is in, oldest first (a deleted one leaves).
    status_ids: Mapped[list[Any]] = mapped_column(default=list)
    unread: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
