"""Issue 29 item 9: a notice's answer reveals nothing about posts the partner cannot see, and a
suspended author without a token appeals through the signed link sent with the decision."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from tests.helpers import LiveServer, User, eventually, unique_name
from tests.moderation.conftest import Team, cases_for, create_partner
from warden.store.models import Notification, Status, utcnow
from warden.store.moderation_models import ModerationDecision, Notice


def _notice(server: LiveServer, token: str, url: str) -> tuple[int, dict[str, object]]:
    response = httpx.post(f"{server.url}/api/warden/v1/notices", timeout=30,
                          headers={"Authorization": f"Bearer {token}"},
                          json={"notices": [{"url": url, "category": "hate", "explanation": "see this"}]})
    return response.status_code, response.json()


def test_a_notice_about_a_post_the_partner_cannot_see_is_answered_as_one_about_no_post(
        mod_server: LiveServer, team: Team) -> None:
    token = create_partner(mod_server, unique_name("partner"), trusted=False)
    author = mod_server.user("author")

    def post(visibility: str) -> str:
        made = author.post("/api/v1/statuses", data={"status": f"A {visibility} post.", "visibility": visibility})
        assert made.status_code == 200, made.text
        return str(made.json()["id"])

    public, private, direct, held = post("public"), post("private"), post("direct"), post("public")
    with mod_server.db.write() as session:
        session.execute(update(Status).where(Status.id == int(held)).values(state="held"))
    url = f"{mod_server.url}/@{author.username}/"
    nonexistent = _notice(mod_server, token, url + str(int(public) + 10_000_000))
    assert nonexistent[0] == 202 and "error" in nonexistent[1]["notices"][0]  # type: ignore[index]
    for hidden in (private, direct, held):
        assert _notice(mod_server, token, url + hidden) == nonexistent, hidden
    seen = _notice(mod_server, token, url + public)
    assert seen[0] == 202 and "id" in seen[1]["notices"][0]  # type: ignore[index]

    # The hidden ones are still recorded for moderators, and reach them as cases ...
    with mod_server.db.read() as session:
        recorded = {str(n.status_id): n for n in session.scalars(select(Notice).where(
            Notice.status_id.in_([int(private), int(direct), int(held)])))}
    assert set(recorded) == {private, direct, held} and all(n.concealed for n in recorded.values())
    eventually(lambda: cases_for(team.moderator, {private}), what="a case for the notice on the private post")
    # ... but the partner cannot find them: the same 404 as another partner's notice.
    headers = {"Authorization": f"Bearer {token}"}
    concealed_id = recorded[private].id
    mine = httpx.get(f"{mod_server.url}/api/warden/v1/notices/{concealed_id}", headers=headers, timeout=30)
    unknown = httpx.get(f"{mod_server.url}/api/warden/v1/notices/{concealed_id + 10_000_000}", headers=headers,
                        timeout=30)
    assert (mine.status_code, mine.json()) == (unknown.status_code, unknown.json()) == (404, unknown.json())


def _suspend(team: Team, user: User) -> None:
    acted = team.moderator.post(f"/api/v1/admin/accounts/{user.id}/action",
                                data={"type": "suspend", "text": "Repeated threats."})
    assert acted.status_code == 200, acted.text
    assert user.get("/api/v1/accounts/verify_credentials").status_code == 403  # its tokens are refused


def _link_sent_to(server: LiveServer, user: User) -> str:
    """The appeal link in the moderation_warning notification (what a mail would carry)."""
    with server.db.read() as session:
        data = session.scalar(select(Notification.data).where(Notification.account_id == user.id,
                                                              Notification.type == "moderation_warning"))
    assert data and data.get("appeal_link"), data
    return str(data["appeal_link"])


def test_a_suspended_author_appeals_through_the_signed_link(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("suspended")
    _suspend(team, author)
    link = _link_sent_to(mod_server, author)
    with httpx.Client(timeout=30) as anonymous:  # no token at all
        shown = anonymous.get(link)
        assert shown.status_code == 200, shown.text
        decision = shown.json()["decision"]
        assert decision["action"] == "suspend" and decision["account_id"] == str(author.id)
        assert decision["statement_of_reasons"]["decision_facts"] == "Repeated threats."
        assert shown.json()["appeal"] is None
        assert anonymous.post(link, json={"text": "  "}).status_code == 422  # the token route's rules
        filed = anonymous.post(link, json={"text": "I was hacked; it was not me."})
        assert filed.status_code == 201, filed.text
        assert anonymous.post(link, json={"text": "Again."}).status_code == 409  # one appeal per decision
        assert anonymous.get(link).json()["appeal"]["id"] == filed.json()["id"]
    appeal = team.senior.get(f"/api/warden/v1/appeals/{filed.json()['id']}")
    assert appeal.status_code == 200 and appeal.json()["decision_id"] == decision["id"]

    # The author sees the same link with the decision; staff and the statement of reasons do not carry it.
    own = author.get(f"/api/warden/v1/decisions/{decision['id']}").json()
    assert own["appeal_link"] == link
    staff_view = team.moderator.get(f"/api/warden/v1/decisions/{decision['id']}").json()
    assert staff_view["appeal_link"] is None and "appeal-links" not in json.dumps(staff_view)


def test_a_tampered_or_expired_appeal_link_is_refused(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("suspended")
    _suspend(team, author)
    link = _link_sent_to(mod_server, author)
    base, token = link.rsplit("/", 1)
    payload, _, signature = token.partition(".")
    # (The last base64 character of a signature carries padding bits: flip the first one.)
    flipped = f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    for forged in (flipped, f"{payload}.", "x" * 40, token + "x", payload):
        answer = httpx.post(f"{base}/{forged}", json={"text": "let me in"}, timeout=30)
        assert answer.status_code == 404 and answer.json() == {"error": "This appeal link is not valid"}, forged
        assert httpx.get(f"{base}/{forged}", timeout=30).status_code == 404
    decision_id = httpx.get(link, timeout=30).json()["decision"]["id"]
    with mod_server.db.write() as session:  # the appeal window closes
        session.execute(update(ModerationDecision).where(ModerationDecision.id == decision_id)
                        .values(created_at=utcnow() - timedelta(days=400)))
    expired = httpx.post(link, json={"text": "too late"}, timeout=30)
    assert expired.status_code == 403 and "passed" in expired.json()["error"]
    assert httpx.get(link, timeout=30).status_code == 403
