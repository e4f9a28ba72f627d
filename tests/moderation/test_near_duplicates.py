"""Copies of removed posts (issue 32): a post that copies one a decision removed, with words changed,
moved or added, is held before publication and joins that removal's case, where the moderators'
decision is applied to every copy; an unrelated post is published; a restored post's copies are
published again. Through HTTP on both backends, plus the fingerprints on their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.console.conftest import console_client
from tests.helpers import LiveServer, User, eventually
from tests.conftest import _free_port, make_database, start_server
from tests.moderation.conftest import STAFF_SCOPES, FakeDetector, Team, cases_for
from warden.config import Settings
from warden.cases import copies
from warden.detection import text_fingerprint
from warden.store.copy_models import RemovedText, RemovedTextKey
from warden.store.models import Status

# Written for this test; no detector marker, so the fake detector lets each of them through.
ORIGINAL = ("Everyone meet at the harbour gate at nine tonight and smash every window of the ferry office "
            "until they shut it down for good, no mercy for the staff inside")
# five of its 28 words changed
CHANGED = ("Everybody meet at the harbour gate at ten tonight and smash every window of the ferry terminal "
           "until they shut it down for ever, no mercy for the crew inside")
# clauses moved and words added, in capitals, with a mention and a link
REORDERED = ("@dockers No mercy for the staff inside! Everyone meet at the harbour gate at nine tonight, smash "
             "every window of the ferry office until they shut it down for good. Pass it on https://example.test/x")
UNRELATED = ("Everyone meet at the harbour gate at nine tonight for the lantern parade, bring the children "
             "and something warm to drink")


@pytest.fixture(scope="module")
def copies_server(backend: str, tmp_data_dir: Path, fake_detector: FakeDetector) -> Iterator[LiveServer]:
    """mod_server with the copy check on (the shared one has it off), in a database of its own."""
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=True)
    srv, thread, db = start_server(settings, detector=fake_detector)
    yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend,
                     extras={"detector": fake_detector})
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


@pytest.fixture(scope="module")
def copies_team(copies_server: LiveServer) -> Team:
    return Team(moderator=copies_server.user("mod", role="moderator", scopes=STAFF_SCOPES),
                senior=copies_server.user("senior", role="senior", scopes=STAFF_SCOPES),
                senior2=copies_server.user("senior", role="senior", scopes=STAFF_SCOPES))


def post(user: User, text: str) -> dict[str, Any]:
    response = user.post("/api/v1/statuses", data={"status": text})
    assert response.status_code == 200, response.text
    return response.json()


def decision(user: User, decision_id: str) -> dict[str, Any]:
    response = user.get(f"/api/warden/v1/decisions/{decision_id}")
    assert response.status_code == 200, response.text
    return response.json()


def state_of(server: LiveServer, status_id: str) -> str:
    with server.db.read() as session:
        status = session.get(Status, int(status_id))
        assert status is not None
        return status.state


def copies_case(staff: User, copy_ids: set[str]) -> dict[str, Any] | None:
    response = staff.get("/api/warden/v1/cases", params={"status": "open", "limit": 500})
    assert response.status_code == 200, response.text
    found = [c for c in response.json() if copy_ids <= set(c["copy_status_ids"])]
    return found[0] if found else None


def test_copies_of_a_removed_post_are_held_in_one_case_and_decided_with_it(copies_server: LiveServer,
                                                                           copies_team: Team) -> None:
    author, reporter, reader = copies_server.user("ndauthor"), copies_server.user("ndreporter"), copies_server.user("ndreader")
    raiders = [copies_server.user("raider") for _ in range(3)]
    original = post(author, ORIGINAL)
    assert "warden" not in original  # published: nothing the detector knows
    reported = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": [original["id"]],
                                                      "comment": "a call to attack the ferry office", "category": "other"})
    assert reported.status_code == 200, reported.text
    case = eventually(lambda: cases_for(copies_team.senior, {original["id"]}), what="the report's case")[0]
    removed = copies_team.senior.post(f"/api/warden/v1/cases/{case['id']}/decision",
                               json={"action": "remove", "policy": "violence", "explanation": "Incitement."})
    assert removed.status_code == 200, removed.text
    removal_id = removed.json()["decision"]["id"]

    # The raid: copies with words changed, moved and added are held, visible to their authors only.
    held = [post(raiders[0], CHANGED), post(raiders[1], REORDERED), post(raiders[2], ORIGINAL.upper())]
    for copy in held:
        assert copy["warden"]["state"] == "held", copy
        assert reader.get(f"/api/v1/statuses/{copy['id']}").status_code == 404
    reasons = decision(raiders[0], held[0]["warden"]["decision_id"])
    assert reasons["action"] == "hold" and reasons["rule"] == f"copy:{removal_id}"
    assert f"copies post {original['id']}, which decision {removal_id} removed" in reasons["explanation"]
    assert reasons["statement_of_reasons"]["decision_facts"].startswith("Automated check before publication: "
                                                                        "it copies post")
    # An unrelated post that shares its opening words is published.
    unrelated = post(raiders[0], UNRELATED)
    assert "warden" not in unrelated and reader.get(f"/api/v1/statuses/{unrelated['id']}").status_code == 200

    # The removal's case is decided, so the copies gather in one case of their own that names it.
    ids = {c["id"] for c in held}
    joined = eventually(lambda: copies_case(copies_team.moderator, ids), what="the copies' case")
    assert set(joined["status_ids"]) == ids and joined["sources"] == ["detector"] and joined["label"] == "violence"
    shown = copies_team.moderator.get(f"/api/warden/v1/cases/{joined['id']}").json()
    assert shown["evidence"]["copy_of"] == {"status_id": original["id"], "decision_id": removal_id,
                                            "similarity": shown["evidence"]["copy_of"]["similarity"],
                                            "case_id": case["id"]}
    # The console shows the removed post and every copy, escaped, in the case.
    with console_client(copies_server, copies_team.moderator.username) as console:
        page = console.get(f"/console/cases/{joined['id']}")
        assert page.status_code == 200, page.text
        assert "Copies of a removed post (3)" in page.text and f"case {case['id']}</a>" in page.text
        for copy in held:
            assert f'data-status="{copy["id"]}"' in page.text
        assert "No mercy for the staff inside! Everyone meet" in page.text and "https://example.test/x" in page.text

    # Deciding the case decides every copy, each with its own decision naming the case's as parent.
    decided = copies_team.moderator.post(f"/api/warden/v1/cases/{joined['id']}/decision",
                                  json={"action": "remove", "explanation": "Copies of a removed call to violence."})
    assert decided.status_code == 200, decided.text
    assert all(state_of(copies_server, c["id"]) == "removed" for c in held)
    notified = raiders[1].get("/api/v1/notifications", params={"types[]": ["moderation_warning"]}).json()
    assert any(n["moderation_warning"]["warden_action"] == "remove" and n["moderation_warning"]["status_ids"] ==
               [held[1]["id"]] for n in notified), notified

    # A later copy opens a new case (that one is decided), which the next copies join.
    late = post(raiders[0], CHANGED.replace("crew", "workers"))
    assert late["warden"]["state"] == "held"
    later = eventually(lambda: copies_case(copies_team.moderator, {late["id"]}), what="the later copies' case")
    assert later["id"] != joined["id"]

    # The removal is overturned on appeal: the post is restored and its copies are published again.
    appeal = author.post("/api/warden/v1/appeals", json={"decision_id": removal_id, "text": "It was a joke."})
    assert appeal.status_code == 201, appeal.text
    overturned = copies_team.senior2.post(f"/api/warden/v1/appeals/{appeal.json()['id']}/decision",
                                   json={"outcome": "overturned", "explanation": "Satire."})
    assert overturned.status_code == 200, overturned.text
    again = post(raiders[2], CHANGED)
    assert "warden" not in again, again
    with copies_server.db.read() as session:
        entry = session.scalars(select(RemovedText).where(RemovedText.status_id == int(original["id"]))).one()
        assert entry.withdrawn_at is not None and "restored" in (entry.withdrawn_reason or "")
        assert session.scalar(select(func.count()).select_from(RemovedTextKey)
                              .where(RemovedTextKey.removed_text_id == entry.id)) == 0


def test_a_short_removed_post_is_matched_on_its_exact_words_only(copies_server: LiveServer, copies_team: Team) -> None:
    author, reporter, other = copies_server.user("ndshort"), copies_server.user("ndshortrep"), copies_server.user("ndother")
    text = "burn the depot tonight"
    original = post(author, text)
    reported = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": [original["id"]],
                                                      "comment": "arson", "category": "other"})
    assert reported.status_code == 200, reported.text
    case = eventually(lambda: cases_for(copies_team.senior, {original["id"]}), what="the report's case")[0]
    assert copies_team.senior.post(f"/api/warden/v1/cases/{case['id']}/decision",
                            json={"action": "remove", "policy": "violence"}).status_code == 200
    # The same words, however written, are held; four words with one changed are not a copy.
    assert post(other, "BURN   the d3pot tonight!!")["warden"]["state"] == "held"
    assert "warden" not in post(other, "paint the depot tonight")


# --- the fingerprints on their own ---------------------------------------------------------------


def test_fingerprints_of_copies_share_bands_and_estimate_their_similarity() -> None:
    original = text_fingerprint.fingerprint(ORIGINAL)
    changed = text_fingerprint.fingerprint(CHANGED)
    unrelated = text_fingerprint.fingerprint(UNRELATED)
    assert original is not None and changed is not None and unrelated is not None
    assert len(original.keys) == text_fingerprint.BANDS and len(original.signature or b"") == 4 * text_fingerprint.NUM_PERM
    assert set(original.keys) & set(changed.keys)
    exact = text_fingerprint.shingles(text_fingerprint.words_of(ORIGINAL))
    near = text_fingerprint.shingles(text_fingerprint.words_of(CHANGED))
    true_similarity = len(exact & near) / len(exact | near)
    estimate = text_fingerprint.similarity(original.signature or b"", changed.signature or b"")
    assert abs(estimate - true_similarity) < 0.15 and estimate >= 0.5
    assert text_fingerprint.similarity(original.signature or b"", unrelated.signature or b"") < 0.5
    # Evasions are undone and mentions and links dropped before shingling: the same fingerprint.
    assert text_fingerprint.fingerprint("@dockers " + ORIGINAL.replace("smash", "sm4sh") + " https://t.co/y") == original


def test_short_posts_get_one_exact_key_and_empty_ones_none() -> None:
    short = text_fingerprint.fingerprint("Kill them ALL!")
    assert short is not None and short.exact and len(short.keys) == 1
    assert text_fingerprint.fingerprint("k1ll   them all") == short
    assert text_fingerprint.fingerprint("kill them all now") != short
    assert text_fingerprint.fingerprint("@someone https://example.test/a") is None
    assert text_fingerprint.MIN_WORDS == 5 and text_fingerprint.fingerprint("one two three four five").exact is False  # type: ignore[union-attr]


def test_posts_under_ten_words_must_be_more_alike() -> None:
    assert text_fingerprint.threshold_for(9, 0.45) == pytest.approx(0.50)
    assert text_fingerprint.threshold_for(10, 0.45) == pytest.approx(0.45)


@pytest.mark.parametrize("threshold, expected", [(0.5, True), (0.95, False)])
def test_a_lookup_confirms_band_candidates_on_the_threshold(database_url: str, threshold: float,
                                                            expected: bool) -> None:
    from warden.store.db import Database
    from warden.store.moderation_models import ModerationDecision

    status_id = 900_000 + int(threshold * 100)
    text = f"{ORIGINAL} ({status_id})"

    def matched(draft: str, at: float, **options: Any) -> bool:
        found = copies.match(session, draft, threshold=at, **options)
        return found is not None and found.status_id == status_id

    db = Database(database_url)
    try:
        with db.write() as session:
            removal = ModerationDecision(id=f"dec_test{status_id}", kind="case", action="remove",
                                         status_id=status_id, label="violence", explanation="", statement={})
            entry = copies.add_status(session, removal, Status(id=status_id, text=text))
            assert entry is not None and entry.decision_id == removal.id
            session.flush()
            assert matched(text, 1.0) and matched(f"{CHANGED} ({status_id})", threshold) is expected
            assert not matched(UNRELATED, 0.3)
            assert not matched(text, 0.5, exclude_status_id=status_id)  # a post is not a copy of itself
            assert copies.withdraw_status(session, status_id=status_id, reason="restored") == 1
            assert not matched(text, 0.01)
            session.rollback()
    finally:
        db.dispose()


def test_a_copy_joins_the_removals_own_case_while_it_is_undecided(database_url: str) -> None:
    """A post removed while its case stays open (say an automated removal a moderator is to review):
    its copies join that case; once decided, they gather in the case of the removal's copies."""
    from datetime import timedelta

    from tests.helpers import PASSWORD, unique_name
    from warden.platform import accounts
    from warden.store.db import Database
    from warden.store.models import utcnow
    from warden.store.moderation_models import ModerationCase, ModerationDecision

    db = Database(database_url)
    try:
        with db.write() as session:
            name = unique_name("ndcase")
            author = accounts.register(session, username=name, email=f"{name}@example.test", password=PASSWORD)
            case = ModerationCase(open_key=f"status:{author.id}0", status_id=None, account_id=author.id,
                                  state="open", due_at=utcnow() + timedelta(hours=1), sources=[], evidence={})
            session.add(case)
            session.flush()
            removal = ModerationDecision(id=f"dec_case{case.id}", kind="async", action="remove", case_id=case.id,
                                         account_id=author.id, explanation="", statement={})
            session.add(removal)
            session.flush()
            assert copies.case_key(session, removal.id) == case.open_key
            case.state, case.open_key = "decided", None
            session.flush()
            assert copies.case_key(session, removal.id) == f"copies:{removal.id}"
            assert copies.case_key(session, "dec_unknown") == "copies:dec_unknown"
            session.rollback()
    finally:
        db.dispose()
