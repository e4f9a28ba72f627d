"""The PDQ hash block list: what goes on it (every image of a post a decision removed; partners' hash
lists), how it is matched before publication, and how a hash is withdrawn.

Each process keeps the active hashes in a `HashIndex` (warden/detection/hash_index.py). Before it
matches, it asks the database for the list's key (the newest id and the number of active hashes):
any addition or withdrawal, by any process, changes it, and the index is rebuilt. A draft without
images never touches the list.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warden.cases import audit
from warden.detection import pdq
from warden.detection.hash_index import HashIndex
from warden.errors import NotFound, ValidationFailed
from warden.platform.ids import parse_id
from warden.store.hash_models import ImageHash, ImageSignal
from warden.store.media_models import MediaAttachment
from warden.store.models import utcnow
from warden.store.moderation_models import Partner

MAX_BATCH = 1000
MAX_LABEL = 100
MAX_REFERENCE = 200


@dataclass(frozen=True)
class Match:
    entry_id: int
    distance: int
    #: which image of the draft matched (its position among the draft's images)
    image: int
    media_id: int
    source: str
    label: str | None
    decision_id: str | None
    partner_id: int | None


class Blocklist:
    """The active hashes of `image_hashes`, indexed in memory (one per process: `BLOCKLIST`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._index = HashIndex([], [])
        self._entries: dict[int, tuple[str, str | None, str | None, int | None]] = {}

    def _current(self, session: Session) -> tuple[HashIndex, dict[int, tuple[str, str | None, str | None, int | None]]]:
        """The index and its entries, rebuilt first if the list changed (they are swapped together)."""
        key = tuple(session.execute(select(func.max(ImageHash.id), func.count(ImageHash.id))
                                    .where(ImageHash.withdrawn_at.is_(None))).one())
        with self._lock:
            if key == self._key:
                return self._index, self._entries
        owners: list[int] = []
        hexes: list[str] = []
        entries: dict[int, tuple[str, str | None, str | None, int | None]] = {}
        rows = session.execute(select(ImageHash.id, ImageHash.hash, ImageHash.quality, ImageHash.variants,
                                      ImageHash.source, ImageHash.label, ImageHash.decision_id,
                                      ImageHash.partner_id)
                               .where(ImageHash.withdrawn_at.is_(None), ImageHash.quality >= pdq.MIN_QUALITY))
        for row in rows:
            variants = [row.variants[i:i + 64] for i in range(0, len(row.variants or ""), 64)]
            for value in [row.hash, *variants]:
                owners.append(row.id)
                hexes.append(value)
            entries[row.id] = (row.source, row.label, row.decision_id, row.partner_id)
        index = HashIndex(owners, hexes)
        with self._lock:
            self._key, self._index, self._entries = key, index, entries
        return index, entries

    def match(self, session: Session, images: list[tuple[int, str, int]]) -> Match | None:
        """The nearest active entry within `pdq.MATCH_DISTANCE` of any of `images` ((media id, hash,
        quality), in the draft's order), or None. Images of too low a quality are never matched."""
        usable = [(position, media_id, value) for position, (media_id, value, quality) in enumerate(images)
                  if value and quality >= pdq.MIN_QUALITY]
        if not usable:
            return None
        index, entries = self._current(session)
        nearest = index.nearest([value for _, _, value in usable])
        if nearest is None or nearest.distance > pdq.MATCH_DISTANCE:
            return None
        position, media_id, _ = usable[nearest.query]
        source, label, decision_id, partner_id = entries[nearest.owner]
        return Match(entry_id=nearest.owner, distance=nearest.distance, image=position, media_id=media_id,
                     source=source, label=label, decision_id=decision_id, partner_id=partner_id)


BLOCKLIST = Blocklist()


# --- images that decisions put on the list -------------------------------------------------------


def signals_of(session: Session, media_ids: list[int]) -> dict[int, ImageSignal]:
    if not media_ids:
        return {}
    return {s.media_id: s for s in session.scalars(select(ImageSignal).where(ImageSignal.media_id.in_(media_ids)))}


def add_images(session: Session, *, decision_id: str, media_ids: list[int], status_id: int | None,
               label: str | None) -> list[ImageHash]:
    """Put the images `media_ids` on the list on behalf of decision `decision_id` (in the caller's
    transaction, so they are listed if and only if the decision is recorded)."""
    added: list[ImageHash] = []
    now = utcnow()
    for media_id, signal in sorted(signals_of(session, media_ids).items()):
        if not signal.pdq_hash:
            continue
        entry = ImageHash(hash=signal.pdq_hash, quality=signal.pdq_quality or 0, source="decision",
                          decision_id=decision_id, status_id=status_id, media_id=media_id,
                          label=(label or None) and label[:MAX_LABEL], variants=signal.pdq_variants, created_at=now)
        session.add(entry)
        added.append(entry)
    if added:
        session.flush()
        audit.append(session, action="hashes.added", subject=f"decision:{decision_id}",
                     data={"hash_ids": [h.id for h in added], "status_id": status_id})
    return added


def add_status_images(session: Session, *, decision_id: str, status_id: int, label: str | None) -> list[ImageHash]:
    """Every image of post `status_id` (a decision removed it)."""
    media_ids = list(session.scalars(select(MediaAttachment.id).where(MediaAttachment.status_id == status_id)))
    return add_images(session, decision_id=decision_id, media_ids=media_ids, status_id=status_id, label=label)


def withdraw_status_images(session: Session, *, status_id: int, reason: str, decision_id: str | None = None) -> int:
    """Withdraw the hashes that removing post `status_id` listed (it was restored, e.g. on appeal)."""
    entries = list(session.scalars(select(ImageHash).where(ImageHash.status_id == status_id,
                                                           ImageHash.source == "decision",
                                                           ImageHash.withdrawn_at.is_(None))))
    now = utcnow()
    for entry in entries:
        entry.withdrawn_at, entry.withdrawn_reason = now, reason[:200]
    if entries:
        audit.append(session, action="hashes.withdrawn", subject=f"status:{status_id}",
                     data={"hash_ids": [h.id for h in entries], "decision_id": decision_id})
    return len(entries)


# --- partners' hash lists ------------------------------------------------------------------------


def _parse_item(item: Any) -> dict[str, Any] | str:
    """One submitted hash, checked: its fields, or why it is refused."""
    if not isinstance(item, dict):
        return "each hash must be an object with hash (64 hexadecimal characters) and quality (0-100)"
    value = pdq.normalise_hex(item.get("hash"))
    if value is None:
        return "hash must be a PDQ hash: 64 hexadecimal characters"
    quality = item.get("quality", 100)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
        return "quality must be a whole number from 0 to 100"
    label = item.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
        return f"label must be a string of at most {MAX_LABEL} characters"
    reference = item.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > MAX_REFERENCE):
        return f"reference must be a string of at most {MAX_REFERENCE} characters"
    return {"hash": value, "quality": quality, "label": (label or "").strip() or None,
            "reference": (reference or "").strip() or None}


def submit(session: Session, partner: Partner, items: Any) -> list[dict[str, Any]]:
    """Add a partner's hashes; the answer has one entry per item, in order: the stored hash, or
    {"error"} (that item is not stored; the others are)."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed("Validation failed: hashes must be a non-empty list")
    if len(items) > MAX_BATCH:
        raise ValidationFailed(f"Validation failed: at most {MAX_BATCH} hashes per request")
    parsed = [_parse_item(item) for item in items]
    now = utcnow()
    stored = [(i, ImageHash(source="partner", partner_id=partner.id, created_at=now, **fields))
              for i, fields in enumerate(parsed) if isinstance(fields, dict)]
    session.add_all([entry for _, entry in stored])
    session.flush()
    if stored:
        audit.append(session, action="hashes.submitted", subject=f"partner:{partner.id}",
                     data={"count": len(stored), "hash_ids": [e.id for _, e in stored][:MAX_BATCH]})
    results: list[dict[str, Any]] = [{"error": p} for p in parsed]  # type: ignore[misc]
    for index, entry in stored:
        results[index] = as_json(entry, partner_name=partner.name)
    return results


def listing(session: Session, *, max_id: int | None, since_id: int | None, min_id: int | None, limit: int,
            active: bool | None = None, mine: Partner | None = None) -> list[dict[str, Any]]:
    """The list, newest first, with each hash's provenance (`active`: only hashes in force, or only
    withdrawn ones; `mine`: only that partner's)."""
    from warden.platform.pagination import paginate

    query = select(ImageHash, Partner.name).outerjoin(Partner, Partner.id == ImageHash.partner_id)
    if active is True:
        query = query.where(ImageHash.withdrawn_at.is_(None))
    elif active is False:
        query = query.where(ImageHash.withdrawn_at.is_not(None))
    if mine is not None:
        query = query.where(ImageHash.partner_id == mine.id)
    rows = paginate(session, query, ImageHash.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
    return [as_json(entry, partner_name=name) for entry, name in rows]


def get(session: Session, hash_id: int | str) -> ImageHash:
    entry = session.get(ImageHash, parse_id(hash_id))
    if entry is None:
        raise NotFound("No such hash")
    return entry


def partner_name(session: Session, entry: ImageHash) -> str | None:
    partner = session.get(Partner, entry.partner_id) if entry.partner_id is not None else None
    return partner.name if partner is not None else None


def withdraw(session: Session, partner: Partner, hash_id: int | str, reason: str = "") -> ImageHash:
    """Withdraw one of `partner`'s own hashes (idempotent: an already withdrawn hash stays as it was)."""
    entry = get(session, hash_id)
    if entry.partner_id != partner.id:
        raise NotFound("No such hash among yours")
    if entry.withdrawn_at is None:
        entry.withdrawn_at = utcnow()
        entry.withdrawn_reason = (reason or "withdrawn by the partner")[:200]
        audit.append(session, action="hashes.withdrawn", subject=f"partner:{partner.id}",
                     data={"hash_ids": [entry.id]})
    session.flush()
    return entry


def as_json(entry: ImageHash, *, partner_name: str | None = None) -> dict[str, Any]:
    provenance: dict[str, Any] = {"source": entry.source}
    if entry.source == "partner":
        provenance.update({"partner": partner_name, "reference": entry.reference})
    else:
        provenance.update({"decision_id": entry.decision_id})
    return {"id": str(entry.id), "hash": entry.hash, "quality": entry.quality, "label": entry.label,
            "provenance": provenance, "created_at": entry.created_at.isoformat(),
            "withdrawn_at": entry.withdrawn_at.isoformat() if entry.withdrawn_at else None,
            "withdrawn_reason": entry.withdrawn_reason}
