"""Web Push subscriptions (docs.joinmastodon.org/methods/push): one per access token, scope `push`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.platform import push

router = APIRouter(tags=["push"])
PATH = "/api/v1/push/subscription"


def _section(params: Any, name: str) -> dict[str, Any]:
    """`name` as a dict, from a JSON object or from form keys `name[a][b]=v` (as Mastodon.py sends them)."""
    flat = params.dict()
    value = flat.get(name)
    out: dict[str, Any] = dict(value) if isinstance(value, dict) else {}
    prefix = f"{name}["
    for key, item in flat.items():
        if not key.startswith(prefix):
            continue
        path = [p.rstrip("]") for p in key[len(name):].split("[")[1:]]
        node = out
        for part in path[:-1]:
            child = node.get(part)
            node = node.setdefault(part, {}) if not isinstance(child, dict) else child
        if path:
            node[path[-1]] = item
    return out


@router.post(PATH, summary="Subscribe this token to Web Push (replaces its previous subscription)")
async def create(request: Request, viewer: Viewer = Depends(require("push"))) -> Response:
    svc, params = services(request), await read_params(request)
    subscription, data = _section(params, "subscription"), _section(params, "data")
    key = await run(push.vapid_public_key, svc.db)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = push.subscribe(session, token_id=viewer.token.token_id, account_id=viewer.account_id,
                                 subscription=subscription, data=data)
            return push.subscription_json(row, key)

    return JSON(await run(work))


@router.get(PATH, summary="This token's Web Push subscription")
async def show(request: Request, viewer: Viewer = Depends(require("push"))) -> Response:
    svc = services(request)
    key = await run(push.vapid_public_key, svc.db)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return push.subscription_json(push.current(session, viewer.token.token_id), key)

    return JSON(await run(work))


@router.put(PATH, summary="Change which notifications are pushed (alerts, policy)")
async def update(request: Request, viewer: Viewer = Depends(require("push"))) -> Response:
    svc, params = services(request), await read_params(request)
    data = _section(params, "data")
    key = await run(push.vapid_public_key, svc.db)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            return push.subscription_json(push.change(session, viewer.token.token_id, data), key)

    return JSON(await run(work))


@router.delete(PATH, summary="Remove this token's Web Push subscription")
async def remove(request: Request, viewer: Viewer = Depends(require("push"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            push.unsubscribe(session, viewer.token.token_id)

    await run(work)
    return JSON({})
