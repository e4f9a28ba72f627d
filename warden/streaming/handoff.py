"""Handing work from a committing thread to an event loop.

A commit hook (`Database.on_outbox_commit`) runs in whichever thread committed: a request's worker
thread, the moderation worker, or the event loop itself. Streams and the live publisher live on one
event loop, so what a commit brings them is handed over here: called at once when the committing
thread is the loop's, else scheduled on it; dropped when the loop has closed (a stopping server has no
one to tell).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def call_on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """Run `fn(*args)` on `loop`: now if this thread runs it, else as soon as it can."""
    try:
        if loop.is_closed():
            return
        if _running(loop):
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop closed meanwhile: nothing is listening any more
        pass


def _running(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
