"""Markers: the last read position of an account in its home timeline and notifications, which
clients save so that another device resumes where the reader left off (`/api/v1/markers`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warden.errors import Conflict, ValidationFailed
from warden.platform.ids import as_id
from warden.store.client_models import MARKER_TIMELINES, Marker
from warden.store.models import utcnow


def get(session: Session, account_id: int, timelines: list[str]) -> dict[str, Marker]:
    wanted = [t for t in timelines if t in MARKER_TIMELINES]
    if not wanted:
        return {}
    return {m.timeline: m for m in session.scalars(select(Marker).where(Marker.account_id == account_id,
                                                                        Marker.timeline.in_(wanted)))}


def save(session: Session, account_id: int, positions: dict[str, str]) -> dict[str, Marker]:
    """Set the given timelines' `last_read_id`s; each save bumps the marker's `version`. Two devices
    saving the same marker at once: the loser gets a 409 (Mastodon's answer) and retries."""
    if not positions:
        raise ValidationFailed("Validation failed: give home[last_read_id] or notifications[last_read_id]")
    out: dict[str, Marker] = {}
    for timeline, raw in positions.items():
        if timeline not in MARKER_TIMELINES:
            raise ValidationFailed(f"Validation failed: Timeline must be one of {', '.join(MARKER_TIMELINES)}")
        last_read_id = as_id(raw)
        if last_read_id is None:
            raise ValidationFailed("Validation failed: Last read id must be a status or notification id")
        marker = session.scalar(select(Marker).where(Marker.account_id == account_id, Marker.timeline == timeline)
                                .with_for_update())
        if marker is None:
            marker = Marker(account_id=account_id, timeline=timeline, version=0)
            session.add(marker)
        marker.last_read_id = last_read_id
        marker.version = (marker.version or 0) + 1
        marker.updated_at = utcnow()
        out[timeline] = marker
    try:
        session.flush()
    except IntegrityError:  # a concurrent first save of the same marker (unique account_id, timeline)
        raise Conflict("Conflict during update, please try again") from None
    return out


def marker_json(marker: Marker, iso) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {"last_read_id": str(marker.last_read_id), "version": marker.version, "updated_at": iso(marker.updated_at)}
