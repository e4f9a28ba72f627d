"""Connecting to NATS (nats-py) and making sure the deployment's stream and durable consumer exist.

Processes that live long (`warden worker`) reconnect forever: a broker restart is a pause, not a
crash, because everything they have not been told is done stays in PostgreSQL (the outbox) or on the
stream (unacknowledged messages). `warden status` connects once, with a short timeout, and reports.

The stream keeps messages by limits (7 days), not by acknowledgement, so a new consumer (or an
operator replaying) can read history; de-duplication by `Nats-Msg-Id` covers 2 minutes, more than a
relay needs to take over from one that crashed mid-batch.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from warden.broker import names
from warden.cases.worker import MAX_ATTEMPTS
from warden.config import Settings

log = logging.getLogger("warden.broker")

STREAM_MAX_AGE = 7 * 24 * 3600.0
DUPLICATE_WINDOW = 120.0
#: How long a fetched message may stay unacknowledged before JetStream hands it to another consumer.
ACK_WAIT = 30.0
#: The consumer dead-letters an event on its MAX_ATTEMPTS-th delivery; the broker keeps a margin of
#: deliveries beyond that so a worker killed during that attempt does not lose the event.
MAX_DELIVER = MAX_ATTEMPTS + 2
MODERATION = "moderation"


def redact(url: str) -> str:
    """The URL without its user and password (`nats://user:pw@host` → `nats://host`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def connect(settings: Settings, *, name: str, persistent: bool = True, timeout: float = 2.0) -> Client:
    """A connection to `settings.broker_url`. `persistent`: reconnect forever after a loss (workers);
    otherwise fail fast (status checks). The first connection is retried by the caller."""
    assert settings.broker_url, "no broker configured (WARDEN_BROKER_URL)"
    # nats-py keeps retrying a first connection that is refused; bound it (later losses reconnect forever)
    return await asyncio.wait_for(nats.connect(
        settings.broker_url, name=name, connect_timeout=timeout, allow_reconnect=persistent,
        max_reconnect_attempts=-1 if persistent else 0, reconnect_time_wait=0.5, ping_interval=5,
        max_outstanding_pings=3, error_cb=_quiet, disconnected_cb=_disconnected, reconnected_cb=_reconnected),
        timeout=timeout + 1.0)


async def connect_until(settings: Settings, *, name: str, stop: asyncio.Event) -> Client | None:
    """Connect, retrying every second until it works or `stop` is set (then None)."""
    while not stop.is_set():
        try:
            return await connect(settings, name=name)
        except Exception as exc:  # broker down or not reachable yet
            log.warning("broker %s not reachable (%s); retrying", redact(settings.broker_url or ""), exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
    return None


async def ensure_stream(js: JetStreamContext, namespace: str) -> None:
    """Create the deployment's event stream unless it exists (idempotent, safe to race)."""
    name = names.stream(namespace)
    try:
        await js.stream_info(name)
        return
    except NotFoundError:
        pass
    config = StreamConfig(name=name, subjects=[names.events_wildcard(namespace)], storage=StorageType.FILE,
                          retention=RetentionPolicy.LIMITS, max_age=STREAM_MAX_AGE,
                          duplicate_window=DUPLICATE_WINDOW)
    try:
        await js.add_stream(config)
    except Exception:
        await js.stream_info(name)  # created by another process meanwhile: fine; otherwise raise


def moderation_consumer_config(namespace: str, *, ack_wait: float = ACK_WAIT,
                               max_deliver: int = MAX_DELIVER) -> ConsumerConfig:
    durable = names.durable(namespace, MODERATION)
    return ConsumerConfig(name=durable, durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
                          deliver_policy=DeliverPolicy.ALL, ack_wait=ack_wait, max_deliver=max_deliver,
                          filter_subject=names.events_wildcard(namespace), max_ack_pending=10_000)


async def ensure_consumer(js: JetStreamContext, namespace: str, config: ConsumerConfig) -> None:
    """Create a durable pull consumer unless it exists (idempotent, safe to race)."""
    stream = names.stream(namespace)
    try:
        await js.consumer_info(stream, config.durable_name or "")
        return
    except NotFoundError:
        pass
    try:
        await js.add_consumer(stream, config=config)
    except Exception:
        await js.consumer_info(stream, config.durable_name or "")


async def _quiet(exc: Exception) -> None:
    log.debug("broker connection error: %s", exc)


async def _disconnected() -> None:
    log.info("broker connection lost (or closed)")


async def _reconnected() -> None:
    log.warning("broker connection restored")
