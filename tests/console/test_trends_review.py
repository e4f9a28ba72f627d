"""The console's trends review page (issue 33): staff see what trends, with user text escaped, and a
rejection there stops a hashtag or a post from trending for everyone."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.console.conftest import console_client, csrf_of
from tests.helpers import LiveServer


def test_staff_reject_a_trending_tag_and_post_from_the_console(server: LiveServer) -> None:
    tag = f"console{datetime.now(UTC).strftime('%H%M%S%f')}"
    people = [server.user("trend") for _ in range(2)]
    posted = people[0].post("/api/v1/statuses", data={"status": f"<script>alert(1)</script> #{tag}"}).json()
    people[1].post("/api/v1/statuses", data={"status": f"me too #{tag}"})
    people[1].post(f"/api/v1/statuses/{posted['id']}/favourite")
    mod = server.user("mod", role="moderator", scopes="read write follow push admin:read admin:write")
    with console_client(server, mod.username) as console:
        page = console.get("/console/trends")
        assert page.status_code == 200
        assert f"#{tag}" in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<script>alert(1)" not in page.text
        tag_id = next(t["id"] for t in mod.get("/api/v1/admin/trends/tags", params={"limit": 40}).json()
                      if t["name"] == tag)
        for kind, target in (("tag", tag_id), ("status", posted["id"])):
            done = console.post("/console/trends/review", headers={"origin": server.url},
                                data={"csrf_token": csrf_of(page.text), "kind": kind, "target_id": target,
                                      "verdict": "rejected"})
            assert done.status_code == 303
        assert "rejected" in console.get("/console/trends").text
    assert tag not in [t["name"] for t in people[0].get("/api/v1/trends/tags", params={"limit": 20}).json()]
    assert posted["id"] not in [s["id"] for s in people[0].get("/api/v1/trends/statuses").json()]
