"""The moderation gate: the one call every new or edited post passes before it becomes visible.

`moderate()` runs inside the write transaction that stores the post, so the post, its moderation
state and its outbox event are committed together or not at all. The platform knows only the
`Verdict` contract; what decides it (detector, rules, policy) plugs in behind `ModerationGate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

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


class AllowAll:
    """The gate of a server with no moderation configured: every post is published."""

    def prescore(self, text: str, spoiler_text: str = "") -> None:
        return None

    def moderate(self, session: Session, draft: Draft) -> Verdict:
        return Verdict()


def moderate(session: Session, draft: Draft, gate: ModerationGate | None = None) -> Verdict:
    return (gate or AllowAll()).moderate(session, draft)
