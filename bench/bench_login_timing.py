"""Login time for a wrong password against an unknown account (issue 29 item 3: 112 ms vs 2 ms before).

An unknown account verifies a dummy Argon2 hash (warden/platform/auth.py), so both cost the same work
and the time does not tell which accounts exist. This calls `authenticate` in-process on a fresh SQLite
database (no HTTP, no rate limits) and prints the median of N of each, interleaved so load affects both.

    .venv/bin/python bench/bench_login_timing.py [--n 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from warden.errors import Unauthorized
from warden.platform import accounts, auth
from warden.store.db import Database
from warden.store.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="logins of each kind (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warden-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(url)
        db = Database(url)
        with db.write() as session:
            accounts.register(session, username="known", email="known@example.test", password="right-password-1",
                              agreement=True)
        timings: dict[str, list[float]] = {"wrong password": [], "unknown account": []}
        for n in range(args.n + 1):
            for kind, login in (("wrong password", "known"), ("unknown account", f"ghost{n}")):
                started = time.perf_counter()
                try:
                    with db.write() as session:
                        auth.authenticate(session, login, "a-wrong-guess")
                except Unauthorized:
                    pass
                if n:  # the first round warms up (the dummy hash is made once)
                    timings[kind].append((time.perf_counter() - started) * 1000)
        db.dispose()
    wrong, unknown = (statistics.median(timings[k]) for k in timings)
    print(f"wrong password:  median {wrong:.1f} ms over {args.n}")
    print(f"unknown account: median {unknown:.1f} ms over {args.n}")
    print(f"ratio: {max(wrong, unknown) / min(wrong, unknown):.2f}x")


if __name__ == "__main__":
    main()
