"""The moderation gate: the one call every new or edited post passes before it becomes visible.

`moderate()` runs inside the write transaction that stores the post, so the post, its moderation
state and its outbox event are committed together or not at all. A gate may split its work in two:
`assess()` (reads only: scores, policy, copies) in a read session before the write transaction, and
`record()` (the decision it writes) inside it, so that on SQLite, where every write holds one lock,
the lock is held for the writes alone. The platform knows only the
`Verdict` contract; what decides it (detector, rules, policy) plugs in behind `ModerationGate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

Action = Literal["allow", "block", "hold", "limit", "label"]


@dataclass(frozen=True)
class DraftImage:
    """An image attached to a draft: the gate reads what processing stored of it (warden/policy/images.py)."""

    media_id: int
    description: str | None = None


@dataclass(frozen=True)
class Draft:
    """A post as it is about to be published (or re-published after an edit)."""

    account_id: int
    text: str
    spoiler_text: str = ""
    visibility: str = "public"
    in_reply_to_id: int | None = None
    status_id: int | None = None  # set for edits
    language: str | None = None
    #: its images, in order (their hashes and text are checked as the text is)
    images: tuple[DraftImage, ...] = ()


@dataclass(frozen=True)
class Verdict:
    action: Action = "allow"
    #: Id of the recorded moderation decision, when the gate recorded one.
    decision_id: str | None = None
    #: For "label": the content warning to show; for "block"/"hold": the policy label that fired.
    label: str | None = None
    reason: str = ""
    scores: dict[str, float] = field(default_factory=dict)


class ModerationGate(Protocol):
    def prescore(self, text: str, spoiler_text: str = "") -> None:
        """Optional slow work (scoring) done before the write transaction opens, so it holds no lock."""

    def moderate(self, session: Session, draft: Draft) -> Verdict: ...


def prescore_staged(gate: ModerationGate, text: str, spoiler_text: str = "") -> Callable[[], None] | None:
    """`gate.prescore(text, spoiler_text)` in two steps, for a caller on an event loop: the cheap part runs
    now, and what is returned (None: nothing left) is the slow part, which releases the GIL: for a thread.
    A gate without the split leaves all of its `prescore` for the thread."""
    staged = getattr(gate, "prescore_staged", None)
    if staged is None:
        return lambda: gate.prescore(text, spoiler_text)
    return staged(text, spoiler_text)  # type: ignore[no-any-return]


class AllowAll:
    """The gate of a server with no moderation configured: every post is published."""

    def prescore(self, text: str, spoiler_text: str = "") -> None:
        return None

    def prescore_staged(self, text: str, spoiler_text: str = "") -> None:
        return None

    def moderate(self, session: Session, draft: Draft) -> Verdict:
        return Verdict()


@dataclass(frozen=True)
class Assessed:
    """A gate's `assess()` of one draft, done ahead of the draft's write transaction."""

    draft: Draft
    value: Any


def assess(session: Session, draft: Draft, gate: ModerationGate | None = None) -> Assessed | None:
    """The gate's reads for `draft` (None for a gate that does not split its work)."""
    split = getattr(gate, "assess", None)
    return Assessed(draft, split(session, draft)) if split is not None and hasattr(gate, "record") else None


def moderate(session: Session, draft: Draft, gate: ModerationGate | None = None,
             assessed: Assessed | None = None) -> Verdict:
    """The verdict on `draft`, written in `session`'s transaction; with `assessed` (an `assess()` of this
    same draft), only what the gate records."""
    gate = gate or AllowAll()
    if assessed is not None and assessed.draft == draft:
        return gate.record(session, draft, assessed.value)  # type: ignore[attr-defined]
    return gate.moderate(session, draft)
