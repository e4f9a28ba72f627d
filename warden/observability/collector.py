"""Gauges read from the database when Prometheus scrapes: outbox lag, dead letters, open and overdue cases.

They are the same in every process (the database is shared), so they are not recorded anywhere: one
`DatabaseFigures` per app reads them with a few cheap queries and remembers the answer for
`CACHE_SECONDS`, so a fast scrape loop (or several Prometheis) cannot load the database. When the
database cannot be read, `warden_database_up` says 0 and the other figures are left out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warden.cases.lifecycle import CASE_UNDECIDED
from warden.observability.outbox import outbox_figures
from warden.store.db import Database
from warden.store.models import utcnow
from warden.store.moderation_models import ModerationCase

log = logging.getLogger("warden.observability")
CACHE_SECONDS = 2.0


def case_figures(session: Session) -> dict[str, Any]:
    """{"open": {state: count} for undecided cases, "overdue": undecided cases past their deadline}
    (both read through the (state, priority) index, so they cost what the open queue costs)."""
    undecided = ModerationCase.state.in_(CASE_UNDECIDED)
    by_state = dict.fromkeys(CASE_UNDECIDED, 0)
    for state, count in session.execute(select(ModerationCase.state, func.count()).where(undecided)
                                        .group_by(ModerationCase.state)):
        by_state[state] = int(count)
    overdue = session.scalar(select(func.count()).select_from(ModerationCase)
                             .where(undecided, ModerationCase.due_at < utcnow()))
    return {"open": by_state, "overdue": int(overdue or 0)}


class DatabaseFigures(Collector):
    def __init__(self, db: Database, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._figures: dict[str, Any] | None = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def figures(self) -> dict[str, Any] | None:
        """The database's figures, at most `cache_seconds` old; None when the database cannot be read."""
        with self._lock:
            if time.monotonic() - self._read_at >= self.cache_seconds:
                try:
                    with self.db.read() as session:
                        self._figures = {**outbox_figures(session), "cases": case_figures(session)}
                except Exception as exc:  # a scrape must still answer: the process metrics are there
                    log.warning("metrics: cannot read the database: %s", exc)
                    self._figures = None
                self._read_at = time.monotonic()
            return self._figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = self.figures()
        yield GaugeMetricFamily("warden_database_up", "1 when the database answered the last scrape's queries.",
                                value=0 if figures is None else 1)
        if figures is None:
            return
        yield GaugeMetricFamily("warden_outbox_pending",
                                "Outbox events the moderation consumer has not handled yet.",
                                value=figures["outbox_pending"])
        yield GaugeMetricFamily("warden_outbox_dead_letters",
                                "Outbox events a consumer gave up on after repeated failures.",
                                value=figures["dead_letters"])
        position = GaugeMetricFamily("warden_outbox_consumer_position",
                                     "Highest event id below which a consumer has handled everything.",
                                     labels=["consumer"])
        lag = GaugeMetricFamily("warden_outbox_consumer_lag", "Events past a consumer's position not handled yet.",
                                labels=["consumer"])
        for name, consumer in sorted(figures["consumers"].items()):
            position.add_metric([name], consumer["position"])
            lag.add_metric([name], consumer["lag"])
        yield position
        yield lag
        open_cases = GaugeMetricFamily("warden_cases_open", "Undecided moderation cases, by state.",
                                       labels=["state"])
        for state, count in figures["cases"]["open"].items():
            open_cases.add_metric([state], count)
        yield open_cases
        yield GaugeMetricFamily("warden_cases_overdue", "Undecided moderation cases past their deadline.",
                                value=figures["cases"]["overdue"])
