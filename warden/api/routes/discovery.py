"""Discovery: trends, follow suggestions, the directory, hashtags (followed and featured),
familiar followers, announcements, domain blocks and the rest of the instance's public metadata."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, optional_viewer, require, run, services, viewer_id
from warden.api.pagination import paged, window_args
from warden.api.params import Params, read_params
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.errors import ValidationFailed
from warden.platform import accounts, announcements, discovery, trends
from warden.platform.ids import as_id
from warden.platform.pagination import clamp_limit
from warden.store.models import Tag

router = APIRouter(tags=["discovery"])


def tag_json(presenter: Presenter, tags: list[Tag], *, history: bool = True) -> list[dict[str, Any]]:
    """Mastodon Tag entities, with `following` / `featuring` for the viewer and the week's history."""
    session, viewer = presenter.session, presenter.viewer_id
    ids = [t.id for t in tags]
    followed = discovery.followed_tag_ids(session, viewer, ids)
    featured = discovery.featured_tag_ids(session, viewer, ids)
    days = trends.history(session, ids) if history else {}
    out = []
    for tag in tags:
        data = presenter.tag(tag)
        data.update({"id": str(tag.id), "history": days.get(tag.id, [])})
        if viewer is not None:
            data["following"], data["featuring"] = tag.id in followed, tag.id in featured
        out.append(data)
    return out


def _offset(value: int | None) -> int:
    return max(0, min(value or 0, 10_000))


# --- trends ---------------------------------------------------------------------------------------


@router.get("/api/v1/trends/tags", summary="Hashtags trending on this server (policy-checked, reviewed)")
async def trending_tags(request: Request, limit: int | None = None, offset: int | None = None,
                        viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            ranked = trends.tag_ranking(session, limit=clamp_limit(limit, 10, 20), offset=_offset(offset))
            return tag_json(Presenter(session, svc.settings, viewer_id(viewer)), [t for t, _ in ranked])

    return JSON(await run(work))


router.add_api_route("/api/v1/trends", trending_tags, methods=["GET"],
                     summary="Trending hashtags (the deprecated name of /api/v1/trends/tags)")


@router.get("/api/v1/trends/statuses", summary="Posts trending on this server (policy-checked, reviewed)")
async def trending_statuses(request: Request, limit: int | None = None, offset: int | None = None,
                            viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            rows = trends.status_ranking(session, viewer_id(viewer), limit=clamp_limit(limit, 20, 40),
                                         offset=_offset(offset))
            return Presenter(session, svc.settings, viewer_id(viewer)).statuses(rows)

    return JSON(await run(work))


@router.get("/api/v1/trends/links", summary="Trending links (none: this server makes no link previews)")
async def trending_links(limit: int | None = None, offset: int | None = None) -> Response:
    return JSON([])


# --- suggestions and the directory ----------------------------------------------------------------


@router.get("/api/v2/suggestions", summary="Accounts the viewer may want to follow, with why")
async def suggestions_v2(request: Request, limit: int | None = None,
                         viewer: Viewer = Depends(require("read"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            presenter = Presenter(session, svc.settings, viewer.account_id)
            # Mastodon 4.3's `sources`: friends_of_friends, or most_followed for the global fallback
            return [{"source": "global" if source == "global" else "past_interactions",
                     "sources": ["most_followed" if source == "global" else source],
                     "account": presenter.account(account)}
                    for source, account in discovery.suggestions(session, viewer.account_id, clamp_limit(limit, 40, 80))]

    return JSON(await run(work))


@router.get("/api/v1/suggestions", summary="Accounts the viewer may want to follow (v1)")
async def suggestions_v1(request: Request, limit: int | None = None,
                         viewer: Viewer = Depends(require("read"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return [presenter.account(a) for _, a in discovery.suggestions(session, viewer.account_id,
                                                                            clamp_limit(limit, 40, 80))]

    return JSON(await run(work))


@router.delete("/api/v1/suggestions/{account_id}", summary="Stop suggesting an account")
async def dismiss_suggestion(request: Request, account_id: str, viewer: Viewer = Depends(require("read"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            discovery.dismiss_suggestion(session, viewer.account_in(session), account_id)

    await run(work)
    return JSON({})


@router.get("/api/v1/directory", summary="Discoverable accounts of this server")
async def directory(request: Request, offset: int | None = None, limit: int | None = None, order: str = "active",
                    local: bool = False, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)
    if order not in ("active", "new"):
        raise ValidationFailed("Validation failed: order must be active or new")

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            rows = discovery.directory(session, viewer_id(viewer), order=order, offset=_offset(offset),
                                       limit=clamp_limit(limit, 40, 80))
            return Presenter(session, svc.settings, viewer_id(viewer)).accounts(rows)

    return JSON(await run(work))


# --- hashtags -------------------------------------------------------------------------------------


@router.get("/api/v1/tags/{name}", summary="A hashtag, with whether the viewer follows it")
async def get_tag(request: Request, name: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return tag_json(Presenter(session, svc.settings, viewer_id(viewer)), [discovery.tag_by_name(session, name)])[0]

    return JSON(await run(work))


def _tag_action(name: str, scope: str, action: Any, summary: str) -> None:
    async def endpoint(request: Request, tag_name: str, viewer: Viewer = Depends(require(scope))) -> Response:
        svc = services(request)

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                result = action(session, viewer.account_in(session), tag_name)
                tag = result if isinstance(result, Tag) else session.get(Tag, result.tag_id)
                return tag_json(Presenter(session, svc.settings, viewer.account_id), [tag])[0]

        return JSON(await run(work))

    endpoint.__name__ = f"tag_{name}"
    router.add_api_route(f"/api/v1/tags/{{tag_name}}/{name}", endpoint, methods=["POST"], summary=summary)


_tag_action("follow", "write:follows", discovery.follow_tag, "Follow a hashtag: its posts reach the home timeline")
_tag_action("unfollow", "write:follows", discovery.unfollow_tag, "Stop following a hashtag")
_tag_action("feature", "write:accounts", discovery.feature_tag, "Feature a hashtag on one's profile")
_tag_action("unfeature", "write:accounts", discovery.unfeature_tag, "Stop featuring a hashtag on one's profile")


@router.get("/api/v1/followed_tags", summary="Hashtags the viewer follows")
async def followed_tags(request: Request, max_id: str | None = None, since_id: str | None = None,
                        min_id: str | None = None, limit: int | None = None,
                        viewer: Viewer = Depends(require("read:follows"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=100, maximum=200)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            rows = discovery.followed_tags(session, viewer.account_id, **window)
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return tag_json(presenter, [t for _, t in rows]), [cursor for cursor, _ in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


def featured_json(svc: Any, account: Any, rows: list[Any]) -> list[dict[str, Any]]:
    base = svc.settings.base_url
    return [{"id": str(featured.id), "name": tag.name, "url": f"{base}/@{account.username}/tagged/{tag.name}",
             "statuses_count": str(count), "last_status_at": last.date().isoformat() if last else None}
            for featured, tag, count, last in rows]


@router.get("/api/v1/featured_tags", summary="Hashtags the viewer features on their profile")
async def my_featured_tags(request: Request, viewer: Viewer = Depends(require("read:accounts"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            me = viewer.account_in(session)
            return featured_json(svc, me, discovery.featured_tags(session, me.id))

    return JSON(await run(work))


@router.post("/api/v1/featured_tags", summary="Feature a hashtag on one's profile")
async def add_featured_tag(request: Request, viewer: Viewer = Depends(require("write:accounts"))) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            me = viewer.account_in(session)
            row = discovery.feature_tag(session, me, params.str("name", "") or "")
            return next(f for f in featured_json(svc, me, discovery.featured_tags(session, me.id)) if f["id"] == str(row.id))

    return JSON(await run(work))


@router.delete("/api/v1/featured_tags/{featured_id}", summary="Stop featuring a hashtag")
async def delete_featured_tag(request: Request, featured_id: str,
                              viewer: Viewer = Depends(require("write:accounts"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            discovery.delete_featured_tag(session, viewer.account_in(session), featured_id)

    await run(work)
    return JSON({})


@router.get("/api/v1/featured_tags/suggestions", summary="Hashtags the viewer used recently, to feature")
async def featured_tag_suggestions(request: Request, viewer: Viewer = Depends(require("read:accounts"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return tag_json(Presenter(session, svc.settings, viewer.account_id),
                            discovery.featured_tag_suggestions(session, viewer.account_id))

    return JSON(await run(work))


@router.get("/api/v1/accounts/{account_id}/featured_tags", summary="Hashtags an account features")
async def account_featured_tags(request: Request, account_id: str,
                                viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            account = accounts.get(session, account_id)
            if account.suspended_at is not None:
                return []
            return featured_json(svc, account, discovery.featured_tags(session, account.id))

    return JSON(await run(work))


# --- announcements --------------------------------------------------------------------------------


@router.get("/api/v1/announcements", summary="The server's current announcements")
async def list_announcements(request: Request, viewer: Viewer = Depends(require("read"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return announcements.render(session, announcements.active(session), viewer.account_id)

    return JSON(await run(work))


@router.post("/api/v1/announcements/{announcement_id}/dismiss", summary="Mark an announcement as read")
async def dismiss_announcement(request: Request, announcement_id: str,
                               viewer: Viewer = Depends(require("write:accounts"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            announcements.dismiss(session, viewer.account_id, announcement_id)

    await run(work)
    return JSON({})


@router.put("/api/v1/announcements/{announcement_id}/reactions/{name}", summary="React to an announcement with an emoji")
async def add_reaction(request: Request, announcement_id: str, name: str,
                       viewer: Viewer = Depends(require("write:favourites"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            announcements.react(session, viewer.account_id, announcement_id, name)

    await run(work)
    return JSON({})


@router.delete("/api/v1/announcements/{announcement_id}/reactions/{name}", summary="Take back a reaction")
async def remove_reaction(request: Request, announcement_id: str, name: str,
                          viewer: Viewer = Depends(require("write:favourites"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            announcements.unreact(session, viewer.account_id, announcement_id, name)

    await run(work)
    return JSON({})


# --- domain blocks --------------------------------------------------------------------------------


@router.get("/api/v1/domain_blocks", summary="Domains the viewer blocks (stored; no federation yet)")
async def list_domain_blocks(request: Request, max_id: str | None = None, since_id: str | None = None,
                             min_id: str | None = None, limit: int | None = None,
                             viewer: Viewer = Depends(require("read:blocks"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=100, maximum=200)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            rows = discovery.blocked_domains(session, viewer.account_id, **window)
            return [domain for _, domain in rows], [cursor for cursor, _ in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


def _domain_action(block: bool):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, viewer: Viewer = Depends(require("write:blocks"))) -> Response:
        params = await read_params(request)
        svc = services(request)

        def work() -> None:
            with svc.db.write() as session:
                me = viewer.account_in(session)
                (discovery.block_domain if block else discovery.unblock_domain)(session, me, params.str("domain"))

        await run(work)
        return JSON({})

    endpoint.__name__ = "block_domain" if block else "unblock_domain"
    return endpoint


router.add_api_route("/api/v1/domain_blocks", _domain_action(True), methods=["POST"], summary="Block a domain")
router.add_api_route("/api/v1/domain_blocks", _domain_action(False), methods=["DELETE"], summary="Unblock a domain")


# --- the instance ---------------------------------------------------------------------------------


@router.get("/api/v1/instance/activity", summary="Posts, active posters and sign-ups per week (12 weeks)")
async def instance_activity(request: Request) -> Response:
    svc = services(request)

    def work() -> list[dict[str, str]]:
        with svc.db.read() as session:
            return discovery.weekly_activity(session)

    return JSON(await run(work))


@router.get("/api/v1/instance/translation_languages", summary="Translation languages (none: no translation)")
async def translation_languages() -> Response:
    return JSON({})


@router.get("/api/v1/instance/domain_blocks", summary="Domains this server blocks (none: no federation)")
async def instance_domain_blocks() -> Response:
    return JSON([])


@router.get("/api/v1/instance/extended_description", summary="The server's extended description")
async def extended_description(request: Request) -> Response:
    from html import escape

    settings = services(request).settings
    return JSON({"updated_at": "1970-01-01T00:00:00.000Z",
                 "content": f"<p>{escape(settings.instance_description or '')}</p>"})


async def familiar_followers(request: Request, viewer: Viewer = Depends(require("read:follows"))) -> Response:
    params = await read_params(request)
    raw_ids = params.list("id")
    if not raw_ids and request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()  # Mastodon.py sends this GET's ids as a JSON body, which Rails accepts
        try:
            parsed = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            raise ValidationFailed("Validation failed: the request body is not valid JSON") from None
        raw_ids = Params(parsed if isinstance(parsed, dict) else {}).list("id")
    svc = services(request)
    ids = [i for i in (as_id(raw) for raw in raw_ids) if i is not None][:40]

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            presenter = Presenter(session, svc.settings, viewer.account_id)
            found = discovery.familiar_followers(session, viewer.account_id, ids)
            return [{"id": str(i), "accounts": presenter.accounts(found[i])} for i in ids]

    return JSON(await run(work))
