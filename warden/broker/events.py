"""The wire format of an outbox event on the broker: the row as JSON (orjson).

`{"id": int, "type": str, "subject_id": int | null, "payload": {...}, "created_at": ISO-8601}`; readers
get back the same `Event` the embedded outbox consumer sees, so handlers cannot tell the paths apart.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from warden.cases.worker import Event


def encode(event: Event) -> bytes:
    return orjson.dumps({"id": event.id, "type": event.type, "subject_id": event.subject_id,
                         "payload": event.payload, "created_at": event.created_at.isoformat()})


def decode(data: bytes) -> Event:
    """An event from a message body; ValueError (or KeyError) when it is not one."""
    body = orjson.loads(data)
    return Event(id=int(body["id"]), type=str(body["type"]),
                 subject_id=None if body.get("subject_id") is None else int(body["subject_id"]),
                 payload=dict(body.get("payload") or {}), created_at=datetime.fromisoformat(body["created_at"]))
