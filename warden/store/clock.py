"""A simulated clock, for `warden demo` only: run real domain code as if it were an earlier time.

Every timestamp Warden writes comes from `warden.store.models.utcnow()` (row defaults, decisions and
their statements of reasons, audit entries, decision ids). `simulated(at)` sets that clock back so
it reads `at` (and then runs on from there) for the code inside the block, in this thread or task
only: a server thread keeps the real time. The demo uses it to record 30 days of history at the
times they happened, through the same code as a live server, so the audit chain, statements and
outbox stay consistent. Nothing outside the demo sets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from warden.store.models import CLOCK_OFFSET


@contextmanager
def simulated(at: datetime) -> Iterator[None]:
    """Within the block, `utcnow()` reads `at` plus the time elapsed since the block began."""
    if at.tzinfo is None:
        raise ValueError("simulated() needs an aware datetime")
    token = CLOCK_OFFSET.set(at - datetime.now(UTC))
    try:
        yield
    finally:
        CLOCK_OFFSET.reset(token)
