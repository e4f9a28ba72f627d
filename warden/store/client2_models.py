"""Tables of the client API's second group (issue 33): follow requests, edit history, pins, muted
conversations, polls, scheduled posts, trend reviews, announcements, followed and featured tags,
endorsements, suggestion dismissals and domain blocks. Migration 0011 creates them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warden.store.models import Base, BigID, utcnow


class FollowRequest(Base):
    """A request to follow a locked account, until the account authorizes or rejects it."""

    __tablename__ = "follow_requests"
    __table_args__ = (UniqueConstraint("account_id", "target_id"), Index("ix_follow_requests_target_id", "target_id", "id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusEdit(Base):
    """One version of an edited status (the first row is the original), for `/history`."""

    __tablename__ = "status_edits"
    __table_args__ = (Index("ix_status_edits_status_id", "status_id", "id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    spoiler_text: Mapped[str] = mapped_column(String(500), default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The poll's option titles at this version, or None.
    poll_options: Mapped[list[Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusPin(Base):
    __tablename__ = "status_pins"
    __table_args__ = (UniqueConstraint("account_id", "status_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationMute(Base):
    """A muted conversation: `root_id` is the thread's first post (the reply chain walked to its top)."""

    __tablename__ = "conversation_mutes"
    __table_args__ = (UniqueConstraint("account_id", "root_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    root_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: Option titles, in order.
    options: Mapped[list[Any]] = mapped_column(default=list)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_totals: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set once voters and author were told the poll ended (the `poll` notification).
    ended_notified_at: Mapped[datetime | None]


class PollVote(Base):
    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "account_id", "choice"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    choice: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduledStatus(Base):
    """A post to publish at `scheduled_at`; `params` are the post's parameters as Mastodon lists them.
    The row is deleted in the transaction that publishes it (through the moderation gate)."""

    __tablename__ = "scheduled_statuses"
    __table_args__ = (Index("ix_scheduled_statuses_due", "scheduled_at"),
                      Index("ix_scheduled_statuses_account_id", "account_id", "id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime]
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Why publication failed (blocked by the gate, the reply target gone...), when it did.
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrendReview(Base):
    """A moderator's review of a trending tag or status (Mastodon's trends review): approved or rejected."""

    __tablename__ = "trend_reviews"
    __table_args__ = (UniqueConstraint("kind", "target_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))  # tag | status
    target_id: Mapped[int] = mapped_column(BigID)
    state: Mapped[str] = mapped_column(String(10))  # approved | rejected
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    content_html: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnouncementRead(Base):
    __tablename__ = "announcement_reads"
    __table_args__ = (UniqueConstraint("announcement_id", "account_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))


class AnnouncementReaction(Base):
    __tablename__ = "announcement_reactions"
    __table_args__ = (UniqueConstraint("announcement_id", "account_id", "name"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))


class TagFollow(Base):
    __tablename__ = "tag_follows"
    __table_args__ = (UniqueConstraint("account_id", "tag_id"), Index("ix_tag_follows_tag_id", "tag_id"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeaturedTag(Base):
    __tablename__ = "featured_tags"
    __table_args__ = (UniqueConstraint("account_id", "tag_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Endorsement(Base):
    """An account featured on another's profile (`POST /api/v1/accounts/:id/pin`)."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("account_id", "target_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuggestionDismissal(Base):
    __tablename__ = "suggestion_dismissals"
    __table_args__ = (UniqueConstraint("account_id", "target_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))


class DomainBlock(Base):
    """A user's block of a whole domain. Stored and listed; with no federation it hides nothing yet."""

    __tablename__ = "user_domain_blocks"
    __table_args__ = (UniqueConstraint("account_id", "domain"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountNote(Base):
    """A private note about another account, seen only by its writer (`POST /api/v1/accounts/:id/note`)."""

    __tablename__ = "account_notes"
    __table_args__ = (UniqueConstraint("account_id", "target_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    comment: Mapped[str] = mapped_column(Text, default="")
