"""What the notification policy and grouped notifications cost (issue 33, client API group 3).

In-process on SQLite, no HTTP: CPU milliseconds per `notify()` (a favourite from an account the reader
does not follow, in its own write transaction, as the favourite endpoint does it) under Mastodon's default
policy and under a policy that filters strangers, with no policy check at all as the baseline; and per page
of the reader's notifications, v1 (40 notifications) against v2 (40 groups), with N notifications stored.

    python bench/bench_notifications.py                 # 600 notifies per setting, 3,000 stored notifications
    python bench/bench_notifications.py --notifies 2000 --stored 10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from unittest import mock

from sqlalchemy import select

from warden.platform import accounts, notification_groups, notification_requests, notifications
from warden.platform.auth import hash_password
from warden.store.db import Database
from warden.store.migrate import upgrade
from warden.store.models import Status


def cpu_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    for i in range(repeat):
        fn(i)
    return (time.process_time() - start) * 1000 / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifies", type=int, default=600)
    parser.add_argument("--stored", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(url)
        db = Database(url)
        password = hash_password("bench-password-1")
        with db.write() as session:
            reader = accounts.register(session, username="reader", email="r@x.test", password="bench-password-1",
                                       password_hash=password)
            senders = [accounts.register(session, username=f"s{i}", email=f"s{i}@x.test", password="bench-password-1",
                                         password_hash=password).id for i in range(200)]
            posts = []
            for i in range(50):
                status = Status(account_id=reader.id, text=f"post {i}", content_html=f"<p>post {i}</p>",
                                visibility="public", state="published")
                session.add(status)
                session.flush()
                posts.append(status.id)
            reader_id = reader.id

        def notify(i: int) -> None:
            with db.write() as session:
                notifications.notify(session, account_id=reader_id, from_account_id=senders[i % len(senders)],
                                     type="favourite", status_id=posts[i % len(posts)])

        results = {}
        with mock.patch.object(notification_requests, "decide", lambda *a, **k: "accept"):
            results["no policy check (baseline)"] = cpu_ms(notify, args.notifies)
        results["default policy (accept strangers)"] = cpu_ms(notify, args.notifies)
        with db.write() as session:
            notification_requests.update_policy(session, reader_id, {"for_not_following": "filter"})
        results["filter strangers"] = cpu_ms(notify, args.notifies)
        with db.write() as session:
            notification_requests.update_policy(session, reader_id, {"for_not_following": "accept"})
        for name, value in results.items():
            print(f"notify, {name}: {value:.3f} ms CPU")

        stored = 3 * args.notifies
        while stored < args.stored:
            notify(stored)
            stored += 1
        with db.read() as session:
            count = len(list(session.scalars(select(notifications.Notification.id).where(
                notifications.Notification.account_id == reader_id))))

        def v1(_: int) -> None:
            with db.read() as session:
                notifications.page(session, reader_id, types=None, exclude_types=None, from_account_id=None,
                                   max_id=None, since_id=None, min_id=None, limit=40)

        def v2(_: int) -> None:
            with db.read() as session:
                notification_groups.page(session, reader_id, notification_groups.Filters(), max_id=None,
                                         since_id=None, min_id=None, limit=40)

        print(f"stored notifications: {count} (favourites from {len(senders)} accounts on {len(posts)} posts)")
        print(f"page v1 (40 notifications): {cpu_ms(v1, 50):.2f} ms CPU")
        print(f"page v2 (40 groups): {cpu_ms(v2, 50):.2f} ms CPU")
        db.dispose()


if __name__ == "__main__":
    main()
