"""Every name a deployment uses on the broker, derived from its namespace (WARDEN_BROKER_NAMESPACE).

These are shared conventions: the relay publishes, the moderation consumer, the detection pool and the
streaming nodes subscribe, and all of them must agree. Keep them exactly:

* stream `<NS>_EVENTS` (namespace upper-cased, anything not alphanumeric → `_`) on subjects `<ns>.events.>`;
* one message per outbox row on `<ns>.events.<event type>`, with header `Nats-Msg-Id: <ns>-<event id>`;
* detection requests on `<ns>.detect`, answered by the queue group `<ns>-detect`;
* the same event bodies, published by the node that committed them the moment they commit, on
  `<ns>.live.<event type>` (core NATS, outside the stream: for open streams only).
"""

from __future__ import annotations

import re

MSG_ID_HEADER = "Nats-Msg-Id"


def _token(namespace: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", namespace)


def stream(namespace: str) -> str:
    """The JetStream stream holding the deployment's outbox events: `WARDEN_EVENTS`."""
    return f"{_token(namespace).upper()}_EVENTS"


def events_subject(namespace: str, event_type: str) -> str:
    """Where one outbox event is published: `warden.events.status.created`."""
    return f"{namespace}.events.{event_type}"


def events_wildcard(namespace: str) -> str:
    """Every outbox event of the deployment: `warden.events.>`."""
    return f"{namespace}.events.>"


def live_subject(namespace: str, event_type: str) -> str:
    """Where a node publishes an event it has just committed, for every node's streams: `warden.live.status.created`."""
    return f"{namespace}.live.{event_type}"


def live_wildcard(namespace: str) -> str:
    """Every event published as it commits: `warden.live.>`."""
    return f"{namespace}.live.>"


def msg_id(namespace: str, event_id: int) -> str:
    """The JetStream de-duplication id of an outbox event: `warden-42`."""
    return f"{namespace}-{event_id}"


def durable(namespace: str, consumer: str) -> str:
    """A durable consumer's name on the stream: `warden_moderation` (no dots: NATS forbids them there)."""
    return f"{_token(namespace)}_{_token(consumer)}"


def detect_subject(namespace: str) -> str:
    """Request/reply subject of the detection pool: `warden.detect`."""
    return f"{namespace}.detect"


def detect_queue(namespace: str) -> str:
    """Queue group of the detection pool's workers: `warden-detect`."""
    return f"{namespace}-detect"
