"""The harness the client flows rely on: the watched server notes every answer, and a 404 or 5xx in a
flow's window fails it, named by method and path."""

from __future__ import annotations

import httpx
import pytest

from tests.clients.conftest import Window
from tests.helpers import LiveServer


def test_a_404_in_the_window_fails_it_by_method_and_path(watched: LiveServer, window: Window) -> None:
    user = watched.user("logcheck")
    headers = {"Authorization": f"Bearer {user.token}"}
    assert httpx.get(f"{watched.url}/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    assert window.assert_clean()[-1].path == "/api/v1/accounts/verify_credentials"
    assert httpx.post(f"{watched.url}/api/v1/no_such_endpoint", headers=headers).status_code == 404
    with pytest.raises(AssertionError, match="POST /api/v1/no_such_endpoint -> 404"):
        window.assert_clean()
    later = watched.extras["log"].window()
    with pytest.raises(AssertionError, match="only 0 requests"):
        later.assert_clean()
