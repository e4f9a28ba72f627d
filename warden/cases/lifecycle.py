"""The lifecycles of cases, notices and appeals: explicit state machines whose state is stored.

`advance(machine, current, event)` returns the next state or raises `Conflict` naming what is allowed,
so a service can never move a row along an edge that is not listed here (docs/moderation.md shows them).
"""

from __future__ import annotations

from warden.errors import Conflict

CASE = {
    ("open", "claim"): "claimed",
    ("claimed", "claim"): "claimed",        # the holder renews the lock, or takes an expired one
    ("claimed", "release"): "open",
    ("open", "escalate"): "escalated",
    ("claimed", "escalate"): "escalated",
    ("escalated", "claim"): "escalated",    # a senior moderator takes it (stays escalated)
    ("escalated", "release"): "escalated",
    ("open", "decide"): "decided",
    ("claimed", "decide"): "decided",
    ("escalated", "decide"): "decided",
}
NOTICE = {
    ("received", "review"): "in_review",
    ("received", "action"): "actioned",
    ("received", "dismiss"): "no_action",
    ("in_review", "action"): "actioned",
    ("in_review", "dismiss"): "no_action",
}
APPEAL = {
    ("open", "uphold"): "upheld",
    ("open", "overturn"): "overturned",
}
MACHINES = {"case": CASE, "notice": NOTICE, "appeal": APPEAL}

CASE_STATES = ("open", "claimed", "escalated", "decided")
CASE_UNDECIDED = ("open", "claimed", "escalated")
NOTICE_STATES = ("received", "in_review", "actioned", "no_action")
APPEAL_STATES = ("open", "upheld", "overturned")


def advance(machine: str, current: str, event: str) -> str:
    table = MACHINES[machine]
    nxt = table.get((current, event))
    if nxt is None:
        allowed = sorted(e for (s, e) in table if s == current)
        hint = f"; from {current} you can: {', '.join(allowed)}" if allowed else f"; {current} is final"
        raise Conflict(f"This {machine} is {current}: cannot {event}{hint}")
    return nxt
