"""A new post is written in two phases: its reads (the gate's assessment among them) in a read session,
then its writes in the write transaction, so the SQLite write lock is held for the writes alone.

These tests check the split itself (which session each part of the gate ran in), that a post still
carries the gate's verdict, and that what changed between the two phases is caught in the second:
an account suspended meanwhile, an attachment another post took meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.conftest import server_with_gate
from tests.helpers import LiveServer
from warden.errors import Forbidden
from warden.platform import statuses
from warden.policy.gate import Draft, Verdict
from warden.store.models import Account, Status, utcnow


class SplitGate:
    """A gate that splits its work as the policy gate does, and notes where each half ran."""

    def __init__(self) -> None:
        self.db: Any = None
        self.seen: list[tuple[str, int, bool]] = []  # (half, session id, write lock held by anyone)
        self.lock = threading.Lock()

    def _locked(self) -> bool:
        lock = self.db._write_lock  # SQLite only; None on PostgreSQL
        return bool(lock is not None and lock.locked())

    def prescore(self, text: str, spoiler_text: str = "") -> None:
        return None

    def assess(self, session: Session, draft: Draft) -> str:
        with self.lock:
            self.seen.append(("assess", id(session), self._locked()))
        return "label" if "#spoiler" in draft.text else "allow"

    def record(self, session: Session, draft: Draft, assessed: str) -> Verdict:
        with self.lock:
            self.seen.append(("record", id(session), self._locked()))
        return Verdict(action="label", label="assessed ahead") if assessed == "label" else Verdict()

    def moderate(self, session: Session, draft: Draft) -> Verdict:
        return self.record(session, draft, self.assess(session, draft))


@pytest.fixture(scope="module")
def split(database_url: str, backend: str) -> Iterator[tuple[LiveServer, SplitGate]]:
    gate = SplitGate()
    with server_with_gate(database_url, backend, gate) as live:
        gate.db = live.db
        yield live, gate


def test_the_gate_assesses_outside_the_write_transaction_and_records_inside_it(
        split: tuple[LiveServer, SplitGate]) -> None:
    server, gate = split
    user = server.user("phases")
    gate.seen.clear()
    posted = user.post("/api/v1/statuses", json={"status": "a post with a #spoiler"})
    assert posted.status_code == 200, posted.text
    assert posted.json()["spoiler_text"] == "assessed ahead"  # the verdict assessed ahead is the one applied
    halves = [half for half, _, _ in gate.seen]
    assert halves == ["assess", "record"], gate.seen
    (_, assess_session, assess_locked), (_, record_session, record_locked) = gate.seen
    if server.backend == "sqlite":  # writers queue on one lock: the reads are done before it is taken
        assert assess_session != record_session
        assert not assess_locked and record_locked
    else:  # PostgreSQL: one transaction (a second session cost more than it saved)
        assert assess_session == record_session


def test_an_edit_still_passes_the_whole_gate(split: tuple[LiveServer, SplitGate]) -> None:
    server, gate = split
    user = server.user("phases")
    posted = user.post("/api/v1/statuses", json={"status": "plain"}).json()
    gate.seen.clear()
    edited = user.request("PUT", f"/api/v1/statuses/{posted['id']}", json={"status": "now with a #spoiler"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["spoiler_text"] == "assessed ahead"
    assert [half for half, _, _ in gate.seen] == ["assess", "record"]


def test_an_account_suspended_between_the_phases_posts_nothing(split: tuple[LiveServer, SplitGate]) -> None:
    server, gate = split
    user = server.user("phases")
    with server.db.read() as session:
        author = session.get(Account, user.id)
        assert author is not None
        prepared = statuses.prepare(session, server.settings, author, text="written before the suspension",
                                    gate=gate)
    with server.db.write() as session:
        session.execute(update(Account).where(Account.id == user.id).values(suspended_at=utcnow()))
    with pytest.raises(Forbidden):
        with server.db.write() as session:
            statuses.create(session, server.settings, author, text="written before the suspension", gate=gate,
                            prepared=prepared)
    with server.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Status).where(Status.account_id == user.id)) == 0
