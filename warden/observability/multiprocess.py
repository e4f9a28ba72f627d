"""Multi-process mode: where several processes' metric values meet, so one scrape sees them all.

prometheus-client's multi-process mode is on when PROMETHEUS_MULTIPROC_DIR names a folder when the
process starts: each process then keeps its values in memory-mapped files there, and whichever
process answers `/metrics` sums them. `warden serve --workers N` (N > 1) makes a fresh folder
for its workers when none is set (`serving()`); to count a `warden worker` too, set the variable to
the same folder for both. The folder must not hold a previous run's values, or they would be counted
again: `prepare()` deletes the files of processes that are no longer running.

This module imports nothing from prometheus-client, so `warden serve` can set the variable before
any process creates a metric.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
_PID_FILE = re.compile(r"_(\d+)\.db$")


def folder() -> str | None:
    """The multi-process folder of this process, or None (single-process mode)."""
    return os.environ.get(ENV) or None


def prepare(path: Path) -> None:
    """Create `path`, and delete the value files of processes that are no longer running (a previous
    run's), keeping those of live ones (a `warden worker` started first writes there too)."""
    path.mkdir(parents=True, exist_ok=True)
    for file in path.glob("*.db"):
        match = _PID_FILE.search(file.name)
        if match is None or not _alive(int(match.group(1))):
            file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@contextmanager
def serving(workers: int) -> Iterator[str | None]:
    """Around `uvicorn.run` in `warden serve`: with PROMETHEUS_MULTIPROC_DIR set, clean that folder; with
    several workers and none set, create a temporary one (removed afterwards) and set it for them.
    Yields the folder in use, or None in single-process mode."""
    given = folder()
    if given is not None:
        prepare(Path(given))
        yield given
        return
    if workers <= 1:
        yield None
        return
    made = tempfile.mkdtemp(prefix="warden-metrics-")
    os.environ[ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(ENV, None)
        shutil.rmtree(made, ignore_errors=True)
