"""Accounts: sign-up, profiles, and follow / block / mute relations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from warden.api.deps import Viewer, offload, optional_viewer, require, run, services, viewer_id
from warden.api.pagination import paged, window_args
from warden.api.params import read_params
from warden.api.ratelimit import client_address, limiter, with_quota
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.errors import Forbidden
from warden.platform import accounts, auth, timelines
from warden.platform.ids import as_id
from warden.platform.pagination import clamp_limit
from warden.platform.search import search

router = APIRouter(tags=["accounts"])


@router.post("/api/v1/accounts", summary="Register an account (needs an app token)")
async def register(request: Request, viewer: Viewer = Depends(require("write:accounts", user=False))) -> Response:
    params = await read_params(request)
    svc = services(request)
    if not svc.settings.registrations_open:
        raise Forbidden("Registrations are closed on this server")
    quota = limiter(request).hit("registration", client_address(request))  # every attempt counts

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            account = accounts.register(session, username=params.str("username", "") or "",
                                        email=params.str("email", "") or "", password=params.str("password", "") or "",
                                        agreement=params.bool("agreement"), locale=params.str("locale", "en") or "en")
            scopes = " ".join(sorted(viewer.token.scopes)) or "read"
            issued = auth.issue_token(session, app_id=viewer.token.app_id, account_id=account.id, scopes=scopes)
            return {"access_token": issued.access_token, "token_type": "Bearer", "scope": issued.scope,
                    "created_at": issued.created_at}

    return with_quota(JSON(await offload(work)), quota)  # hashes the password


@router.get("/api/v1/accounts/verify_credentials", summary="The authenticated account, with its source")
async def verify_credentials(request: Request, viewer: Viewer = Depends(require("read:accounts"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            account = accounts.get(session, viewer.account_id)
            return Presenter(session, svc.settings, viewer.account_id).account(account, source=True)

    return JSON(await run(work))


@router.patch("/api/v1/accounts/update_credentials", summary="Update the authenticated account's profile")
async def update_credentials(request: Request, viewer: Viewer = Depends(require("write:accounts"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    changes = {k: params.data[k] for k in ("display_name", "note", "locked", "bot", "discoverable") if k in params}

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            account = accounts.update_profile(session, accounts.get(session, viewer.account_id), changes)
            session.flush()
            return Presenter(session, svc.settings, viewer.account_id).account(account, source=True)

    return JSON(await run(work))


@router.get("/api/v1/accounts/lookup", summary="Find an account by its acct (username)")
async def lookup(request: Request, acct: str = Query(...), viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)
    domain = svc.settings.base_url.split("://", 1)[-1].split("/")[0]

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return Presenter(session, svc.settings, viewer_id(viewer)).account(accounts.lookup(session, acct, domain))

    return JSON(await run(work))


@router.get("/api/v1/accounts/relationships", summary="Relationships with the given accounts")
async def relationships(request: Request, viewer: Viewer = Depends(require("read:follows"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    ids = []
    for raw in params.list("id"):
        ident = as_id(raw)
        if ident is not None:
            ids.append(ident)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return [presenter.relationship(r) for r in accounts.relationships(session, viewer.account_id, ids)]

    return JSON(await run(work))


@router.get("/api/v1/accounts/search", summary="Search accounts by username or display name")
async def account_search(request: Request, q: str = Query(...), limit: int = Query(40),
                         viewer: Viewer = Depends(require("read:accounts"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            found = search(session, viewer.account_id, q, type="accounts", limit=clamp_limit(limit, 40, 80))
            return Presenter(session, svc.settings, viewer.account_id).accounts(found.accounts)

    return JSON(await run(work))


@router.get("/api/v1/accounts/{account_id}", summary="An account")
async def get_account(request: Request, account_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return Presenter(session, svc.settings, viewer_id(viewer)).account(accounts.get(session, account_id))

    return JSON(await run(work))


@router.get("/api/v1/accounts/{account_id}/statuses", summary="An account's statuses")
async def account_statuses(
    request: Request, account_id: str, max_id: str | None = None, since_id: str | None = None,
    min_id: str | None = None, limit: int | None = None, exclude_replies: bool = False,
    exclude_reblogs: bool = False, only_media: bool = False, pinned: bool = False, tagged: str | None = None,
    viewer: Viewer | None = Depends(optional_viewer),
) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            account = accounts.get(session, account_id)
            if pinned:
                return [], []
            rows = timelines.account_statuses(session, viewer_id(viewer), account, exclude_replies=exclude_replies,
                                              exclude_reblogs=exclude_reblogs, tagged=tagged, only_media=only_media,
                                              **window)
            return Presenter(session, svc.settings, viewer_id(viewer)).statuses(rows), [s.id for s in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


def _follow_list(kind: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, account_id: str, max_id: str | None = None, since_id: str | None = None,
                       min_id: str | None = None, limit: int | None = None,
                       viewer: Viewer | None = Depends(optional_viewer)) -> Response:
        svc = services(request)
        window = window_args(max_id, since_id, min_id, limit, default=40, maximum=80)

        def work() -> tuple[list[Any], list[int]]:
            with svc.db.read() as session:
                account = accounts.get(session, account_id)
                lister = accounts.followers if kind == "followers" else accounts.following
                rows = lister(session, account.id, **window)
                presenter = Presenter(session, svc.settings, viewer_id(viewer))
                return [presenter.account(a) for _, a in rows], [cursor for cursor, _ in rows]

        data, cursors = await run(work)
        return paged(request, data, cursors)

    endpoint.__name__ = f"account_{kind}"
    return endpoint


router.add_api_route("/api/v1/accounts/{account_id}/followers", _follow_list("followers"), methods=["GET"],
                     summary="Accounts following this account")
router.add_api_route("/api/v1/accounts/{account_id}/following", _follow_list("following"), methods=["GET"],
                     summary="Accounts this account follows")


def _relation_action(name: str, scope: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, account_id: str, viewer: Viewer = Depends(require(scope))) -> Response:
        params = await read_params(request)
        svc = services(request)

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                me = viewer.account_in(session)
                if name == "follow":
                    rel = accounts.follow(session, me, account_id, reblogs=params.bool("reblogs", True),
                                          notify=params.bool("notify", False))
                elif name == "mute":
                    rel = accounts.mute(session, me, account_id,
                                        notifications_too=params.bool("notifications", True))
                else:
                    rel = getattr(accounts, name)(session, me, account_id)
                return Presenter(session, svc.settings, me.id).relationship(rel)

        return JSON(await run(work))

    endpoint.__name__ = f"account_{name}"
    return endpoint


for _name, _scope in (("follow", "write:follows"), ("unfollow", "write:follows"), ("block", "write:blocks"),
                      ("unblock", "write:blocks"), ("mute", "write:mutes"), ("unmute", "write:mutes")):
    router.add_api_route(f"/api/v1/accounts/{{account_id}}/{_name}", _relation_action(_name, _scope),
                         methods=["POST"], summary=f"{_name.capitalize()} an account")
