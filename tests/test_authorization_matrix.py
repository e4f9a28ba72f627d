"""The authorization matrix (issue 29): every route of the app, API and console, against every principal.

The routes are walked from the app's route table (`create_app().routes`, the console's mounted pages
included), and each must have a rule in RULES: a new endpoint without one fails
`test_every_route_has_a_rule`, so whoever adds it decides who may call it. For each route and principal
one request is made, with path parameters filled with ids of objects that belong to `user` (or, for
decisions and appeals, to `suspended`; for notices, to `partner`), and a minimal body: the check is only
whether the request got past authorization. A principal the rule does not allow must get 401/403 (or
404 where existence is hidden; on the console, a 303 to the login page); an allowed one never gets
401/403 nor the login redirect.

Principals: anonymous, user, other (another user), suspended (tokens refused except the suspended-ok
routes), moderator, senior, admin (console: logged-in sessions), partner and other_partner (partner
tokens; console: partner sessions).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Mount, WebSocketRoute

from tests.console.conftest import case_for, console_client, csrf_of, partner, send_notices, status_url
from tests.helpers import LiveServer, User, eventually
from tests.media.images import encode, photo
from tests.moderation.conftest import STAFF_SCOPES
from warden.api.app import create_app
from warden.config import Settings
from warden.store.models import Notification

PRINCIPALS = ("anonymous", "user", "other", "suspended", "moderator", "senior", "admin", "partner", "other_partner")
STAFF = frozenset({"moderator", "senior", "admin"})
SENIOR = frozenset({"senior", "admin"})
ADMIN = frozenset({"admin"})
PARTNERS = frozenset({"partner", "other_partner"})
USERS = frozenset({"user", "other"}) | STAFF          # a working user token
PUBLIC = USERS | {"anonymous"}                         # no token or a working user token (optional_viewer)
ANYONE = frozenset(PRINCIPALS)                         # reads no credentials at all
APP = USERS                                            # any OAuth token (app tokens too)
#: The principals' tokens are issued to no app, so the app's own credentials check refuses them all.
NO_APP_TOKEN: frozenset[str] = frozenset()
OWNER = frozenset({"user"})                            # the objects in the path belong to `user`
SUSPENDED_OK = USERS | {"suspended"}                   # a suspended account may still read and appeal
SUSPENDED_OWNER = STAFF | {"suspended"}                # decisions and appeals of `suspended`, or staff
PARTNER_OWNER = frozenset({"partner"})                 # the notice belongs to `partner`
APPEAL_LINK = ANYONE                                   # the signed token in the path is the authority
#: Login, token and logout forms: they check credentials themselves; only "no 5xx" is asserted.
UNCHECKED: frozenset[str] = frozenset()

API = "/api/warden/v1"
RULES: dict[tuple[str, str], frozenset[str]] = {
    # OAuth and apps
    ("POST", "/api/v1/apps"): ANYONE,
    ("GET", "/api/v1/apps/verify_credentials"): NO_APP_TOKEN,
    ("GET", "/.well-known/oauth-authorization-server"): ANYONE,
    ("GET", "/oauth/authorize"): UNCHECKED,  # checks the client_id itself
    ("POST", "/oauth/authorize"): UNCHECKED,
    ("POST", "/oauth/token"): UNCHECKED,
    ("POST", "/oauth/revoke"): UNCHECKED,
    # instance
    ("GET", "/api/v1/instance"): ANYONE,
    ("GET", "/api/v2/instance"): ANYONE,
    ("GET", "/api/v1/instance/rules"): ANYONE,
    ("GET", "/api/v1/instance/peers"): ANYONE,
    ("GET", "/api/v1/custom_emojis"): ANYONE,
    ("GET", "/.well-known/nodeinfo"): ANYONE,
    ("GET", "/nodeinfo/2.0"): ANYONE,
    ("GET", "/openapi.json"): ANYONE,
    ("GET", "/api/docs"): ANYONE,
    ("GET", "/docs/oauth2-redirect"): ANYONE,
    ("GET", "/health"): ANYONE,
    ("GET", "/metrics"): ANYONE,  # open unless WARDEN_METRICS_TOKEN is set (observability/routes.py)
    # accounts
    ("POST", "/api/v1/accounts"): APP,
    ("GET", "/api/v1/accounts/verify_credentials"): USERS,
    ("PATCH", "/api/v1/accounts/update_credentials"): USERS,
    ("GET", "/api/v1/accounts/lookup"): PUBLIC,
    ("GET", "/api/v1/accounts/relationships"): USERS,
    ("GET", "/api/v1/accounts/search"): USERS,
    ("GET", "/api/v1/accounts/{account_id}"): PUBLIC,
    ("GET", "/api/v1/accounts/{account_id}/statuses"): PUBLIC,
    ("GET", "/api/v1/accounts/{account_id}/followers"): PUBLIC,
    ("GET", "/api/v1/accounts/{account_id}/following"): PUBLIC,
    **{("POST", f"/api/v1/accounts/{{account_id}}/{name}"): USERS
       for name in ("follow", "unfollow", "block", "unblock", "mute", "unmute")},
    # statuses
    ("POST", "/api/v1/statuses"): USERS,
    ("PUT", "/api/v1/statuses/{status_id}"): OWNER,
    ("GET", "/api/v1/statuses/{status_id}"): PUBLIC,
    ("DELETE", "/api/v1/statuses/{status_id}"): OWNER,
    ("GET", "/api/v1/statuses/{status_id}/context"): PUBLIC,
    ("GET", "/api/v1/statuses/{status_id}/favourited_by"): PUBLIC,
    ("GET", "/api/v1/statuses/{status_id}/reblogged_by"): PUBLIC,
    **{("POST", f"/api/v1/statuses/{{status_id}}/{name}"): USERS
       for name in ("favourite", "unfavourite", "reblog", "unreblog")},
    # media (their files: anyone with the URL, while the post may be seen; docs/media.md)
    ("POST", "/api/v1/media"): USERS,
    ("POST", "/api/v2/media"): USERS,
    ("GET", "/api/v1/media/{media_id}"): OWNER,
    ("PUT", "/api/v1/media/{media_id}"): OWNER,
    ("DELETE", "/api/v1/media/{media_id}"): OWNER,
    ("GET", "/system/media_attachments/{media_token}/{file_name}"): ANYONE,
    # timelines, notifications, search, reports
    ("GET", "/api/v1/timelines/home"): USERS,
    ("GET", "/api/v1/timelines/public"): PUBLIC,
    ("GET", "/api/v1/timelines/tag/{hashtag}"): PUBLIC,
    ("GET", "/api/v1/notifications"): SUSPENDED_OK,  # a suspended account: its moderation warnings only
    ("GET", "/api/v1/notifications/{notification_id}"): OWNER,
    ("POST", "/api/v1/notifications/clear"): USERS,
    ("POST", "/api/v1/notifications/{notification_id}/dismiss"): OWNER,
    ("GET", "/api/v2/search"): PUBLIC,
    ("POST", "/api/v1/reports"): USERS,
    # issue 33, client API group 2: follow requests, endorsements, edits, pins, polls, scheduled, discovery
    ("GET", "/api/v1/follow_requests"): USERS,
    ("POST", "/api/v1/follow_requests/{account_id}/authorize"): USERS,
    ("POST", "/api/v1/follow_requests/{account_id}/reject"): USERS,
    **{("POST", f"/api/v1/accounts/{{account_id}}/{name}"): USERS
       for name in ("pin", "unpin", "endorse", "unendorse", "note", "remove_from_followers")},
    ("GET", "/api/v1/accounts"): PUBLIC,
    ("GET", "/api/v1/statuses"): PUBLIC,
    ("GET", "/api/v1/instance/translation_languages"): ANYONE,
    ("GET", "/api/v1/endorsements"): USERS,
    ("GET", "/api/v1/accounts/{account_id}/endorsements"): PUBLIC,
    ("GET", "/api/v1/accounts/{account_id}/featured_tags"): PUBLIC,
    ("GET", "/api/v1/accounts/familiar_followers"): USERS,
    ("GET", "/api/v1/statuses/{status_id}/history"): PUBLIC,
    ("GET", "/api/v1/statuses/{status_id}/source"): OWNER,
    **{("POST", f"/api/v1/statuses/{{status_id}}/{name}"): USERS for name in ("pin", "unpin", "mute", "unmute")},
    ("GET", "/api/v1/polls/{poll_id}"): PUBLIC,
    ("POST", "/api/v1/polls/{poll_id}/votes"): USERS,
    ("GET", "/api/v1/scheduled_statuses"): USERS,
    ("GET", "/api/v1/scheduled_statuses/{scheduled_id}"): OWNER,
    ("PUT", "/api/v1/scheduled_statuses/{scheduled_id}"): OWNER,
    ("DELETE", "/api/v1/scheduled_statuses/{scheduled_id}"): OWNER,
    ("GET", "/api/v1/trends"): PUBLIC,
    ("GET", "/api/v1/trends/tags"): PUBLIC,
    ("GET", "/api/v1/trends/statuses"): PUBLIC,
    ("GET", "/api/v1/trends/links"): ANYONE,
    ("GET", "/api/v2/suggestions"): USERS,
    ("GET", "/api/v1/suggestions"): USERS,
    ("DELETE", "/api/v1/suggestions/{account_id}"): USERS,
    ("GET", "/api/v1/directory"): PUBLIC,
    ("GET", "/api/v1/tags/{name}"): PUBLIC,
    **{("POST", f"/api/v1/tags/{{tag_name}}/{name}"): USERS for name in ("follow", "unfollow", "feature", "unfeature")},
    ("GET", "/api/v1/followed_tags"): USERS,
    ("GET", "/api/v1/featured_tags"): USERS,
    ("POST", "/api/v1/featured_tags"): USERS,
    ("DELETE", "/api/v1/featured_tags/{featured_id}"): OWNER,
    ("GET", "/api/v1/featured_tags/suggestions"): USERS,
    ("GET", "/api/v1/announcements"): USERS,
    ("POST", "/api/v1/announcements/{announcement_id}/dismiss"): USERS,
    ("PUT", "/api/v1/announcements/{announcement_id}/reactions/{name}"): USERS,
    ("DELETE", "/api/v1/announcements/{announcement_id}/reactions/{name}"): USERS,
    ("GET", "/api/v1/domain_blocks"): USERS,
    ("POST", "/api/v1/domain_blocks"): USERS,
    ("DELETE", "/api/v1/domain_blocks"): USERS,
    ("GET", "/api/v1/instance/activity"): ANYONE,
    ("GET", "/api/v1/instance/domain_blocks"): ANYONE,
    ("GET", "/api/v1/instance/extended_description"): ANYONE,
    ("GET", "/api/v1/admin/trends/tags"): STAFF,
    ("GET", "/api/v1/admin/trends/statuses"): STAFF,
    ("GET", "/api/v1/admin/trends/links"): STAFF,
    **{("POST", f"/api/v1/admin/trends/{kind}/{{target_id}}/{verb}"): STAFF
       for kind in ("tags", "statuses") for verb in ("approve", "reject")},
    ("POST", f"{API}/announcements"): STAFF,
    ("DELETE", f"{API}/announcements/{{announcement_id}}"): STAFF,
    # client API group 3 (issue 33): notification policy, requests, groups; Web Push; the small rest
    ("GET", "/api/v1/notifications/unread_count"): USERS,
    **{(method, f"/api/{version}/notifications/policy"): USERS for method in ("GET", "PATCH") for version in ("v1", "v2")},
    ("GET", "/api/v1/notifications/requests"): USERS,
    ("GET", "/api/v1/notifications/requests/merged"): USERS,
    ("POST", "/api/v1/notifications/requests/accept"): USERS,
    ("POST", "/api/v1/notifications/requests/dismiss"): USERS,
    ("GET", "/api/v1/notifications/requests/{request_id}"): OWNER,
    ("POST", "/api/v1/notifications/requests/{request_id}/accept"): OWNER,
    ("POST", "/api/v1/notifications/requests/{request_id}/dismiss"): OWNER,
    **{("GET", f"/api/{version}/notifications"): USERS for version in ("v2", "v2_alpha")},
    **{("GET", f"/api/{version}/notifications/unread_count"): USERS for version in ("v2", "v2_alpha")},
    **{("GET", f"/api/{version}/notifications/{{group_key}}"): OWNER for version in ("v2", "v2_alpha")},
    **{("POST", f"/api/{version}/notifications/{{group_key}}/dismiss"): OWNER for version in ("v2", "v2_alpha")},
    ("GET", "/api/v2/notifications/{group_key}/accounts"): OWNER,
    **{(method, "/api/v1/push/subscription"): USERS for method in ("GET", "POST", "PUT", "DELETE")},
    ("GET", "/api/v1/instance/privacy_policy"): ANYONE,
    ("GET", "/api/v1/instance/terms_of_service"): ANYONE,
    ("GET", "/api/v1/instance/terms_of_service/{date}"): ANYONE,
    ("GET", "/api/oembed"): ANYONE,
    #: Only a token with the `profile` scope, which none of the principals' tokens has: all refused.
    ("GET", "/oauth/userinfo"): frozenset(),
    #: Only while an e-mail awaits confirmation: every principal's account is confirmed, so all get 403.
    ("POST", "/api/v1/emails/confirmations"): frozenset(),
    ("GET", "/api/v1/accounts/{account_id}/identity_proofs"): PUBLIC,
    ("GET", "/api/v1/statuses/{status_id}/card"): PUBLIC,
    ("POST", "/api/v1/statuses/{status_id}/translate"): USERS,
    ("GET", "/api/v1/timelines/link"): PUBLIC,
    ("GET", "/api/v1/timelines/direct"): USERS,
    # Mastodon admin API
    ("GET", "/api/v1/admin/reports"): STAFF,
    ("GET", "/api/v1/admin/reports/{report_id}"): STAFF,
    **{("POST", f"/api/v1/admin/reports/{{report_id}}/{name}"): STAFF
       for name in ("assign_to_self", "unassign", "resolve", "reopen")},
    ("GET", "/api/v1/admin/accounts"): STAFF,
    ("GET", "/api/v1/admin/accounts/{account_id}"): STAFF,
    ("POST", "/api/v1/admin/accounts/{account_id}/action"): STAFF,
    ("POST", "/api/v1/admin/accounts/{account_id}/unsuspend"): STAFF,
    #: erasing an account's data: admins only (the account in the path is not suspended: 409 for them)
    ("DELETE", "/api/v1/admin/accounts/{account_id}"): ADMIN,
    # Warden's moderation API
    ("POST", f"{API}/notices"): PARTNERS,
    ("GET", f"{API}/notices/{{notice_id}}"): PARTNER_OWNER,
    ("POST", f"{API}/hashes"): PARTNERS,
    ("GET", f"{API}/hashes"): PARTNERS,
    ("GET", f"{API}/hashes/{{hash_id}}"): PARTNERS,
    ("DELETE", f"{API}/hashes/{{hash_id}}"): PARTNER_OWNER,  # withdraw: the hash belongs to `partner`
    ("GET", f"{API}/cases"): STAFF,
    ("GET", f"{API}/cases/{{case_id}}"): STAFF,
    **{("POST", f"{API}/cases/{{case_id}}/{name}"): STAFF for name in ("claim", "release", "escalate")},
    ("POST", f"{API}/cases/{{case_id}}/decision"): STAFF,
    ("POST", f"{API}/cases/bulk-decision"): STAFF,
    ("GET", f"{API}/decisions"): SUSPENDED_OK,
    ("GET", f"{API}/decisions/{{decision_id}}"): SUSPENDED_OWNER,
    ("POST", f"{API}/appeals"): SUSPENDED_OK,
    ("GET", f"{API}/appeal-links/{{token}}"): APPEAL_LINK,
    ("POST", f"{API}/appeal-links/{{token}}"): APPEAL_LINK,
    ("GET", f"{API}/appeals"): STAFF,
    ("GET", f"{API}/appeals/{{appeal_id}}"): SUSPENDED_OWNER,
    ("POST", f"{API}/appeals/{{appeal_id}}/decision"): SENIOR,
    ("GET", f"{API}/policy"): STAFF,
    # outcomes (issue 30): a report's outcome for its reporter; the signed appeal page; Mastodon's strike page
    ("GET", f"{API}/reports/{{report_id}}"): OWNER,
    ("GET", "/appeal/{token}"): APPEAL_LINK,
    ("POST", "/appeal/{token}"): APPEAL_LINK,
    ("GET", "/disputes/strikes/{decision_id}"): ANYONE,
    ("POST", "/disputes/strikes/{decision_id}"): UNCHECKED,  # checks the password itself
    # lists, filters, markers, preferences, bookmarks, saved lists, conversations (issue 33)
    ("GET", "/api/v1/lists"): USERS,
    ("POST", "/api/v1/lists"): USERS,
    **{(method, "/api/v1/lists/{list_id}"): OWNER for method in ("GET", "PUT", "DELETE")},
    **{(method, "/api/v1/lists/{list_id}/accounts"): OWNER for method in ("GET", "POST", "DELETE")},
    ("GET", "/api/v1/timelines/list/{list_id}"): OWNER,
    ("GET", "/api/v1/accounts/{account_id}/lists"): USERS,
    ("GET", "/api/v2/filters"): USERS,
    ("POST", "/api/v2/filters"): USERS,
    **{(method, "/api/v2/filters/{filter_id}"): OWNER for method in ("GET", "PUT", "DELETE")},
    **{(method, "/api/v2/filters/{filter_id}/keywords"): OWNER for method in ("GET", "POST")},
    **{(method, "/api/v2/filters/keywords/{keyword_id}"): OWNER for method in ("GET", "PUT", "DELETE")},
    **{(method, "/api/v2/filters/{filter_id}/statuses"): OWNER for method in ("GET", "POST")},
    **{(method, "/api/v2/filters/statuses/{status_filter_id}"): OWNER for method in ("GET", "DELETE")},
    ("GET", "/api/v1/filters"): USERS,
    ("POST", "/api/v1/filters"): USERS,
    **{(method, "/api/v1/filters/{keyword_id}"): OWNER for method in ("GET", "PUT", "DELETE")},
    ("GET", "/api/v1/markers"): USERS,
    ("POST", "/api/v1/markers"): USERS,
    ("GET", "/api/v1/preferences"): USERS,
    ("POST", "/api/v1/statuses/{status_id}/bookmark"): USERS,
    ("POST", "/api/v1/statuses/{status_id}/unbookmark"): USERS,
    **{("GET", f"/api/v1/{name}"): USERS for name in ("bookmarks", "favourites", "blocks", "mutes")},
    ("GET", "/api/v1/conversations"): USERS,
    ("DELETE", "/api/v1/conversations/{conversation_id}"): OWNER,
    ("POST", "/api/v1/conversations/{conversation_id}/read"): OWNER,
    # streaming
    ("GET", "/api/v1/streaming/health"): ANYONE,
    ("GET", "/api/v1/streaming/{channel:path}"): USERS,
    **{("GET", f"/api/v1/streaming/{channel}"): USERS
       for channel in ("user", "user/notification", "public", "public/media", "public/local", "public/local/media",
                       "public/remote", "public/remote/media", "hashtag", "hashtag/local", "list", "direct")},
    ("WS", "/api/v1/streaming"): USERS,
    # the moderator console (sessions, not tokens)
    ("GET", "/console"): ANYONE,
    ("GET", "/console/static"): ANYONE,
    ("GET", "/console/"): STAFF | PARTNERS,
    ("GET", "/console/login"): ANYONE,
    ("POST", "/console/login"): UNCHECKED,
    ("POST", "/console/logout"): UNCHECKED,
    ("GET", "/console/queue"): STAFF,
    ("GET", "/console/cases/{case_id}"): STAFF,
    ("POST", "/console/cases/{case_id}/preview"): STAFF,
    **{("POST", f"/console/cases/{{case_id}}/{name}"): STAFF for name in ("claim", "release", "escalate")},
    ("POST", "/console/cases/{case_id}/decision"): STAFF,
    ("POST", "/console/bulk/preview"): STAFF,
    ("POST", "/console/bulk/decision"): STAFF,
    ("GET", "/console/accounts/{account_id}"): STAFF,
    ("GET", "/console/statuses/{status_id}"): STAFF,
    ("GET", "/console/appeals"): SENIOR,
    ("POST", "/console/appeals/{appeal_id}/decision"): SENIOR,
    ("GET", "/console/audit"): SENIOR,
    ("GET", "/console/policy"): ADMIN,
    ("GET", "/console/staff"): ADMIN,
    ("GET", "/console/partners"): ADMIN,
    ("GET", "/console/dashboard"): STAFF,
    ("GET", "/console/transparency"): STAFF,
    ("GET", "/console/trends"): STAFF,
    ("POST", "/console/trends/review"): STAFF,
    ("GET", "/console/partner"): PARTNERS,
    # the public web pages (warden/web): anonymous HTML, no credentials read
    ("GET", "/"): ANYONE,
    ("GET", "/about"): ANYONE,
    ("GET", "/auth/sign_up"): ANYONE,
    ("GET", "/@{username}"): ANYONE,
    ("GET", "/@{username}/{status_id}"): ANYONE,
    ("GET", "/tags/{name}"): ANYONE,
    ("GET", "/users/{username}"): ANYONE,
    ("GET", "/users/{username}/statuses/{status_id}"): ANYONE,
    ("GET", "/static"): ANYONE,
}

#: Rows known to be violated, with the reason: they run as xfail(strict) until fixed.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


def route_table() -> list[tuple[str, str]]:
    """Every (method, path template) the app serves: HTTP routes, websockets ("WS") and mounts (GET)."""
    with tempfile.TemporaryDirectory() as folder:  # the app is built only to read its routes
        app = create_app(Settings(database_url=f"sqlite:///{folder}/routes.db"), worker=False)
        app.state.services.db.dispose()
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI >= 0.165: an included router, resolved lazily
                walk(route.original_router.routes, prefix + getattr(route.include_context, "prefix", ""))
            elif isinstance(route, Mount):
                inner = getattr(route.app, "routes", None)
                if inner is not None and not hasattr(route.app, "directory"):
                    walk(inner, prefix + route.path)
                else:
                    found.append(("GET", prefix + route.path))
            elif isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
                found.append(("WS", prefix + route.path))
            else:
                found.extend((method, prefix + route.path) for method in sorted(route.methods - {"HEAD"}))

    walk(app.routes, "")
    return sorted(set(found))


ROUTES = route_table()


def test_every_route_has_a_rule() -> None:
    missing = [route for route in ROUTES if route not in RULES]
    assert not missing, f"routes without an authorization rule in RULES: {missing}"
    stale = [rule for rule in RULES if rule not in ROUTES]
    assert not stale, f"rules for routes that no longer exist: {stale}"


# --- the world the requests run in ---------------------------------------------------------------


@dataclass
class World:
    server: LiveServer
    users: dict[str, User]
    partner_tokens: dict[str, str]
    console: dict[str, httpx.Client]
    csrf: dict[str, str]
    params: dict[str, str]
    delete_status: str
    fresh_accounts: dict[str, str] = field(default_factory=dict)


def _make_world(server: LiveServer, stack: list[httpx.Client]) -> World:
    users = {name: server.user(name) for name in ("user", "other", "suspended", "target")}
    for role in ("moderator", "senior", "admin"):
        users[role] = server.user(role, role=role, scopes=STAFF_SCOPES)
    user, other, target = users["user"], users["other"], users["target"]
    partner_tokens = {name: partner(server, f"{name} desk {user.id}") for name in ("partner", "other_partner")}

    posted = user.post("/api/v1/statuses", data={"status": "A public post by user #matrix"})
    assert posted.status_code == 200, posted.text
    status_id = posted.json()["id"]
    doomed = user.post("/api/v1/statuses", data={"status": "A post to delete"}).json()["id"]
    assert other.post(f"/api/v1/accounts/{user.id}/follow").status_code == 200
    notification_id = eventually(lambda: next(iter(user.get("/api/v1/notifications").json()), {}).get("id"),
                                 what="a notification for user")
    target_post = target.post("/api/v1/statuses", data={"status": "A post by target"}).json()["id"]
    report = user.post("/api/v1/reports", data={"account_id": str(target.id), "status_ids[]": target_post,
                                                "comment": "look", "category": "other"})
    assert report.status_code == 200, report.text
    case_id = case_for(server, int(target_post))
    list_id = user.post("/api/v1/lists", data={"title": "matrix"}).json()["id"]
    group = user.post("/api/v2/filters", json={"title": "matrix", "context": ["home"],
                                               "keywords_attributes": [{"keyword": "zz-matrix-zz"}]}).json()
    status_filter = user.post(f"/api/v2/filters/{group['id']}/statuses", data={"status_id": target_post}).json()
    assert other.post("/api/v1/statuses", data={"status": f"@{user.username} a direct message",
                                                "visibility": "direct"}).status_code == 200
    conversation_id = user.get("/api/v1/conversations").json()[0]["id"]
    notice_ids = send_notices(server, partner_tokens["partner"], [
        {"url": status_url(server, user, int(status_id)), "category": "incitement", "explanation": "look"}])

    hashes = httpx.post(f"{server.url}{API}/hashes", json={"hashes": [{"hash": "5a" * 32, "quality": 90}]},
                        headers={"Authorization": f"Bearer {partner_tokens['partner']}"})
    assert hashes.status_code == 200, hashes.text

    picture = user.post("/api/v2/media", files={"file": ("a.png", encode(photo(8, 8), "PNG"), "image/png")})
    assert picture.status_code == 200, picture.text
    media_token, file_name = picture.json()["url"].split("/")[-2:]

    suspended = users["suspended"]
    acted = users["moderator"].post(f"/api/v1/admin/accounts/{suspended.id}/action",
                                    data={"type": "suspend", "text": "Repeated threats."})
    assert acted.status_code == 200, acted.text
    decision_id = suspended.get(f"{API}/decisions").json()[0]["id"]
    appeal = suspended.post(f"{API}/appeals", json={"decision_id": decision_id, "text": "I was hacked."})
    assert appeal.status_code == 201, appeal.text
    with server.db.read() as session:
        data = session.scalar(select(Notification.data).where(Notification.account_id == suspended.id,
                                                              Notification.type == "moderation_warning"))
    link = str(data["appeal_link"])

    console: dict[str, httpx.Client] = {}
    csrf: dict[str, str] = {}
    logins = {name: (users[name].username, None) for name in STAFF} | \
        {name: (f"{name} desk {user.id}", token) for name, token in partner_tokens.items()}
    for name, (username, password) in logins.items():
        manager = console_client(server, username, *([password] if password else []))
        client = manager.__enter__()
        stack.append(manager)  # type: ignore[arg-type]
        console[name] = client
        csrf[name] = csrf_of(client.get("/console/login", follow_redirects=True).text) \
            if name in PARTNERS else csrf_of(client.get(f"/console/cases/{case_id}").text)
    poll_id = user.post("/api/v1/statuses", json={"status": "A poll by user", "poll": {
        "options": ["yes", "no"], "expires_in": 3600}}).json()["poll"]["id"]
    scheduled_id = user.post("/api/v1/statuses", json={"status": "later",
                                                       "scheduled_at": "2999-01-01T00:00:00Z"}).json()["id"]
    featured_id = user.post("/api/v1/featured_tags", data={"name": "matrix"}).json()["id"]
    announcement_id = users["admin"].post(f"{API}/announcements", data={"text": "hello"}).json()["id"]
    params = {"status_id": status_id, "account_id": str(target.id), "notification_id": notification_id,
              "poll_id": poll_id, "scheduled_id": scheduled_id, "featured_id": featured_id, "name": "matrix",
              "tag_name": "matrix", "announcement_id": announcement_id, "target_id": status_id,
              "report_id": str(report.json()["id"]), "case_id": str(case_id), "notice_id": str(notice_ids[0]),
              "decision_id": str(decision_id), "appeal_id": str(appeal.json()["id"]),
              "token": link.rsplit("/", 1)[-1], "hashtag": "matrix", "channel:path": "user",
              "username": user.username,
              "media_id": str(picture.json()["id"]), "media_token": media_token, "file_name": file_name,
              "list_id": list_id, "filter_id": group["id"], "keyword_id": group["keywords"][0]["id"],
              "status_filter_id": status_filter["id"], "conversation_id": conversation_id,
              "hash_id": hashes.json()["hashes"][0]["id"], "request_id": "1", "group_key": "favourite-0-0",
              "date": "2026-01-01"}
    return World(server, users, partner_tokens, console, csrf, params, doomed)


@pytest.fixture(scope="module")
def world(server: LiveServer) -> Iterator[World]:
    stack: list[Any] = []
    try:
        yield _make_world(server, stack)
    finally:
        for manager in stack:
            manager.__exit__(None, None, None)


def _fill(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: params[m.group(1)], path)


def _request(world: World, principal: str, method: str, template: str) -> tuple[int, str]:
    """One request as `principal`: its status code and, for redirects, where to."""
    params = dict(world.params)
    if method == "DELETE":
        params["status_id"] = world.delete_status
    if method == "POST" and template.startswith("/api/v1/accounts/{account_id}/"):
        # A fresh account per relation action: a block must not turn the next row's follow into a 403.
        if template not in world.fresh_accounts:
            world.fresh_accounts[template] = str(world.server.user("target").id)
        params["account_id"] = world.fresh_accounts[template]
    path = _fill(template, params)
    if template == "/console/static":
        path += "/console.css"
    console = template.startswith("/console") and principal in world.console
    if console:
        client = world.console[principal]
        headers = {"origin": world.server.url}
        data = {"csrf_token": world.csrf[principal]} if method == "POST" else None
    else:
        client = httpx.Client(base_url=world.server.url, timeout=30)
        headers = {}
        if principal in world.users:
            headers["Authorization"] = f"Bearer {world.users[principal].token}"
        elif principal in world.partner_tokens:
            headers["Authorization"] = f"Bearer {world.partner_tokens[principal]}"
        data = None
    if method == "WS":
        return _websocket(world, headers), ""
    try:
        with client.stream(method, path, headers=headers, data=data, follow_redirects=False) as response:
            return response.status_code, response.headers.get("location", "")
    finally:
        if not console:
            client.close()


def _websocket(world: World, headers: dict[str, str]) -> int:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = world.server.url.replace("http://", "ws://") + "/api/v1/streaming?stream=user"
    try:
        with connect(url, additional_headers=headers, open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def _denied(code: int, location: str) -> bool:
    return code in (401, 403, 404) or (code in (302, 303) and location.startswith("/console/login"))


def _order(route: tuple[str, str]) -> tuple[int, str, str]:
    """Destructive rows last: deleting the post, leaving the console."""
    last = route[0] == "DELETE" or route[1] == "/console/logout"
    return (1 if last else 0, route[1], route[0])


MATRIX = sorted((r for r in ROUTES if r in RULES), key=_order)


@pytest.mark.parametrize("route", [
    pytest.param(r, id=f"{r[0]} {r[1]}",
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_VIOLATIONS[r])] if r in KNOWN_VIOLATIONS else [])
    for r in MATRIX])
def test_authorization_matrix(world: World, route: tuple[str, str]) -> None:
    method, template = route
    allowed = RULES[route]
    # Non-owners go first, so the owner's DELETE does not remove what the others try to delete.
    principals = sorted(PRINCIPALS, key=lambda p: p in allowed)
    violations = []
    for principal in principals:
        code, location = _request(world, principal, method, template)
        assert code < 500, f"{principal}: {method} {template} answered {code}"
        if allowed is UNCHECKED:
            continue
        if principal in allowed and (code in (401, 403) or location.startswith("/console/login")):
            violations.append(f"{principal} is allowed but got {code} {location}".strip())
        elif principal not in allowed and not _denied(code, location):
            violations.append(f"{principal} is not allowed but got {code} {location}".strip())
    assert not violations, f"{method} {template}: " + "; ".join(violations)
