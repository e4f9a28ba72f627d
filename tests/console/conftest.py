"""Fixtures for the moderator console: logged-in HTTP clients, cases, partners, a browser.

HTTP tests use `server` from tests/conftest.py (SQLite and PostgreSQL). Browser tests use
`console_server`: SQLite only, with the policy gate scoring posts with the moderation tests'
FakeDetector (so detector spans exist to highlight), and headless Debian Chromium via Playwright.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import PASSWORD, LiveServer, User, eventually
from tests.moderation.conftest import FakeDetector
from warden.cases.notices import create_partner
from warden.config import Settings
from warden.store.moderation_models import ModerationCase

# Console sessions are signed with WARDEN_SECRET_KEY, else a key generated into the data dir; on
# PostgreSQL that is ./data, which a test run should not write to.
os.environ.setdefault("WARDEN_SECRET_KEY", "console-tests-" + secrets.token_hex(16))

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@contextmanager
def console_client(server: LiveServer, username: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """An httpx client logged in to the console through the login form."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/console/login")
        response = client.post("/console/login", data={"username": username, "password": password,
                                                       "csrf_token": csrf_of(page.text)})
        assert response.status_code == 303, response.text
        yield client




def reported_case(server: LiveServer, author: User, text: str, *, comment: str = "please look",
                  reporter: User | None = None) -> tuple[int, int]:
    """Post `text` as `author`, report it, wait for the worker's case: (status id, case id)."""
    posted = author.post("/api/v1/statuses", data={"status": text})
    assert posted.status_code == 200, posted.text
    status_id = int(posted.json()["id"])
    reporter = reporter or server.user("reporter")
    report = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": str(status_id),
                                                    "comment": comment, "category": "other"})
    assert report.status_code == 200, report.text
    return status_id, case_for(server, status_id)


def case_for(server: LiveServer, status_id: int) -> int:
    from sqlalchemy import select

    def find() -> int | None:
        with server.db.read() as session:
            return session.scalar(select(ModerationCase.id).where(ModerationCase.status_id == status_id)
                                  .order_by(ModerationCase.id.desc()))

    return eventually(find, what=f"a case about status {status_id}")


def partner(server: LiveServer, name: str, *, trusted: bool = False) -> str:
    """A new partner; its token (the console password)."""
    with server.db.write() as session:
        return create_partner(session, name, trusted=trusted)[1]


def send_notices(server: LiveServer, token: str, items: list[dict[str, Any]], *,
                 concealed: bool = False) -> list[str]:
    """Send notices; their ids (none when `concealed`: about posts the partner may not see)."""
    response = httpx.post(f"{server.url}/api/warden/v1/notices", json={"notices": items},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 202, response.text
    if concealed:
        assert all("id" not in n for n in response.json()["notices"]), response.text
        return []
    ids = [n.get("id") for n in response.json()["notices"]]
    assert all(ids), response.text
    return ids  # type: ignore[return-value]


def status_url(server: LiveServer, user: User, status_id: int) -> str:
    return f"{server.url}/@{user.username}/{status_id}"


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def console_server(tmp_data_dir: Path) -> Iterator[LiveServer]:
    """SQLite, the policy gate with the fake detector (spans to highlight), the moderation worker."""
    url, drop = make_database("sqlite", tmp_data_dir)
    port = _free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=True)
    srv, thread, db = start_server(settings, detector=FakeDetector())
    live = LiveServer(url=settings.base_url, settings=settings, db=db, backend="sqlite")
    yield live
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install -e '.[dev]')")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Dialogs:
    """Records every alert/confirm/prompt a page opens (an injected script would open one)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, dialog: Any) -> None:
        self.seen.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., tuple[Any, Dialogs]]]:
    contexts: list[Any] = []

    def make(**options: Any) -> tuple[Any, Dialogs]:
        context = browser.new_context(viewport={"width": 1360, "height": 900}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        dialogs = Dialogs()
        page.on("dialog", dialogs)
        return page, dialogs

    yield make
    for context in contexts:
        context.close()


def browser_login(page: Any, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/console/queue")
    assert "/console/login" in page.url  # anonymous: sent to the login page
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/console/login'] button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert "/console/login" not in page.url, page.content()[:2000]


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=False)
    return path
