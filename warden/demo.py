"""Demo content for `warden demo` and `make demo`: a few people, follows and a small conversation."""

from __future__ import annotations

from warden.config import Settings
from warden.platform import accounts, reports, statuses
from warden.store.db import Database
from warden.store.models import InstanceRule

DEMO_PASSWORD = "demo-password"
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
POSTS = [
    ("alice", "Hello from Warden! This is the demo server. #introductions", None),
    ("bob", "Morning all. Coffee first, then the council meeting about the new bike lanes. #localpolitics", None),
    ("carol", "Reading the transparency report drafts today. Numbers beat promises. #trustandsafety", None),
    ("alice", "@bob the bike lanes vote is at 6pm, see you there?", 1),
    ("bob", "@alice yes! I'll bring the petition.", 3),
    ("carol", "Reminder: report anything that threatens people; the moderators answer every report.", None),
    ("alice", "I would kill for a decent croissant right now.", None),
    ("dave", "Those councillors voted for the bike lanes. Someone should pay them a visit tonight and make "
             "them regret it.", None),
]
#: (reporter, index into POSTS, category, comment): reports become cases in the moderator console.
REPORTS = [
    ("carol", 7, "other", "This reads like a threat against the councillors."),
]


def seed(db: Database, settings: Settings) -> int:
    """Create the demo data that is missing; returns how many posts were added."""
    with db.write() as session:
        people = {}
        for username, display, role in PEOPLE:
            account = accounts.by_username(session, username)
            if account is None:
                account = accounts.register(session, username=username, email=f"{username}@demo.warden.local",
                                            password=DEMO_PASSWORD, role=role, display_name=display,
                                            allow_reserved=True)
            people[username] = account
        if session.query(InstanceRule).count() == 0:
            for position, (text, hint) in enumerate(RULES):
                session.add(InstanceRule(text=text, hint=hint, position=position))
        for a, b in [("alice", "bob"), ("bob", "alice"), ("carol", "alice"), ("carol", "bob"), ("alice", "carol")]:
            rel = accounts.relationships(session, people[a].id, [people[b].id])[0]
            if not rel.following:
                accounts.follow(session, people[a], people[b].id)
        if people["alice"].statuses_count > 0:
            return 0
        created = []
        for username, text, reply_to in POSTS:
            parent = created[reply_to].id if reply_to is not None else None
            result = statuses.create(session, settings, people[username], text=text, in_reply_to_id=parent)
            assert result.status is not None
            created.append(result.status)
        for reporter, index, category, comment in REPORTS:
            target = created[index]
            reports.file_report(session, people[reporter], account_id=target.account_id, status_ids=[str(target.id)],
                                category=category, comment=comment)
        return len(created)
