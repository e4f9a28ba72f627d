"""Moderation is live on open streams: held posts never arrive, removed posts and suspended authors'
posts are retracted with `delete` from every stream that showed them."""

from __future__ import annotations

from tests.helpers import LiveServer, eventually
from tests.moderation.conftest import STAFF_SCOPES, Team, cases_for
from tests.streaming_client import Stream, payload, post

UNCERTAIN = "Those people will get what they deserve."


def test_a_held_post_never_arrives(mod_server: LiveServer) -> None:
    author, reader = mod_server.user("uncertain"), mod_server.user("reader")
    with Stream(mod_server, reader, query="stream=public:local") as stream:
        held = post(author, UNCERTAIN)
        assert held["warden"]["state"] == "held"
        marker = post(author, "A calm afternoon at the lake.")
        assert payload(stream.next_event("update"))["id"] == marker["id"]


def test_a_post_removed_by_a_moderator_is_deleted_from_open_streams(mod_server: LiveServer, team: Team) -> None:
    author, reader, reporter = mod_server.user("edgy"), mod_server.user("reader"), mod_server.user("reporter")
    assert reader.post(f"/api/v1/accounts/{author.id}/follow").status_code == 200
    with Stream(mod_server, reader, query="stream=user") as home, \
            Stream(mod_server, reporter, query="stream=public:local") as public:
        posted = post(author, "An edgy joke about the referee.")
        assert payload(home.next_event("update"))["id"] == posted["id"]
        assert payload(public.next_event("update"))["id"] == posted["id"]
        reporter.post("/api/v1/reports", data={"account_id": author.id, "status_ids[]": posted["id"]})
        case = eventually(lambda: cases_for(team.senior, {posted["id"]}), what="the case")[0]
        decided = team.senior.post(f"/api/warden/v1/cases/{case['id']}/decision", json={"action": "remove"})
        assert decided.status_code == 200, decided.text
        assert home.next_event("delete") == {"stream": ["user"], "event": "delete", "payload": posted["id"]}
        assert public.next_event("delete")["payload"] == posted["id"]


def test_suspending_an_author_deletes_their_posts_from_open_streams(mod_server: LiveServer, team: Team) -> None:
    author, reader = mod_server.user("spammer"), mod_server.user("reader")
    admin = mod_server.user("admin", role="admin", scopes=STAFF_SCOPES)
    with Stream(mod_server, reader, query="stream=public:local") as stream:
        first, second = post(author, "First post."), post(author, "Second post.")
        assert [payload(stream.next_event("update"))["id"] for _ in range(2)] == [first["id"], second["id"]]
        acted = admin.post(f"/api/v1/admin/accounts/{author.id}/action", data={"type": "suspend"})
        assert acted.status_code == 200, acted.text
        deleted = {stream.next_event("delete")["payload"] for _ in range(2)}
        assert deleted == {first["id"], second["id"]}
