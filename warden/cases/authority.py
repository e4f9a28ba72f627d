"""Who may act on whom: roles are ordered, and nobody judges their own content or account.

Roles rank user < moderator < senior < admin. A person may take a decision (on a case, an appeal or
an account) only about an account of a strictly lower role than their own, and never about their own
posts or account: a moderator cannot suspend a senior moderator, silence the admin, or decide
"no violation" on a case about their own held post. The check lives here, in the domain layer, and
`decisions.enforce()` applies it to every decision a person takes, so the API and the console both
get it; automated decisions (the gate, the worker, strike-triggered suspensions) have no actor and
are not checked.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from warden.errors import Forbidden, NotFound
from warden.store.models import Account

ROLE_RANK: dict[str, int] = {"user": 0, "moderator": 1, "senior": 2, "admin": 3}


def rank(role: str | None) -> int:
    """A role's place in the order; an unknown role ranks as a plain user."""
    return ROLE_RANK.get(role or "user", 0)


def check_may_act(actor: Account, target: Account) -> None:
    """Raise Forbidden unless `actor` may take a decision about `target`'s content or account."""
    if actor.id == target.id:
        raise Forbidden("You cannot take a moderation decision about your own content or account: "
                        "another moderator must decide")
    if rank(actor.role) <= rank(target.role):
        raise Forbidden(f"You cannot act on an account whose role ({target.role}) is equal to or higher "
                        f"than yours ({actor.role}): ask a staff member of a higher role")


def check_actor(session: Session, actor_id: int, target: Account) -> None:
    """`check_may_act` for the account with id `actor_id`."""
    actor = session.get(Account, actor_id)
    if actor is None:
        raise NotFound("The acting account does not exist")
    check_may_act(actor, target)
