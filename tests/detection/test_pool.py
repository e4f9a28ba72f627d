"""Detection as a pool over the broker (warden/detection/pool.py), against the real NATS server and
the real detector: the same scores as in-process, batching, and what happens when the pool is down."""

from __future__ import annotations

import threading

import pytest

from tests.pool_helpers import Listener, pool_settings, pool_worker
from tests.helpers import eventually
from warden.detection import Detector
from warden.detection.pool import PoolClient, PoolDetector, PoolUnavailable

MIXED = [
    "We should kill every one of them tonight. Bring weapons and burn their houses.",
    "I would kill for a decent croissant right now.",
    "Anyone watching the match tonight?",
    "Traitors hang. Remember that.",
    "@bob https://example.com/x",
    "Just finished reading a great book about the history of bridges in the north of England.",
    "Our team is going to destroy them on Saturday",
    "I would kill for a decent croissant right now.",  # twice in one batch
    "h4ng the tr41tors",
]
ENCODER_POSTS = ["Our team is going to destroy them on Saturday", "Traitors hang. Remember that.",
                 "I know where you live and I am coming for you", "people like him should disappear permanently",
                 "I could murder a pint after this week", "watch your back tonight",
                 "that referee should be shot lol", "somebody needs to burn that office down"]


def pooled(settings, *, timeout: float = 5.0, window: float = 0.002) -> PoolDetector:
    """An API node's detector: a fresh local detector (empty cache, encoder not loaded) and a client."""
    local = Detector.load()
    return PoolDetector(local, PoolClient(settings.broker_url, settings.broker_namespace, local.version,
                                          timeout=timeout, window=window))


def test_posts_scored_through_the_pool_get_the_in_process_scores_and_spans(detector: Detector) -> None:
    settings = pool_settings()
    reference = Detector.load()
    api = pooled(settings)
    try:
        with pool_worker(settings, detector):
            batch = api.score_batch(MIXED)
            one_by_one = [api.score(t) for t in ["a fresh post about gardens", "k1ll them all tonight"]]
            sent = api.client.requests
            again = api.score_batch(MIXED)
        expected = reference.score_batch(MIXED) + [reference.score(t) for t in ["a fresh post about gardens",
                                                                                 "k1ll them all tonight"]]
        for got, want in zip(batch + one_by_one, expected, strict=True):
            assert (got.scores, got.spans, got.stage) == (want.scores, want.spans, want.stage)
        assert {"linear", "encoder", "empty"} <= {d.stage for d in batch}
        assert any(d.spans for d in batch)
        # scored once: the second pass comes from the API node's cache, with nothing sent
        assert api.client.requests == sent
        assert [d.scores for d in again] == [d.scores for d in batch]
        assert {d.stage for d in again} == {"cached", "empty"}
        assert api.detector._encoder is None  # the API node never loaded the encoder
    finally:
        api.close()


def test_concurrent_callers_share_one_request(detector: Detector) -> None:
    settings = pool_settings()
    reference = Detector.load()
    api = pooled(settings, window=0.05)  # a wide window, so the threads' arrivals surely overlap it
    results: dict[int, object] = {}
    start = threading.Barrier(len(ENCODER_POSTS))

    def call(i: int) -> None:
        start.wait()
        results[i] = api.score(ENCODER_POSTS[i])

    try:
        with pool_worker(settings, detector), Listener(settings) as listener:
            threads = [threading.Thread(target=call, args=(i,)) for i in range(len(ENCODER_POSTS))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            seen = listener.count
        assert len(results) == len(ENCODER_POSTS)
        for i, text in enumerate(ENCODER_POSTS):
            want = reference.score(text)
            assert want.stage == "encoder" and results[i].scores == want.scores, text  # type: ignore[attr-defined]
        assert api.client.requests == seen < len(ENCODER_POSTS)  # what the broker carried: fewer messages
    finally:
        api.close()


def test_with_no_worker_posts_that_need_the_encoder_come_back_unscored(detector: Detector) -> None:
    settings = pool_settings()
    api = pooled(settings)
    try:
        got = api.score_batch(["Traitors hang. Remember that.", "Does anyone know a good plumber in town?", "@bob"])
        assert [d.stage for d in got] == ["unavailable", "linear", "empty"]
        assert got[0].scores == {} and got[0].spans == []
        assert got[1].scores["violence"] < 0.1  # a post stage 1 settles is scored without the pool
        with pool_worker(settings, detector):  # nothing unscored was cached: scored once the pool is up
            later = api.score("Traitors hang. Remember that.")
        assert later.stage == "encoder" and later.scores == Detector.load().score(later.normalized.original).scores
    finally:
        api.close()


def test_a_pool_that_does_not_answer_in_time_leaves_the_post_unscored() -> None:
    settings = pool_settings()
    api = pooled(settings, timeout=0.3)
    try:
        with Listener(settings) as slow:  # subscribed, never answers
            got = api.score("Traitors hang. Remember that.")
            assert slow.count == 1
            # right after a timeout the node does not wait again (for pool.COOLDOWN): held at once
            again = api.score("I know where you live and I am coming for you")
            assert slow.count == 1
        assert got.stage == again.stage == "unavailable" and got.scores == {}
    finally:
        api.close()


def test_with_the_broker_down_posts_that_need_the_encoder_come_back_unscored() -> None:
    settings = pool_settings(broker_url="nats://127.0.0.1:1")  # nothing listens there
    api = pooled(settings, timeout=0.3)
    try:
        got = api.score_batch(["Traitors hang. Remember that.", "Does anyone know a good plumber in town?"])
        assert [d.stage for d in got] == ["unavailable", "linear"]
        with pytest.raises(PoolUnavailable, match="not connected"):
            api.client.encoder_logits(["anything"])
    finally:
        api.close()


def test_a_worker_refuses_a_request_for_another_model(detector: Detector) -> None:
    settings = pool_settings()
    client = PoolClient(settings.broker_url, settings.broker_namespace, "some-other-model", timeout=5)
    try:
        with pool_worker(settings, detector):
            eventually(lambda: client.connected, what="the client connected")  # it connects in the background
            with pytest.raises(PoolUnavailable, match="serves model"):
                client.encoder_logits(["hello there"])
    finally:
        client.close()
