"""The public web pages: thin routes over `warden.web.pages` (what an anonymous visitor may see).

/                       landing page: the instance's name, rules, a sign-up link, recent posts
/about                  rules and the moderation contact
/auth/sign_up           how to sign up (from a Mastodon app, through POST /api/v1/accounts)
/@username              a profile and its public posts
/@username/id           a post in its thread; a post removed by moderation: a notice (HTTP 410)
/tags/name              public posts with a hashtag
/users/username[/statuses/id]   the `uri` of accounts and posts: redirects to the pages above
Anything else a browser asks for gets the HTML 404 page (`install` in warden/web/__init__.py).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from warden.api.deps import run, services
from warden.web import pages
from warden.web.templating import render

router = APIRouter(include_in_schema=False)


def not_found(request: Request) -> Response:
    return render(services(request).settings, "not_found.html", status_code=404)


def _max_id(request: Request) -> str | None:
    value = request.query_params.get("max_id")
    return value if value and value.isascii() and value.isdigit() and len(value) <= 19 else None


@router.get("/")
async def home(request: Request) -> Response:
    svc = services(request)

    def work(session: Any) -> dict[str, Any]:
        return {"rules": pages.rules(session), "stats": pages.stats(session), "posts": pages.recent(session)}

    return render(svc.settings, "home.html", **await run(_read, svc, work))


@router.get("/about")
async def about(request: Request) -> Response:
    svc = services(request)
    rules = await run(_read, svc, pages.rules)
    return render(svc.settings, "about.html", rules=rules,
                  contact=svc.settings.moderation_contact or svc.settings.contact_email)


@router.get("/auth/sign_up")
async def sign_up(request: Request) -> Response:
    svc = services(request)
    return render(svc.settings, "sign_up.html", rules=await run(_read, svc, pages.rules))


@router.get("/@{username}")
async def profile(request: Request, username: str) -> Response:
    svc = services(request)
    max_id = _max_id(request)
    try:
        view = await run(_read, svc, lambda session: pages.profile(session, username, max_id=max_id))
    except pages.NotShown:
        return not_found(request)
    return render(svc.settings, "profile.html", status_code=410 if view.is_suspended else 200, view=view)


@router.get("/@{username}/{status_id}")
async def status(request: Request, username: str, status_id: str) -> Response:
    svc = services(request)

    def work(session: Any) -> Any:
        found = pages.status_page(session, username, status_id)
        return pages.reblog_target(session, found) if isinstance(found, int) else found

    try:
        view = await run(_read, svc, work)
    except pages.NotShown:
        return not_found(request)
    if view is None:
        return not_found(request)
    if isinstance(view, tuple):  # a reblog: its original's page
        return RedirectResponse(f"/@{view[0]}/{view[1]}", status_code=301)
    if isinstance(view, pages.Gone):
        return render(svc.settings, "gone.html", status_code=410, gone=view,
                      url=f"{svc.settings.base_url}/@{view.author.username}/{status_id}")
    return render(svc.settings, "status.html", view=view)


@router.get("/tags/{name}")
async def tag(request: Request, name: str) -> Response:
    svc = services(request)
    max_id = _max_id(request)
    name = name.lower().lstrip("#")
    posts, older = await run(_read, svc, lambda session: pages.tag(session, name, max_id=max_id))
    return render(svc.settings, "tag.html", name=name, posts=posts, older=older)


_USERNAME = re.compile(r"[A-Za-z0-9_]{1,30}")


@router.get("/users/{username}")
async def account_uri(request: Request, username: str) -> Response:
    if not _USERNAME.fullmatch(username):
        return not_found(request)
    return RedirectResponse(f"/@{username}", status_code=301)


@router.get("/users/{username}/statuses/{status_id}")
async def status_uri(request: Request, username: str, status_id: str) -> Response:
    if not _USERNAME.fullmatch(username) or not (status_id.isascii() and status_id.isdigit() and len(status_id) <= 19):
        return not_found(request)
    return RedirectResponse(f"/@{username}/{status_id}", status_code=301)


def _read(svc: Any, work: Any) -> Any:
    """Run `work(session)` in a read session; rendering happens afterwards, from loaded objects."""
    with svc.db.read() as session:
        result = work(session)
        session.expunge_all()
        return result
