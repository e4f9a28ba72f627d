"""Direct-message conversations (docs.joinmastodon.org/methods/conversations)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.pagination import paged, window_args
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.platform import conversations

router = APIRouter(tags=["conversations"])


@router.get("/api/v1/conversations", summary="The viewer's direct-message conversations, newest first")
async def list_conversations(request: Request, max_id: str | None = None, since_id: str | None = None,
                             min_id: str | None = None, limit: int | None = None,
                             viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            rows = conversations.page(session, viewer.account_id, window)
            return (Presenter(session, svc.settings, viewer.account_id).conversations(rows),
                    [row.last_status_id for row in rows])

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.delete("/api/v1/conversations/{conversation_id}", summary="Remove a conversation from the viewer's list")
async def delete_conversation(request: Request, conversation_id: str,
                              viewer: Viewer = Depends(require("write:conversations"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            conversations.remove(session, viewer.account_id, conversation_id)

    await run(work)
    return JSON({})


@router.post("/api/v1/conversations/{conversation_id}/read", summary="Mark a conversation as read")
async def read_conversation(request: Request, conversation_id: str,
                            viewer: Viewer = Depends(require("write:conversations"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = conversations.mark_read(session, viewer.account_id, conversation_id)
            return Presenter(session, svc.settings, viewer.account_id).conversations([row])[0]

    return JSON(await run(work))
