"""Markers (saved reading positions) and the viewer's preferences (docs.joinmastodon.org/methods/markers,
/methods/preferences)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.api.serializers import iso
from warden.errors import ValidationFailed
from warden.platform import accounts, markers

router = APIRouter(tags=["markers"])


@router.get("/api/v1/markers", summary="Saved reading positions in the home timeline and notifications")
async def get_markers(request: Request, viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    wanted = params.list("timeline")

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return {name: markers.marker_json(m, iso) for name, m in markers.get(session, viewer.account_id,
                                                                                 wanted).items()}

    return JSON(await run(work))


@router.post("/api/v1/markers", summary="Save reading positions")
async def save_markers(request: Request, viewer: Viewer = Depends(require("write:statuses"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    positions: dict[str, str] = {}
    for name in ("home", "notifications"):
        value = params.data.get(name)
        if value is None:
            continue
        if not isinstance(value, dict) or value.get("last_read_id") in (None, ""):
            raise ValidationFailed(f"Validation failed: {name}[last_read_id] is missing")
        positions[name] = str(value["last_read_id"])

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            return {name: markers.marker_json(m, iso)
                    for name, m in markers.save(session, viewer.account_id, positions).items()}

    return JSON(await run(work))


@router.get("/api/v1/preferences", summary="The viewer's posting and reading preferences")
async def preferences(request: Request, viewer: Viewer = Depends(require("read:accounts"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            accounts.get(session, viewer.account_id)  # a 404 if the account is gone
            # Warden keeps no per-account posting or reading settings yet: these are Mastodon's defaults
            return {"posting:default:visibility": "public", "posting:default:sensitive": False,
                    "posting:default:language": None, "reading:expand:media": "default",
                    "reading:expand:spoilers": False}

    return JSON(await run(work))
