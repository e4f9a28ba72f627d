"""The write path with detection on a pool that is slow or down (docs/detection.md, "When the
detection pool is slow or down"): a post that needs the encoder and gets no answer in time is held,
never published unscored; once a pool worker is back, the moderation worker scores it and applies
the policy: a benign post is published, a violent one stays held with a case (or is removed where
the gate would have refused it). Real NATS, real detector, a live server per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer, eventually
from tests.moderation.conftest import STAFF_SCOPES, cases_for
from tests.pool_helpers import Listener, pool_settings, pool_worker
from warden.broker.worker import BrokerWorker
from warden.detection import Detector
from warden.detection.pool import PoolClient, PoolDetector
from warden.policy.engine import UNSCORED_REASON, UNSCORED_RULE
from warden.store.models import Status
from warden.store.moderation_models import ModerationDecision

BENIGN_FOR_THE_ENCODER = "Our team is going to destroy them on Saturday"   # violence ~0.00
THREAT_TO_HOLD = "Traitors hang. Remember that."                           # ~0.4: held for review
THREAT_TO_BLOCK = "Someone should put a bullet in that judge"              # ~0.97: the gate refuses it
SETTLED_BY_STAGE_1 = "Anyone watching the match tonight?"


@pytest.fixture(scope="module")
def pool_server(backend: str, tmp_data_dir: Path) -> Iterator[LiveServer]:
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    settings = pool_settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=True)
    local = Detector.load()
    api = PoolDetector(local, PoolClient(settings.broker_url, settings.broker_namespace, local.version, timeout=0.5))
    srv, thread, db = start_server(settings, detector=api)
    # with a broker the server runs no outbox worker: a `warden worker` (relay and moderation) does
    worker = BrokerWorker(settings, db, ["relay", "moderation"], detector=api)
    worker.start()
    yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend, extras={"detector": api})
    worker.stop()
    srv.should_exit = True
    thread.join(timeout=10)
    api.close()
    db.dispose()
    drop()  # type: ignore[operator]


def test_posts_the_pool_cannot_score_are_held_until_scored_then_the_policy_applies(pool_server: LiveServer) -> None:
    author = pool_server.user("pooled")
    reader = pool_server.user("reader")
    mod = pool_server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    ids: dict[str, str] = {}
    with Listener(pool_server.settings) as slow:  # a pool that takes the requests and never answers in time
        for text in (BENIGN_FOR_THE_ENCODER, THREAT_TO_HOLD, THREAT_TO_BLOCK, SETTLED_BY_STAGE_1):
            response = author.post("/api/v1/statuses", data={"status": text})
            assert response.status_code == 200, response.text
            ids[text] = response.json()["id"]
        listed = author.post("/api/v1/statuses", data={"status": "Burn them alive, every last one of them"})
        assert listed.status_code == 422, listed.text  # the policy's list rules still apply to an unscored post
        assert slow.count >= 1  # after a timeout the node holds at once for a second (pool.COOLDOWN)
    settled = author.get(f"/api/v1/statuses/{ids[SETTLED_BY_STAGE_1]}").json()
    assert "warden" not in settled or settled["warden"]["state"] == "published"  # stage 1 scored it here
    assert reader.get(f"/api/v1/statuses/{ids[SETTLED_BY_STAGE_1]}").status_code == 200
    unscored = [ids[t] for t in (BENIGN_FOR_THE_ENCODER, THREAT_TO_HOLD, THREAT_TO_BLOCK)]
    with pool_server.db.read() as session:
        for status_id in unscored:
            status = session.get(Status, int(status_id))
            assert status is not None and status.state == "held"
            decision = session.get(ModerationDecision, status.decision_id)
            assert decision is not None and decision.rule == UNSCORED_RULE and decision.automated
            assert UNSCORED_REASON in decision.explanation and not decision.scores
    for status_id in unscored:
        assert reader.get(f"/api/v1/statuses/{status_id}").status_code == 404  # never published unscored
    assert not cases_for(mod, set(unscored))  # an outage does not flood the queue

    with pool_worker(pool_server.settings, Detector.load()):  # the pool is back: the worker's retries score them
        def state(text: str) -> str:
            with pool_server.db.read() as session:
                return session.get(Status, int(ids[text])).state  # type: ignore[union-attr]

        eventually(lambda: state(BENIGN_FOR_THE_ENCODER) == "published" and state(THREAT_TO_BLOCK) == "removed"
                   and cases_for(mod, {ids[THREAT_TO_HOLD]}), timeout=60, what="the held posts to be scored")
    assert reader.get(f"/api/v1/statuses/{ids[BENIGN_FOR_THE_ENCODER]}").status_code == 200
    assert state(THREAT_TO_HOLD) == "held"
    assert reader.get(f"/api/v1/statuses/{ids[THREAT_TO_HOLD]}").status_code == 404
    assert reader.get(f"/api/v1/statuses/{ids[THREAT_TO_BLOCK]}").status_code == 404
    [case] = cases_for(mod, {ids[THREAT_TO_HOLD]})
    assert case["label"] == "violence"
    assert not cases_for(mod, {ids[BENIGN_FOR_THE_ENCODER]})
    with pool_server.db.read() as session:
        outcome = {text: session.query(ModerationDecision).filter_by(status_id=int(ids[text]), kind="async").one()
                   for text in (BENIGN_FOR_THE_ENCODER, THREAT_TO_HOLD, THREAT_TO_BLOCK)}
        assert {t: d.action for t, d in outcome.items()} == {
            BENIGN_FOR_THE_ENCODER: "restore", THREAT_TO_HOLD: "hold", THREAT_TO_BLOCK: "remove"}
        assert all(d.automated and d.scores and d.scores["violence"] >= 0 for d in outcome.values())
        assert outcome[THREAT_TO_HOLD].scores["violence"] >= 0.2


def test_a_post_still_unscored_after_the_patience_gets_a_case(pool_server: LiveServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from warden.cases import worker

    monkeypatch.setattr(worker, "UNSCORED_PATIENCE_SECONDS", 0.0)  # the pool stays down past it at once
    author = pool_server.user("patient")
    reader = pool_server.user("reader")
    mod = pool_server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    # a post the API node has not scored before (its cache would answer), no worker: no responders
    response = author.post("/api/v1/statuses", data={"status": "that referee should be shot lol"})
    assert response.status_code == 200, response.text
    status_id = response.json()["id"]
    [case] = eventually(lambda: cases_for(mod, {status_id}), what="a case for the post held unscored")
    assert reader.get(f"/api/v1/statuses/{status_id}").status_code == 404  # still held: a moderator decides
    detail = mod.get(f"/api/warden/v1/cases/{case['id']}")
    assert detail.status_code == 200 and "still unavailable" in detail.text


def test_moderation_build_puts_the_pool_in_front_of_the_detector_when_asked(monkeypatch: pytest.MonkeyPatch,
                                                                            tmp_path: Path) -> None:
    from warden.cases.runtime import Moderation
    from warden.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    settings = pool_settings(database_url=db.url)
    monkeypatch.delenv("WARDEN_DETECTION_POOL", raising=False)
    assert not isinstance(Moderation.build(settings, db, worker=False).detector, PoolDetector)  # off by default
    monkeypatch.setenv("WARDEN_DETECTION_POOL", "1")
    monkeypatch.setenv("WARDEN_DETECTION_TIMEOUT", "0.7")
    engine = Moderation.build(settings, db, worker=False)
    assert isinstance(engine.detector, PoolDetector) and engine.owns_detector
    assert engine.detector.client.timeout == 0.7
    assert engine.detector.thresholds == engine.detector.detector.thresholds
    engine.detector.close()
    no_broker = Moderation.build(pool_settings(database_url=db.url, broker_url=None), db, worker=False)
    assert not isinstance(no_broker.detector, PoolDetector)  # the pool needs a broker
    db.dispose()
