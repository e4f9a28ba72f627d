"""Bulk decision benchmark: decide the 500 cases of a raid with one API call.

    python bench/bench_bulk.py                          # SQLite, 500 cases from 50 accounts
    python bench/bench_bulk.py --cases 1000 --authors 200
    python bench/bench_bulk.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_bulk
                                                        # an EMPTY PostgreSQL database (migrated here)

It seeds a raid in a fresh database as the moderation worker leaves one (the same text posted by
`--authors` accounts, each post reported, each report an open case opened by `cases.open_or_join`),
starts a real server (uvicorn, in this process's threads), and sends `POST /api/warden/v1/cases/bulk-decision`
twice: once with the case ids (action remove: a decision, a statement of reasons, a notification, a
strike per case, and the suspensions the strikes bring), once for a second raid with a text filter
instead of ids. It prints the wall time of each call as the client saw it, and the CPU time this
process (the server: the client only waits) spent meanwhile, which a busy machine inflates far less
than the wall time. The bar (issue 30): under 10 s for 500 cases. The server and this client share
the machine's cores: say how many, and how busy they were, when you report.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warden.store.migrate import upgrade  # noqa: E402


def people(url: str, n_authors: int) -> tuple[str, list[int], list[int]]:
    """A moderator's token, the raid's authors and its reporters."""
    from warden.platform import accounts, auth
    from warden.platform.auth import hash_password
    from warden.store.db import Database

    db = Database(url)
    password_hash = hash_password("bench-password-123")
    with db.write() as session:
        moderator = accounts.register(session, username="benchmod", email="benchmod@bench.test",
                                      password="bench-password-123", role="moderator", allow_reserved=True,
                                      password_hash=password_hash)
        token = auth.issue_token(session, app_id=None, account_id=moderator.id,
                                 scopes="read write admin:read admin:write").access_token
        made = [accounts.register(session, username=f"{kind}{i}", email=f"{kind}{i}@bench.test",
                                  password="bench-password-123", allow_reserved=True, password_hash=password_hash).id
                for kind, count in (("raider", n_authors), ("reporter", 20)) for i in range(count)]
    db.dispose()
    return token, made[:n_authors], made[n_authors:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--authors", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args()

    import uvicorn

    from tests.console.seed import seed_raid
    from warden.api.app import create_app
    from warden.config import Settings
    from warden.store.db import Database

    with tempfile.TemporaryDirectory(prefix="warden-bench-bulk-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'warden.sqlite3'}"
        upgrade(url)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False)
        token, authors, reporters = people(url, args.authors)
        db = Database(url)
        began = time.perf_counter()
        first = seed_raid(db, settings, authors=authors, reporters=reporters, n=args.cases,
                          text="everyone flood this thread, they are vermin")
        seed_raid(db, settings, authors=authors, reporters=reporters, n=args.cases,
                  text="second wave: bury their replies")
        print(f"seeded 2 raids of {args.cases} open cases ({args.authors} authors) in "
              f"{time.perf_counter() - began:.1f}s on {db.dialect}")
        server = uvicorn.Server(uvicorn.Config(create_app(settings, db=db, worker=False), host="127.0.0.1",
                                               port=port, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        calls = {
            f"{args.cases} case ids, remove": {"case_ids": [str(i) for i in first], "action": "remove",
                                               "policy": "harassment", "explanation": "Part of a coordinated raid."},
            "filter text='second wave', remove": {"filter": {"text": "second wave"}, "action": "remove",
                                                   "explanation": "Part of a coordinated raid."},
        }
        with httpx.Client(base_url=settings.base_url, timeout=600,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            for name, body in calls.items():
                start, cpu = time.perf_counter(), time.process_time()
                response = http.post("/api/warden/v1/cases/bulk-decision", json=body)
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
                assert response.status_code == 200, response.text[:500]
                result = response.json()
                assert result["decided"] == args.cases, {k: v for k, v in result.items() if k != "results"}
                print(f"{name:40s} {elapsed:6.2f} s wall, {cpu:5.2f} s CPU   ({result['decided']} decided, "
                      f"{result['failed']} failed, {1000 * elapsed / args.cases:.1f} ms a case)")
        server.should_exit = True
        thread.join(timeout=10)
        db.dispose()


if __name__ == "__main__":
    main()
