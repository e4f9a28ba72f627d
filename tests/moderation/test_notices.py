"""The scenario: a hosting provider reports 98 posts that incite violence, and the network shows it acted."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests.helpers import LiveServer, eventually, unique_name
from tests.moderation.conftest import Team, cases_for, create_partner
from warden.transparency import rules

DSA_FIELDS = {"decision_visibility", "decision_account", "decision_ground", "category", "category_specification",
              "content_type", "content_date", "application_date", "decision_facts", "source_type",
              "automated_detection", "automated_decision"}


def test_98_partner_notices_become_98_cases_and_98_answered_decisions(mod_server: LiveServer, team: Team) -> None:
    token = create_partner(mod_server, unique_name("hostco"), trusted=True)
    authors = [mod_server.user("incite") for _ in range(7)]
    posts: list[dict] = []
    for i in range(98):
        author = authors[i % len(authors)]
        with author.http() as http:
            response = http.post("/api/v1/statuses", data={"status": f"Meet at the square at {i}:00, you know what to do."})
        assert response.status_code == 200
        posts.append(response.json())
    status_ids = {p["id"] for p in posts}

    partner = httpx.Client(base_url=mod_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    items = [{"url": p["url"], "category": "violence", "explanation": "Incitement to attack a named group."}
             for p in posts]
    # Two bad items in the middle of the batch get errors in their positions; nothing else is lost.
    items.insert(10, {"url": "https://elsewhere.example/@x/1", "category": "violence"})
    items.insert(50, {"url": posts[0]["url"]})
    response = partner.post("/api/warden/v1/notices", json={"notices": items})
    assert response.status_code == 202, response.text
    answers = response.json()["notices"]
    assert len(answers) == 100
    assert "error" in answers[10] and "error" in answers[50]
    accepted = [a for i, a in enumerate(answers) if i not in (10, 50)]
    assert all(a["status"] == "received" and a["id"] for a in accepted)
    assert len({a["id"] for a in accepted}) == 98

    # Without a partner token the endpoint refuses.
    assert httpx.post(f"{mod_server.url}/api/warden/v1/notices", json={"notices": items[:1]}).status_code == 401

    open_cases = eventually(lambda: (lambda c: c if len(c) == 98 else None)(cases_for(team.moderator, status_ids)),
                            what="98 cases", timeout=60)  # a worker on a loaded 2-core machine
    assert {c["status_ids"][0] for c in open_cases} == status_ids
    assert all(c["sources"] == ["trusted_flagger"] for c in open_cases)
    # A trusted flagger's violence notice is due within the hour (the policy's SLA).
    for case in open_cases:
        due = datetime.fromisoformat(case["due_at"])
        assert due - datetime.now(due.tzinfo) <= timedelta(hours=1)
    priorities = [c["priority"] for c in open_cases]
    assert priorities == sorted(priorities, reverse=True)
    notice = partner.get(f"/api/warden/v1/notices/{accepted[0]['id']}").json()
    assert notice["status"] == "in_review" and notice["decision"] is None

    # The moderator decides every case; each decision answers its notice.
    with team.moderator.http() as staff:
        for case in open_cases:
            decided = staff.post(f"/api/warden/v1/cases/{case['id']}/decision",
                                 json={"action": "remove", "policy": "violence",
                                       "explanation": "Calls on readers to attack people."})
            assert decided.status_code == 200, decided.text
    outcomes = [partner.get(f"/api/warden/v1/notices/{a['id']}").json() for a in accepted]
    assert [o["status"] for o in outcomes] == ["actioned"] * 98
    for outcome in outcomes:
        sor = outcome["decision"]["statement_of_reasons"]
        assert DSA_FIELDS <= set(sor)
        assert sor["source_type"] == "SOURCE_TRUSTED_FLAGGER"
        assert rules.validate(sor) == []  # the DSA Transparency Database would accept it
        assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
        assert sor["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    # The posts are gone for everyone...
    reader = mod_server.user("reader")
    assert reader.get(f"/api/v1/statuses/{posts[0]['id']}").status_code == 404
    # ...their authors got the statement of reasons, and strikes added up to suspension (3 in the policy):
    # suspended, the author still reads the decisions and, of the notifications, the moderation warnings.
    kinds = {n["type"] for n in authors[0].get("/api/v1/notifications").json()}
    assert kinds == {"moderation_warning"}
    own = authors[0].get("/api/warden/v1/decisions", params={"limit": 40}).json()
    assert any(d["action"] == "remove" and d["statement_of_reasons"] for d in own)
    account = team.moderator.get(f"/api/v1/admin/accounts/{authors[0].id}").json()
    assert account["suspended"] is True
    assert cases_for(team.moderator, status_ids) == []
    # A late notice about content already removed is answered at once with the removing decision.
    late = partner.post("/api/warden/v1/notices", json={"notices": [items[0]]}).json()["notices"][0]
    answered = eventually(lambda: (lambda n: n if n["status"] == "actioned" else None)(
        partner.get(f"/api/warden/v1/notices/{late['id']}").json()), what="the late notice's answer")
    assert answered["decision"]["id"] == outcomes[0]["decision"]["id"]
    # A partner cannot read another partner's notices.
    other = create_partner(mod_server, unique_name("other"), trusted=False)
    assert httpx.get(f"{mod_server.url}/api/warden/v1/notices/{accepted[0]['id']}",
                     headers={"Authorization": f"Bearer {other}"}).status_code == 404
