"""The public web pages (issue 33): what an anonymous visitor sees, escaped, over HTTP on both backends."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import update

from tests.console.conftest import reported_case
from tests.helpers import LiveServer, User
from tests.moderation.conftest import STAFF_SCOPES
from warden.store.models import Account, InstanceRule, Status

HOSTILE_NAME = '"><script>x()</script>\'Eve'
HOSTILE_POST = 'Look: <script>alert("x")</script> & "quotes" <img src=x onerror=alert(2)>'
PAGE = {"Accept": "text/html"}


def meta(page: str, prop: str) -> str:
    found = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)">', page)
    assert found, f"no {prop} meta tag"
    return html.unescape(found.group(1))


def get(server: LiveServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=PAGE, timeout=30)


def post(user: User, text: str, visibility: str = "public") -> str:
    response = user.post("/api/v1/statuses", data={"status": text, "visibility": visibility})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def eve(server: LiveServer) -> User:
    user = server.user("eve")
    changed = user.request("PATCH", "/api/v1/accounts/update_credentials",
                           data={"display_name": HOSTILE_NAME, "note": 'About me: <b>bold</b> "quoted" </textarea>'})
    assert changed.status_code == 200, changed.text
    return user


def assert_no_raw_markup(page: str) -> None:
    assert "<script>" not in page and "<img src=x" not in page and "<b>bold</b>" not in page


def test_profile_and_post_pages_escape_everything_user_written(server: LiveServer, eve: User) -> None:
    status_id = post(eve, HOSTILE_POST)
    profile = get(server, f"/@{eve.username}")
    assert profile.status_code == 200 and profile.headers["content-type"].startswith("text/html")
    assert_no_raw_markup(profile.text)
    assert "&lt;script&gt;" in profile.text  # shown as text, not run
    assert meta(profile.text, "og:title") == f"{HOSTILE_NAME} (@{eve.username})"  # escaped in the attribute
    assert meta(profile.text, "og:url") == f"{server.url}/@{eve.username}"
    assert meta(profile.text, "og:type") == "profile"
    assert f'<link rel="alternate" type="application/json" href="{server.url}/api/v1/accounts/{eve.id}">' in profile.text
    assert f"/@{eve.username}/{status_id}" in profile.text
    assert "default-src 'none'" in profile.headers["content-security-policy"]

    page = get(server, f"/@{eve.username}/{status_id}")
    assert page.status_code == 200
    assert_no_raw_markup(page.text)
    assert meta(page.text, "og:description") == " ".join(HOSTILE_POST.split())
    assert meta(page.text, "og:title") == f"{HOSTILE_NAME} (@{eve.username})"
    assert meta(page.text, "og:url") == f"{server.url}/@{eve.username}/{status_id}"
    assert meta(page.text, "og:type") == "article"
    assert f'href="{server.url}/api/v1/statuses/{status_id}"' in page.text
    # every meta tag is well formed: no attribute was broken out of by a quote
    for tag in re.findall(r"<meta [^>]*>", page.text + profile.text):
        assert re.fullmatch(r'<meta (?:[a-z:_-]+="[^"<>]*" ?)+>', tag), tag


def test_private_direct_held_and_unknown_posts_are_not_found(server: LiveServer, eve: User) -> None:
    private = post(eve, "followers only", "private")
    direct = post(eve, f"@{eve.username} a note to myself", "direct")
    held = post(eve, "to be held")
    with server.db.write() as session:
        session.execute(update(Status).where(Status.id == int(held)).values(state="held", local_public=False))
    other = server.user("other")
    for path in (f"/@{eve.username}/{private}", f"/@{eve.username}/{direct}", f"/@{eve.username}/{held}",
                 f"/@{other.username}/{post(eve, 'wrong author in the path')}", f"/@{eve.username}/99999999999",
                 f"/@{eve.username}/not-a-number", "/@no_such_user_here", "/@no_such_user_here/1"):
        page = get(server, path)
        assert page.status_code == 404, path
        assert "Nothing here" in page.text and page.headers["content-type"].startswith("text/html")
    profile = get(server, f"/@{eve.username}").text
    assert "followers only" not in profile and "a note to myself" not in profile and "to be held" not in profile


def test_removed_post_shows_the_public_reason_only(server: LiveServer) -> None:
    author = server.user("author")
    status_id, case_id = reported_case(server, author, "A post a moderator will remove",
                                       comment="PRIVATE REPORTER COMMENT")
    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    escalated = moderator.post(f"/api/warden/v1/cases/{case_id}/escalate", json={"note": "PRIVATE CASE NOTE"})
    assert escalated.status_code == 200, escalated.text
    senior = server.user("senior", role="senior", scopes=STAFF_SCOPES)
    decided = senior.post(f"/api/warden/v1/cases/{case_id}/decision",
                          json={"action": "remove", "policy": "violence",
                                "explanation": 'A threat against a named person <script>x</script>'})
    assert decided.status_code == 200, decided.text
    decision_id = decided.json()["decision"]["id"]
    page = get(server, f"/@{author.username}/{status_id}")
    assert page.status_code == 410
    assert "removed by the moderators" in page.text
    assert "A threat against a named person &lt;script&gt;x&lt;/script&gt;" in page.text
    assert "Rule 1: no threats or incitement to violence" in page.text and decision_id in page.text
    assert "A post a moderator will remove" not in page.text  # the removed text is not shown
    assert "PRIVATE" not in page.text and senior.username not in page.text  # no notes, no moderator
    assert meta(page.text, "og:url") == f"{server.url}/@{author.username}/{status_id}"
    assert "A post a moderator will remove" not in get(server, f"/@{author.username}").text


def test_suspended_account_page_and_its_posts(server: LiveServer) -> None:
    author = server.user("suspendee")
    status_id = post(author, "Posted before the suspension")
    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    acted = moderator.post(f"/api/v1/admin/accounts/{author.id}/action",
                           data={"type": "suspend", "text": "Repeated threats against members."})
    assert acted.status_code == 200, acted.text
    page = get(server, f"/@{author.username}")
    assert page.status_code == 410 and "This account has been suspended" in page.text
    assert "Posted before the suspension" not in page.text
    gone = get(server, f"/@{author.username}/{status_id}")
    assert gone.status_code == 410 and "suspended" in gone.text
    assert "Posted before the suspension" not in gone.text


def test_limited_posts_stay_out_of_lists(server: LiveServer) -> None:
    author = server.user("limited")
    shown, limited = post(author, "An ordinary post #weblimits"), post(author, "A limited post #weblimits")
    with server.db.write() as session:
        session.execute(update(Status).where(Status.id == int(limited)).values(limited=True, local_public=False))
    profile = get(server, f"/@{author.username}").text
    assert "An ordinary post" in profile and "A limited post" not in profile
    tagged = get(server, "/tags/weblimits").text
    assert "An ordinary post" in tagged and "A limited post" not in tagged
    # its own link still shows it, as GET /api/v1/statuses/{id} does for a reader without a token
    for status_id in (shown, limited):
        assert get(server, f"/@{author.username}/{status_id}").status_code == 200
    with server.db.write() as session:
        session.execute(update(Account).where(Account.id == author.id).values(silenced_at=Account.created_at))
    assert "An ordinary post" not in get(server, f"/@{author.username}").text


def test_every_url_in_the_json_resolves(server: LiveServer, eve: User) -> None:
    status_id = post(eve, f"Hello @{eve.username} #webpages")
    status = httpx.get(f"{server.url}/api/v1/statuses/{status_id}").json()
    account = status["account"]
    urls = [account["url"], account["avatar"], account["avatar_static"], account["header"], account["header_static"],
            status["url"], *[m["url"] for m in status["mentions"]], *[t["url"] for t in status["tags"]]]
    for url in urls:
        response = httpx.get(url, headers=PAGE, timeout=30)
        assert response.status_code == 200, url
    assert httpx.get(account["avatar"]).headers["content-type"] == "image/png"
    thumbnail = httpx.get(f"{server.url}/api/v2/instance").json()["thumbnail"]["url"]
    assert httpx.get(thumbnail).status_code == 200
    moved = httpx.get(status["uri"])
    assert moved.status_code == 301 and moved.headers["location"] == f"/@{eve.username}/{status_id}"


def test_landing_about_and_sign_up(server: LiveServer) -> None:
    with server.db.write() as session:
        if session.query(InstanceRule).count() == 0:
            session.add(InstanceRule(text='Be kind "always" <b>', hint="No pile-ons.", position=0))
    landing = get(server, "/")
    assert landing.status_code == 200 and server.settings.instance_title in landing.text
    assert 'href="/auth/sign_up"' in landing.text and "Rules" in landing.text
    assert meta(landing.text, "og:type") == "website" and meta(landing.text, "og:url") == f"{server.url}/"
    about = get(server, "/about")
    assert about.status_code == 200 and "Contact the moderators" in about.text
    assert (server.settings.moderation_contact or server.settings.contact_email) in about.text
    rules = httpx.get(f"{server.url}/api/v1/instance/rules").json()
    for rule in rules:
        assert html.escape(rule["text"], quote=False) in about.text.replace("&#34;", '"').replace("&#39;", "'")
    assert "<b>" not in about.text.split("<main>")[1]
    sign_up = get(server, "/auth/sign_up")
    assert sign_up.status_code == 200 and server.url in sign_up.text


def test_unknown_pages_are_an_html_404_and_api_paths_stay_json(server: LiveServer) -> None:
    page = get(server, "/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Nothing here" in page.text
    api = httpx.get(f"{server.url}/api/v1/no_such_endpoint", headers=PAGE)
    assert api.status_code == 404 and "error" in api.json()
    plain = httpx.get(f"{server.url}/no/such/page", headers={"Accept": "application/json"})
    assert plain.status_code == 404 and "error" in plain.json()
