"""What moderators decided about a post: the floor an author's edit cannot go below.

An edited post re-enters the moderation gate, whose verdict is about the new text only. A moderator's
decision (a `limit`, a `label`, a `hold`) is about the post, and must outlive edits: the edit may make
the post stricter than the moderator left it, never looser. So `edit()` combines the gate's new verdict
with this floor and keeps the stricter of each.

The floor is the effect of the people's decisions on the post, replayed in the order they were taken:
decisions with an actor (`actor_id` set), not automated, not shadow, not the gate's. A later human
decision replaces an earlier one the way it did when it was taken (`decisions._apply`): an appeal that
overturned a limit (`restore`) or an `unlimit` lifts it, a `no_violation` releases a hold. Automated
decisions (the gate's, the worker's) are not a floor: the edit is judged afresh by the gate instead.
A removed post cannot be edited at all (`statuses.edit` answers 404).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from warden.store.models import Status
from warden.store.moderation_models import ModerationDecision

#: The people's decisions that set or lift a post's moderation state.
_STATE_ACTIONS = ("restore", "hold", "limit", "unlimit", "label", "unlabel", "no_violation", "strike")

_HUMAN_DECISIONS = (
    select(ModerationDecision.action)
    .where(ModerationDecision.status_id == bindparam("status_id"), ModerationDecision.actor_id.is_not(None),
           ModerationDecision.automated.is_(False), ModerationDecision.shadow.is_(False),
           ModerationDecision.kind != "gate", ModerationDecision.action.in_(_STATE_ACTIONS))
    .order_by(ModerationDecision.created_at, ModerationDecision.id)
)


@dataclass(frozen=True)
class Floor:
    held: bool = False
    limited: bool = False
    labelled: bool = False

    @property
    def action(self) -> str:
        """The strictest gate action the floor amounts to (STRICTNESS order: hold > limit > label)."""
        return "hold" if self.held else "limit" if self.limited else "label" if self.labelled else "allow"


def moderator_floor(session: Session, status_id: int) -> Floor:
    """The state moderators left `status_id` in, as far as an edit must keep it."""
    held = limited = labelled = False
    for action in session.scalars(_HUMAN_DECISIONS, {"status_id": status_id}):
        if action == "restore":
            held = limited = labelled = False
        elif action == "hold":
            held = True
        elif action == "limit":
            limited, held = True, False
        elif action == "unlimit":
            limited = False
        elif action == "label":
            labelled, held = True, False
        elif action == "unlabel":
            labelled = False
        else:  # no_violation, strike: a held post is released once a moderator decides
            held = False
    return Floor(held=held, limited=limited, labelled=labelled)


def impose(status: Status, floor: Floor, moderator_label: str | None) -> None:
    """Make `status` (already given the gate's verdict) at least as strict as `floor`.
    `moderator_label`: the content warning the post carried before the edit (the moderator's)."""
    if floor.held:
        status.state = "held"
    if floor.limited:
        status.limited = True
    if floor.labelled:
        status.moderation_label = moderator_label or status.moderation_label or "Sensitive content"
        status.sensitive = True
    status.local_public = (status.state == "published" and status.visibility == "public" and not status.limited
                           and status.reblog_of_id is None and status.deleted_at is None)
