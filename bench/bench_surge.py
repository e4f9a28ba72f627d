"""Surge replay: baseline traffic, a 10x surge with violent posts mixed in, partner notices in batches and
simulated moderators at a fixed capacity, replayed in compressed time against a live deployment.

    python bench/bench_surge.py                         # embedded: one `warden serve` on SQLite, ~4-5 min
    python bench/bench_surge.py --quick                 # a shorter surge (10 + 30 + 40 simulated min), ~2 min
    python bench/bench_surge.py --quick --capacity 1,2,4   # one run per moderator count; the smallest that
                                                        # keeps the trusted flagger's 1-hour SLA
    python bench/bench_surge.py --mode cluster --nodes 2 --workers 2   # PostgreSQL + NATS (the broker path)
    python bench/bench_surge.py --mode cluster --broker none          # PostgreSQL nodes, workers polling the outbox

What it does, in simulated time (`--compress 60`: one simulated hour takes one real minute):

- seeds users with follows (bench_platform's bulk seeding); a few of them post the violent content;
- posts benign Gab posts at a baseline rate, then `--surge-factor` times that, then the baseline again
  (the tail), with violent posts from the held-out splits (surge_model.VIOLENT_SOURCES) at a small share
  of the baseline and a larger share of the surge; every post passes the real detector and policy gate;
- readers poll their home timelines (and hold open user streams where the server has
  /api/v1/streaming): every delivery of a violent post before it was acted on is exposure;
- a trusted flagger sends bulk notices (POST /api/warden/v1/notices) every `--notice-interval` minutes
  about the violent posts still up, and a non-trusted partner sends less precise ones;
- K moderators each take the highest-priority open case from the queue API (as the console orders it),
  claim it, spend 1/`--rate` minutes on it and decide it by ground truth (remove a violent post, else
  no violation).

It writes summary.json (figures) and surge.png (posts, queue, decisions and exposure over time, the
surge shaded) to `--out` (default artifacts/surge/), and prints the headline figures. The server(s)
and this load generator share the machine's cores: say how many when you report the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
from sqlalchemy import create_engine, func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_platform import Connection, fresh_database, seed  # noqa: E402
from surge_model import (  # noqa: E402
    Corpus,
    NoticeOutcome,
    PlannedPost,
    Scenario,
    exposure,
    keeps_sla,
    load_corpus,
    percentiles,
    plan_posts,
    series,
    sla_compliance,
    smallest_capacity,
    stream_update_id,
)

from warden.store.migrate import upgrade  # noqa: E402

QUICK = dict(baseline_min=10.0, surge_min=30.0, tail_min=40.0)
VISIBLE = ("published", "limited")


# --- the deployment --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cluster_supported() -> str | None:
    """None when this checkout's `warden worker` takes --roles (the broker path), else why not."""
    result = subprocess.run([sys.executable, "-m", "warden.cli", "worker", "--help"], capture_output=True, text=True)
    if result.returncode != 0 or "--roles" not in result.stdout:
        return ("--mode cluster needs the broker path (`warden worker --roles relay,moderation,detection` with "
                "WARDEN_BROKER_URL); this checkout's `warden worker --help` has no --roles option")
    return None


@dataclass
class Deployment:
    """`warden serve` node(s) and, in cluster mode, `warden worker` processes, all on one database."""

    url: str
    bases: list[str]
    procs: list[subprocess.Popen[bytes]]
    env: dict[str, str]
    logs: list[Path]

    @classmethod
    def start(cls, mode: str, url: str, nodes: int, workers: int, roles: str, broker: str, logdir: Path) -> "Deployment":
        ports = [_free_port() for _ in range(nodes)]
        env = dict(os.environ, WARDEN_DATABASE_URL=url, WARDEN_RATE_LIMIT_STATUSES="off", WARDEN_BASE_URL=f"http://127.0.0.1:{ports[0]}",
                   WARDEN_DETECTION="on")
        if mode == "cluster":
            env["WARDEN_WORKER"] = "0"
            if broker != "none":
                env.update(WARDEN_BROKER_URL=broker, WARDEN_BROKER_NAMESPACE=f"surge{secrets.token_hex(4)}")
        procs, logs = [], []

        def spawn(name: str, argv: list[str]) -> None:
            log = logdir / f"{name}.log"
            logs.append(log)
            procs.append(subprocess.Popen([sys.executable, "-m", "warden.cli", *argv], env=env,
                                          stdout=subprocess.DEVNULL, stderr=open(log, "wb")))

        for i, port in enumerate(ports):
            spawn(f"serve-{i}", ["serve", "--port", str(port), "--no-migrate"])
        if mode == "cluster":
            for i in range(workers):
                spawn(f"worker-{i}", ["worker"] if broker == "none" else ["worker", "--roles", roles])
        deployment = cls(url, [f"http://127.0.0.1:{p}" for p in ports], procs, env, logs)
        for base in deployment.bases:
            deployment._wait(base)
        return deployment

    def _wait(self, base: str) -> None:
        for _ in range(600):
            if any(p.poll() is not None for p in self.procs):
                break
            try:
                if httpx.get(f"{base}/api/v1/instance", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{base} did not start; see {', '.join(str(p) for p in self.logs)}")

    def streaming(self) -> bool:
        try:
            return httpx.get(f"{self.bases[0]}/api/v1/streaming/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def status(self) -> dict[str, Any] | None:
        """`warden status` JSON (the broker branch), or None where the command does not exist."""
        result = subprocess.run([sys.executable, "-m", "warden.cli", "status"], env=self.env, capture_output=True,
                                text=True, timeout=30)
        try:
            return json.loads(result.stdout) if result.returncode == 0 else None
        except ValueError:
            return None

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def prepare(url: str, scenario: Scenario, seed_posts: int) -> tuple[list[str], list[str], str, str]:
    """Seed users, follows and posts (bench_platform), then moderators and the two partners.

    Returns the users' tokens (index i: account id i + 1), the moderators' tokens, and the trusted
    flagger's and the partner's tokens."""
    from warden.cases.notices import create_partner
    from warden.platform import accounts, auth
    from warden.platform.auth import hash_password
    from warden.store.db import Database
    from warden.store.models import Account, Follow

    tokens = seed(url, scenario.users, scenario.follows, seed_posts, readers=scenario.users)
    engine = create_engine(url)
    with engine.begin() as conn:  # the seeding leaves followers_count at 0; case priority reads it
        counts = dict(conn.execute(select(Follow.target_id, func.count()).group_by(Follow.target_id)).all())
        for target, n in counts.items():
            conn.execute(update(Account).where(Account.id == target).values(followers_count=n))
    engine.dispose()
    db = Database(url)
    password = hash_password("bench-password")
    moderators = []
    with db.write() as session:
        for i in range(scenario.moderators):
            account = accounts.register(session, username=f"surgemod{i}", email=f"surgemod{i}@bench.test",
                                        password="bench-password", password_hash=password, role="moderator")
            moderators.append(auth.issue_token(session, app_id=None, account_id=account.id,
                                               scopes="read write admin:read admin:write").access_token)
        _, trusted = create_partner(session, "surge trusted flagger", trusted=True)
        _, partner = create_partner(session, "surge partner", trusted=False)
    db.dispose()
    return tokens, moderators, trusted, partner


# --- the replay ------------------------------------------------------------------------------------


@dataclass
class Post:
    planned: PlannedPost
    account_id: int
    sent: float = 0.0
    answered: float = 0.0
    code: int = 0
    verdict: str = ""          # published | limited | held | blocked | suspended | error
    status_id: int | None = None


@dataclass
class Records:
    """Everything the replay observed, in real epoch seconds."""

    start: float
    end: float          # the scenario's end: posting and reading stop
    work_end: float     # moderators and the sampler go on until the last trusted notice is due
    posts: list[Post] = field(default_factory=list)
    deliveries: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: {"timeline": [], "stream": []})
    notices: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    streams_open: int = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def _hostport(base: str) -> tuple[str, int]:
    host, port = base.split("://", 1)[1].split(":")
    return host, int(port)


class Client:
    """bench_platform's cheap keep-alive `Connection`, reopened once when the server has closed it
    (uvicorn drops a keep-alive connection after 5 idle seconds; partners and moderators idle longer).
    Answers (0, b"") when the request fails twice."""

    def __init__(self, base: str) -> None:
        self.hostport = _hostport(base)
        self.conn = Connection(*self.hostport)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        for _ in range(2):
            try:
                return await self.conn.request(method, path, headers, body)
            except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
                self.conn.writer and self.conn.writer.close()
                self.conn = Connection(*self.hostport)
        return 0, b""


class Replay:
    """The concurrent actors of one run: poster, readers, streams, partners, moderators, sampler."""

    def __init__(self, scenario: Scenario, plan: list[PlannedPost], deployment: Deployment, tokens: list[str],
                 moderators: list[str], trusted: str, partner: str, streaming: bool, mode: str) -> None:
        self.s, self.plan, self.d = scenario, plan, deployment
        self.tokens, self.moderators, self.trusted, self.partner = tokens, moderators, trusted, partner
        self.streaming, self.mode = streaming, mode
        self.broker = "WARDEN_BROKER_URL" in deployment.env and mode == "cluster"
        self.rng = random.Random(scenario.seed + 1)
        self.by_status: dict[int, Post] = {}
        self.removed: set[int] = set()
        self.suspended: set[int] = set()
        start = time.time() + 1.0
        end = start + scenario.real(scenario.total_min * 60)
        self.r = Records(start=start, end=end, work_end=end)
        self.engine = create_engine(deployment.url)

    def conn(self, n: int) -> Client:
        return Client(self.d.bases[n % len(self.d.bases)])

    async def until(self, t: float) -> None:
        delay = t - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    # posts ------------------------------------------------------------------------------------------

    async def poster(self) -> None:
        queue: asyncio.Queue[PlannedPost | None] = asyncio.Queue()
        senders = [asyncio.create_task(self.sender(n, queue)) for n in range(8)]
        for planned in self.plan:
            await self.until(self.r.start + self.s.real(planned.at))
            queue.put_nowait(planned)
        for _ in senders:
            queue.put_nowait(None)
        await asyncio.gather(*senders)

    def author(self, planned: PlannedPost) -> int | None:
        """The posting account (id); a suspended violent account hands over to the next one."""
        if not planned.violent:
            return planned.author + 1
        for k in range(self.s.violent_accounts):
            account = (planned.author + k) % self.s.violent_accounts + 1
            if account not in self.suspended:
                return account
        return None

    async def sender(self, n: int, queue: asyncio.Queue[PlannedPost | None]) -> None:
        conn = self.conn(n)
        while (planned := await queue.get()) is not None:
            account = self.author(planned)
            if account is None:
                self.r.error("every violent account suspended")
                continue
            post = Post(planned, account, sent=time.time())
            code, body = await conn.request("POST", "/api/v1/statuses", {
                "Authorization": f"Bearer {self.tokens[account - 1]}",
                "Content-Type": "application/x-www-form-urlencoded"}, f"status={quote_plus(planned.text)}".encode())
            post.answered, post.code = time.time(), code
            if code == 200:
                data = json.loads(body)
                post.status_id = int(data["id"])
                moderation = data.get("warden") or {"state": "published", "limited": False}
                limited = moderation["state"] == "published" and moderation["limited"]
                post.verdict = "limited" if limited else moderation["state"]
                self.by_status[post.status_id] = post
            elif code == 422 and b"decision_id" in body:
                post.verdict = "blocked"
            elif code == 403:
                post.verdict = "suspended"
                self.suspended.add(account)
            else:
                post.verdict = "error"
                self.r.error(f"post HTTP {code}")
            self.r.posts.append(post)

    # readers ----------------------------------------------------------------------------------------

    def reader_ids(self) -> list[int]:
        return list(range(self.s.users - self.s.readers + 1, self.s.users + 1))

    async def reader(self, n: int, account: int) -> None:
        conn = self.conn(n)
        since = ""
        token = self.tokens[account - 1]
        await self.until(self.r.start + self.s.poll_real_s * n / self.s.readers)
        while time.time() < self.r.end:
            began = time.time()
            code, body = await conn.request("GET", f"/api/v1/timelines/home?limit=40{since}",
                                             {"Authorization": f"Bearer {token}"})
            now = time.time()
            if code == 200:
                ids = [int(s["id"]) for s in json.loads(body)]
                if ids:
                    if since:
                        self.r.deliveries["timeline"].extend((i, now) for i in ids)
                    since = f"&since_id={max(ids)}"
            else:
                self.r.error(f"home timeline HTTP {code}")
            await asyncio.sleep(max(0.0, self.s.poll_real_s - (time.time() - began)))

    async def stream(self, n: int, account: int) -> None:
        from websockets.asyncio.client import connect

        base = self.d.bases[n % len(self.d.bases)].replace("http://", "ws://")
        url = f"{base}/api/v1/streaming?access_token={self.tokens[account - 1]}&stream=user"
        try:
            async with connect(url, open_timeout=10) as ws:
                self.r.streams_open += 1
                while time.time() < self.r.end:
                    try:
                        message = await asyncio.wait_for(ws.recv(), timeout=max(0.1, self.r.end - time.time()))
                    except TimeoutError:
                        break
                    if (status_id := stream_update_id(message)) is not None:
                        self.r.deliveries["stream"].append((status_id, time.time()))
        except Exception as exc:  # a stream that fails is counted, the replay goes on
            self.r.error(f"stream: {type(exc).__name__}")

    # partners ---------------------------------------------------------------------------------------

    def visible_violent(self, older_than: float, seen: set[int]) -> list[Post]:
        return [p for p in list(self.by_status.values())
                if p.planned.violent and p.verdict in VISIBLE and p.answered <= older_than
                and p.status_id not in seen and p.status_id not in self.removed]

    async def send_notices(self, conn: Client, token: str, posts: list[Post], category: str, who: str) -> None:
        base = self.d.bases[0]
        for start in range(0, len(posts), 500):
            chunk = posts[start:start + 500]
            items = [{"url": f"{base}/@user{p.account_id}/{p.status_id}", "category": category,
                      "explanation": "Reported in the surge replay"} for p in chunk]
            sent = time.time()
            code, body = await conn.request("POST", "/api/warden/v1/notices", {
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                json.dumps({"notices": items}).encode())
            if code != 202:
                self.r.error(f"notices HTTP {code}")
                continue
            for p, answer in zip(chunk, json.loads(body)["notices"]):
                if "id" in answer:
                    self.r.notices.append({"who": who, "id": int(answer["id"]), "status_id": p.status_id,
                                           "violent": p.planned.violent, "sent": sent})
                else:
                    self.r.error(f"notice refused: {answer.get('error')}")

    async def flagger(self) -> None:
        """The trusted flagger: every interval, the violent posts it found that are still up."""
        conn, seen = self.conn(0), set()
        interval, lag = self.s.real(self.s.notice_interval_min * 60), self.s.real(self.s.flagger_lag_min * 60)
        t = self.r.start + interval
        while t < self.r.end - interval / 2:
            await self.until(t)
            candidates = self.visible_violent(time.time() - lag, seen)
            seen.update(p.status_id for p in candidates)  # type: ignore[misc]
            found = [p for p in candidates if self.rng.random() < self.s.flagger_recall]
            if found:
                await self.send_notices(conn, self.trusted, found, "violence", "trusted_flagger")
                # every notice is judged: moderators work on until the last one is due
                self.r.work_end = max(self.r.work_end, time.time() + self.s.real(self.s.sla_min * 60) + 1)
            t += interval

    async def partner_notices(self) -> None:
        """A non-trusted partner: fewer of the violent posts, and ordinary posts besides."""
        conn, seen = self.conn(1), set()
        interval, lag = self.s.real(self.s.partner_interval_min * 60), self.s.real(self.s.flagger_lag_min * 60)
        t = self.r.start + interval
        while t < self.r.end - interval / 2:
            await self.until(t)
            candidates = self.visible_violent(time.time() - lag, seen)
            seen.update(p.status_id for p in candidates)  # type: ignore[misc]
            found = [p for p in candidates if self.rng.random() < self.s.partner_recall]
            benign = [p for p in list(self.by_status.values())[-2000:]
                      if not p.planned.violent and p.verdict in VISIBLE and p.status_id not in seen]
            wrong = round(len(found) * (1 - self.s.partner_precision) / self.s.partner_precision)
            found += self.rng.sample(benign, min(wrong, len(benign)))
            seen.update(p.status_id for p in found)  # type: ignore[misc]
            if found:
                await self.send_notices(conn, self.partner, found, "incitement", "partner")
            t += interval

    # moderators -------------------------------------------------------------------------------------

    async def ground_truth(self, status_id: int) -> bool:
        for _ in range(40):  # the case can open before this process has read the post's response
            if status_id in self.by_status:
                return self.by_status[status_id].planned.violent
            await asyncio.sleep(0.05)
        return False

    async def moderator(self, n: int, token: str) -> None:
        conn = self.conn(n)
        auth = {"Authorization": f"Bearer {token}"}
        per_case = self.s.real(60 / self.s.decisions_per_min)
        me: str | None = None
        await self.until(self.r.start)
        while time.time() < self.r.work_end:
            code, body = await conn.request("GET", "/api/warden/v1/cases?status=open&limit=20", auth)
            queue = json.loads(body) if code == 200 else []
            pick = next((c for c in queue if c["tier"] == "standard"
                         and (c["state"] == "open" or c["assignee_id"] == me)), None)
            if pick is None:
                await asyncio.sleep(min(0.5, per_case))
                continue
            code, body = await conn.request("POST", f"/api/warden/v1/cases/{pick['id']}/claim", auth)
            if code != 200:
                continue  # another moderator took it a moment ago
            me = json.loads(body)["assignee_id"]
            await asyncio.sleep(per_case)  # reading the case
            status_id = int(pick["status_ids"][0]) if pick["status_ids"] else None
            violent = status_id is not None and await self.ground_truth(status_id)
            decision = {"action": "remove", "policy": "violence",
                        "explanation": "Calls for violence against people."} if violent else \
                {"action": "no_violation", "explanation": "Not a call for violence."}
            code, body = await conn.request("POST", f"/api/warden/v1/cases/{pick['id']}/decision",
                                            {**auth, "Content-Type": "application/json"},
                                            json.dumps(decision).encode())
            if code != 200:
                self.r.error(f"decision HTTP {code}")
                continue
            if violent and status_id is not None:
                self.removed.add(status_id)
            self.r.decisions.append({"case": int(pick["id"]), "status_id": status_id, "action": decision["action"],
                                     "at": time.time(), "moderator": n, "sources": pick["sources"]})

    # the queue, sampled ----------------------------------------------------------------------------

    def sample(self) -> dict[str, Any]:
        from warden.store.models import OutboxEvent
        from warden.store.moderation_models import CaseSignal, ConsumerPosition, ModerationCase, Notice, Partner

        now = time.time()
        with self.engine.connect() as conn:
            rows = conn.execute(select(CaseSignal.case_id, CaseSignal.created_at, CaseSignal.due_at)
                                .join(ModerationCase, ModerationCase.id == CaseSignal.case_id)
                                .where(ModerationCase.state.in_(("open", "claimed", "escalated")))).all()
            trusted_open = conn.scalar(select(func.count()).select_from(Notice).join(Partner).where(
                Partner.trusted.is_(True), Notice.state.in_(("received", "in_review"))))
            backlog = None
            if not self.broker:
                last = conn.scalar(select(func.max(OutboxEvent.id))) or 0
                position = conn.scalar(select(ConsumerPosition.position)
                                       .where(ConsumerPosition.name == "moderation")) or 0
                backlog = max(0, last - position)
        due: dict[int, float] = {}
        for case_id, created, due_at in rows:  # the policy's SLA, in simulated time
            sim_due = created.timestamp() + (due_at - created).total_seconds() / self.s.compress
            due[case_id] = min(due.get(case_id, sim_due), sim_due)
        return {"at": now, "open_cases": len(due), "overdue_cases": sum(1 for d in due.values() if d < now),
                "trusted_notices_open": trusted_open, "outbox_pending": backlog}

    async def sampler(self) -> None:
        every = max(0.5, self.s.real(60))
        t, status_every, last_status = self.r.start, 5.0, 0.0
        while t <= self.r.work_end + every:
            await self.until(t)
            row = await asyncio.to_thread(self.sample)
            if self.broker and time.time() - last_status >= status_every:
                status = await asyncio.to_thread(self.d.status)
                last_status = time.time()
                row["outbox_pending"] = (status or {}).get("outbox_pending")
            self.r.samples.append(row)
            t += every

    async def run(self) -> Records:
        readers = self.reader_ids()
        tasks = [self.poster(), self.flagger(), self.partner_notices(), self.sampler(),
                 *(self.reader(n, a) for n, a in enumerate(readers)),
                 *(self.moderator(n, t) for n, t in enumerate(self.moderators))]
        if self.streaming:
            tasks += [self.stream(n, a) for n, a in enumerate(readers[:self.s.streams])]
        await asyncio.gather(*tasks)
        self.engine.dispose()
        return self.r


# --- figures ---------------------------------------------------------------------------------------


def _epoch(value: datetime) -> float:
    return value.timestamp()


def collect(url: str, scenario: Scenario, r: Records, trusted_name: str = "surge trusted flagger") -> dict[str, Any]:
    """Read the decisions, cases and notices back from the database and compute the figures."""
    from warden.store.models import Status
    from warden.store.moderation_models import ModerationCase, ModerationDecision, Notice, Partner

    posts = {p.status_id: p for p in r.posts if p.status_id is not None}
    violent_ids = {sid for sid, p in posts.items() if p.planned.violent}
    engine = create_engine(url)
    with engine.connect() as conn:
        created = {sid: _epoch(at) for sid, at in conn.execute(
            select(Status.id, Status.created_at).where(Status.id.in_(list(posts))))} if posts else {}
        decided: dict[int, list[tuple[float, str, str]]] = {}
        for sid, at, action, kind in conn.execute(
                select(ModerationDecision.status_id, ModerationDecision.created_at, ModerationDecision.action,
                       ModerationDecision.kind).where(ModerationDecision.status_id.in_(list(posts)),
                                                      ModerationDecision.shadow.is_(False))):
            decided.setdefault(sid, []).append((_epoch(at), action, kind))
        case_rows = conn.execute(select(ModerationCase.status_id, ModerationCase.created_at, ModerationCase.sources)
                                 .where(ModerationCase.status_id.in_(list(posts)))).all()
        notice_rows = conn.execute(select(Notice.created_at, Notice.updated_at, Notice.state, Notice.case_id,
                                          Partner.name).join(Partner, Partner.id == Notice.partner_id)).all()
    engine.dispose()

    # automatic enforcement: the gate's verdict, in the post's own request (real time)
    def latency_ms(violent: bool | None, verdicts: tuple[str, ...]) -> dict[str, Any]:
        return percentiles(((p.answered - p.sent) * 1000 for p in r.posts if p.verdict in verdicts
                            and (violent is None or p.planned.violent == violent)), 1)

    auto = {"held_or_blocked": latency_ms(True, ("held", "blocked")), "held": latency_ms(True, ("held",)),
            "blocked": latency_ms(True, ("blocked",)),
            "every_post": latency_ms(None, ("published", "limited", "held", "blocked"))}
    first_case = {}
    for sid, at, sources in case_rows:
        if sid not in first_case or _epoch(at) < first_case[sid][0]:
            first_case[sid] = (_epoch(at), sources or [])
    held_case_s = [first_case[sid][0] - created[sid] for sid in violent_ids
                   if posts[sid].verdict == "held" and sid in first_case and sid in created]

    # human enforcement: a moderator's removal of a violent post that was up (simulated minutes)
    removed_at: dict[int, float] = {}
    human: dict[str, list[float]] = {"all": []}
    for sid in violent_ids:
        removals = sorted(at for at, action, kind in decided.get(sid, []) if kind == "case" and action == "remove")
        if not removals or sid not in created:
            continue
        removed_at[sid] = removals[0]
        if posts[sid].verdict in VISIBLE:
            minutes = scenario.sim(removals[0] - created[sid]) / 60
            source = (first_case.get(sid, (0, ["?"]))[1] or ["?"])[0]
            human["all"].append(minutes)
            human.setdefault(f"case_led_by_{source}", []).append(minutes)  # its strongest source
    held_removed = [scenario.sim(removed_at[sid] - created[sid]) / 60 for sid in violent_ids
                    if posts[sid].verdict == "held" and sid in removed_at]
    up = [sid for sid in violent_ids if posts[sid].verdict in VISIBLE]

    # the trusted flagger's SLA (simulated hour)
    sla_real = scenario.real(scenario.sla_min * 60)
    outcomes: dict[str, list[NoticeOutcome]] = {"all": [], "needing_review": []}
    by_phase: dict[str, list[NoticeOutcome]] = {}
    for created_at, updated_at, state, case_id, name in notice_rows:
        if name != trusted_name:
            continue
        answered = _epoch(updated_at) if state in ("actioned", "no_action") else None
        outcome = NoticeOutcome(_epoch(created_at), answered, needed_review=case_id is not None)
        outcomes["all"].append(outcome)
        if outcome.needed_review:
            outcomes["needing_review"].append(outcome)
            by_phase.setdefault(scenario.phase(scenario.sim(outcome.received - r.start)), []).append(outcome)
    run_end = r.work_end
    sla = {k: sla_compliance(v, sla_real_s=sla_real, run_end=run_end) for k, v in outcomes.items()}
    sla["by_phase_received"] = {k: sla_compliance(v, sla_real_s=sla_real, run_end=run_end) for k, v in by_phase.items()}
    answer_min = [scenario.sim(o.answered - o.received) / 60 for o in outcomes["needing_review"] if o.answered]
    sla["answer_minutes"] = percentiles(answer_min, 1)

    # exposure: deliveries of violent posts before a moderator removed them
    scale = scenario.users / max(1, scenario.readers)
    exposures = {channel: exposure(rows, violent_ids, removed_at).as_dict(scale)
                 for channel, rows in r.deliveries.items()}
    exposures["timeline"]["readers"] = scenario.readers
    exposures["stream"]["streams_open"] = r.streams_open

    verdicts: dict[str, dict[str, int]] = {"violent": {}, "benign": {}}
    for p in r.posts:
        group = verdicts["violent" if p.planned.violent else "benign"]
        group[p.verdict] = group.get(p.verdict, 0) + 1
    decisions = {}
    for d in r.decisions:
        decisions[d["action"]] = decisions.get(d["action"], 0) + 1
    lag = percentiles((p.sent - r.start - scenario.real(p.planned.at) for p in r.posts), 2)
    return {
        "scenario": scenario.as_dict(),
        "posts": {"sent": len(r.posts), "by_verdict": verdicts, "send_lag_s_real": lag,
                  "kept_pace": (lag["p99"] or 0) < 1.0},
        "time_to_enforcement": {
            "automatic_gate_ms_real": auto,
            "held_post_case_opened_s_real": percentiles(held_case_s, 2),
            "human_removal_of_published_min_sim": {k: percentiles(v, 1) for k, v in human.items()},
            "human_removal_of_held_min_sim": percentiles(held_removed, 1),
            "violent_published_never_removed": sum(1 for sid in up if sid not in removed_at),
        },
        "sla_trusted_flagger": sla,
        "exposure": exposures,
        "moderators": {"count": scenario.moderators, "decisions_per_min": scenario.decisions_per_min,
                       "capacity_per_hour": scenario.moderators * scenario.decisions_per_min * 60,
                       "decisions": decisions,
                       "queue_open_max": max((s["open_cases"] for s in r.samples), default=0),
                       "queue_open_at_end": r.samples[-1]["open_cases"] if r.samples else None},
        "notices_sent": {"trusted_flagger": sum(1 for n in r.notices if n["who"] == "trusted_flagger"),
                         "partner": sum(1 for n in r.notices if n["who"] == "partner")},
        "errors": r.errors,
    }


def timeseries(scenario: Scenario, r: Records) -> dict[str, Any]:
    """Per simulated minute: posts, decisions, exposure; plus the sampled queue."""
    bucket = scenario.real(60)
    end = max(r.end, r.work_end)
    minutes = list(range(len(series([], start=r.start, end=end, bucket=bucket))))
    violent_ids = {p.status_id for p in r.posts if p.planned.violent and p.status_id}
    return {
        "minute": minutes,
        "posts_benign": series((p.sent for p in r.posts if not p.planned.violent), start=r.start, end=end,
                               bucket=bucket),
        "posts_violent": series((p.sent for p in r.posts if p.planned.violent), start=r.start, end=end,
                                bucket=bucket),
        "decisions": series((d["at"] for d in r.decisions), start=r.start, end=end, bucket=bucket),
        "violent_deliveries": series((t for rows in r.deliveries.values() for sid, t in rows if sid in violent_ids),
                                     start=r.start, end=end, bucket=bucket),
        "queue": [{"minute": round(scenario.sim(s["at"] - r.start) / 60, 2),
                   **{k: v for k, v in s.items() if k != "at"}} for s in r.samples],
    }


def plot(path: Path, scenario: Scenario, ts: dict[str, Any], summary: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    m = ts["minute"]
    ax = axes[0]
    ax.plot(m, ts["posts_benign"], label="benign posts/min", color="tab:blue")
    ax.plot(m, ts["posts_violent"], label="violent posts/min", color="tab:red")
    ax.set_ylabel("posts per minute")
    ax = axes[1]
    q = ts["queue"]
    ax.plot([s["minute"] for s in q], [s["open_cases"] for s in q], label="open cases", color="tab:purple")
    ax.plot([s["minute"] for s in q], [s["overdue_cases"] for s in q], label="past their SLA", color="tab:orange")
    ax.plot([s["minute"] for s in q], [s["trusted_notices_open"] for s in q], label="trusted notices open",
            color="tab:green")
    ax.set_ylabel("queue depth")
    ax = axes[2]
    ax.bar(m, ts["decisions"], width=1.0, label="moderator decisions/min", color="tab:gray")
    ax.set_ylabel("decisions per minute")
    ax = axes[3]
    cumulative, total = [], 0
    for n in ts["violent_deliveries"]:
        total += n
        cumulative.append(total)
    ax.plot(m, cumulative, label="deliveries of violent posts (cumulative)", color="tab:red")
    ax.set_ylabel("exposure")
    ax.set_xlabel("simulated minutes")
    start, end = scenario.surge_window_min
    for ax in axes:
        ax.axvspan(start, end, color="tab:red", alpha=0.08, label="surge" if ax is axes[0] else None)
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    tte = summary["time_to_enforcement"]
    sla = summary["sla_trusted_flagger"]["needing_review"]
    fig.suptitle(f"Surge replay: {scenario.moderators} moderators x {scenario.decisions_per_min:g}/min; "
                 f"held by the gate in p50 {tte['automatic_gate_ms_real']['held']['p50']} ms; trusted-flagger SLA "
                 f"{sla['met']}/{sla['met'] + sla['missed']} in 1 h", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def headline(summary: dict[str, Any]) -> str:
    tte = summary["time_to_enforcement"]
    auto = tte["automatic_gate_ms_real"]
    sla = summary["sla_trusted_flagger"]
    human = tte["human_removal_of_published_min_sim"]["all"]
    v = summary["posts"]["by_verdict"]["violent"]
    e = summary["exposure"]
    return "\n".join([
        f"  posts: {summary['posts']['sent']} sent; violent ones: {v}",
        f"  automatic (gate verdict on a violent post, real): held p50 {auto['held']['p50']} ms, "
        f"p99 {auto['held']['p99']} ms (n={auto['held']['n']}); blocked p50 {auto['blocked']['p50']} ms "
        f"(n={auto['blocked']['n']}); every post p50 {auto['every_post']['p50']} ms; "
        f"held post -> case opened p50 {tte['held_post_case_opened_s_real']['p50']} s real",
        f"  human (published violent post -> removal, simulated): p50 {human['p50']} min, p99 {human['p99']} min "
        f"(n={human['n']}); never removed: {tte['violent_published_never_removed']}",
        f"  trusted-flagger SLA (1 h simulated), notices needing a moderator: {sla['needing_review']}; "
        f"answer time p50 {sla['answer_minutes']['p50']} min, p99 {sla['answer_minutes']['p99']} min",
        f"  exposure before action: timeline {e['timeline']['deliveries_before_action']} deliveries to "
        f"{e['timeline']['readers']} readers (~{e['timeline']['estimated_network_deliveries']} network-wide), "
        f"stream {e['stream']['deliveries_before_action']} ({e['stream']['streams_open']} streams)",
        f"  moderators: {summary['moderators']}",
        f"  errors: {summary['errors'] or 'none'}",
        *([] if summary["posts"]["kept_pace"] else [
            f"  WARNING: posts went out late (p99 {summary['posts']['send_lag_s_real']['p99']} s behind plan): the "
            "machine did not keep up with this compression; use a smaller --compress"]),
    ])


def run_once(args: argparse.Namespace, scenario: Scenario, corpus: Corpus, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_posts(scenario, corpus)
    backend = "postgresql" if args.mode == "cluster" else "sqlite"
    with tempfile.TemporaryDirectory(prefix="warden-surge-") as tmp:
        url, drop = fresh_database(backend, Path(tmp))
        try:
            upgrade(url)
            tokens, moderators, trusted, partner = prepare(url, scenario, args.seed_posts)
            deployment = Deployment.start(args.mode, url, args.nodes if args.mode == "cluster" else 1,
                                          args.workers, args.roles, args.broker, Path(tmp))
            try:
                streaming = deployment.streaming() and scenario.streams > 0
                print(f"  {len(plan)} posts planned ({sum(p.violent for p in plan)} violent) over "
                      f"{scenario.total_min:g} simulated min = {scenario.real(scenario.total_min * 60):.0f} s real; "
                      f"streams: {'yes' if streaming else 'no /api/v1/streaming on this server'}", flush=True)
                replay = Replay(scenario, plan, deployment, tokens, moderators, trusted, partner, streaming, args.mode)
                records = asyncio.run(replay.run())
                time.sleep(1.0)
                summary = collect(url, scenario, records)
                summary["deployment"] = {"mode": args.mode, "backend": backend, "nodes": len(deployment.bases),
                                         "broker": deployment.env.get("WARDEN_BROKER_URL"),
                                         "workers": args.workers if args.mode == "cluster" else 0,
                                         "cores": os.cpu_count(), "streaming": streaming}
                summary["corpus"] = corpus.describe()
                ts = timeseries(scenario, records)
            finally:
                deployment.stop()
        finally:
            drop()
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "timeseries.json").write_text(json.dumps(ts))
    plot(out / "surge.png", scenario, ts, summary)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "cluster"], default="embedded")
    parser.add_argument("--quick", action="store_true", help="10 + 30 + 40 simulated minutes instead of 60 + 120 + 60")
    parser.add_argument("--compress", type=float, help="simulated seconds per real second (default 60)")
    parser.add_argument("--capacity", help="moderator counts to sweep, e.g. 1,2,4 (default: --moderators)")
    parser.add_argument("--moderators", type=int, default=Scenario.moderators)
    parser.add_argument("--rate", type=float, default=Scenario.decisions_per_min,
                        help="decisions per simulated minute, per moderator")
    parser.add_argument("--posts-per-min", type=float, default=Scenario.posts_per_min,
                        help="baseline posts per simulated minute")
    parser.add_argument("--surge-factor", type=float, default=Scenario.surge_factor)
    parser.add_argument("--users", type=int, default=Scenario.users)
    parser.add_argument("--readers", type=int, default=Scenario.readers)
    parser.add_argument("--seed-posts", type=int, default=20_000, help="posts in the database before the replay")
    parser.add_argument("--nodes", type=int, default=2, help="cluster: `warden serve` processes")
    parser.add_argument("--workers", type=int, default=2, help="cluster: `warden worker` processes")
    parser.add_argument("--roles", default="relay,moderation,detection", help="cluster: each worker's --roles")
    parser.add_argument("--broker", default=os.environ.get("WARDEN_BROKER_URL", "nats://127.0.0.1:4222"),
                        help="cluster: the NATS URL, or `none` for PostgreSQL nodes and plain `warden worker` "
                             "processes polling the outbox (no broker)")
    parser.add_argument("--data", type=Path, help="the labelled data (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "surge")
    args = parser.parse_args()

    if args.mode == "cluster" and args.broker != "none" and (why := cluster_supported()):
        raise SystemExit(f"Error: {why}")
    if args.mode == "cluster" and (args.nodes < 1 or args.workers < 1):
        raise SystemExit("Error: --nodes and --workers must be at least 1")
    try:
        capacities = [int(c) for c in args.capacity.split(",")] if args.capacity else [args.moderators]
    except ValueError:
        raise SystemExit(f"Error: --capacity must be moderator counts like 1,2,4, not {args.capacity!r}") from None
    if any(c < 1 for c in capacities):
        raise SystemExit("Error: every --capacity must be at least 1 moderator")
    scenario = replace(Scenario(**(QUICK if args.quick else {})), decisions_per_min=args.rate,
                       posts_per_min=args.posts_per_min, surge_factor=args.surge_factor, users=args.users,
                       readers=min(args.readers, args.users // 2))
    if args.compress:
        scenario = replace(scenario, compress=args.compress)
    try:
        corpus = load_corpus(args.data)
    except FileNotFoundError as exc:
        raise SystemExit(f"Error: {exc}") from None
    print(f"Warden surge replay, {args.mode} mode, {os.cpu_count()} cores, compress {scenario.compress:g}x; "
          f"corpus: {len(corpus.violent)} violent / {len(corpus.benign)} benign held-out posts", flush=True)
    runs = []
    for capacity in capacities:
        s = replace(scenario, moderators=capacity)
        print(f"run: {capacity} moderators x {s.decisions_per_min:g} decisions/min", flush=True)
        summary = run_once(args, s, corpus, args.out / f"moderators-{capacity}" if len(capacities) > 1 else args.out)
        print(headline(summary), flush=True)
        runs.append((capacity, summary))
    if len(capacities) > 1:
        best = smallest_capacity(runs)
        sweep = {"rate_per_moderator_per_min": scenario.decisions_per_min,
                 "runs": [{"moderators": c, "keeps_sla": keeps_sla(s),
                           "sla_needing_review": s["sla_trusted_flagger"]["needing_review"],
                           "answer_minutes": s["sla_trusted_flagger"]["answer_minutes"],
                           "human_removal_min_sim": s["time_to_enforcement"]["human_removal_of_published_min_sim"]["all"],
                           "exposure_timeline": s["exposure"]["timeline"]["deliveries_before_action"]}
                          for c, s in runs],
                 "smallest_capacity_keeping_sla": best}
        (args.out / "capacity.json").write_text(json.dumps(sweep, indent=1))
        print(f"smallest capacity keeping the 1-hour trusted-flagger SLA: "
              f"{f'{best} moderators ({best * scenario.decisions_per_min:g} decisions/min)' if best else 'none tried'}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
