"""Tables of image moderation (issue 33): the PDQ hash block list and what was read from each image.

`image_hashes` is the block list: one row per hash, with where it came from (a moderation decision
that removed a post with the image, or a partner's hash list) and when it was withdrawn. `image_signals`
holds what processing read from an uploaded image (its PDQ hash and the text in it), keyed by the media
attachment's id, so the gate before publication neither decodes nor reads images again. Migration 0009
creates both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warden.store.models import Base, BigID, utcnow


class ImageHash(Base):
    """A PDQ hash on the block list: an image matching it within the distance threshold is not published."""

    __tablename__ = "image_hashes"
    __table_args__ = (
        Index("ix_image_hashes_active", "withdrawn_at", "id"),
        Index("ix_image_hashes_partner_id", "partner_id", "id"),
        Index("ix_image_hashes_status_id", "status_id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    #: 64 lower-case hexadecimal characters (ThreatExchange's notation)
    hash: Mapped[str] = mapped_column(String(64), index=True)
    quality: Mapped[int] = mapped_column(Integer)
    #: decision (the image of a post a decision removed or blocked) | partner (a partner's hash list)
    source: Mapped[str] = mapped_column(String(16))
    decision_id: Mapped[str | None] = mapped_column(String(40))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    #: the post whose image it is (decision hashes), and the attachment
    status_id: Mapped[int | None] = mapped_column(BigID)
    media_id: Mapped[int | None] = mapped_column(BigID)
    #: what it shows, in the submitter's words (a policy label such as "violence", a list's name)
    label: Mapped[str | None] = mapped_column(String(100))
    #: the submitter's own reference for the hash (a partner's id for it in its list)
    reference: Mapped[str | None] = mapped_column(String(200))
    #: hashes of lightly cropped copies of the image (concatenated hex), matched like the hash itself:
    #: PDQ alone does not survive a 5% crop (bench/bench_image_moderation.py)
    variants: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200))


class ImageSignal(Base):
    """What processing read from one uploaded image: its PDQ hash and the text in it (OCR)."""

    __tablename__ = "image_signals"

    media_id: Mapped[int] = mapped_column(BigID, primary_key=True)
    pdq_hash: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    #: hashes of lightly cropped copies, put on the block list with the hash if the image is removed
    pdq_variants: Mapped[str | None] = mapped_column(Text)
    #: the text read from the image; None when no OCR engine ran (see `ocr_engine`)
    ocr_text: Mapped[str | None] = mapped_column(Text)
    #: e.g. "tesseract 5.3.0", or "none" when no engine is installed
    ocr_engine: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
