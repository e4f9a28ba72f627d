"""Issue 30's bar: in the 98-notice scenario, every reporter and every author acted on receives the outcome
in a stock client's notifications or direct messages, read here with the unmodified Mastodon.py library."""

from __future__ import annotations

import re

import httpx

from tests.helpers import LiveServer, eventually, unique_name
from tests.moderation.conftest import Team, cases_for, create_partner

MASTODON_ACTIONS = {"none", "disable", "mark_statuses_as_sensitive", "delete_statuses", "sensitive", "silence",
                    "suspend"}


def test_98_notice_scenario_every_reporter_and_author_is_told_in_a_stock_client(mod_server: LiveServer,
                                                                               team: Team) -> None:
    authors = [mod_server.user("incite") for _ in range(7)]
    posts = []
    for i in range(98):
        api = mod_server.mastodon(authors[i % 7])
        posts.append(api.status_post(f"Meet at the square at {i}:00, you know what to do."))
    by_id = {str(p["id"]): p for p in posts}

    # Five users report 25 of the posts from their apps; a trusted flagger sends notices for all 98.
    reporters = [mod_server.user("witness") for _ in range(5)]
    reported: dict[str, list[str]] = {}  # report id -> [status id]
    reports_of: dict[int, list[str]] = {r.id: [] for r in reporters}
    for n, post in enumerate(posts[:25]):
        reporter = reporters[n % 5]
        report = mod_server.mastodon(reporter).report(post["account"]["id"], status_ids=[post["id"]],
                                                      comment="This calls for violence.", category="other")
        reported[str(report["id"])] = [str(post["id"])]
        reports_of[reporter.id].append(str(report["id"]))
    token = create_partner(mod_server, unique_name("hostco"), trusted=True)
    with httpx.Client(base_url=mod_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as partner:
        sent = partner.post("/api/warden/v1/notices", json={"notices": [
            {"url": p["url"], "category": "violence", "explanation": "Incitement."} for p in posts]})
        assert sent.status_code == 202, sent.text

    def all_cases() -> list[dict] | None:
        found = cases_for(team.moderator, set(by_id))
        with_reports = [c for c in found if "user" in c["sources"]]
        return found if len(found) == 98 and len(with_reports) == 25 else None

    cases = eventually(all_cases, what="98 cases, 25 of them with a user report", timeout=90)
    # Moderators remove 90 posts; 8 (3 of them reported) are found to break no rule.
    spared = {str(p["id"]) for p in posts[22:30]}
    with team.moderator.http() as staff:
        for case in cases:
            status_id = case["status_ids"][0]
            body = {"action": "no_violation"} if status_id in spared else \
                {"action": "remove", "policy": "violence", "explanation": "Calls on readers to attack people."}
            assert staff.post(f"/api/warden/v1/cases/{case['id']}/decision", json=body).status_code == 200

    # Every author acted on reads a moderation warning for each removed post in their app's notifications
    # (strikes suspended them on the way: the app still lists the warnings), with the appeal page in its text.
    for author in authors:
        removed = {sid for sid, p in by_id.items() if str(p["account"]["id"]) == str(author.id) and sid not in spared}
        api = mod_server.mastodon(author)
        warnings = [n for n in api.notifications(types=["moderation_warning"], limit=80)]
        told = {str(sid) for n in warnings for sid in n["moderation_warning"]["status_ids"]}
        assert removed <= told, (author.username, removed - told)
        for note in warnings:
            warning = note["moderation_warning"]
            assert warning["action"] in MASTODON_ACTIONS
            assert str(warning["target_account"]["id"]) == str(author.id)
            assert re.search(r"/appeal/\S+$", warning["text"]), warning["text"]
        assert any(n["moderation_warning"]["action"] == "suspend" for n in warnings)

    # Every reporter reads one direct message from the moderation account per report, with its outcome.
    for reporter in reporters:
        api = mod_server.mastodon(reporter)
        messages = [n["status"] for n in api.notifications(types=["mention"], limit=80)
                    if n["account"]["acct"] == "moderation"]
        assert len(messages) == len(reports_of[reporter.id]), reporter.username
        for message in messages:
            assert message["visibility"] == "direct"
            report_id = re.search(r"report #(\d+)", message["content"]).group(1)  # type: ignore[union-attr]
            assert report_id in reports_of[reporter.id]
            status_id = reported[report_id][0]
            expected = "found no violation" if status_id in spared else "The post was removed"
            assert expected in message["content"], message["content"]
            assert api.status(message["id"])["id"] == message["id"]  # the message itself opens in the app
