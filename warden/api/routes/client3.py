"""The rest of the client API's small endpoints (issue 33, group 3): instance texts, oEmbed, OIDC-style
userinfo, e-mail confirmation, identity proofs, preview cards, translation, and the link and direct
timelines. Each answers as Mastodon's documentation says, including where Mastodon answers "none"."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from datetime import date as Date
from html import escape
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from sqlalchemy import or_, select
from starlette.responses import Response

from warden.api.deps import Viewer, optional_viewer, require, run, services, viewer_id
from warden.api.pagination import paged, window_args
from warden.api.responses import JSON, error
from warden.api.serializers import DEFAULT_AVATAR, Presenter, iso
from warden.errors import NotFound, ValidationFailed
from warden.platform import site_texts, statuses
from warden.platform.ids import parse_id
from warden.platform.pagination import paginate
from warden.store.models import Account, Mention, Status

router = APIRouter()


# --- instance texts -----------------------------------------------------------------------------


@router.get("/api/v1/instance/privacy_policy", tags=["instance"], summary="The server's privacy policy")
async def privacy_policy() -> Response:
    text = site_texts.privacy_policy()
    return JSON({"updated_at": iso(text.updated), "content": text.html})


def _terms_json(terms: site_texts.Terms) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {"effective_date": terms.effective_date.isoformat(), "effective": terms.effective_date <= today,
            "content": terms.html, "succeeded_by": None}


@router.get("/api/v1/instance/terms_of_service", tags=["instance"],
            summary="The server's terms of service (404 when it publishes none)")
async def terms_of_service() -> Response:
    terms = site_texts.terms_of_service()
    if terms is None:
        raise NotFound()
    return JSON(_terms_json(terms))


@router.get("/api/v1/instance/terms_of_service/{date}", tags=["instance"],
            summary="The terms of service in effect from a date (YYYY-MM-DD)")
async def terms_of_service_on(date: str) -> Response:
    terms = site_texts.terms_of_service()
    try:
        wanted = Date.fromisoformat(date)
    except ValueError:
        raise NotFound() from None
    if terms is None or terms.effective_date != wanted:
        raise NotFound()
    return JSON(_terms_json(terms))


# --- oEmbed -------------------------------------------------------------------------------------

_STATUS_PATH = re.compile(r"^/(?:@(?P<user>[A-Za-z0-9_]{1,30})|users/(?P<user2>[A-Za-z0-9_]{1,30})/statuses)"
                          r"/(?P<id>[0-9]{1,19})/?$")


@router.get("/api/oembed", tags=["oembed"], summary="oEmbed for a public post's URL")
async def oembed(request: Request, url: str = "", maxwidth: int | None = None, maxheight: int | None = None) -> Response:
    svc = services(request)
    base = svc.settings.base_url
    parts = urlsplit(url)
    match = _STATUS_PATH.match(parts.path or "")
    if not url or match is None or parts.netloc.lower() != urlsplit(base).netloc.lower():
        raise NotFound()
    username = (match["user"] or match["user2"]).lower()

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            status = session.get(Status, int(match["id"]))
            if status is None or status.reblog_of_id is not None:
                raise NotFound()
            author = session.get(Account, status.account_id)
            if author is None or author.username_key != username or not statuses.can_see(session, None, status, author):
                raise NotFound()  # only what an anonymous visitor may see
            link = f"{base}/@{author.username}/{status.id}"
            name = author.display_name or author.username
            html = (f'<blockquote class="mastodon-embed" data-embed-url="{escape(link)}/embed" '
                    f'style="max-width: 540px; min-width: 270px;"><div>{status.content_html}</div>'
                    f'<p>&mdash; {escape(name)} (@{escape(author.username)}) '
                    f'<a href="{escape(link)}">{escape(iso(status.created_at) or "")}</a></p></blockquote>')
            return {"type": "rich", "version": "1.0", "title": f"New status by {author.username}",
                    "author_name": name, "author_url": f"{base}/@{author.username}",
                    "provider_name": urlsplit(base).netloc, "provider_url": f"{base}/", "cache_age": 86400,
                    "html": html, "width": maxwidth or 400, "height": maxheight}

    return JSON(await run(work))


# --- OAuth userinfo, e-mail confirmation -----------------------------------------------------------


@router.get("/oauth/userinfo", tags=["oauth"], summary="Who the token's user is (OpenID Connect-style; scope profile)")
async def userinfo(request: Request, viewer: Viewer = Depends(require("profile"))) -> Response:
    svc = services(request)
    base = svc.settings.base_url

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            account = viewer.account_in(session)
            return {"iss": f"{base}/", "sub": f"{base}/users/{account.username}",
                    "name": account.display_name or account.username, "preferred_username": account.username,
                    "profile": f"{base}/@{account.username}", "picture": base + DEFAULT_AVATAR}

    return JSON(await run(work))


AWAITING_CONFIRMATION = "This method is only available while the e-mail is awaiting confirmation"


@router.post("/api/v1/emails/confirmations", tags=["emails"],
             summary="Resend the confirmation e-mail (Warden confirms at sign-up: always 403, as Mastodon "
                     "answers for a confirmed account)")
async def resend_confirmation(viewer: Viewer = Depends(require("write:accounts"))) -> Response:
    return error(403, AWAITING_CONFIRMATION)


# --- accounts and statuses ------------------------------------------------------------------------


@router.get("/api/v1/accounts/{account_id}/identity_proofs", tags=["accounts"],
            summary="Identity proofs (deprecated by Mastodon: always an empty list)")
async def identity_proofs(request: Request, account_id: str,
                          viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc, ident = services(request), parse_id(account_id)

    def work() -> None:
        with svc.db.read() as session:
            account = session.get(Account, ident)
            if account is None or account.suspended_at is not None:
                raise NotFound()

    await run(work)
    return JSON([])


@router.get("/api/v1/statuses/{status_id}/card", tags=["statuses"],
            summary="A status's preview card (removed in Mastodon 3.0; Warden makes no previews: {})")
async def status_card(request: Request, status_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.read() as session:
            statuses.get_visible(session, viewer_id(viewer), status_id)

    await run(work)
    return JSON({})


@router.post("/api/v1/statuses/{status_id}/translate", tags=["statuses"],
             summary="Translate a status (no translation service is configured: 404, as Mastodon answers)")
async def translate(request: Request, status_id: str, viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.read() as session:
            statuses.get_visible(session, viewer.account_id, status_id)

    await run(work)
    raise NotFound()  # Mastodon: TranslationService::NotConfiguredError is answered 404


# --- timelines ------------------------------------------------------------------------------------


@router.get("/api/v1/timelines/link", tags=["timelines"],
            summary="Public posts sharing a trending link (?url=; Warden trends no links: 404)")
async def link_timeline(url: str = "", viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    if not url:
        raise ValidationFailed("Validation failed: url is missing")
    raise NotFound()  # Mastodon: no trending preview card for this URL


@router.get("/api/v1/timelines/direct", tags=["timelines"],
            summary="Direct posts to and from the viewer (removed by Mastodon 3.0 for conversations; served as "
                    "its documentation described it)")
async def direct_timeline(request: Request, max_id: str | None = None, since_id: str | None = None,
                          min_id: str | None = None, limit: int | None = None,
                          viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            me = viewer.account_id
            mentioned = select(Mention.status_id).where(Mention.account_id == me)
            query = select(Status).where(Status.visibility == "direct", Status.deleted_at.is_(None),
                                         or_(Status.account_id == me, Status.id.in_(mentioned)))
            rows = [r[0] for r in paginate(session, query, Status.id, **window)]
            visible = [s for s in rows if statuses.can_see(session, me, s)]
            return Presenter(session, svc.settings, me).statuses(visible), [s.id for s in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)
