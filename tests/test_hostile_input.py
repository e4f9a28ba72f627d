"""Hostile input gets a 4xx, never a 5xx, and stores nothing (issue 29, items 6, 8 and 9).

Bodies are capped before anything reads them (413), an over-long post is refused before the detector
sees it, ids beyond 64 bits or in non-ASCII digits name no record, `limit` is clamped as Mastodon
clamps it, text with NUL or a lone surrogate is a 422, and an Idempotency-Key is compared whole.
"""

from __future__ import annotations

import json
import select as io_select
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import _free_port, server_with_gate
from tests.helpers import LiveServer, User
from warden.cases.notices import create_partner
from warden.policy.gate import Draft, Verdict
from warden.store.models import IdempotencyKey, Status

BEYOND_64_BITS = str(2**64 + 1)
JUST_BEYOND = str(2**63)  # one more than a BIGINT holds
NON_ASCII_DIGITS = ("\u0661\u0662", "\u00b2")  # Arabic-Indic "12" (int() takes it), superscript two (it does not)


def statuses_of(server: LiveServer, user: User) -> int:
    with server.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Status).where(Status.account_id == user.id)))


def raw_exchange(server: LiveServer, head: bytes, body_parts: list[bytes]) -> tuple[int, bytes]:
    """Send a request over a plain socket (so nothing buffers or fixes it up) and read the answer:
    (status code, response bytes). Sends the body parts one by one and stops once the server answers."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head)
        for part in body_parts:
            if io_select.select([sock], [], [], 0.05)[0]:
                break  # answered already: the rest of the body is not wanted
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def request_head(server: LiveServer, user: User, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(server.url).netloc}", f"Authorization: Bearer {user.token}",
             *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


# --- item 6: bodies are capped before they are read --------------------------------------------------


def test_a_50_mb_body_is_refused_before_it_is_sent(server: LiveServer) -> None:
    user = server.user("big")
    head = request_head(server, user, "/api/v1/statuses",
                        {"Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024)})
    # Only the headers and 1 KB of the 50 MB go out: an answer proves the server did not wait for the rest.
    status, answer = raw_exchange(server, head + b'{"status": "' + b"x" * 1024, [])
    assert status == 413, answer
    assert b'"error"' in answer and b"larger than this server accepts" in answer
    assert statuses_of(server, user) == 0


def test_a_chunked_body_is_cut_off_at_the_cap(server: LiveServer) -> None:
    user = server.user("chunked")
    cap = server.settings.max_body_bytes
    head = request_head(server, user, "/api/v1/statuses",
                        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    pieces = [b'{"status": "'] + [b"x" * 65536] * (cap // 65536 + 2)
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces]
    status, answer = raw_exchange(server, head, chunks + [b"0\r\n\r\n"])
    assert status == 413, answer
    assert statuses_of(server, user) == 0


def test_a_multipart_body_is_counted_as_it_streams(server: LiveServer) -> None:
    user = server.user("multipart")
    big = "y" * (server.settings.max_body_bytes + 1024)
    response = user.post("/api/v1/statuses", data={"status": "hello"}, files={"attachment": ("a.txt", big.encode())})
    assert response.status_code == 413, response.text
    assert "error" in response.json()
    assert statuses_of(server, user) == 0


def test_the_notices_batch_may_be_larger_than_the_default_cap(server: LiveServer) -> None:
    with server.db.write() as session:
        _partner, token = create_partner(session, f"big-batch-{_free_port()}")
    explanation = "\u00e9" * 4000  # sent escaped by json.dumps: 6 bytes a character
    notices = [{"url": f"{server.url}/@nobody/{i + 1}", "category": "violence", "explanation": explanation}
               for i in range(60)]
    body = json.dumps({"notices": notices}).encode()
    assert len(body) > server.settings.max_body_bytes
    response = httpx.post(f"{server.url}/api/warden/v1/notices", content=body, timeout=60,
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 202, response.text
    assert all("error" in item for item in response.json()["notices"])  # answered, item by item


class CountingGate:
    """An allow-all moderation gate that counts the posts it is asked to score."""

    def __init__(self) -> None:
        self.prescored = 0
        self.lock = threading.Lock()

    def prescore(self, text: str, spoiler_text: str = "") -> None:
        with self.lock:
            self.prescored += 1

    def moderate(self, session: Session, draft: Draft) -> Verdict:
        return Verdict()


@pytest.fixture(scope="module")
def gated(database_url: str, backend: str) -> Iterator[tuple[LiveServer, CountingGate]]:
    """A second server on this backend's database whose gate counts what it scores."""
    gate = CountingGate()
    with server_with_gate(database_url, backend, gate) as live:
        yield live, gate


def test_an_over_long_post_or_edit_never_reaches_the_detector(gated: tuple[LiveServer, CountingGate]) -> None:
    server, gate = gated
    user = server.user("long")
    before = gate.prescored
    long = "z" * 900_000
    for fields in ({"status": long}, {"status": "short", "spoiler_text": long}, {"status": "hi", "language": "x" * 40}):
        response = user.post("/api/v1/statuses", json=fields)
        assert response.status_code == 422, response.text
    assert gate.prescored == before
    assert statuses_of(server, user) == 0

    posted = user.post("/api/v1/statuses", json={"status": "fits"})
    assert posted.status_code == 200 and gate.prescored == before + 1
    response = user.request("PUT", f"/api/v1/statuses/{posted.json()['id']}", json={"status": long})
    assert response.status_code == 422 and "character limit" in response.json()["error"]
    assert gate.prescored == before + 1
    assert user.get(f"/api/v1/statuses/{posted.json()['id']}").json()["content"] == "<p>fits</p>"


# --- item 8: hostile ids, limits, NUL, surrogates, language ------------------------------------------


@pytest.mark.parametrize("bad", [BEYOND_64_BITS, JUST_BEYOND, "-1", *NON_ASCII_DIGITS])
def test_an_id_that_cannot_be_a_record_is_404(server: LiveServer, bad: str) -> None:
    user = server.user("ids")
    other = server.user("other")
    for method, path in (("GET", "/api/v1/statuses/{}"), ("GET", "/api/v1/statuses/{}/context"),
                         ("GET", "/api/v1/accounts/{}"), ("GET", "/api/v1/accounts/{}/statuses"),
                         ("GET", "/api/v1/accounts/{}/followers"), ("GET", "/api/v1/notifications/{}"),
                         ("POST", "/api/v1/statuses/{}/favourite"), ("POST", "/api/v1/statuses/{}/reblog"),
                         ("PUT", "/api/v1/statuses/{}"), ("DELETE", "/api/v1/statuses/{}"),
                         ("POST", "/api/v1/accounts/{}/follow")):
        kwargs = {"json": {"status": "edited"}} if method == "PUT" else {}
        response = user.request(method, path.format(bad), **kwargs)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"error": "Record not found"}
    # ids inside bodies and filters: a reply target, reported statuses, a notification filter
    reply = user.post("/api/v1/statuses", json={"status": "reply", "in_reply_to_id": bad})
    assert reply.status_code == 404, reply.text
    report = user.post("/api/v1/reports", json={"account_id": str(other.id), "status_ids": [bad]})
    assert report.status_code == 404, report.text
    assert user.get("/api/v1/notifications", params={"account_id": bad}).status_code == 200
    assert user.get("/api/v1/accounts/relationships", params={"id[]": bad}).json() == []
    assert statuses_of(server, user) == 0


@pytest.mark.parametrize("bad", [BEYOND_64_BITS, JUST_BEYOND, "-5", "1.5", *NON_ASCII_DIGITS])
def test_a_malformed_pagination_id_is_422(server: LiveServer, bad: str) -> None:
    user = server.user("pages")
    for path in ("/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/hostile",
                 f"/api/v1/accounts/{user.id}/statuses", f"/api/v1/accounts/{user.id}/followers",
                 "/api/v1/notifications"):
        for name in ("max_id", "since_id", "min_id"):
            response = user.get(path, params={name: bad})
            assert response.status_code == 422, (path, name, response.text)
            assert name in response.json()["error"]


def test_limit_is_clamped_as_mastodon_clamps_it(server: LiveServer) -> None:
    author = server.user("popular")
    for _ in range(3):
        fan = server.user("fan")
        assert fan.post(f"/api/v1/accounts/{author.id}/follow").status_code == 200
        assert fan.post("/api/v1/statuses", json={"status": "hello"}).status_code == 200
    reader = server.user("reader")
    for path in (f"/api/v1/accounts/{author.id}/followers", "/api/v1/timelines/public"):
        for limit, expected in (("-1", 1), ("0", 1), ("-2", 2), (str(2**70), 3)):
            response = reader.get(path, params={"limit": limit, "local": "true"} if "public" in path
                                  else {"limit": limit})
            assert response.status_code == 200, (path, limit, response.text)
            rows = response.json()
            assert len(rows) == expected if expected < 3 else len(rows) >= 3, (path, limit, len(rows))
    notifications = author.get("/api/v1/notifications", params={"limit": "-1"})
    assert notifications.status_code == 200 and len(notifications.json()) == 1


def test_nul_in_any_text_is_422_and_stores_nothing(server: LiveServer) -> None:
    user = server.user("nul")
    attempts = [
        user.post("/api/v1/statuses", json={"status": "before\u0000after"}),
        user.post("/api/v1/statuses", json={"status": "fine", "spoiler_text": "\u0000"}),
        user.post("/api/v1/statuses", data={"status": "before\x00after"}),
        user.post("/api/v1/statuses", files={"status": (None, "before\x00after")}),
        user.get("/api/v1/accounts/lookup", params={"acct": "a\x00b"}),
        user.get("/api/v2/search", params={"q": "\x00"}),
        user.get("/api/v1/timelines/tag/a%00b"),
        user.request("PATCH", "/api/v1/accounts/update_credentials", json={"display_name": "x\u0000"}),
    ]
    for response in attempts:
        assert response.status_code == 422, (response.request.url, response.text)
        assert "NUL" in response.json()["error"]
    assert statuses_of(server, user) == 0
    assert user.get("/api/v1/accounts/verify_credentials").json()["display_name"] != "x\u0000"


def test_a_lone_surrogate_in_json_is_422(server: LiveServer) -> None:
    user = server.user("surrogate")
    for body in (b'{"status": "\\ud800"}', b'{"status": "x\\udc00y"}'):
        response = user.request("POST", "/api/v1/statuses", content=body,
                                headers={"Content-Type": "application/json"})
        assert response.status_code == 422, response.text
        assert "surrogate" in response.json()["error"]
    # a route whose body FastAPI parses (with the standard library, which takes lone surrogates)
    with server.db.write() as session:
        _partner, token = create_partner(session, f"surrogates-{_free_port()}")
    posted = user.post("/api/v1/statuses", json={"status": "a post to notify about"}).json()
    url = f"{server.url}/@{user.username}/{posted['id']}"
    body = b'{"notices": [{"url": "%s", "category": "violence", "explanation": "\\ud800"}]}' % url.encode()
    for headers in ({"Content-Type": "application/json"}, {}):
        response = httpx.post(f"{server.url}/api/warden/v1/notices", content=body,
                              headers={"Authorization": f"Bearer {token}", **headers})
        assert response.status_code == 422, response.text
    assert statuses_of(server, user) == 1  # only the post made to be notified about


@pytest.mark.parametrize(("language", "accepted"), [
    ("en", True), ("pt-BR", True), ("zh-Hant", True), ("ast", True),
    ("x" * 17, False), ("english-language", False), ("e", False), ("<b>", False), ("en\u0301", False),
])
def test_language_must_look_like_an_iso_639_code(server: LiveServer, language: str, accepted: bool) -> None:
    user = server.user("lang")
    response = user.post("/api/v1/statuses", json={"status": "bonjour", "language": language})
    if accepted:
        assert response.status_code == 200, response.text
        assert response.json()["language"] == language
    else:
        assert response.status_code == 422, response.text
        assert "Language" in response.json()["error"]
        assert statuses_of(server, user) == 0


# --- item 9: Idempotency-Keys are compared whole ---------------------------------------------------


def test_idempotency_keys_sharing_a_long_prefix_are_different_requests(server: LiveServer) -> None:
    user = server.user("idem")
    prefix = "k" * 200
    first = user.post("/api/v1/statuses", json={"status": "first"}, headers={"Idempotency-Key": prefix + "-one"})
    second = user.post("/api/v1/statuses", json={"status": "second"}, headers={"Idempotency-Key": prefix + "-two"})
    again = user.post("/api/v1/statuses", json={"status": "ignored"}, headers={"Idempotency-Key": prefix + "-one"})
    assert first.status_code == second.status_code == again.status_code == 200
    assert second.json()["id"] != first.json()["id"]
    assert second.json()["content"] == "<p>second</p>"
    assert again.json()["id"] == first.json()["id"]  # a retry still returns the first post
    assert statuses_of(server, user) == 2
    long_key = "q" * 5000
    once = user.post("/api/v1/statuses", json={"status": "long key"}, headers={"Idempotency-Key": long_key})
    twice = user.post("/api/v1/statuses", json={"status": "long key"}, headers={"Idempotency-Key": long_key})
    assert once.status_code == 200 and twice.json()["id"] == once.json()["id"]
    with server.db.read() as session:
        stored = list(session.scalars(select(IdempotencyKey.key).where(IdempotencyKey.account_id == user.id)))
    assert len(stored) == 3 and all(len(key) == 64 for key in stored)
