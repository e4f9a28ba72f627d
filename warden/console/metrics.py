"""The console's numbers, as plain functions over plain data (no database, no HTTP).

`warden/console/queries.py` reads the rows; these functions turn them into what the dashboard and
partners see, so each rule is testable on its own (tests/console/test_metrics.py).

**Prevalence** of violent content: violent items per 10,000 posts, per UTC day. An item is a post
(or a blocked draft, which never became a post) with an enforced — not shadow — decision labelled
`violence`, counted once, on the day of its first such decision. Posts are the statuses created
that day plus the drafts blocked that day.

**Surge rule** (the alert on the dashboard): a day's rate is a surge when, over the 14 days before it,
  - at least 7 days had posts (less history: no judgement, never an alert),
  - its rate > mean + 3 x (population) standard deviation of those days' rates,
  - its rate >= 2 x that mean, and
  - it has at least 3 violent items (one or two posts are noise, not a trend).
The two thresholds together keep a flat, quiet history (sd near 0) from alerting on a tiny bump, and a
noisy one from alerting on an ordinary peak.

**Percentiles** interpolate linearly between the closest ranks (numpy's default "linear" method).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

PER = 10_000
SURGE_WINDOW = 14
SURGE_SDS = 3.0
SURGE_RATIO = 2.0
SURGE_MIN_ITEMS = 3
SURGE_MIN_HISTORY = 7


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None for no values."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --- prevalence and surges -----------------------------------------------------------------------


@dataclass(frozen=True)
class DayRate:
    day: date
    items: int
    posts: int
    rate: float  # per 10,000 posts
    surge: bool = False
    baseline: float | None = None  # mean of the previous days' rates (None: not enough history)
    reason: str = ""  # why the surge rule did or did not fire


def rate(items: int, posts: int) -> float:
    return PER * items / posts if posts > 0 else 0.0


@dataclass(frozen=True)
class SurgeCheck:
    surge: bool
    mean: float | None
    sd: float | None
    reason: str


def surge_check(history: Sequence[float], today: float, today_items: int, *, window: int = SURGE_WINDOW,
                sds: float = SURGE_SDS, ratio: float = SURGE_RATIO, min_items: int = SURGE_MIN_ITEMS,
                min_history: int = SURGE_MIN_HISTORY) -> SurgeCheck:
    """Apply the surge rule to today's rate, given the previous days' rates (oldest first, days with
    posts only; only the last `window` count)."""
    recent = list(history)[-window:]
    if len(recent) < min_history:
        return SurgeCheck(False, None, None, f"not enough history ({len(recent)} of {min_history} days)")
    mean = statistics.fmean(recent)
    sd = statistics.pstdev(recent)
    if today_items < min_items:
        return SurgeCheck(False, mean, sd, f"only {today_items} violent items (at least {min_items} needed)")
    if today <= mean + sds * sd:
        return SurgeCheck(False, mean, sd, f"{today:.1f} is within mean + {sds:g} sd ({mean + sds * sd:.1f})")
    if today < ratio * mean:
        return SurgeCheck(False, mean, sd, f"{today:.1f} is less than {ratio:g} x the mean ({ratio * mean:.1f})")
    return SurgeCheck(True, mean, sd, f"{today:.1f} per {PER:,} posts against a mean of {mean:.1f} "
                                      f"(sd {sd:.1f}) over the previous {len(recent)} days")


def prevalence(days: Sequence[date], posts: Mapping[date, int], items: Mapping[date, int]) -> list[DayRate]:
    """One DayRate per day (oldest first), each judged by the surge rule against the days before it.
    `posts` and `items` may include days before `days[0]`: they serve as history."""
    history_days = sorted(d for d in posts if d < days[0]) if days else []
    series: list[DayRate] = []
    history: list[float] = [rate(items.get(d, 0), posts[d]) for d in history_days if posts.get(d, 0) > 0]
    for day in days:
        n_posts, n_items = posts.get(day, 0), items.get(day, 0)
        today = rate(n_items, n_posts)
        check = surge_check(history, today, n_items)
        series.append(DayRate(day=day, items=n_items, posts=n_posts, rate=today, surge=check.surge,
                              baseline=check.mean, reason=check.reason))
        if n_posts > 0:
            history.append(today)
    return series


def first_days(rows: Iterable[tuple[str, datetime]]) -> dict[date, int]:
    """Items per day from (item key, decision time) rows: each key counted on its earliest day."""
    first: dict[str, date] = {}
    for key, when in rows:
        day = when.date()
        if key not in first or day < first[key]:
            first[key] = day
    return dict(Counter(first.values()))


# --- time to action and SLAs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    source: str
    count: int
    p50: float | None  # seconds
    p90: float | None


def time_to_action(rows: Iterable[tuple[str, datetime, datetime]]) -> list[Latency]:
    """(source, opened, decided) rows -> p50 / p90 seconds per source, plus "all" last."""
    by_source: dict[str, list[float]] = defaultdict(list)
    for source, opened, decided in rows:
        seconds = max((decided - opened).total_seconds(), 0.0)
        by_source[source].append(seconds)
    everything = [v for values in by_source.values() for v in values]
    result = [Latency(s, len(v), percentile(v, 50), percentile(v, 90)) for s, v in sorted(by_source.items())]
    if everything:
        result.append(Latency("all", len(everything), percentile(everything, 50), percentile(everything, 90)))
    return result


@dataclass(frozen=True)
class Compliance:
    source: str
    on_time: int
    late: int
    open_overdue: int

    @property
    def decided(self) -> int:
        return self.on_time + self.late

    @property
    def rate(self) -> float | None:
        """Share of cases decided by their deadline; open cases already past it count as missed."""
        total = self.decided + self.open_overdue
        return self.on_time / total if total else None


def sla_compliance(rows: Iterable[tuple[str, datetime, datetime | None]], now: datetime) -> list[Compliance]:
    """(source, due, decided or None) rows -> compliance per source, plus "all" last."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for source, due, decided in rows:
        bucket = counts[source]
        if decided is not None:
            bucket[0 if decided <= due else 1] += 1
        elif due < now:
            bucket[2] += 1
    result = [Compliance(s, *c) for s, c in sorted(counts.items())]
    if result:
        result.append(Compliance("all", sum(c.on_time for c in result), sum(c.late for c in result),
                                 sum(c.open_overdue for c in result)))
    return result


# --- partners and appeals ----------------------------------------------------------------------


NOTICE_OUTCOMES = ("received", "in_review", "actioned", "no_action")


@dataclass(frozen=True)
class NoticeSummary:
    partner: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def action_rate(self) -> float | None:
        answered = self.counts.get("actioned", 0) + self.counts.get("no_action", 0)
        return self.counts.get("actioned", 0) / answered if answered else None


def notice_outcomes(rows: Iterable[tuple[str, str]]) -> list[NoticeSummary]:
    """(partner name, notice state) rows -> counts per partner, by name."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for partner, state in rows:
        counts[partner][state] += 1
    return [NoticeSummary(p, {s: c.get(s, 0) for s in NOTICE_OUTCOMES}) for p, c in sorted(counts.items())]


@dataclass(frozen=True)
class AppealStats:
    open: int
    upheld: int
    overturned: int

    @property
    def decided(self) -> int:
        return self.upheld + self.overturned

    @property
    def overturn_rate(self) -> float | None:
        return self.overturned / self.decided if self.decided else None


def appeal_stats(states: Iterable[str]) -> AppealStats:
    counts = Counter(states)
    return AppealStats(open=counts.get("open", 0), upheld=counts.get("upheld", 0),
                       overturned=counts.get("overturned", 0))
