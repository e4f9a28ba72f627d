"""Tables of the copies check (issue 32): the fingerprints of posts a decision removed.

`removed_texts` holds one row per removed post: its MinHash signature (warden/detection/text_fingerprint.py),
the decision that removed it and, once the post is restored, when and why it left the index.
`removed_text_keys` holds its LSH band keys (or, for a short post, the key of its exact words),
indexed on the key: a draft is looked up with one query over its own keys. A restored post's keys are
deleted, so a lookup never meets them. Migration 0013 creates both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from warden.store.models import Base, BigID, utcnow


class RemovedText(Base):
    """The fingerprint of a post a decision removed: drafts that copy it are held."""

    __tablename__ = "removed_texts"
    __table_args__ = (Index("ix_removed_texts_status_id", "status_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    status_id: Mapped[int] = mapped_column(BigID)
    #: the removal decision (its case is the one copies join)
    decision_id: Mapped[str] = mapped_column(String(40))
    #: the decision's policy label, given to the copies' holds
    label: Mapped[str | None] = mapped_column(String(50))
    #: text_fingerprint.VERSION: signatures of another version are never compared
    version: Mapped[str] = mapped_column(String(60))
    words: Mapped[int] = mapped_column(Integer)
    #: NUM_PERM little-endian uint32 values; NULL for a short post, matched on its exact words
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200))


class RemovedTextKey(Base):
    """One LSH band key (or exact-words key) of a removed post."""

    __tablename__ = "removed_text_keys"
    __table_args__ = (Index("ix_removed_text_keys_key", "key"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    key: Mapped[int] = mapped_column(BigInteger)
    removed_text_id: Mapped[int] = mapped_column(ForeignKey("removed_texts.id", ondelete="CASCADE"))
