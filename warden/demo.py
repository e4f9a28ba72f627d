"""Demo content for `warden demo` and `make demo`: a small town's network with 30 days of history.

The people, rules and follows are here; the history (posts, moderation decisions, reports, partner
notices, appeals, strikes, suspensions) is played through the real domain code by
warden/demo_history.py. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

from typing import Any

from warden.config import Settings
from warden.demo_history import seed_history
from warden.store.db import Database
from warden.store.models import InstanceRule

DEMO_PASSWORD = "demo-password"
#: (username, display name, role): the logins the demo prints.
PEOPLE = [
    ("alice", "Alice Moreau", "user"),
    ("bob", "Bob Okafor", "user"),
    ("carol", "Carol Nguyen", "user"),
    ("mod", "Mo Derator", "moderator"),
    ("senior", "Sam Senior", "senior"),
    ("admin", "Ada Admin", "admin"),
    ("dave", "Dave Angry", "user"),
]
RULES = [
    ("No incitement to violence", "No threats, calls to attack or harm anyone, and no glorifying attacks."),
    ("No hate or harassment", "Do not attack people for who they are, and do not pile on anyone."),
    ("No illegal content", "Nothing that is illegal where this server runs."),
]


def seed(db: Database, settings: Settings) -> dict[str, Any]:
    """Create the demo data that is missing; returns what was added by kind (empty: nothing was)."""
    with db.write() as session:
        if session.query(InstanceRule).count() == 0:
            for position, (text, hint) in enumerate(RULES):
                session.add(InstanceRule(text=text, hint=hint, position=position))
    return seed_history(db, settings, people=PEOPLE, password=DEMO_PASSWORD)


def where_to_look(settings: Settings) -> str:
    """What `warden demo` prints: the URLs to open and the logins."""
    base = settings.base_url
    return "\n".join([
        f"  web:        {base}/  (public pages: {base}/@alice, {base}/about)",
        f"  console:    {base}/console  (moderators: mod, senior, admin)",
        f"              {base}/console/queue · {base}/console/dashboard · {base}/console/appeals "
        f"· {base}/console/audit",
        f"  API:        {base}/api/v1/timelines/public · {base}/api/docs",
        "  logins:     alice, bob, carol (and jonas, priya, lena, ...) · mod, senior, admin; "
        f"password {DEMO_PASSWORD!r} (e-mail <name>@demo.warden.local)",
    ])
