"""The surge replay's scenario and figures (bench/surge_model.py) and its command line's refusals.

The replay itself drives a live deployment for minutes and prints numbers; what it reports rests on
the pieces tested here: posts planned at the phase's rate and share, SLA compliance that neither
forgives an overdue open notice nor blames one that is not yet due, exposure counted only before
the action, and the capacity pick.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from surge_model import (  # noqa: E402
    Corpus,
    NoticeOutcome,
    Scenario,
    exposure,
    keeps_sla,
    percentiles,
    plan_posts,
    series,
    sla_compliance,
    smallest_capacity,
    stream_update_id,
)

CORPUS = Corpus(violent=tuple(f"v{i}" for i in range(50)), benign=tuple(f"b{i}" for i in range(500)))


def test_plan_follows_the_phases_rates_and_violent_shares() -> None:
    scenario = Scenario(baseline_min=60, surge_min=60, tail_min=60, posts_per_min=10, surge_factor=10,
                        violent_share_baseline=0.01, violent_share_surge=0.2, seed=3)
    plan = plan_posts(scenario, CORPUS)
    by_phase: dict[str, list] = {"baseline": [], "surge": [], "tail": []}
    for post in plan:
        by_phase[scenario.phase(post.at)].append(post)
    assert 450 < len(by_phase["baseline"]) < 750  # 600 expected (Poisson)
    assert 5_400 < len(by_phase["surge"]) < 6_600  # 10x
    surge_share = sum(p.violent for p in by_phase["surge"]) / len(by_phase["surge"])
    assert 0.17 < surge_share < 0.23
    assert sum(p.violent for p in by_phase["baseline"]) < 20
    assert all(p.text.startswith("v") == p.violent for p in plan)
    assert all(p.author < scenario.violent_accounts for p in plan if p.violent)
    assert all(scenario.violent_accounts <= p.author < scenario.users for p in plan if not p.violent)
    assert plan == sorted(plan, key=lambda p: p.at) and plan[-1].at < scenario.total_min * 60
    assert plan_posts(scenario, CORPUS) == plan  # seeded: the same run twice


def test_sla_compliance_counts_overdue_open_notices_as_missed_and_leaves_out_those_not_yet_due() -> None:
    notices = [NoticeOutcome(0, 30), NoticeOutcome(0, 61), NoticeOutcome(0, None),   # met, late, open and overdue
               NoticeOutcome(90, None)]                                               # open, due at 150
    result = sla_compliance(notices, sla_real_s=60, run_end=100)
    assert result == {"notices": 4, "met": 1, "missed": 2, "open_not_yet_due": 1, "compliance": 0.3333}
    assert sla_compliance([], sla_real_s=60, run_end=100)["compliance"] is None


def _summary(met: int, missed: int, open_not_yet_due: int = 0) -> dict:
    return {"sla_trusted_flagger": {"needing_review": {"met": met, "missed": missed,
                                                       "open_not_yet_due": open_not_yet_due}}}


def test_smallest_capacity_is_the_fewest_moderators_with_no_missed_notice() -> None:
    runs = [(1, _summary(3, 4)), (4, _summary(9, 0)), (2, _summary(8, 0))]
    assert smallest_capacity(runs) == 2
    assert not keeps_sla(_summary(0, 0))  # nothing judged proves nothing
    assert not keeps_sla(_summary(5, 0, open_not_yet_due=1))  # the run ended before one was answered
    assert smallest_capacity([(1, _summary(3, 1))]) is None


def test_exposure_counts_deliveries_before_the_action_only() -> None:
    deliveries = [(1, 10.0), (1, 11.0), (1, 25.0), (2, 5.0), (3, 7.0)]
    result = exposure(deliveries, violent_ids={1, 3}, acted_at={1: 20.0})
    assert (result.before_action, result.after_action, result.posts_seen) == (3, 1, {1, 3})
    assert result.as_dict(scale=10)["estimated_network_deliveries"] == 30


def test_percentiles_and_series() -> None:
    assert percentiles(range(1, 101)) == {"n": 100, "p50": 50, "p90": 90, "p99": 99, "max": 100}
    assert percentiles([])["p50"] is None
    assert series([0.0, 0.5, 1.2, 2.9, 3.0], start=0, end=3, bucket=1) == [2, 1, 1]


def test_stream_frames_count_updates_only() -> None:
    update = json.dumps({"stream": ["user"], "event": "update", "payload": json.dumps({"id": "42", "content": "x"})})
    assert stream_update_id(update) == 42
    assert stream_update_id(json.dumps({"stream": ["user"], "event": "delete", "payload": "42"})) is None
    assert stream_update_id(json.dumps({"stream": ["user"], "event": "notification", "payload": "{}"})) is None


@pytest.mark.parametrize("argv, message", [
    (["--capacity", "2,x"], "--capacity must be moderator counts"),
    (["--capacity", "0"], "at least 1 moderator"),
])
def test_bad_arguments_exit_with_a_one_line_message(argv: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, str(BENCH / "bench_surge.py"), *argv], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr


def test_cluster_mode_says_what_it_needs_when_the_worker_has_no_roles() -> None:
    from bench_surge import cluster_supported

    help_text = subprocess.run([sys.executable, "-m", "warden.cli", "worker", "--help"], capture_output=True,
                               text=True).stdout
    why = cluster_supported()
    if "--roles" in help_text:
        assert why is None
        return
    assert why is not None and "--roles" in why
    result = subprocess.run([sys.executable, str(BENCH / "bench_surge.py"), "--mode", "cluster"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "needs the broker path" in result.stderr
