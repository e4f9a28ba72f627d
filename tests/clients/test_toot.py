"""toot (the command-line client, pinned in the dev extra), unmodified: logged in with its own
`login_cli` (app registration and the password grant) into a config of its own, then driving the flows
its commands support: a post with media, lists and the list timeline, bookmarks, polls, a direct
message and the conversations its API reads. Each asserts its results and that nothing answered 404.
toot has no filter commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import Window, png_bytes
from tests.helpers import PASSWORD, LiveServer, User


class Toot:
    """The `toot` command for one account, with its own config folder (XDG_CONFIG_HOME)."""

    def __init__(self, server: LiveServer, user: User, home: Path) -> None:
        self.user = user
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
        self.env.pop("TOOT_TESTING", None)
        self("login_cli", "--instance", server.url, "--email", user.email, "--password", PASSWORD)

    def __call__(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "toot", *args], env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"toot {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def config(self) -> dict[str, Any]:
        return json.loads((Path(self.env["XDG_CONFIG_HOME"]) / "toot" / "config.json").read_text())


@pytest.fixture
def toot_for(watched: LiveServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(user: User) -> Toot:
        return Toot(watched, user, tmp_path / f"config-{user.username}")
    return make


def test_login_and_post_with_media(watched: LiveServer, window: Window, toot_for, tmp_path: Path) -> None:
    alice, bob = watched.user("tootmedia"), watched.user("tootmedia")
    toot = toot_for(alice)
    config = toot.config()
    assert config["active_user"] == f"{alice.username}@{config['users'][config['active_user']]['instance']}"
    assert toot("whoami").find(alice.username) >= 0

    picture = tmp_path / "photo.png"
    picture.write_bytes(png_bytes(240, 160))
    posted = toot.json("post", "A photo from toot #tootflow", "--media", str(picture),
                       "--description", "A pink photo")
    assert posted["media_attachments"][0]["type"] == "image"
    assert posted["media_attachments"][0]["description"] == "A pink photo"
    shown = toot.json("status", posted["id"])
    assert shown["media_attachments"][0]["id"] == posted["media_attachments"][0]["id"]
    uploaded = toot.json("upload", str(picture), "--description", "uploaded alone")
    assert uploaded["type"] == "image" and uploaded["description"] == "uploaded alone"

    bob_toot = toot_for(bob)
    bob_toot("follow", alice.username)
    home = bob_toot.json("timelines", "home", "--no-pager")
    assert posted["id"] in [s["id"] for s in home]
    tagged = bob_toot.json("timelines", "tag", "tootflow", "--no-pager")
    assert [s["id"] for s in tagged] == [posted["id"]]
    window.assert_clean()


def test_lists(watched: LiveServer, window: Window, toot_for) -> None:
    alice, bob = watched.user("tootlist"), watched.user("tootlist")
    toot, bob_toot = toot_for(alice), toot_for(bob)
    toot("follow", bob.username)
    toot("lists", "create", "Neighbours")
    assert [entry["title"] for entry in toot.json("lists", "list")] == ["Neighbours"]
    toot("lists", "add", "Neighbours", bob.username)
    assert bob.username in toot("lists", "accounts", "Neighbours")

    said = bob_toot.json("post", "Bins go out tonight")
    timeline = toot.json("timelines", "list", "Neighbours", "--no-pager")
    assert [s["id"] for s in timeline] == [said["id"]]
    toot("lists", "remove", "Neighbours", bob.username)
    assert toot.json("timelines", "list", "Neighbours", "--no-pager") == []
    toot("lists", "delete", "Neighbours")
    assert toot.json("lists", "list") == []
    window.assert_clean()


def test_bookmarks(watched: LiveServer, window: Window, toot_for) -> None:
    alice, bob = watched.user("tootbook"), watched.user("tootbook")
    toot, bob_toot = toot_for(alice), toot_for(bob)
    said = bob_toot.json("post", "A recipe worth keeping")
    assert toot.json("bookmark", said["id"])["bookmarked"] is True
    assert "A recipe worth keeping" in toot("bookmarks", "--once")
    assert toot.json("status", said["id"])["bookmarked"] is True
    assert toot.json("unbookmark", said["id"])["bookmarked"] is False
    assert "A recipe worth keeping" not in toot("bookmarks", "--once")
    window.assert_clean()


def test_polls(watched: LiveServer, window: Window, toot_for) -> None:
    alice, bob = watched.user("tootpoll"), watched.user("tootpoll")
    toot, bob_toot = toot_for(alice), toot_for(bob)
    posted = toot.json("post", "Which day for the market?", "--poll-option", "Saturday", "--poll-option",
                       "Sunday", "--poll-expires-in", "1d")
    poll_id = posted["poll"]["id"]
    assert [o["title"] for o in posted["poll"]["options"]] == ["Saturday", "Sunday"]
    voted = bob_toot.json("polls", "vote", poll_id, "1")
    assert voted["voted"] is True and voted["own_votes"] == [1]
    shown = toot.json("polls", "show", poll_id)
    assert [o["votes_count"] for o in shown["options"]] == [0, 1] and shown["votes_count"] == 1
    window.assert_clean()


def test_direct_message_and_conversations(watched: LiveServer, window: Window, toot_for) -> None:
    from toot import App, User as TootUser, api

    alice, bob = watched.user("tootdm"), watched.user("tootdm")
    toot, bob_toot = toot_for(alice), toot_for(bob)
    dm = bob_toot.json("post", f"@{alice.username} see you at nine", "--visibility", "direct")
    assert dm["visibility"] == "direct"
    assert dm["id"] not in [s["id"] for s in toot.json("timelines", "public", "--no-pager")]

    # toot's conversations timeline (its TUI's), through its API with the app and account toot saved
    config = toot.config()
    saved = config["users"][config["active_user"]]
    app = App(**config["apps"][saved["instance"]])
    user = TootUser(**saved)
    pages = api.conversation_timeline_generator(app, user, limit=20)
    statuses = next(pages)
    assert [s["id"] for s in statuses] == [dm["id"]]
    window.assert_clean()
