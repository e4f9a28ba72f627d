"""Console benchmark: render the moderation queue page with 10,000 open cases.

    python bench/bench_console.py                  # SQLite, 10,000 open cases, 300 renders per view
    python bench/bench_console.py --cases 50000 --renders 500

It seeds accounts, posts and open cases directly in a fresh SQLite database (as the moderation worker
would leave them: priorities, deadlines, sources, labels), starts a real server (uvicorn, in this
process's threads), logs in through the console's login form and requests the queue page over HTTP,
one request at a time. It prints p50/p99 latency for the first page, a filtered view (label and
source) and a deep page. The server and this client share the machine's cores: say how many when you
report figures.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warden.store.migrate import upgrade  # noqa: E402

LABELS = ["violence", "hate", "harassment", "other", None]
SOURCES = [["user"], ["detector"], ["partner", "user"], ["trusted_flagger"], ["detector", "user"]]
PASSWORD = "bench-password-123"


def seed(url: str, n_cases: int) -> None:
    from warden.platform.auth import hash_password
    from warden.store.db import Database
    from warden.store.models import Account, Status
    from warden.store.moderation_models import ModerationCase

    rng = random.Random(6)
    now = datetime.now(UTC)
    db = Database(url)
    password_hash = hash_password(PASSWORD)
    with db.write() as session:
        session.add(Account(username="benchmod", username_key="benchmod", email="benchmod@bench.test",
                            password_hash=password_hash, role="moderator"))
        authors = [Account(username=f"author{i}", username_key=f"author{i}", email=f"author{i}@bench.test",
                           password_hash=password_hash) for i in range(500)]
        session.add_all(authors)
        session.flush()
        author_ids = [a.id for a in authors]
    for start in range(0, n_cases, 5000):
        with db.write() as session:
            statuses = [Status(account_id=rng.choice(author_ids), content_html="", mention_list=[], tag_list=[],
                               text=f"Post {i}: " + " ".join(rng.choice(["the", "council", "vote", "tonight",
                                                                          "they", "deserve", "market", "news"])
                                                              for _ in range(rng.randint(8, 40))),
                               created_at=now - timedelta(minutes=rng.randint(1, 5000)))
                        for i in range(start, min(start + 5000, n_cases))]
            session.add_all(statuses)
            session.flush()
            session.add_all([ModerationCase(
                open_key=f"status:{s.id}", status_id=s.id, account_id=s.account_id, state="open",
                label=rng.choice(LABELS), priority=round(rng.uniform(0.5, 60), 4),
                due_at=now + timedelta(minutes=rng.randint(-600, 4000)), sources=rng.choice(SOURCES), evidence={},
                created_at=s.created_at, updated_at=s.created_at) for s in statuses])
    db.dispose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=300)
    args = parser.parse_args()

    import socket

    import uvicorn

    from warden.api.app import create_app
    from warden.config import Settings
    from warden.store.db import Database

    with tempfile.TemporaryDirectory(prefix="warden-bench-console-") as folder:
        url = f"sqlite:///{Path(folder) / 'warden.sqlite3'}"
        upgrade(url)
        began = time.perf_counter()
        seed(url, args.cases)
        print(f"seeded {args.cases:,} open cases in {time.perf_counter() - began:.1f}s")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False)
        db = Database(url)
        server = uvicorn.Server(uvicorn.Config(create_app(settings, db=db, worker=False), host="127.0.0.1",
                                               port=port, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        with httpx.Client(base_url=settings.base_url, timeout=60) as http:
            found = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/console/login").text)
            assert found is not None
            token = found.group(1)
            login = http.post("/console/login", data={"username": "benchmod", "password": PASSWORD,
                                                      "csrf_token": token})
            assert login.status_code == 303, login.text
            views = {"queue, first page": "/console/queue",
                     "queue, label=violence & source=partner": "/console/queue?label=violence&source=partner",
                     "queue, page 100": "/console/queue?page=100"}
            for name, path in views.items():
                first = http.get(path)
                assert first.status_code == 200 and "case-row" in first.text, first.text[:500]
                times = []
                for _ in range(args.renders):
                    start = time.perf_counter()
                    response = http.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200
                print(f"{name:42s} p50 {pct(times, 0.50):6.1f} ms   p99 {pct(times, 0.99):6.1f} ms   "
                      f"({args.renders} renders, {len(first.content) // 1024} KiB)")
        server.should_exit = True
        thread.join(timeout=10)
        db.dispose()


if __name__ == "__main__":
    main()
