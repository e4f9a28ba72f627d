"""30 days of a running network for `warden demo`: posts, decisions, notices, reports, appeals, strikes.

Everything goes through the real domain code, as a live server would do it: posts pass the moderation
gate (`statuses.create` with the real detector and policy), reports and partner notices are filed with
`reports.file_report` and `notices.submit`, the moderation worker's own consumer turns their outbox
events into cases, moderators claim and decide cases (`cases.decide`) and appeals (`appeals.decide`),
and strikes and the automatic suspension follow from the policy. So statements of reasons, the audit
log's hash chain and the outbox are what they would be on a real server.

**Backdating.** Each step runs under the simulated clock of `warden.store.clock.simulated`, set to the
moment the step happens in the story (between 30 days ago and now), so every timestamp written (rows,
decisions and their statements, audit entries, decision ids) is that moment's. That is the only
thing the demo changes; the last audit entry (`demo.seeded`, at the real time) records that the
history before it was seeded by `warden demo`.

The script is deterministic (a fixed random seed), and runs once: a second `warden demo` finds the
`demo.seeded` audit entry and adds nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warden import demo_text as T
from warden.cases import appeals, audit, cases, copies, notices
from warden.cases.runtime import Moderation
from warden.cases.worker import Consumer, ModerationHandlers, ModerationWorker, OutboxSource
from warden.config import Settings
from warden.errors import WardenError
from warden.platform import accounts, reports, statuses
from warden.platform.auth import hash_password
from warden.store.clock import simulated
from warden.store.db import Database
from warden.store.models import Account, Status
from warden.store.moderation_models import AuditEntry, CaseSignal, ModerationCase, Partner

DAYS = 30
SEED = 2026
MARKER = "demo.seeded"
TRUSTED_FLAGGER = "Civic Safety Desk"
PARTNER = "Riverside Hosting abuse desk"


def already_seeded(session: Session) -> bool:
    return session.scalar(select(AuditEntry.seq).where(AuditEntry.action == MARKER).limit(1)) is not None


@dataclass
class Step:
    at: datetime
    order: int
    run: Callable[[], None]


@dataclass
class History:
    """The story, as a list of steps at their times; `play()` runs them in time order."""

    db: Database
    settings: Settings
    engine: Moderation
    now: datetime
    password: str
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    steps: list[Step] = field(default_factory=list)
    posts: dict[str, int | None] = field(default_factory=dict)
    gate_decisions: dict[str, str | None] = field(default_factory=dict)
    case_decisions: dict[str, str] = field(default_factory=dict)
    appeal_ids: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    account_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        handlers = ModerationHandlers(self.settings, self.engine.store, self.engine.detector)
        self.consumer = Consumer(ModerationWorker.NAME, self.db, OutboxSource(self.db), handlers)

    # --- scheduling ---------------------------------------------------------------------------

    def ago(self, days: float, hours: float = 0.0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def at(self, when: datetime, run: Callable[[], None]) -> None:
        self.steps.append(Step(when, len(self.steps), run))

    def play(self) -> None:
        for step in sorted(self.steps, key=lambda s: (s.at, s.order)):
            if step.at >= self.now:
                continue  # still in the future: left undone (open cases, pending appeals)
            with simulated(step.at):
                step.run()

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def account(self, session: Session, username: str) -> Account:
        known = self.account_ids.get(username)
        found = session.get(Account, known) if known is not None else accounts.by_username(session, username)
        assert found is not None, username
        self.account_ids[username] = found.id
        return found

    def drain(self) -> None:
        """Let the moderation worker handle what is new, as the server's worker thread would."""
        while self.consumer.poll():
            pass

    # --- what people and moderators do ---------------------------------------------------------

    def join(self, username: str, display: str, bio: str, role: str = "user") -> None:
        with self.db.write() as session:
            if accounts.by_username(session, username) is not None:
                return
            account = accounts.register(session, username=username, email=f"{username}@demo.warden.local",
                                        password=self.password, password_hash=self._hash(), role=role,
                                        display_name=display, allow_reserved=True)
            account.note = bio

    _password_hash: str | None = None

    def _hash(self) -> str:
        if self._password_hash is None:
            self._password_hash = hash_password(self.password)
        return self._password_hash

    def follow(self, a: str, b: str) -> None:
        with self.db.write() as session:
            try:
                accounts.follow(session, self.account(session, a), self.account(session, b).id)
            except WardenError:
                pass

    def post(self, key: str, username: str, text: str, *, visibility: str = "public",
             reply_to: str | None = None) -> None:
        parent = self.posts.get(reply_to) if reply_to else None
        if reply_to and parent is None:
            return
        try:
            with self.db.write() as session:
                result = statuses.create(session, self.settings, self.account(session, username), text=text,
                                         visibility=visibility, in_reply_to_id=parent, gate=self.engine.gate)
                self.posts[key] = result.status.id if result.status is not None else None
                self.gate_decisions[key] = result.verdict.decision_id
        except WardenError:  # a suspended author cannot post: the story goes on without it
            self.posts[key] = None
            return
        self._count("posts" if self.posts[key] else "blocked")
        if result.verdict.decision_id:
            self.drain()  # a held or flagged post: its case opens at once

    def favourite(self, username: str, key: str) -> None:
        status_id = self.posts.get(key)
        if status_id is None:
            return
        try:
            with self.db.write() as session:
                statuses.favourite(session, self.account(session, username), status_id)
        except WardenError:
            pass

    def report(self, reporter: str, key: str, category: str, comment: str) -> None:
        status_id = self.posts.get(key)
        if status_id is None:
            return
        try:
            with self.db.write() as session:
                status = session.get(Status, status_id)
                assert status is not None
                reports.file_report(session, self.account(session, reporter), account_id=status.account_id,
                                    status_ids=[str(status_id)], category=category, comment=comment)
        except WardenError:  # gone from the reporter's view meanwhile
            return
        self._count("reports")
        self.drain()

    def notice(self, partner_name: str, key: str, category: str) -> None:
        status_id = self.posts.get(key)
        if status_id is None:
            return
        with self.db.write() as session:
            partner = session.scalar(select(Partner).where(Partner.name == partner_name))
            status = session.get(Status, status_id)
            assert partner is not None and status is not None
            author = session.get(Account, status.account_id)
            assert author is not None
            url = statuses.status_url(self.settings, author.username, status_id)
            notices.submit(session, self.settings, partner, [{"url": url, "category": category,
                                                              "explanation": T.NOTICE_EXPLANATIONS[category]}])
        self._count("notices")
        self.drain()

    def decide(self, key: str, staff: str, action: str, *, label: str | None = None, explanation: str = "") -> None:
        status_id = self.posts.get(key)
        if status_id is None:
            return
        self.drain()
        with self.db.write() as session:
            case_id = session.scalar(select(ModerationCase.id).where(ModerationCase.open_key == f"status:{status_id}"))
            if case_id is None:  # a copy of a removed post is held in the case of that removal's copies
                case_id = session.scalar(select(CaseSignal.case_id).where(
                    CaseSignal.source_type == "detector", CaseSignal.source_ref == f"{copies.SIGNAL_PREFIX}{status_id}"))
            if case_id is None:
                return
            moderator = self.account(session, staff)
            compiled = self.engine.store.active(session)
            cases.claim(session, case_id, moderator)
            _, decision = cases.decide(session, self.settings, compiled, case_id, moderator, action=action,
                                       label=label, explanation=explanation)
            self.case_decisions[key] = decision.id
        self._count("case_decisions")
        self.drain()

    def appeal(self, name: str, username: str, decision_of: str, text: str, *, gate: bool = False) -> None:
        decision_id = self.gate_decisions.get(decision_of) if gate else self.case_decisions.get(decision_of)
        if decision_id is None:
            return
        with self.db.write() as session:
            found = appeals.file(session, self.account(session, username), decision_id=decision_id, text=text)
            self.appeal_ids[name] = found.id
        self._count("appeals")

    def appeal_suspension(self, name: str, username: str, text: str) -> None:
        from warden.store.moderation_models import ModerationDecision

        with self.db.write() as session:
            account = self.account(session, username)
            decision_id = session.scalar(select(ModerationDecision.id).where(
                ModerationDecision.account_id == account.id, ModerationDecision.action == "suspend")
                .order_by(ModerationDecision.created_at.desc()).limit(1))
            if decision_id is None:
                return
            self.appeal_ids[name] = appeals.file(session, account, decision_id=decision_id, text=text).id
        self._count("appeals")

    def decide_appeal(self, name: str, staff: str, outcome: str, explanation: str) -> None:
        appeal_id = self.appeal_ids.get(name)
        if appeal_id is None:
            return
        with self.db.write() as session:
            compiled = self.engine.store.active(session)
            appeals.decide(session, self.settings, compiled, appeal_id, self.account(session, staff),
                           outcome=outcome, explanation=explanation)
        self._count("appeals_decided")
        self.drain()


# --- the story --------------------------------------------------------------------------------


def _everyday(h: History, usernames: list[str]) -> None:
    """Ordinary posts, replies and favourites: 20-36 a day."""
    rng = h.rng
    recent: list[tuple[str, str]] = []
    for day in range(DAYS, 0, -1):
        count = rng.randint(20, 36)
        for n in sorted(rng.uniform(0, 24) for _ in range(count)):
            when = h.ago(day) + timedelta(hours=n)
            author = rng.choice(usernames)
            key = f"d{day}:{n:.4f}"
            if recent and rng.random() < 0.2:
                parent_key, parent_author = rng.choice(recent[-15:])
                if parent_author != author:
                    text = f"@{parent_author} {rng.choice(T.REPLIES)}"
                    h.at(when, lambda k=key, a=author, t=text, p=parent_key: h.post(k, a, t, reply_to=p))
                    continue
            topic = rng.choice(list(T.TOPICS))
            text = rng.choice(T.TOPICS[topic]).format(**{k: rng.choice(v) for k, v in T.FILL.items()})
            if rng.random() < 0.5:
                text += f" #{T.TAGS[topic]}"
            roll = rng.random()
            visibility = "public" if roll < 0.85 else "unlisted" if roll < 0.93 else "private" if roll < 0.98 \
                else "direct"
            if visibility == "direct":
                friend = rng.choice([u for u in usernames if u != author])
                text = f"@{friend} {text}"
            h.at(when, lambda k=key, a=author, t=text, v=visibility: h.post(k, a, t, visibility=v))
            if visibility in ("public", "unlisted"):
                recent.append((key, author))
                for fan in rng.sample(usernames, rng.choice((0, 0, 1, 1, 2))):
                    if fan != author:
                        h.at(when + timedelta(minutes=rng.randint(5, 300)),
                             lambda f=fan, k=key: h.favourite(f, k))


def _incidents(h: History) -> None:
    """The moderation story: who broke which rule, who reported it, what moderators and appeals decided."""
    def at(days: float, hours: float, run: Callable[[], None]) -> None:
        h.at(h.ago(days, hours), run)

    mins = 1 / 60
    # dave: a blocked threat, an insult removed (appeal upheld), a flagged threat removed, then a held
    # threat removed: the third strike suspends him automatically; his appeal is upheld.
    at(28, 3, lambda: h.post("dave-blocked", "dave", T.BLOCKED[0]))
    at(26, 5, lambda: h.post("dave-insult", "dave", T.INSULTS[0].format(target="lena")))
    at(26, 4, lambda: h.report("lena", "dave-insult", "other", T.REPORT_COMMENTS["insult"]))
    at(26, -4, lambda: h.decide("dave-insult", "mod", "remove", label="harassment",
                                explanation="A personal insult aimed at another member (rule 3)."))
    at(25, 0, lambda: h.appeal("dave-insult", "dave", "dave-insult", T.APPEALS["insult"]))
    at(24, 2, lambda: h.decide_appeal("dave-insult", "senior", "upheld",
                                      "The post insults a named member in public; the removal stands."))
    at(20, 6, lambda: h.post("dave-threat", "dave", T.THREATS[0]))
    at(20, 6 - 40 * mins, lambda: h.notice(TRUSTED_FLAGGER, "dave-threat", "incitement"))
    at(20, 5.5, lambda: h.decide("dave-threat", "mod", "remove", label="violence",
                                 explanation="A veiled threat against a named councillor (rule 1)."))
    at(15, 8, lambda: h.post("dave-hold", "dave", T.THREATS[1]))
    at(15, 6, lambda: h.decide("dave-hold", "mod", "remove", label="violence",
                               explanation="A threat to a person's safety (rule 1); third strike."))
    at(14, 1, lambda: h.appeal_suspension("dave-suspension", "dave", T.APPEALS["suspend"]))
    at(13, 0, lambda: h.decide_appeal("dave-suspension", "admin", "upheld",
                                      "Three removals for threats and insults in three weeks; the suspension stands."))

    # rex: hyperbole cleared, a threat removed, an insult removed and then restored on appeal.
    at(27, 9, lambda: h.post("rex-hyperbole", "rex", T.HYPERBOLE[0]))
    at(27, 6, lambda: h.decide("rex-hyperbole", "mod", "no_violation",
                               explanation="Sports hyperbole, not a threat to anyone."))
    at(18, 10, lambda: h.post("rex-threat", "rex", T.THREATS[2]))
    at(18, 9, lambda: h.report("kofi", "rex-threat", "other", T.REPORT_COMMENTS["threat"]))
    at(18, 3, lambda: h.decide("rex-threat", "senior", "remove", label="violence",
                               explanation="A threat aimed at a person over a disagreement (rule 1)."))
    at(17, 2, lambda: h.post("rex-blocked", "rex", T.BLOCKED[2]))
    at(10, 7, lambda: h.post("rex-insult", "rex", T.INSULTS[2].format(target="ibrahim")))
    at(10, 6, lambda: h.report("ibrahim", "rex-insult", "other", T.REPORT_COMMENTS["insult"]))
    at(10, 1, lambda: h.decide("rex-insult", "mod", "remove", label="harassment",
                               explanation="An insult aimed at a member (rule 3)."))
    at(9, 20, lambda: h.appeal("rex-insult", "rex", "rex-insult", T.APPEALS["insult"]))
    at(9, 2, lambda: h.decide_appeal("rex-insult", "senior", "overturned",
                                     "Ibrahim confirmed it was a running joke between friends; restored."))

    # gamer_jo: a false positive of a list rule, overturned on appeal.
    at(25, 10, lambda: h.post("jo-blocked", "gamer_jo", T.FALSE_POSITIVE))
    at(25, 8, lambda: h.appeal("jo-blocked", "gamer_jo", "jo-blocked", T.APPEALS["false_positive"], gate=True))
    at(24, 5, lambda: h.decide_appeal("jo-blocked", "senior", "overturned",
                                      "About a video game; nobody real was threatened. The block is reversed."))

    # spamshop: spam limited automatically after publication, reported, the account suspended.
    for n, day in enumerate((24, 23, 22)):
        at(day, 12, lambda k=f"spam-{n}": h.post(k, "spamshop", T.SPAM))
    at(22, 11, lambda: h.report("priya", "spam-2", "spam", T.REPORT_COMMENTS["spam"]))
    at(22, 4, lambda: h.decide("spam-2", "mod", "suspend", label="other",
                               explanation="An account that only posts spam links."))

    # A hosting partner's notice about an ordinary post: no violation, the notice answered.
    at(21, 20, lambda: h.post("viktor-chess", "viktor",
                              "Chess club tonight: we are playing the whole council in a simultaneous game!"))
    at(21, 15, lambda: h.notice(PARTNER, "viktor-chess", "other"))
    at(20, 20, lambda: h.decide("viktor-chess", "mod", "no_violation",
                                explanation="An announcement of a chess evening; nothing breaks the rules."))

    # More from the detector: blocked drafts, a held film review released, a hyperbolic post cleared.
    at(12, 4, lambda: h.post("ana-film", "ana", "That film where the hero hunts the gang down one by one and "
                                                "kills them all was brilliant."))
    at(12, 2, lambda: h.decide("ana-film", "mod", "no_violation", explanation="A film review, not a threat."))
    at(8, 9, lambda: h.post("blocked-8", "rex", T.BLOCKED[1]))
    at(6, 15, lambda: h.post("ana-bus", "ana", T.HYPERBOLE[1]))
    at(4, 13, lambda: h.post("tomas-film", "tomas",
                             'Best film line ever: "I will find you, and I will kill you." Rewatching it tonight.'))
    at(4, 10, lambda: h.decide("tomas-film", "mod", "no_violation", explanation="Quoting a well-known film."))

    # A threat a trusted flagger reports within minutes: removed inside the hour.
    at(7, 5, lambda: h.post("flagged-threat", "pitchfork_05", T.THREATS[3]))

    # The pile-on yesterday evening: six new accounts against the council reporter, a flood of reports.
    for i, name in enumerate(T.BRIGADE):
        at(9, 10 - i, lambda n=name: h.join(n, n.replace("_", " ").title(), ""))
    at(7, 4.5, lambda: h.notice(TRUSTED_FLAGGER, "flagged-threat", "incitement"))
    at(7, 4, lambda: h.decide("flagged-threat", "senior", "remove", label="violence",
                              explanation="A call to go after named people (rule 1)."))
    at(3, 8, lambda: h.post("lena-article", "lena",
                            "My piece on the footbridge contracts is out today: who was paid, and for what. "
                            "#localpolitics"))
    for i, name in enumerate(T.BRIGADE):
        start = 1 + 9 / 24 - i * 0.02  # yesterday, from 15:00, a post every half hour or so
        for j, text in enumerate(T.BRIGADE_POSTS[(i % 2) * 2:(i % 2) * 2 + 2] + [T.INSULTS[i % 3]]):
            key = f"raid-{i}-{j}"
            body = text.format(target="lena")
            at(start, -0.5 * j, lambda k=key, n=name, b=body: h.post(k, n, b))
            if (i + j) % 2 == 0:
                reporter = ["lena", "jonas", "priya", "mei"][(i + j) % 4]
                at(start, -0.5 * j - 0.3, lambda k=key, r=reporter: h.report(r, k, "other",
                                                                            T.REPORT_COMMENTS["brigade"]))
        # ... and each of them reports the article itself
        at(start, -2, lambda n=name: h.report(n, "lena-article", "other", T.REPORT_COMMENTS["false"]))
    at(1, 6.5, lambda: h.notice(TRUSTED_FLAGGER, "raid-0-1", "other"))
    for i in range(3):
        at(1, 4 - i * 0.3, lambda k=f"raid-{i}-0": h.decide(k, "mod", "remove", label="harassment",
                                                            explanation="Part of a pile-on against a member."))
    at(1, 2.5, lambda: h.decide("raid-0-1", "senior", "suspend", label="harassment",
                                explanation="A new account created for a coordinated pile-on."))
    at(1, 2, lambda: h.decide("raid-1-1", "mod", "remove", label="harassment",
                              explanation="Part of a pile-on against a member."))
    # The last hours: a conversation, and a threat reported just now (open in the queue).
    for n, (author, text, reply_to) in enumerate(T.TODAY):
        at(0, 4 - n * 0.4, lambda k=f"today-{n}", a=author, t=text, r=reply_to:
           h.post(k, a, t, reply_to=f"today-{r}" if r is not None else None))
    for reporter, index, category, comment in T.TODAY_REPORTS:
        at(0, 0.5, lambda r=reporter, k=f"today-{index}", c=category, m=comment: h.report(r, k, c, m))
    # An appeal still open: a removal the author contests. The post copies one removed from dave, so the
    # gate holds it as a copy, in the case of that removal's copies (cases/copies.py).
    at(2, 10, lambda: h.post("brigade-held", "pitchfork_06", T.THREATS[1]))
    at(2, 7, lambda: h.decide("brigade-held", "mod", "remove", label="violence",
                              explanation="A threat to a person's safety (rule 1)."))
    at(1, 22, lambda: h.appeal("brigade-held", "pitchfork_06", "brigade-held", T.APPEALS["hold"]))


def seed_history(db: Database, settings: Settings, *, people: list[tuple[str, str, str]], password: str,
                 engine: Moderation | None = None, now: datetime | None = None) -> dict[str, int]:
    """Seed the 30 days (once); returns what was added, by kind (empty when it was there already)."""
    with db.read() as session:
        if already_seeded(session):
            return {}
    started = time.monotonic()
    engine = engine or Moderation.build(settings, db, worker=False)
    h = History(db=db, settings=settings, engine=engine, now=now or datetime.now(UTC), password=password)
    with simulated(h.ago(DAYS + 30)):
        for username, display, role in people:
            h.join(username, display, "", role)
        for username, display, bio in T.COMMUNITY:
            h.join(username, display, bio)
        with db.write() as session:
            for name, trusted in ((TRUSTED_FLAGGER, True), (PARTNER, False)):
                if session.scalar(select(Partner.id).where(Partner.name == name)) is None:
                    notices.create_partner(session, name, trusted=trusted)
    regulars = [u for u, _, _ in T.COMMUNITY if u not in ("spamshop", "gamer_jo")] + ["alice", "bob", "carol"]
    with simulated(h.ago(DAYS + 20)):
        for a in regulars:
            for b in h.rng.sample(regulars, 6):
                if a != b:
                    h.follow(a, b)
    _everyday(h, regulars)
    _incidents(h)
    h.play()
    h.drain()
    with db.write() as session:
        audit.append(session, action=MARKER, subject="demo", data={
            "note": "the history before this entry was seeded by `warden demo` under a simulated clock",
            "from": h.ago(DAYS + 30).isoformat(), "counts": h.counts})
    h.counts["seconds"] = round(time.monotonic() - started, 1)
    return h.counts


def summary(counts: dict[str, Any]) -> str:
    order = ("posts", "blocked", "reports", "notices", "case_decisions", "appeals", "appeals_decided")
    return ", ".join(f"{counts.get(k, 0)} {k.replace('_', ' ')}" for k in order)
