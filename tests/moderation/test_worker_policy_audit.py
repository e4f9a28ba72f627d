"""The asynchronous path (at least once, idempotent), policy versions and shadow mode, and the audit trail."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

from tests.helpers import LiveServer, eventually
from tests.moderation.conftest import Team, cases_for, run_cli
from warden.cases.worker import (
    Consumer,
    ModerationHandlers,
    ModerationWorker,
    OutboxSource,
)
from warden.policy.engine import CompiledPolicy, PolicyStore
from warden.policy.model import DEFAULT_POLICY_PATH, load_policy
from warden.policy.versions import backtest
from warden.store.models import OutboxEvent
from warden.store.moderation_models import (
    AuditEntry,
    ModerationDecision,
    PolicyVersion,
    ProcessedEvent,
)

SPAM = "Free crypto https://spam.example/win for everyone"


def _async_decisions(server: LiveServer, status_id: str) -> list[ModerationDecision]:
    with server.db.read() as session:
        return list(session.scalars(select(ModerationDecision).where(
            ModerationDecision.status_id == int(status_id), ModerationDecision.kind == "async")))


def _renamed(body: str, version: str) -> str:
    """The policy ``body`` under another version (a changed policy must get one)."""
    renamed, n = re.subn(r'^version: "[^"]+"', f'version: "{version}"', body, count=1, flags=re.M)
    assert n == 1
    return renamed


def test_same_outbox_event_delivered_twice_yields_one_decision(mod_server: LiveServer) -> None:
    author = mod_server.user("spammer")
    status = author.post("/api/v1/statuses", data={"status": SPAM}).json()
    # Published at once; the async rule (spam links) limits it moments later.
    assert status.get("warden") is None
    decisions = eventually(lambda: _async_decisions(mod_server, status["id"]), what="the async decision")
    assert [d.action for d in decisions] == ["limit"]
    assert author.get(f"/api/v1/statuses/{status['id']}").json()["warden"]["limited"] is True

    with mod_server.db.read() as session:
        event_id = session.scalar(select(OutboxEvent.id).where(OutboxEvent.type == "status.created",
                                                               OutboxEvent.subject_id == int(status["id"])))
    source = OutboxSource(mod_server.db)
    event = source.get(event_id)
    assert event is not None
    # Redelivery to the same consumer (as after a crash before its position was saved) changes nothing...
    consumer = Consumer(ModerationWorker.NAME, mod_server.db, source, ModerationHandlers(
        mod_server.settings, PolicyStore(), mod_server.extras["detector"]))
    assert consumer.deliver(event) is False
    assert consumer.deliver(event) is False
    # ...and a consumer that has never seen the event handles it once, then not again.
    fresh = Consumer("redelivery-test-" + mod_server.backend, mod_server.db, source,
                     ModerationHandlers(mod_server.settings, PolicyStore(), mod_server.extras["detector"]))
    assert fresh.deliver(event) is True
    assert fresh.deliver(event) is False
    assert len(_async_decisions(mod_server, status["id"])) == 1


def test_policy_check_names_the_bad_field(mod_server: LiveServer, tmp_path: Path) -> None:
    good = run_cli(mod_server, "policy", "check", str(DEFAULT_POLICY_PATH))
    assert good.exit_code == 0 and "valid" in good.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_POLICY_PATH.read_text().replace("action: hold", "action: obliterate", 1))
    result = run_cli(mod_server, "policy", "check", str(bad))
    assert result.exit_code != 0
    assert "labels.violence.thresholds.1.action" in result.output


def test_shadow_policy_records_without_acting_and_backtest_reports_changes(mod_server: LiveServer,
                                                                           tmp_path: Path) -> None:
    strict = tmp_path / "strict.yaml"
    body = _renamed(DEFAULT_POLICY_PATH.read_text(), f"strict-{mod_server.backend}")
    body = body.replace('    - "kill them all"', '    - "kill them all"\n    - "pitchforks"')
    strict.write_text(body)
    author = mod_server.user("farmer")
    older = author.post("/api/v1/statuses", data={"status": "Grab your pitchforks, the harvest festival is on!"}).json()

    # The backtest replays stored posts: this one would now be blocked.
    compiled = CompiledPolicy.build(*load_policy(strict))
    with mod_server.db.read() as session:
        report = backtest(session, compiled, mod_server.extras["detector"], limit=500)
    changed = {c["status_id"]: c for c in report.changes}
    assert changed[int(older["id"])]["to"] == "removed"
    cli = run_cli(mod_server, "policy", "backtest", str(strict), "--no-detector", "--limit", "500")
    assert cli.exit_code == 0 and f"status {older['id']}: published -> removed" in cli.output

    activated = run_cli(mod_server, "policy", "activate", str(strict), "--shadow")
    assert activated.exit_code == 0, activated.output
    try:
        def shadow_decision() -> list[ModerationDecision]:
            post = author.post("/api/v1/statuses", data={"status": "More pitchforks for the festival stage"})
            assert post.status_code == 200  # shadow mode never acts
            with mod_server.db.read() as session:
                return list(session.scalars(select(ModerationDecision).where(
                    ModerationDecision.shadow.is_(True), ModerationDecision.account_id == author.id)))
        recorded = eventually(shadow_decision, timeout=10, what="a shadow decision")
        assert recorded[0].action == "block" and recorded[0].policy_version == f"strict-{mod_server.backend}"
    finally:
        with mod_server.db.write() as session:
            session.execute(text("UPDATE policy_versions SET state = 'retired' WHERE state = 'shadow'"))
    with mod_server.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PolicyVersion)
                              .where(PolicyVersion.state == "shadow")) == 0


def test_activating_a_policy_rescores_recent_posts_into_cases(mod_server: LiveServer, team: Team,
                                                              tmp_path: Path) -> None:
    author = mod_server.user("gardener")
    status = author.post("/api/v1/statuses", data={"status": "Sharpen the hedge trimmers, spring is here."}).json()
    assert status.get("warden") is None
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(_renamed(DEFAULT_POLICY_PATH.read_text(), f"rescore-{mod_server.backend}")
                        .replace('    - "kill them all"', '    - "kill them all"\n    - "hedge trimmers"'))
    assert run_cli(mod_server, "policy", "activate", str(stricter)).exit_code == 0
    try:
        case = eventually(lambda: cases_for(team.moderator, {status["id"]}), what="the re-scoring case")[0]
        assert case["sources"] == ["detector"]
        # Re-scoring opens cases; it does not remove anything by itself.
        assert author.get(f"/api/v1/statuses/{status['id']}").json().get("warden") is None
        assert team.moderator.get("/api/warden/v1/policy").json()["active"] == f"rescore-{mod_server.backend}"
    finally:
        assert run_cli(mod_server, "policy", "activate", str(DEFAULT_POLICY_PATH)).exit_code == 0


def test_audit_verify_detects_a_tampered_row(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("audited")
    author.post("/api/v1/statuses", data={"status": "We should kill every one of them tonight."})
    ok = run_cli(mod_server, "audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    with mod_server.db.read() as session:
        victim = session.scalars(select(AuditEntry).where(AuditEntry.action == "decision.block")
                                 .order_by(AuditEntry.seq.desc())).first()
    assert victim is not None
    with mod_server.db.write() as session:
        session.execute(text("UPDATE audit_log SET entry = replace(entry, 'decision.block', 'decision.allow'), "
                             "action = 'decision.allow' WHERE seq = :seq"), {"seq": victim.seq})
    try:
        bad = run_cli(mod_server, "audit", "verify")
        assert bad.exit_code == 1
        assert f"entry {victim.seq}" in bad.output
    finally:
        with mod_server.db.write() as session:
            session.execute(text("UPDATE audit_log SET entry = :entry, action = :action WHERE seq = :seq"),
                            {"entry": victim.entry, "action": victim.action, "seq": victim.seq})
    assert run_cli(mod_server, "audit", "verify").exit_code == 0
    # Staff access to evidence is itself audited.
    with mod_server.db.read() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "evidence.viewed"))
    team.moderator.get("/api/warden/v1/cases/999999999")  # not found: no access, no entry
    with mod_server.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "evidence.viewed")) == before


def test_notice_batch_limits_and_openapi(mod_server: LiveServer) -> None:
    from tests.helpers import unique_name
    from tests.moderation.conftest import create_partner

    token = create_partner(mod_server, unique_name("bulk"), trusted=False)
    headers = {"Authorization": f"Bearer {token}"}
    too_many = [{"url": f"{mod_server.url}/@x/1", "category": "violence"}] * 501
    response = httpx.post(f"{mod_server.url}/api/warden/v1/notices", json={"notices": too_many}, headers=headers)
    assert response.status_code == 422 and "500" in response.json()["error"]
    paths = httpx.get(f"{mod_server.url}/openapi.json").json()["paths"]
    for path in ("/api/warden/v1/notices", "/api/warden/v1/cases", "/api/warden/v1/cases/{case_id}/decision",
                 "/api/warden/v1/appeals", "/api/warden/v1/appeals/{appeal_id}/decision", "/api/v1/admin/reports",
                 "/api/v1/admin/accounts/{account_id}/action"):
        assert path in paths
        assert all(op.get("summary") for op in paths[path].values())


def test_a_chunk_records_its_events_and_the_position_in_one_transaction(mod_server: LiveServer) -> None:
    """The batched path itself (a failure there would fall back to one event per transaction and hide):
    the chunk's events are recorded as processed, and the position moves with them."""
    author = mod_server.user("chunked")
    for i in range(3):
        author.post("/api/v1/statuses", data={"status": f"chunked post {i}"}).raise_for_status()
    name = f"chunk-test-{mod_server.backend}"
    seen: list[int] = []
    consumer = Consumer(name, mod_server.db, OutboxSource(mod_server.db), lambda _s, e: seen.append(e.id))
    consumer.save_position(0)
    events = OutboxSource(mod_server.db).fetch(0, 1000)
    consumed, handled, stored = consumer._deliver_chunk(events, events[-1].id)
    assert (consumed, handled, stored) == (len(events), len(events), True)
    assert seen == [e.id for e in events] and consumer.position() == events[-1].id
    with mod_server.db.read() as session:
        recorded = session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == name)).all()
    assert sorted(recorded) == seen
    assert consumer._deliver_chunk(events, events[-1].id) == (len(events), 0, True)  # nothing twice


def test_consumer_retries_then_dead_letters_a_poison_event_without_stalling(mod_server: LiveServer) -> None:
    author = mod_server.user("poison")
    posted = [author.post("/api/v1/statuses", data={"status": f"ordinary post {i}"}).json() for i in range(3)]
    with mod_server.db.read() as session:
        poison = session.scalar(select(OutboxEvent.id).where(OutboxEvent.type == "status.created",
                                                             OutboxEvent.subject_id == int(posted[1]["id"])))
    seen: list[int] = []
    attempts = []

    def handler(_session: object, event: object) -> None:
        if event.id == poison:  # type: ignore[attr-defined]
            attempts.append(event.id)  # type: ignore[attr-defined]
            raise RuntimeError("cannot handle this one")
        seen.append(event.id)  # type: ignore[attr-defined]

    name = f"poison-test-{mod_server.backend}"
    consumer = Consumer(name, mod_server.db, OutboxSource(mod_server.db), handler, retry_base=0.0)

    def dead_letters() -> int:
        with mod_server.db.read() as session:
            return session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "worker.dead_letter", AuditEntry.subject == f"event:{poison}")) or 0

    for _ in range(20):
        consumer.poll()
        if dead_letters():
            break
    assert dead_letters() == 1
    assert 5 <= len(attempts) <= 6  # five attempts (the first inside a failed batch, then alone)
    with mod_server.db.read() as session:
        last = session.scalar(select(func.max(OutboxEvent.id)))
    tries = len(attempts)
    consumer.poll()
    assert consumer.position() >= last  # the poison event did not stall the consumer
    assert len(attempts) == tries  # and is not tried again
    # Every other event was handled (a handler call inside a rolled-back batch left no trace), once each.
    with mod_server.db.read() as session:
        outcomes = dict(session.execute(select(ProcessedEvent.event_id, ProcessedEvent.outcome)
                                        .where(ProcessedEvent.consumer == name)).all())
        total = session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.id <= last))
    assert len(outcomes) == total
    assert outcomes.pop(poison) == "failed" and set(outcomes.values()) == {"done"}
    assert poison not in seen
