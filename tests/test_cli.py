"""The `warden` CLI: accounts, tokens, demo content and its error messages."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from tests.helpers import LiveServer, unique_name
from warden.cli import cli


def run(server: LiveServer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"WARDEN_DATABASE_URL": server.settings.database_url},
                                catch_exceptions=False)
    return result.exit_code, result.output


def test_create_user_and_token_work_against_the_api(server: LiveServer) -> None:
    name = unique_name("cli")
    code, out = run(server, "create-user", name, "--email", f"{name}@example.test", "--password", "long-password-1",
                    "--role", "moderator")
    assert code == 0, out
    assert f"created moderator @{name}" in out
    code, out = run(server, "create-token", name, "--scopes", "read write")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    me = httpx.get(f"{server.url}/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == name
    # The token has exactly the scopes asked for: no admin access.
    assert me.json()["role"]["name"] == "moderator"
    assert "admin:read" not in out


def test_cli_errors_are_one_line_and_non_zero(server: LiveServer) -> None:
    taken = server.user()
    code, out = run(server, "create-user", taken.username, "--email", "other@example.test", "--password",
                    "long-password-1")
    assert code != 0 and "Error: Validation failed: Username is already taken" in out
    code, out = run(server, "create-user", unique_name(), "--email", "x@example.test", "--password", "short")
    assert code != 0 and "too short" in out
    code, out = run(server, "create-token", "nobody_by_that_name")
    assert code != 0 and "no account named" in out
    code, out = run(server, "create-token", taken.username, "--scopes", "read everything")
    assert code != 0 and "everything" in out
    assert len(out.strip().splitlines()) == 1


def test_bad_database_url_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["migrate"], env={"WARDEN_DATABASE_URL": "nosuchdb://nowhere"})
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1


# `warden demo` (a second run adds nothing, what it seeds, what it prints): tests/test_demo.py, on a database
# of its own, since its 30 days of history would flood the shared one.
