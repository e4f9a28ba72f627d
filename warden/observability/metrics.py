"""Every Prometheus metric a Warden process records, in one place, with `warden_` names.

Counters and histograms are recorded where the work happens (request middleware, moderation gate,
detector, outbox, worker) and kept by prometheus-client in this process. `warden serve --workers N`
runs several processes, and `warden worker` runs beside them: with `PROMETHEUS_MULTIPROC_DIR` set
(`warden serve` sets it when N > 1), every process writes its values to memory-mapped files in that
folder and whichever process answers `/metrics` adds them all up (`process_registry()`; see
`warden.observability.multiprocess`).

Figures that live in the database (outbox lag, open cases) are not kept here: they are read at scrape
time (`warden.observability.collector`), so every process reports the same truth.

Latencies are in seconds (Prometheus' base unit), with buckets from 1 ms to 10 s: the write path and
the timelines answer in milliseconds, and a surge shows as mass moving to the upper buckets.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client import multiprocess

from warden.observability.multiprocess import folder as multiprocess_dir

disable_created_metrics()  # no `_created` series beside every counter: half the output, nothing dashboards use

#: From 1 ms to 10 s: where request, gate and detector latencies fall.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUEST_SECONDS = Histogram(
    "warden_http_request_duration_seconds",
    "HTTP request latency, by route template (never the raw path), method and status class.",
    ["route", "method", "status"], buckets=LATENCY_BUCKETS)

GATE_VERDICTS = Counter(
    "warden_gate_verdicts",
    "Moderation gate verdicts in the write path, by action (allow, label, limit, review, hold, block) and label.",
    ["action", "label"])

DETECTION_SECONDS = Histogram(
    "warden_detection_stage_duration_seconds",
    "Time the detector spent on one batch in a stage: linear (stage 1 on the batch's new posts), encoder "
    "(stage 2 on the posts stage 1 did not settle), cached (a whole batch answered from the score cache). "
    "The write path scores one post per batch, so there a batch's time is a post's.",
    ["stage"], buckets=LATENCY_BUCKETS)

DETECTION_POSTS = Counter(
    "warden_detection_posts",
    "Posts scored, by the stage that settled them (cached: from the score cache, a repeat within the batch, "
    "or nothing to read).",
    ["stage"])

OUTBOX_EVENTS = Counter(
    "warden_outbox_events_appended",
    "Events appended to the outbox, by type (counted when appended, so a rolled-back write counts too).",
    ["type"])

WORKER_EVENTS = Counter(
    "warden_worker_events",
    "Outbox events a consumer handled, failed on (retried later) or dead-lettered, by consumer and outcome.",
    ["consumer", "outcome"])

STREAM_CONNECTIONS = Gauge(
    "warden_stream_connections",
    "Open streaming connections (summed over live server processes).",
    multiprocess_mode="livesum")


#: Fixed when this module is first imported, as prometheus-client fixes its own mode then.
MULTIPROCESS_DIR = multiprocess_dir()
_registry: CollectorRegistry | None = None


def process_registry() -> CollectorRegistry:
    """What `/metrics` exposes of the recorded metrics: this process's own (the default registry), or,
    in multi-process mode, the sum over every process writing to the multi-process folder."""
    global _registry
    if MULTIPROCESS_DIR is None:
        return REGISTRY
    if _registry is None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        _registry = registry
    return _registry


def mark_process_dead() -> None:
    """Drop this process's live gauges (stream connections) from the multi-process sum; its counters
    stay, so totals never go backwards. uvicorn's supervisor offers no hook when a worker ends, and a
    worker ends by re-raising SIGTERM (no atexit), so each server process calls this at lifespan
    shutdown (`warden.observability.install`) and every other process (`warden worker`) at exit. A
    process killed outright leaves its last value until the next `warden serve` cleans the folder."""
    if MULTIPROCESS_DIR is not None and Path(MULTIPROCESS_DIR).is_dir():
        multiprocess.mark_process_dead(os.getpid(), MULTIPROCESS_DIR)


if MULTIPROCESS_DIR is not None:
    atexit.register(mark_process_dead)
