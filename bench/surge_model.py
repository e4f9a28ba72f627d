"""The surge scenario as data, and the figures computed from a run, without any I/O to a server.

`bench_surge.py` drives a live deployment; this module holds what can be reasoned about (and
tested) without one: which posts are sent when, which of them are violent by ground truth, and how
the records of a run become the reported figures (time to enforcement, SLA compliance, exposure,
the smallest capacity that kept the SLA).

Two clocks. The scenario is written in *simulated* seconds; a `compress` factor maps them to real
seconds (60: one simulated hour takes one real minute). Whatever a person experiences (a moderator's
minutes per case, a notice's 1-hour deadline, how long a violent post stayed up) is reported in
simulated time; what the machine does on its own (the gate's verdict on a post, the worker opening a
case) is reported in real time, since it does not get faster when the scenario is compressed.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Held-out sources whose violence label matches the model card's definition (encourages, incites,
#: threatens or glorifies physical violence), and which split of each is held out. HatEval's AG and
#: ETHOS are left out: read post by post, most of their positives are not violence by that definition
#: (docs/model-card.md, "What two held-out sets' labels count"); HateCheck is templates, not posts.
VIOLENT_SOURCES = {
    "ghc": ("heldout", "Gab Hate Corpus `cv` (call for violence), never trained on"),
    "edos": ("test", "EDOS test split, category 1 (threats and incitement of harm)"),
    "implicit_hate": ("test", "Latent Hatred test split, `threatening` naming physical violence"),
}
#: Ordinary traffic: Gab posts of the Gab Hate Corpus that are not calls for violence (real platform
#: posts, hateful and vulgar ones included, so the detector's false positives load the queue as they
#: would on a real network).
BENIGN_SOURCE = ("ghc", "heldout", "Gab Hate Corpus posts with cv = 0")


@dataclass(frozen=True)
class Corpus:
    violent: tuple[str, ...]
    benign: tuple[str, ...]

    def describe(self) -> dict[str, Any]:
        return {"violent": {"n": len(self.violent), "sources": [d for _, d in VIOLENT_SOURCES.values()]},
                "benign": {"n": len(self.benign), "source": BENIGN_SOURCE[2]},
                "label": "violence, model card definition; held-out and test splits only"}


def load_corpus(data_dir: Path | None = None, max_chars: int = 500) -> Corpus:
    """Violent and benign post texts from the held-out splits (texts over `max_chars` are left out,
    since the server refuses them; nothing is cut, so a post is sent as the data set has it)."""
    from warden.detection.training import datasets

    root = Path(data_dir) if data_dir else datasets.default_data_dir()
    loaders = {**datasets.TRAIN_LOADERS, **datasets.EVAL_LOADERS}
    violent: list[str] = []
    benign: list[str] = []
    for name, (split, _) in VIOLENT_SOURCES.items():
        for example in loaders[name](root):
            if example.split != split or not 0 < len(example.text) <= max_chars:
                continue
            label = example.labels.get("violence")
            if label == 1:
                violent.append(example.text)
            elif label == 0 and name == BENIGN_SOURCE[0]:
                benign.append(example.text)
    return Corpus(tuple(dict.fromkeys(violent)), tuple(dict.fromkeys(benign)))


@dataclass(frozen=True)
class Scenario:
    """A compressed surge. Rates and durations are simulated; `compress` maps them to real time."""

    compress: float = 60.0
    baseline_min: float = 60.0
    surge_min: float = 120.0
    tail_min: float = 60.0
    posts_per_min: float = 1.5           # baseline, simulated: 2,000 users posting ~1 a day
    surge_factor: float = 10.0
    violent_share_baseline: float = 0.005
    violent_share_surge: float = 0.05
    users: int = 2000
    follows: int = 50
    violent_accounts: int = 150          # the accounts that post the violent content
    readers: int = 50                    # accounts polling their home timeline (exposure sample)
    poll_real_s: float = 2.0             # each reader polls every this many real seconds
    streams: int = 50                    # open user streams, where the server has /api/v1/streaming
    moderators: int = 2
    decisions_per_min: float = 1.0       # per moderator, simulated
    notice_interval_min: float = 15.0    # the trusted flagger sends a batch this often (simulated)
    flagger_lag_min: float = 5.0         # ... about posts at least this old
    flagger_recall: float = 0.8          # share of the violent posts it finds
    partner_interval_min: float = 30.0   # the non-trusted partner
    partner_recall: float = 0.3
    partner_precision: float = 0.5       # the rest of its notices are about ordinary posts
    sla_min: float = 60.0                # trusted flagger, violence (the default policy's 1h)
    seed: int = 7

    @property
    def total_min(self) -> float:
        return self.baseline_min + self.surge_min + self.tail_min

    @property
    def surge_window_min(self) -> tuple[float, float]:
        return self.baseline_min, self.baseline_min + self.surge_min

    def real(self, sim_seconds: float) -> float:
        return sim_seconds / self.compress

    def sim(self, real_seconds: float) -> float:
        return real_seconds * self.compress

    def phase(self, sim_seconds: float) -> str:
        start, end = self.surge_window_min
        minute = sim_seconds / 60
        return "baseline" if minute < start else ("surge" if minute < end else "tail")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlannedPost:
    at: float            # simulated seconds from the start
    violent: bool
    text: str
    author: int          # index into the author pool: violent posts use the violent accounts


def plan_posts(scenario: Scenario, corpus: Corpus) -> list[PlannedPost]:
    """Poisson arrivals at the phase's rate; each post violent with the phase's share.

    The tail carries the baseline rate with the baseline share: the surge is over, the moderators
    and flaggers are still catching up."""
    rng = random.Random(scenario.seed)
    benign = list(corpus.benign)
    violent = list(corpus.violent)
    rng.shuffle(benign)
    rng.shuffle(violent)
    posts: list[PlannedPost] = []
    t = 0.0
    end = scenario.total_min * 60
    nb = nv = 0
    while True:
        surge = scenario.phase(t) == "surge"
        rate = scenario.posts_per_min / 60 * (scenario.surge_factor if surge else 1.0)
        t += rng.expovariate(rate)
        if t >= end:
            return posts
        surge = scenario.phase(t) == "surge"
        share = scenario.violent_share_surge if surge else scenario.violent_share_baseline
        if violent and rng.random() < share:
            text, nv = violent[nv % len(violent)], nv + 1
            author = rng.randrange(scenario.violent_accounts)
            posts.append(PlannedPost(t, True, text, author))
        else:
            text, nb = benign[nb % len(benign)], nb + 1
            posts.append(PlannedPost(t, False, text, scenario.violent_accounts + rng.randrange(
                max(1, scenario.users - scenario.violent_accounts))))


# --- figures ---------------------------------------------------------------------------------------


def percentiles(values: Iterable[float], digits: int = 3) -> dict[str, Any]:
    """n, p50, p90, p99 and max (nearest rank); None where there are no values."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))], digits)

    return {"n": len(ordered), "p50": rank(0.50), "p90": rank(0.90), "p99": rank(0.99),
            "max": round(ordered[-1], digits)}


@dataclass
class NoticeOutcome:
    """A trusted-flagger notice: when it arrived and when it was answered (real epoch seconds)."""

    received: float
    answered: float | None
    needed_review: bool = True   # False: the post was already removed, the worker answered at once


def sla_compliance(notices: Sequence[NoticeOutcome], *, sla_real_s: float, run_end: float) -> dict[str, Any]:
    """Share of notices answered within the SLA. A notice still open at the end of the run counts as
    missed once its deadline has passed, and is left out (censored) while it has not."""
    met = missed = censored = 0
    for n in notices:
        if n.answered is not None and n.answered - n.received <= sla_real_s:
            met += 1
        elif n.answered is not None or run_end - n.received > sla_real_s:
            missed += 1
        else:
            censored += 1
    judged = met + missed
    return {"notices": len(notices), "met": met, "missed": missed, "open_not_yet_due": censored,
            "compliance": round(met / judged, 4) if judged else None}


def keeps_sla(summary: dict[str, Any]) -> bool:
    """A run keeps the SLA when every trusted-flagger notice that needed a moderator was answered in
    time: none late, none left open (and there was at least one)."""
    sla = summary["sla_trusted_flagger"]["needing_review"]
    return bool(sla["met"]) and sla["missed"] == 0 and sla["open_not_yet_due"] == 0


def smallest_capacity(runs: Sequence[tuple[int, dict[str, Any]]]) -> int | None:
    """The smallest capacity (moderators) among the runs that kept the SLA."""
    kept = sorted(capacity for capacity, summary in runs if keeps_sla(summary))
    return kept[0] if kept else None


@dataclass
class Exposure:
    """Deliveries of violent posts to readers, split by whether the post had been acted on."""

    before_action: int = 0
    after_action: int = 0
    posts_seen: set[int] = field(default_factory=set)

    def add(self, status_id: int, at: float, acted_at: float | None) -> None:
        if acted_at is None or at < acted_at:
            self.before_action += 1
            self.posts_seen.add(status_id)
        else:
            self.after_action += 1

    def as_dict(self, scale: float) -> dict[str, Any]:
        return {"deliveries_before_action": self.before_action, "deliveries_after_action": self.after_action,
                "violent_posts_delivered": len(self.posts_seen),
                "estimated_network_deliveries": round(self.before_action * scale)}


def exposure(deliveries: Iterable[tuple[int, float]], violent_ids: set[int],
             acted_at: dict[int, float]) -> Exposure:
    """Count the deliveries (status id, real time) of violent posts, before and after their action."""
    result = Exposure()
    for status_id, at in deliveries:
        if status_id in violent_ids:
            result.add(status_id, at, acted_at.get(status_id))
    return result


def stream_update_id(message: str | bytes) -> int | None:
    """The status id of a Mastodon streaming `update` frame ({"event": "update", "payload": "<Status
    JSON>"}), None for any other event (delete, notification, status.update)."""
    frame = json.loads(message)
    if frame.get("event") != "update":
        return None
    return int(json.loads(frame["payload"])["id"])


def series(times: Iterable[float], *, start: float, end: float, bucket: float) -> list[int]:
    """Counts of events per bucket of `bucket` seconds from start to end."""
    counts = [0] * max(1, math.ceil((end - start) / bucket))
    for t in times:
        if start <= t < end:
            counts[int((t - start) // bucket)] += 1
    return counts
