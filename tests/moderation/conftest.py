"""Fixtures for the moderation engine: a live server per backend with the policy gate in the write path.

`mod_server` is `server` from tests/conftest.py with detection on: the gate is Warden's policy gate
(the packaged default policy) scoring posts with `FakeDetector`, a small stand-in with the real
detector's interface (`score(text) -> Detection`, `.thresholds`), so these tests do not depend on
model files. tests/moderation/test_real_detector.py covers the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer, User
from warden.config import Settings

T = TypeVar("T")
STAFF_SCOPES = "read write follow push admin:read admin:write"


@dataclass(frozen=True)
class FakeSpan:
    start: int
    end: int
    label: str
    weight: float


@dataclass(frozen=True)
class FakeDetection:
    scores: dict[str, float]
    spans: list[FakeSpan] = field(default_factory=list)
    model: str = "fake-detector-1"
    stage: str = "linear"


class FakeDetector:
    """Scores by marker phrases: plain calls to violence score 0.97, veiled threats 0.6, the rest ~0."""

    thresholds = {"violence": {"auto": 0.9, "review": 0.5}, "hate": {"auto": 0.9, "review": 0.5},
                  "harassment": {"auto": 0.9, "review": 0.5}}
    MARKERS = {
        "kill every one of them": ("violence", 0.97),
        "bring weapons": ("violence", 0.95),
        "get what they deserve": ("violence", 0.62),
        "you worthless scum": ("harassment", 0.95),
        "watch your back": ("violence", 0.15),
    }

    def __init__(self) -> None:
        self.calls = 0

    def score(self, text: str) -> FakeDetection:
        self.calls += 1
        scores = {"violence": 0.01, "hate": 0.01, "harassment": 0.01}
        spans = []
        lowered = text.lower()
        for marker, (label, value) in self.MARKERS.items():
            at = lowered.find(marker)
            if at >= 0 and value > scores[label]:
                scores[label] = value
                spans.append(FakeSpan(at, at + len(marker), label, 1.0))
        return FakeDetection(scores=scores, spans=spans)

    def score_batch(self, texts: list[str]) -> list[FakeDetection]:
        return [self.score(t) for t in texts]


@pytest.fixture(scope="session")
def fake_detector() -> FakeDetector:
    return FakeDetector()


@pytest.fixture(scope="session")
def mod_server(backend: str, tmp_data_dir: Path, fake_detector: FakeDetector) -> Iterator[LiveServer]:
    """A live server on this backend with the policy gate (default policy, fake detector) and the worker.
    Its copy check is off: the tests sharing it post templated texts ("Post number 1 to be reported.")
    that are copies of each other, and one test's removal would hold another's post (test_near_duplicates.py
    has a server of its own with the check on)."""
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=True,
                        copies_enabled=False)
    srv, thread, db = start_server(settings, detector=fake_detector)
    live = LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend,
                      extras={"detector": fake_detector})
    yield live
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


@dataclass
class Team:
    moderator: User
    senior: User
    senior2: User


@pytest.fixture(scope="session")
def team(mod_server: LiveServer) -> Team:
    return Team(moderator=mod_server.user("mod", role="moderator", scopes=STAFF_SCOPES),
                senior=mod_server.user("senior", role="senior", scopes=STAFF_SCOPES),
                senior2=mod_server.user("senior", role="senior", scopes=STAFF_SCOPES))




def cases_for(staff: User, status_ids: set[str], *, state: str = "open") -> list[dict[str, Any]]:
    response = staff.get("/api/warden/v1/cases", params={"status": state, "limit": 500})
    assert response.status_code == 200, response.text
    return [c for c in response.json() if set(c["status_ids"]) & status_ids]


def run_cli(server: LiveServer, *args: str) -> Any:
    """Run a `warden` command against the test server's database (click's CliRunner)."""
    from click.testing import CliRunner

    from warden.cli import cli

    return CliRunner().invoke(cli, list(args), env={"WARDEN_DATABASE_URL": server.settings.database_url},
                              catch_exceptions=False)


def create_partner(server: LiveServer, name: str, *, trusted: bool) -> str:
    result = run_cli(server, "create-partner", name, *(["--trusted"] if trusted else []))
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]
