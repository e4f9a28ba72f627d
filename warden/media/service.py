"""The life of a media attachment: uploaded (processed, then stored), described, attached to a post,
served to whoever may see that post, deleted while unattached.

An upload is processed in memory first (`processing.process_image`); only an image that passed is
written, files first and then its row, so a refused upload leaves nothing behind and a failed write
removes its files again. Attachments are found by their owner while unattached (like Mastodon, the
media API answers 404 for anyone else's and for attached ones), and by their random `token` when a
file is asked for (`file_access`).
"""

from __future__ import annotations

import math
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete as sql_delete, select
from sqlalchemy.orm import Session

from warden.detection import image_signals
from warden.errors import NotFound, ValidationFailed
from warden.media.processing import ProcessedImage, process_image
from warden.media.storage import MediaStorage
from warden.platform.ids import parse_id
from warden.store.db import Database
from warden.store.hash_models import ImageSignal
from warden.store.media_models import MediaAttachment
from warden.store.models import Account, Status, utcnow

MAX_ATTACHMENTS = 4
MAX_DESCRIPTION_CHARS = 1500
#: Uploads processed at once in this process: one per core. Each may hold a few hundred MB of pixels
#: (33 MP as RGBA is 133 MB, plus its scaled copies); the threadpool alone would let 40 run together.
_PROCESSING = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
#: Where files are served (`warden.api.routes.media`): <base>/system/media_attachments/<token>/<variant>.<ext>
FILE_PATH = "/system/media_attachments"


# --- input ------------------------------------------------------------------------------------


def parse_focus(value: str | None) -> tuple[float, float] | None:
    """Mastodon's focal point "x,y", each from -1.0 to 1.0; None when not given."""
    if value is None or not str(value).strip():
        return None
    parts = str(value).split(",")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise ValidationFailed("Validation failed: Focus must be two numbers from -1.0 to 1.0, as x,y") from None
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (x, y)):
        raise ValidationFailed("Validation failed: Focus must be two numbers from -1.0 to 1.0, as x,y")
    return x, y


def check_description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise ValidationFailed(f"Validation failed: Description is too long (maximum is "
                               f"{MAX_DESCRIPTION_CHARS} characters)")
    return value


# --- upload -----------------------------------------------------------------------------------


def upload(db: Database, storage: MediaStorage, account_id: int, data: bytes, *, content_type: str | None = None,
           filename: str | None = None, description: str | None = None, focus: str | None = None) -> MediaAttachment:
    """Process and store one upload for `account_id`. Refusals (413, 422) happen before anything is
    written; if the row cannot be written, the files just stored are removed again."""
    description = check_description(description)
    point = parse_focus(focus) or (0.0, 0.0)
    with _PROCESSING:
        processed = process_image(data, content_type)
        signals = image_signals.read(processed.original.data)  # its hash and text, for the moderation gate
    media = _new_attachment(account_id, processed, description, point, filename)
    keys = {media.storage_key("original"): (processed.original.data, processed.original.content_type),
            media.storage_key("small"): (processed.small.data, processed.small.content_type)}
    try:
        for key, (blob, kind) in keys.items():
            storage.put(key, blob, kind)
        with db.write() as session:
            session.add(media)
            session.flush()
            session.add(ImageSignal(media_id=media.id, pdq_hash=signals.pdq.hex, pdq_quality=signals.pdq.quality,
                                    pdq_variants=signals.variants, ocr_text=signals.text, ocr_engine=signals.engine))
    except BaseException:
        for key in keys:
            try:
                storage.delete(key)
            except Exception:  # pragma: no cover - the original error matters more
                pass
        raise
    return media


def _new_attachment(account_id: int, processed: ProcessedImage, description: str | None,
                    focus: tuple[float, float], filename: str | None) -> MediaAttachment:
    now = utcnow()
    return MediaAttachment(
        account_id=account_id, type="image", state="ready", token=secrets.token_hex(16),
        content_type=processed.original.content_type, extension=processed.original.extension,
        file_size=len(processed.original.data), width=processed.original.width, height=processed.original.height,
        small_content_type=processed.small.content_type, small_extension=processed.small.extension,
        small_width=processed.small.width, small_height=processed.small.height,
        focus_x=focus[0], focus_y=focus[1], description=description or None, blurhash=processed.blurhash,
        sha256=processed.sha256, upload_size=processed.upload_size,
        upload_name=(filename or "")[:255] or None, position=0, created_at=now, updated_at=now,
    )


# --- the media API: the owner's unattached attachments ----------------------------------------


def get_own(session: Session, account_id: int, media_id: int | str) -> MediaAttachment:
    media = session.get(MediaAttachment, parse_id(media_id))
    if media is None or media.account_id != account_id or media.status_id is not None:
        raise NotFound()
    return media


def update(session: Session, account_id: int, media_id: int | str, *, description: str | None = None,
           focus: str | None = None) -> MediaAttachment:
    media = get_own(session, account_id, media_id)
    if description is not None:
        media.description = check_description(description) or None
    point = parse_focus(focus)
    if point is not None:
        media.focus_x, media.focus_y = point
    media.updated_at = utcnow()
    session.flush()
    return media


def delete(db: Database, storage: MediaStorage, account_id: int, media_id: int | str) -> None:
    """Delete an unattached attachment: its row, then its files (a crash in between leaves files no
    row points to, which nobody can reach)."""
    with db.write() as session:
        media = session.get(MediaAttachment, parse_id(media_id))
        if media is None or media.account_id != account_id:
            raise NotFound()
        if media.status_id is not None:
            raise ValidationFailed("Validation failed: Media attachment is currently used by a status")
        keys = [media.storage_key("original"), media.storage_key("small")]
        session.execute(sql_delete(ImageSignal).where(ImageSignal.media_id == media.id))
        session.delete(media)
    for key in keys:
        storage.delete(key)


# --- attaching to posts -----------------------------------------------------------------------


def claimable(session: Session, account_id: int, media_ids: list[str], *,
              status_id: int | None = None) -> list[MediaAttachment]:
    """The attachments `media_ids` names, in that order, checked for a post by `account_id`: at most
    four, each the author's own, processed, and not attached to another post (`status_id`: the post
    being edited, whose own attachments may stay)."""
    ids: list[int] = []
    for raw in media_ids:
        try:
            value = parse_id(raw)
        except NotFound:
            raise ValidationFailed(f"Validation failed: Media {raw} not found or already attached to another post") \
                from None
        if value not in ids:
            ids.append(value)
    if len(ids) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"Validation failed: Cannot attach more than {MAX_ATTACHMENTS} files")
    if not ids:
        return []
    found = {m.id: m for m in session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(ids)))}
    usable = {i: m for i, m in found.items()
              if m.account_id == account_id and m.status_id in (None, status_id)}
    missing = [str(i) for i in ids if i not in usable]
    if missing:
        raise ValidationFailed(f"Validation failed: Media {', '.join(missing)} not found or already attached "
                               f"to another post")
    if any(m.state != "ready" for m in usable.values()):
        raise ValidationFailed("Validation failed: Cannot attach files that have not finished processing. "
                               "Try again in a moment!")
    return [usable[i] for i in ids]


def attach(session: Session, status: Status, media: list[MediaAttachment], *, new: bool = False) -> None:
    """Attach `media` (from `claimable`) to `status`, in order, replacing what it had (`new`: a post
    just written, which has none): attachments an edit leaves out go back to their owner, unattached.
    The post keeps its rendering copy."""
    keep = {m.id for m in media}
    if not new:
        for previous in session.scalars(select(MediaAttachment).where(MediaAttachment.status_id == status.id)):
            if previous.id not in keep:
                previous.status_id = None
    for position, item in enumerate(media):
        item.status_id = status.id
        item.position = position
    entries = [list_entry(m) for m in media] or None
    if status.media_list != entries:  # the same value set again would still mark the post for an UPDATE
        status.media_list = entries


def list_entry(media: MediaAttachment) -> dict[str, Any]:
    """What a post stores of an attachment to render it (`statuses.media_list`)."""
    return {"id": media.id, "type": media.type, "token": media.token, "ext": media.extension,
            "small_ext": media.small_extension, "w": media.width, "h": media.height,
            "sw": media.small_width, "sh": media.small_height, "fx": media.focus_x, "fy": media.focus_y,
            "description": media.description, "blurhash": media.blurhash}


def _dimensions(width: int, height: int) -> dict[str, Any]:
    return {"width": width, "height": height, "size": f"{width}x{height}",
            "aspect": width / height if height else 0.0}


def attachment_json(base: str, entry: dict[str, Any], *, ready: bool = True) -> dict[str, Any]:
    """A Mastodon MediaAttachment from a `list_entry`; `url` is null while processing (v2 uploads)."""
    folder = f"{base}{FILE_PATH}/{entry['token']}"
    return {
        "id": str(entry["id"]),
        "type": entry["type"],
        "url": f"{folder}/original.{entry['ext']}" if ready else None,
        "preview_url": f"{folder}/small.{entry['small_ext']}",
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {"original": _dimensions(entry["w"], entry["h"]), "small": _dimensions(entry["sw"], entry["sh"]),
                 "focus": {"x": entry["fx"], "y": entry["fy"]}},
        "description": entry["description"],
        "blurhash": entry["blurhash"],
    }


def media_json(base: str, media: MediaAttachment) -> dict[str, Any]:
    return attachment_json(base, list_entry(media), ready=media.state == "ready")


# --- serving files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileAccess:
    key: str
    content_type: str
    #: Whether shared caches may keep it (a published post's file) or only the viewer (a held post's,
    #: shown to its author alone).
    public: bool
    etag: str


VARIANTS = ("original", "small")


def file_access(session: Session, token: str, name: str, viewer_id: int | None) -> FileAccess:
    """Whether the file `name` (``original.jpg``, ``small.jpg``) of the attachment `token` may be
    served to `viewer_id` (None: anonymous), and where it is. NotFound otherwise, the same answer
    whether the file does not exist or may not be seen.

    - unattached: served (only its uploader has been told its random URL);
    - attached to a published post whose author is not suspended: served to anyone who has the URL,
      as Mastodon does (media URLs are unguessable; the post's audience is not checked per request,
      since browsers fetch images without the client's token);
    - attached to a held post: to its author only (the request must carry the author's token);
    - attached to a removed or deleted post, or by a suspended author: to nobody. The files are kept
      (a removal can be appealed and reversed), they are just not served.
    """
    variant, _, extension = name.partition(".")
    if variant not in VARIANTS or len(token) != 32:
        raise NotFound()
    media = session.scalar(select(MediaAttachment).where(MediaAttachment.token == token))
    if media is None or media.state != "ready":
        raise NotFound()
    expected = media.extension if variant == "original" else media.small_extension
    if extension != expected:
        raise NotFound()
    public = True
    if media.status_id is not None:
        status = session.get(Status, media.status_id)
        if status is None or status.deleted_at is not None or status.state == "removed":
            raise NotFound()
        author = session.get(Account, status.account_id)
        if author is None or author.suspended_at is not None:
            raise NotFound()
        if status.state != "published":  # held: its author alone
            if viewer_id != status.account_id:
                raise NotFound()
            public = False
    content_type = media.content_type if variant == "original" else media.small_content_type
    return FileAccess(key=media.storage_key(variant), content_type=content_type, public=public,
                      etag=f'"{media.sha256[:32]}-{variant}"')
