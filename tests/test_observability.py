"""Watching a node: Mastodon's /health, and /metrics as Prometheus reads it (docs/architecture.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, func, select
from starlette.testclient import TestClient

from tests.conftest import _free_port
from tests.helpers import LiveServer, eventually, stop_process
from tests.metrics_helpers import present, scrape, value
from warden.api.app import create_app
from warden.cases.worker import Consumer, OutboxSource
from warden.config import Settings
from warden.observability import multiprocess
from warden.observability.outbox import outbox_figures
from warden.store.outbox import emit
from warden.store.migrate import upgrade
from warden.store.models import OutboxEvent
from warden.store.moderation_models import ConsumerPosition, ProcessedEvent

REQUESTS = "warden_http_request_duration_seconds_count"


def test_health_answers_ok_as_plain_text(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["content-type"].startswith("text/plain")


def test_health_is_503_and_metrics_still_answer_when_the_database_is_down(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere", detection_enabled=False)
    with TestClient(create_app(settings, worker=False)) as client:
        response = client.get("/health")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/plain")
        assert "database" in response.text
        scraped = client.get("/metrics")
        assert scraped.status_code == 200
        assert "warden_database_up 0.0" in scraped.text
        assert "warden_outbox_pending" not in scraped.text


def test_request_latency_is_labelled_by_route_template_not_raw_path(server: LiveServer) -> None:
    author = server.user("metered")
    status_id = author.post("/api/v1/statuses", data={"status": "counted"}).json()["id"]
    route = {"route": "/api/v1/statuses/{status_id}", "method": "GET", "status": "2xx"}
    before = value(scrape(server.url), REQUESTS, **route)
    for _ in range(3):
        assert author.get(f"/api/v1/statuses/{status_id}").status_code == 200
    assert httpx.get(f"{server.url}/no/such/{status_id}").status_code == 404
    samples = scrape(server.url)
    assert value(samples, REQUESTS, **route) == before + 3
    assert value(samples, REQUESTS, route="unmatched", status="4xx") >= 1
    routes = {labels.get("route", "") for _, labels, _ in samples}
    assert not any(status_id in r.split("/") for r in routes)  # no raw id, however many posts are read
    assert value(samples, "warden_outbox_events_appended_total", type="status.created") >= 1


def test_metrics_token_when_configured(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDEN_METRICS_TOKEN", "s3cret-scrape")
    refused = httpx.get(f"{server.url}/metrics")
    assert refused.status_code == 401
    assert "WARDEN_METRICS_TOKEN" in refused.json()["error"]
    assert httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert present(scrape(server.url, Authorization="Bearer s3cret-scrape"), "warden_outbox_pending")


def test_outbox_lag_per_consumer_from_the_database(server: LiveServer) -> None:
    name = f"lag-test-{server.backend}"
    with server.db.write() as session:
        newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
        session.add(ConsumerPosition(name=name, position=newest))
    try:
        with server.db.write() as session:
            for i in range(3):
                emit(session, "test.lag", None, {"n": i})
        with server.db.write() as session:
            first = session.scalar(select(func.min(OutboxEvent.id)).where(OutboxEvent.id > newest))
            session.add(ProcessedEvent(consumer=name, event_id=first))  # handled out of order: not lag
        with server.db.read() as session:
            figures = outbox_figures(session)
        assert figures["consumers"][name] == {"position": newest, "lag": 2}
        assert figures["outbox_pending"] >= 0 and figures["dead_letters"] >= 0

        def scraped_lag() -> float | None:
            samples = scrape(server.url)
            assert present(samples, "warden_outbox_pending") and present(samples, "warden_outbox_dead_letters")
            lag = [v for n, labels, v in samples
                   if n == "warden_outbox_consumer_lag" and labels.get("consumer") == name]
            return lag[0] if lag else None

        assert eventually(scraped_lag, what="the consumer in /metrics") == 2  # within the 2 s cache
    finally:
        with server.db.write() as session:
            session.execute(delete(ProcessedEvent).where(ProcessedEvent.consumer == name))
            session.execute(delete(ConsumerPosition).where(ConsumerPosition.name == name))


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_worker_counts_handled_failed_and_dead_lettered_events(server: LiveServer) -> None:
    name = f"count-test-{server.backend}"
    with server.db.write() as session:
        newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
        session.add(ConsumerPosition(name=name, position=newest))
    appended = _counter("warden_outbox_events_appended_total", type="test.counted")
    with server.db.write() as session:
        for i in range(4):
            emit(session, "test.counted", None, {"n": i})
    assert _counter("warden_outbox_events_appended_total", type="test.counted") == appended + 4
    with server.db.read() as session:
        poison = session.scalar(select(func.max(OutboxEvent.id)).where(OutboxEvent.type == "test.counted"))

    def handler(_session: object, event: object) -> None:
        if event.id == poison:  # type: ignore[attr-defined]
            raise RuntimeError("cannot handle this one")

    before = {o: _counter("warden_worker_events_total", consumer=name, outcome=o)
              for o in ("handled", "failed", "dead_letter")}
    consumer = Consumer(name, server.db, OutboxSource(server.db), handler, retry_base=0.0)
    try:
        for _ in range(20):
            consumer.poll()
            if _counter("warden_worker_events_total", consumer=name, outcome="dead_letter"):
                break
        with server.db.read() as session:
            handled = session.scalar(select(func.count()).select_from(ProcessedEvent).where(
                ProcessedEvent.consumer == name, ProcessedEvent.outcome == "done"))
        after = {o: _counter("warden_worker_events_total", consumer=name, outcome=o) - before[o] for o in before}
        assert after["handled"] == handled >= 3
        assert after["dead_letter"] == 1
        assert after["failed"] == 5  # each attempt alone fails once; the fifth dead-letters it
    finally:
        with server.db.write() as session:
            session.execute(delete(ProcessedEvent).where(ProcessedEvent.consumer == name))
            session.execute(delete(ConsumerPosition).where(ConsumerPosition.name == name))


def test_detection_stage_time_and_posts_by_stage() -> None:
    from warden.detection import get_detector

    detector = get_detector()
    texts = [f"a walk by the river {time.time_ns()} {i}" for i in range(4)]
    stages = ("linear", "encoder", "cached")
    posts = {s: _counter("warden_detection_posts_total", stage=s) for s in stages}
    batches = {s: _counter("warden_detection_stage_duration_seconds_count", stage=s) for s in stages}
    detector.score_batch(texts)
    scored = {s: _counter("warden_detection_posts_total", stage=s) - posts[s] for s in stages}
    assert scored["linear"] + scored["encoder"] == 4 and scored["cached"] == 0
    assert _counter("warden_detection_stage_duration_seconds_count", stage="linear") == batches["linear"] + 1
    assert _counter("warden_detection_stage_duration_seconds_count", stage="encoder") == \
        batches["encoder"] + (1 if scored["encoder"] else 0)
    detector.score_batch(texts)  # the same posts again: all from the score cache, one batch observed
    assert _counter("warden_detection_posts_total", stage="cached") == posts["cached"] + 4
    assert _counter("warden_detection_stage_duration_seconds_count", stage="cached") == batches["cached"] + 1


def test_serving_makes_a_folder_for_several_workers_and_removes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(multiprocess.ENV, raising=False)
    with multiprocess.serving(1) as folder:
        assert folder is None and multiprocess.ENV not in os.environ
    with multiprocess.serving(2) as folder:
        assert folder is not None and os.environ[multiprocess.ENV] == folder and Path(folder).is_dir()
    assert not Path(folder).exists() and multiprocess.ENV not in os.environ


def _pids(folder: Path, kind: str) -> set[str]:
    return {p.stem.rsplit("_", 1)[1] for p in folder.glob(f"{kind}_*.db")}


def test_two_server_processes_are_summed_in_one_scrape(tmp_path: Path) -> None:
    """`warden serve --workers 2` with PROMETHEUS_MULTIPROC_DIR: whichever worker answers /metrics
    counts every worker's requests; a previous run's values are cleaned first, and a worker that
    exits takes its live gauges with it."""
    url = f"sqlite:///{tmp_path / 'multi.sqlite3'}"
    upgrade(url)
    folder = tmp_path / "prom"
    folder.mkdir()
    stale = folder / "counter_999999999.db"  # a process long gone: its counts must not be added again
    stale.write_bytes(b"stale")
    port = _free_port()
    env = {**os.environ, "WARDEN_DATABASE_URL": url, "WARDEN_DETECTION": "0", "WARDEN_WORKER": "0",
           multiprocess.ENV: str(folder)}
    proc = subprocess.Popen([sys.executable, "-m", "warden.cli", "serve", "--workers", "2", "--port", str(port),
                             "--no-migrate"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            try:
                workers = _pids(folder, "gauge_livesum") - {str(proc.pid)}  # the supervisor may write one too
                return httpx.get(f"{base}/health", timeout=2).text == "OK" and len(workers) == 2
            except httpx.HTTPError:
                return False

        eventually(up, timeout=90, what="two server workers")
        assert not stale.exists()
        sent = 0
        while len(_pids(folder, "histogram")) < 2 or sent < 20:  # until both workers have served requests
            with httpx.Client(base_url=base) as fresh:  # a new connection each time: either worker may take it
                assert fresh.get("/api/v1/instance").status_code == 200
            sent += 1
            assert sent < 500, "one worker took every connection"
        total = value(scrape(base), REQUESTS, route="/api/v1/instance")
        assert total == sent
    finally:
        stop_process(proc)
    assert _pids(folder, "gauge_livesum") == set()  # every process marked itself dead
    assert len(_pids(folder, "histogram")) == 2  # while their counts stay for the next scrape
