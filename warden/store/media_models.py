"""Media attachments (issue 33): the images people attach to their posts.

The files themselves live in a `warden.media.storage.MediaStorage` (a folder under the data directory,
or S3-compatible object storage) under keys derived from `token`; this table says whose they are, what
was made of them and which post they belong to. A post keeps a rendering copy of its attachments in
`statuses.media_list` (written when they are attached), so every status JSON path renders them without
another query; attachments cannot change once attached (the media API edits only unattached ones).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warden.store.models import Base, BigID, utcnow


class MediaAttachment(Base):
    __tablename__ = "media_attachments"
    __table_args__ = (
        Index("ix_media_attachments_account_id_status_id", "account_id", "status_id"),
        Index("ix_media_attachments_status_id", "status_id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: The post it is attached to; None until then (only its uploader can see or use it meanwhile).
    status_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("statuses.id", ondelete="SET NULL"))
    #: Its order among the post's attachments (the order of `media_ids[]`).
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Mastodon's attachment type: image (video, gifv and audio are refused for now).
    type: Mapped[str] = mapped_column(String(16), default="image")
    #: processing | ready | failed (images are processed before the upload is answered: ready).
    state: Mapped[str] = mapped_column(String(12), default="ready")
    #: 32 random hex characters: the files' storage keys and URLs are built from it (never guessable
    #: from the id), and the file route finds the attachment by it.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    #: The processed original: content type, file extension (jpg | png | webp), byte size, pixels.
    content_type: Mapped[str] = mapped_column(String(32))
    extension: Mapped[str] = mapped_column(String(8))
    file_size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    #: The preview ("small"): content type, extension and pixels.
    small_content_type: Mapped[str] = mapped_column(String(32))
    small_extension: Mapped[str] = mapped_column(String(8))
    small_width: Mapped[int] = mapped_column(Integer, default=0)
    small_height: Mapped[int] = mapped_column(Integer, default=0)
    #: The focal point, each in [-1, 1] (Mastodon's convention: x right, y up).
    focus_x: Mapped[float] = mapped_column(Float, default=0.0)
    focus_y: Mapped[float] = mapped_column(Float, default=0.0)
    #: Alt text, exactly as written (escaped wherever shown).
    description: Mapped[str | None] = mapped_column(Text)
    blurhash: Mapped[str | None] = mapped_column(String(100))
    #: The SHA-256 of the processed original's bytes (for de-duplication and hash lists).
    sha256: Mapped[str] = mapped_column(String(64))
    #: What the uploader sent: its byte size and the file name (shown to nobody; for support only).
    upload_size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    upload_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def storage_key(self, variant: str) -> str:
        """Where the file of `variant` (original | small) is kept in the media storage."""
        extension = self.extension if variant == "original" else self.small_extension
        return f"{self.token[:2]}/{self.token}/{variant}.{extension}"
