"""masto.js (npm `masto`, pinned in tests/clients/js/package-lock.json), unmodified, on Node.js: the media,
lists, filters, bookmarks, polls and conversations flows of a JavaScript web client (tests/clients/js/flows.mjs),
each asserting its results there and, here, that no request answered 404.

Node.js and the installed package are required, not optional: without them these tests fail with what
to do (`make test` runs `npm ci --prefix tests/clients/js` first when `node` is there)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import Window, png_bytes
from tests.helpers import LiveServer

JS = Path(__file__).parent / "js"
FLOWS = ["media", "lists", "filters", "bookmarks", "polls", "conversations"]


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("Node.js is not installed: the masto.js client tests need `node` (20 or newer) on PATH")
    if not (JS / "node_modules" / "masto" / "package.json").exists():
        pytest.fail(f"masto.js is not installed: run `npm ci --prefix {JS}` (`make test` does)")
    return found


@pytest.mark.parametrize("flow", FLOWS)
def test_masto_js_flow(flow: str, watched: LiveServer, window: Window, tmp_path: Path) -> None:
    executable = node()
    users = [watched.user(f"masto{flow[:4]}") for _ in range(3)]
    picture = tmp_path / "square.png"
    picture.write_bytes(png_bytes(200, 200, (30, 60, 200)))
    env = {**os.environ, "WARDEN_URL": watched.url, "WARDEN_PNG": str(picture),
           "WARDEN_USERS": json.dumps([{"id": str(u.id), "username": u.username, "token": u.token} for u in users])}
    done = subprocess.run([executable, str(JS / "flows.mjs"), flow], cwd=JS, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"masto.js flow {flow!r} failed:\n{done.stdout}{done.stderr}"
    assert f"masto.js {flow}: ok" in done.stdout
    window.assert_clean(at_least=5)
