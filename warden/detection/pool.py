"""Detection as a pool over the broker: API nodes run the cheap first stage, workers run the encoder.

The cascade splits where its cost does (``Detector.first_stage`` / ``encoder_logits`` / ``finish``):
normalising, the score cache and stage 1 are a fraction of a millisecond of numpy and stay on the
node that received the post; the encoder, which costs tens of milliseconds and all the memory, runs
on detection workers that scale apart from the API nodes. Between them, NATS request/reply on
``<ns>.detect`` answered by the queue group ``<ns>-detect`` (one worker per request):

* request  ``{"model": version, "texts": [normalised text, ...]}``
* reply    ``{"model": version, "logits": [[head logit per label], ...]}`` (float32 values, exact in
  JSON) or ``{"error": "..."}``; the API node stacks and calibrates them with its own stage-1
  logits, so a post scored through the pool gets the same scores and spans as in-process.

Both ends batch: ``PoolClient`` sends what several threads ask for within ``CLIENT_WINDOW`` as one
message, and ``run_pool_worker`` answers what arrived within ``WORKER_WINDOW`` (and whatever queued
while the encoder ran) with one encoder call, in a thread, so its event loop keeps receiving.

When the pool does not answer within ``WARDEN_DETECTION_TIMEOUT`` (or the broker is down, or no
worker is subscribed, or a worker serves another model version), ``PoolDetector`` returns those posts
with stage "unavailable" and no scores; ``PolicyGate`` holds them, and the moderation worker scores
them again (docs/detection.md, "When the detection pool is slow or down").

The pool is off unless ``WARDEN_DETECTION_POOL=1`` and ``WARDEN_BROKER_URL`` are both set: with the
pool on and no worker running, every post that needs the encoder is held, so it is a deliberate step
of a multi-node deployment, not a side effect of configuring a broker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from warden.config import Settings
from warden.detection.detector import Detection, Detector

from warden.broker.names import detect_queue, detect_subject

log = logging.getLogger("warden.detection.pool")

#: How long the client waits for more callers before sending one request (seconds).
CLIENT_WINDOW = 0.002
#: How long a worker waits for more requests before one encoder call (seconds).
WORKER_WINDOW = 0.003
#: At most this many texts in one request, and in one encoder call on a worker.
MAX_BATCH_TEXTS = 256
#: At most this many requests share one encoder call on a worker.
WORKER_MAX_REQUESTS = 64
DEFAULT_TIMEOUT = 1.5


#: After a request times out, for this long the client does not wait again (seconds).
COOLDOWN = 1.0


class PoolUnavailable(RuntimeError):
    """The pool did not answer: broker down, no worker, too slow, or a worker refused the request."""


class PoolTimeout(PoolUnavailable):
    """The pool did not answer within the timeout."""


def pool_enabled(settings: Settings) -> bool:
    """Whether this process scores through the pool: a broker and ``WARDEN_DETECTION_POOL=1``."""
    flag = os.environ.get("WARDEN_DETECTION_POOL", "0").lower() not in ("", "0", "false", "off", "no")
    return bool(settings.broker_url) and flag


def timeout_from_env() -> float:
    """``WARDEN_DETECTION_TIMEOUT`` (seconds, default 1.5): how long the gate waits for the pool."""
    raw = os.environ.get("WARDEN_DETECTION_TIMEOUT")
    if not raw:
        return DEFAULT_TIMEOUT
    value = float(raw)
    if value <= 0:
        raise ValueError(f"WARDEN_DETECTION_TIMEOUT must be a positive number of seconds, not {raw!r}")
    return value


def _quiet(name: str) -> Any:
    async def callback(*args: Any) -> None:
        log.debug("%s: %s", name, args)
    return callback


async def _connect(url: str, name: str) -> Any:
    import nats

    return await nats.connect(url, name=name, connect_timeout=1, allow_reconnect=True,
                              max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                              error_cb=_quiet("error"), disconnected_cb=_quiet("disconnected"),
                              reconnected_cb=_quiet("reconnected"), closed_cb=_quiet("closed"))


# --- the API node's side ----------------------------------------------------------------------------


@dataclass
class _Call:
    texts: list[str]
    future: concurrent.futures.Future[np.ndarray]


class PoolClient:
    """Asks the pool for the encoder stage's logits, from any thread. Its own thread runs an asyncio
    loop holding the NATS connection (reconnecting by itself); concurrent callers within
    ``window`` seconds share one request. ``requests`` counts the requests sent. After a request
    times out, callers fail at once for ``cooldown`` seconds instead of each waiting out the timeout
    (a slow pool would otherwise tie up a thread per post, on the API node and in the moderation
    worker's retries alike)."""

    def __init__(self, url: str, namespace: str, model: str, *, timeout: float = DEFAULT_TIMEOUT,
                 window: float = CLIENT_WINDOW, max_texts: int = MAX_BATCH_TEXTS,
                 cooldown: float = COOLDOWN) -> None:
        self.url = url
        self.cooldown = cooldown
        self._quiet_until = 0.0
        self.subject = detect_subject(namespace)
        self.model = model
        self.timeout = timeout
        self.window = window
        self.max_texts = max_texts
        self.requests = 0
        self._nc: Any = None
        self._pending: list[_Call] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="warden-detection-pool-client", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.create_task(self._keep_connected())
        self._loop.run_forever()

    async def _keep_connected(self) -> None:
        while not self._closed:
            try:
                self._nc = await _connect(self.url, "warden-detection-client")
                return
            except Exception as exc:  # broker down at start: posts that need the encoder are held meanwhile
                log.warning("detection pool: cannot reach the broker at %s (%s); retrying", self.url, exc)
                await asyncio.sleep(1.0)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    def encoder_logits(self, texts: list[str], timeout: float | None = None) -> np.ndarray:
        """The encoder stage's logits for normalised ``texts``, from the pool; raises
        ``PoolUnavailable`` when no answer comes within ``timeout`` (default: the client's)."""
        wait = self.timeout if timeout is None else timeout
        future: concurrent.futures.Future[np.ndarray] = concurrent.futures.Future()
        if self._closed:
            raise PoolUnavailable("the detection pool client is closed")
        if time.monotonic() < self._quiet_until:
            raise PoolTimeout(f"the detection pool timed out less than {self.cooldown:g} s ago")
        self._loop.call_soon_threadsafe(self._enqueue, _Call(list(texts), future))
        try:
            return future.result(wait + self.window)
        except (concurrent.futures.TimeoutError, PoolTimeout) as exc:
            self._quiet_until = time.monotonic() + self.cooldown
            if isinstance(exc, PoolTimeout):
                raise
            raise PoolTimeout(f"the detection pool did not answer within {wait:g} s") from None

    def _enqueue(self, call: _Call) -> None:
        self._pending.append(call)
        if sum(len(c.texts) for c in self._pending) >= self.max_texts:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_later(self.window, self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        calls, self._pending = self._pending, []
        if calls:
            self._loop.create_task(self._send(calls))

    async def _send(self, calls: list[_Call]) -> None:
        try:
            if not self.connected:
                raise PoolUnavailable(f"not connected to the broker at {self.url}")
            texts = [t for c in calls for t in c.texts]
            self.requests += 1
            try:
                msg = await self._nc.request(self.subject, orjson.dumps({"model": self.model, "texts": texts}),
                                             timeout=self.timeout)
            except TimeoutError as exc:  # nats' TimeoutError is one too
                raise PoolTimeout(f"the detection pool did not answer within {self.timeout:g} s") from exc
            except Exception as exc:  # no responders, connection lost
                raise PoolUnavailable(f"the detection pool did not answer ({type(exc).__name__}: {exc})") from exc
            reply = orjson.loads(msg.data)
            if "error" in reply:
                raise PoolUnavailable(f"the detection pool refused the request: {reply['error']}")
            logits = np.asarray(reply["logits"], dtype=np.float32)
            if logits.ndim != 2 or len(logits) != len(texts):
                raise PoolUnavailable(f"the detection pool answered {len(logits)} rows for {len(texts)} texts")
        except Exception as exc:
            error = exc if isinstance(exc, PoolUnavailable) else PoolUnavailable(f"{type(exc).__name__}: {exc}")
            for call in calls:
                if not call.future.done():
                    call.future.set_exception(error)
            return
        at = 0
        for call in calls:
            if not call.future.done():
                call.future.set_result(logits[at:at + len(call.texts)])
            at += len(call.texts)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        async def shutdown() -> None:
            if self._nc is not None:
                try:
                    await self._nc.close()
                except Exception:
                    pass

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        except Exception:
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


class PoolDetector:
    """The API node's detector with the pool on: stage 1 (and the score cache) here, the encoder stage
    on the pool. Satisfies ``DetectorLike``; a post that needed the encoder and got no answer comes
    back with stage "unavailable" and no scores, which ``PolicyGate`` turns into a hold. The local
    ``Detector`` never loads its encoder (``Detector.encoder`` is lazy), so the node's memory stays small."""

    def __init__(self, detector: Detector, client: PoolClient) -> None:
        self.detector = detector
        self.client = client
        self._warned = 0.0

    @classmethod
    def connect(cls, settings: Settings, detector: Detector, *, timeout: float | None = None) -> "PoolDetector":
        if not settings.broker_url:
            raise ValueError("the detection pool needs a broker: set WARDEN_BROKER_URL")
        return cls(detector, PoolClient(settings.broker_url, settings.broker_namespace, detector.version,
                                        timeout=timeout_from_env() if timeout is None else timeout))

    @property
    def thresholds(self) -> dict[str, dict[str, float]]:
        return self.detector.thresholds

    @property
    def version(self) -> str:
        return self.detector.version

    @property
    def labels(self) -> tuple[str, ...]:
        return self.detector.labels

    def score(self, text: str) -> Detection:
        return self.score_batch([text])[0]

    def score_stage1(self, text: str) -> tuple[Detection | None, Callable[[], Detection]]:
        """As ``Detector.score_stage1``: stage 1 now; ``rest()`` asks the pool (it waits on the broker)."""
        return self.detector.score_stage1(text, self._encoder_logits)

    def score_batch(self, texts: Sequence[str], spans: bool = True) -> list[Detection]:
        if not texts:
            return []
        first = self.detector.first_stage(list(texts))
        wanted = first.encoder_texts
        return self.detector.finish(first, self._encoder_logits(wanted) if wanted else None, spans)

    def _encoder_logits(self, texts: list[str]) -> np.ndarray | None:
        """The pool's encoder logits for ``texts``; None when it did not answer (the posts are held)."""
        try:
            return self.client.encoder_logits(texts)
        except PoolUnavailable as exc:
            now = time.monotonic()
            if now - self._warned > 10:  # once in a while, not once a post during an outage
                self._warned = now
                log.warning("detection pool unavailable, posts that need the encoder are held: %s", exc)
            return None

    def close(self) -> None:
        self.client.close()


# --- the worker's side ------------------------------------------------------------------------------


def run_pool_worker(settings: Settings, detector: Detector, stop: threading.Event, *,
                    ready: threading.Event | None = None) -> None:
    """Serve the pool until ``stop`` is set: answer each request on ``<ns>.detect`` (queue group
    ``<ns>-detect``) with the encoder stage's logits for its texts. Requests that arrive within
    ``WORKER_WINDOW`` of each other, or while the encoder is busy, share one encoder call; the
    encoder runs in a thread, so the event loop keeps receiving. ``ready`` is set once subscribed."""
    if not settings.broker_url:
        raise ValueError("the detection pool worker needs a broker: set WARDEN_BROKER_URL")
    asyncio.run(_serve(settings, detector, stop, ready))


async def _serve(settings: Settings, detector: Detector, stop: threading.Event,
                 ready: threading.Event | None) -> None:
    nc = None
    while nc is None:
        if stop.is_set():
            return
        try:
            nc = await _connect(settings.broker_url or "", "warden-detection-worker")
        except Exception as exc:
            log.warning("detection worker: cannot reach the broker at %s (%s); retrying", settings.broker_url, exc)
            await asyncio.sleep(1.0)
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    async def on_request(msg: Any) -> None:
        inbox.put_nowait(msg)

    ns = settings.broker_namespace
    await nc.subscribe(detect_subject(ns), queue=detect_queue(ns), cb=on_request)
    await nc.flush()
    log.info("detection worker serving %s (model %s)", detect_subject(ns), detector.version)
    if ready is not None:
        ready.set()
    encoder = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="warden-pool-encoder")
    try:
        while not stop.is_set():
            batch = await _collect(inbox)
            if batch:
                await _answer(batch, detector, encoder)
    finally:
        try:
            await nc.drain()
        except Exception:
            pass
        encoder.shutdown(wait=True)


async def _collect(inbox: asyncio.Queue[Any]) -> list[Any]:
    """The next batch of requests: the first to arrive (or none within 0.1 s, so ``stop`` is seen),
    then whatever arrives within ``WORKER_WINDOW`` or has queued meanwhile."""
    try:
        batch = [await asyncio.wait_for(inbox.get(), 0.1)]
    except TimeoutError:
        return []
    deadline = asyncio.get_running_loop().time() + WORKER_WINDOW
    while len(batch) < WORKER_MAX_REQUESTS:
        while not inbox.empty() and len(batch) < WORKER_MAX_REQUESTS:
            batch.append(inbox.get_nowait())
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return batch
        try:
            batch.append(await asyncio.wait_for(inbox.get(), left))
        except TimeoutError:
            return batch
    return batch


def _parse(msg: Any, model: str) -> list[str]:
    """A request's texts; ``ValueError`` saying what is wrong with it."""
    try:
        body = orjson.loads(msg.data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"request is not JSON ({exc})") from None
    if not isinstance(body, dict) or not isinstance(body.get("texts"), list) \
            or not all(isinstance(t, str) for t in body["texts"]):
        raise ValueError('request must be {"model": str, "texts": [str, ...]}')
    if body.get("model") != model:
        raise ValueError(f"this worker serves model {model}, not {body.get('model')!r}")
    return body["texts"]


async def _answer(batch: list[Any], detector: Detector, encoder: concurrent.futures.Executor) -> None:
    requests: list[tuple[Any, list[str]]] = []
    for msg in batch:
        try:
            requests.append((msg, _parse(msg, detector.version)))
        except ValueError as exc:
            await _respond(msg, {"error": str(exc)})
    texts = [t for _, ts in requests for t in ts]
    if not texts:
        for msg, _ in requests:
            await _respond(msg, {"model": detector.version, "logits": []})
        return
    try:
        logits = await asyncio.get_running_loop().run_in_executor(encoder, detector.encoder_logits, texts)
    except Exception as exc:
        log.exception("detection worker: the encoder failed")
        for msg, _ in requests:
            await _respond(msg, {"error": f"the encoder failed: {type(exc).__name__}"})
        return
    at = 0
    for msg, ts in requests:
        await _respond(msg, {"model": detector.version, "logits": logits[at:at + len(ts)].tolist()})
        at += len(ts)


async def _respond(msg: Any, body: dict[str, Any]) -> None:
    if not msg.reply:
        return
    try:
        await msg.respond(orjson.dumps(body))
    except Exception as exc:  # the requester went away, or the connection did
        log.debug("detection worker: could not answer: %s", exc)
