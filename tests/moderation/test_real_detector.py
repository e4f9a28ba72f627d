"""The policy gate with the REAL detector (warden.detection), end to end.

Skipped only when the trained model files are missing (warden/detection/model/meta.json, produced by
`warden train`); every other moderation test uses the fake detector from conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer
from warden.config import Settings
from warden.store.moderation_models import ModerationDecision

MODEL_DIR = Path(os.environ.get("WARDEN_MODEL_DIR", Path(__file__).resolve().parents[2] / "warden/detection/model"))
pytestmark = pytest.mark.skipif(not (MODEL_DIR / "meta.json").exists(),
                                reason=f"real detector model files missing in {MODEL_DIR} (run `warden train`)")


@pytest.fixture(scope="module")
def real_server(backend: str, tmp_data_dir: Path) -> Iterator[LiveServer]:
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=True)
    srv, thread, db = start_server(settings, worker=False)  # no detector given: the real one is loaded
    yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend)
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


def test_real_detector_stops_plain_incitement_and_publishes_politics(real_server: LiveServer) -> None:
    author = real_server.user("real")
    reader = real_server.user("reader")
    violent = author.post("/api/v1/statuses", data={
        "status": "We should kill every one of them tonight. Bring weapons and burn their houses."})
    # A plain call to violence scores above the detector's auto threshold: refused, with a decision id.
    assert violent.status_code == 422, violent.text
    assert violent.json()["decision_id"]
    politics = author.post("/api/v1/statuses", data={
        "status": "The senator is a disgrace and his tax plan is theft; vote him out in November!"})
    assert politics.status_code == 200, politics.text
    assert "warden" not in politics.json() or politics.json()["warden"]["state"] == "published"
    assert reader.get(f"/api/v1/statuses/{politics.json()['id']}").status_code == 200
    idiom = author.post("/api/v1/statuses", data={"status": "I would kill for a decent croissant right now."})
    assert idiom.status_code == 200 and reader.get(f"/api/v1/statuses/{idiom.json()['id']}").status_code == 200


def test_real_detector_holds_a_threat_made_as_a_reply(real_server: LiveServer) -> None:
    # A reply starts with its mention; the mention must not make a threat look harmless (it did:
    # this reply scored 0.002 before mentions were dropped from what the detector reads).
    author = real_server.user("replier")
    target = real_server.user("target")
    post = target.post("/api/v1/statuses", data={"status": "Council meeting on the new bike lanes is tonight."})
    assert post.status_code == 200, post.text
    reply = author.post("/api/v1/statuses", data={
        "status": f"@{target.username} I am going to kill you tomorrow", "in_reply_to_id": post.json()["id"]})
    assert reply.status_code in (200, 422), reply.text
    if reply.status_code == 200:  # not refused outright: then held for a moderator, not published
        assert reply.json()["warden"]["state"] == "held"
        assert target.get(f"/api/v1/statuses/{reply.json()['id']}").status_code == 404


def test_a_violent_code_the_classifier_misses_is_held_by_the_default_policy(real_server: LiveServer) -> None:
    # "race war now" scores about 0.02 for violence; the default policy's violent_codes list holds it,
    # also written to dodge a word filter, and the decision's reason quotes the post as written.
    author = real_server.user("coder")
    reader = real_server.user("onlooker")
    coded = author.post("/api/v1/statuses", data={"status": "R4CE W A R N0W, brothers"})
    assert coded.status_code == 200, coded.text
    assert coded.json()["warden"]["state"] == "held"
    assert reader.get(f"/api/v1/statuses/{coded.json()['id']}").status_code == 404
    with real_server.db.read() as session:
        decision = session.get(ModerationDecision, coded.json()["warden"]["decision_id"])
        assert decision is not None and (decision.action, decision.rule) == ("hold", "violent-codes")
        assert "R4CE W A R N0W" in str(decision.statement)
