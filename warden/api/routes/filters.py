"""Filters: v2 filter groups with their keywords and statuses, and the v1 view of one keyword per filter
(docs.joinmastodon.org/methods/filters). Matching happens where statuses are rendered (`serializers`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.params import Params, read_params, truth
from warden.api.responses import JSON
from warden.api.serializers import iso
from warden.errors import ValidationFailed
from warden.platform import filters, statuses
from warden.platform.filters import KeywordChange

router = APIRouter(tags=["filters"])
READ, WRITE = require("read:filters"), require("write:filters")


def _keyword_changes(params: Params) -> list[KeywordChange]:
    raw = params.data.get("keywords_attributes")
    if raw is None:
        return []
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else None
    if items is None or not all(isinstance(item, dict) for item in items):
        raise ValidationFailed("Validation failed: keywords_attributes must be a list of keywords")
    return [KeywordChange(keyword=None if item.get("keyword") is None else str(item["keyword"]),
                          whole_word=truth(item.get("whole_word")), id=item.get("id"),
                          destroy=bool(truth(item.get("_destroy")))) for item in items]


def _expires_in(params: Params) -> tuple[int | None, bool]:
    """(seconds, whether the request set it): an empty `expires_in` clears the expiry."""
    if "expires_in" not in params:
        return None, False
    value = params.data.get("expires_in")
    if value is None or value == "":
        return None, True
    return params.int("expires_in"), True


def _group(session: Any, entry: Any) -> dict[str, Any]:
    keywords, status_filters = filters.children(session, [entry.id])
    return filters.filter_json(entry, keywords[entry.id], status_filters[entry.id], iso)


# --- v2 ------------------------------------------------------------------------------------------


@router.get("/api/v2/filters", summary="The viewer's filter groups")
async def list_filters(request: Request, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            rows = filters.listing(session, viewer.account_id)
            keywords, status_filters = filters.children(session, [r.id for r in rows])
            return [filters.filter_json(r, keywords[r.id], status_filters[r.id], iso) for r in rows]

    return JSON(await run(work))


@router.get("/api/v2/filters/{filter_id}", summary="One filter group")
async def get_filter(request: Request, filter_id: str, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return _group(session, filters.owned(session, viewer.account_id, filter_id))

    return JSON(await run(work))


@router.post("/api/v2/filters", summary="Create a filter group")
async def create_filter(request: Request, viewer: Viewer = Depends(WRITE)) -> Response:
    params = await read_params(request)
    svc = services(request)
    expires_in, _ = _expires_in(params)
    changes = _keyword_changes(params)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            entry = filters.create(session, viewer.account_id, title=params.str("title"),
                                   context=params.list("context"), filter_action=params.str("filter_action"),
                                   expires_in=expires_in, keywords=changes)
            return _group(session, entry)

    return JSON(await run(work))


@router.put("/api/v2/filters/{filter_id}", summary="Update a filter group (and its keywords)")
async def update_filter(request: Request, filter_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    params = await read_params(request)
    svc = services(request)
    expires_in, expires_set = _expires_in(params)
    changes = _keyword_changes(params)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            entry = filters.update(session, viewer.account_id, filter_id, title=params.str("title"),
                                   context=params.list("context"), filter_action=params.str("filter_action"),
                                   expires_in=expires_in, expires_set=expires_set, keywords=changes)
            return _group(session, entry)

    return JSON(await run(work))


@router.delete("/api/v2/filters/{filter_id}", summary="Delete a filter group")
async def delete_filter(request: Request, filter_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            filters.remove(session, viewer.account_id, filter_id)

    await run(work)
    return JSON({})


@router.get("/api/v2/filters/{filter_id}/keywords", summary="A filter group's keywords")
async def list_keywords(request: Request, filter_id: str, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            entry = filters.owned(session, viewer.account_id, filter_id)
            keywords, _ = filters.children(session, [entry.id])
            return [filters.keyword_json(k) for k in keywords[entry.id]]

    return JSON(await run(work))


@router.post("/api/v2/filters/{filter_id}/keywords", summary="Add a keyword to a filter group")
async def add_keyword(request: Request, filter_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = filters.add_keyword(session, viewer.account_id, filter_id, params.str("keyword"),
                                      truth(params.data.get("whole_word")))
            return filters.keyword_json(row)

    return JSON(await run(work))


@router.get("/api/v2/filters/keywords/{keyword_id}", summary="One filter keyword")
async def get_keyword(request: Request, keyword_id: str, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return filters.keyword_json(filters.owned_keyword(session, viewer.account_id, keyword_id)[0])

    return JSON(await run(work))


@router.put("/api/v2/filters/keywords/{keyword_id}", summary="Change a filter keyword")
async def update_keyword(request: Request, keyword_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = filters.update_keyword(session, viewer.account_id, keyword_id, params.str("keyword"),
                                         truth(params.data.get("whole_word")))
            return filters.keyword_json(row)

    return JSON(await run(work))


@router.delete("/api/v2/filters/keywords/{keyword_id}", summary="Remove a keyword from its filter group")
async def delete_keyword(request: Request, keyword_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            filters.remove_keyword(session, viewer.account_id, keyword_id)

    await run(work)
    return JSON({})


@router.get("/api/v2/filters/{filter_id}/statuses", summary="A filter group's statuses")
async def list_status_filters(request: Request, filter_id: str, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            entry = filters.owned(session, viewer.account_id, filter_id)
            _, status_filters = filters.children(session, [entry.id])
            return [filters.status_filter_json(s) for s in status_filters[entry.id]]

    return JSON(await run(work))


@router.post("/api/v2/filters/{filter_id}/statuses", summary="Add a status to a filter group")
async def add_status_filter(request: Request, filter_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = filters.add_status(session, viewer.account_id, filter_id, params.str("status_id"),
                                     lambda ident: statuses.get_visible(session, viewer.account_id, ident))
            return filters.status_filter_json(row)

    return JSON(await run(work))


@router.get("/api/v2/filters/statuses/{status_filter_id}", summary="One status filter")
async def get_status_filter(request: Request, status_filter_id: str, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return filters.status_filter_json(filters.owned_status(session, viewer.account_id, status_filter_id))

    return JSON(await run(work))


@router.delete("/api/v2/filters/statuses/{status_filter_id}", summary="Remove a status from its filter group")
async def delete_status_filter(request: Request, status_filter_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            filters.remove_status(session, viewer.account_id, status_filter_id)

    await run(work)
    return JSON({})


# --- v1 ------------------------------------------------------------------------------------------


@router.get("/api/v1/filters", summary="The viewer's filters, one per keyword (v1)")
async def list_filters_v1(request: Request, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return [filters.v1_json(k, f, iso) for k, f in filters.v1_listing(session, viewer.account_id)]

    return JSON(await run(work))


# A v1 filter is one keyword of a group: its id is the keyword's (`keyword_id` in these paths).
@router.get("/api/v1/filters/{keyword_id}", summary="One filter (v1: a keyword of a group)")
async def get_filter_v1(request: Request, keyword_id: str, viewer: Viewer = Depends(READ)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            keyword, entry = filters.owned_keyword(session, viewer.account_id, keyword_id)
            return filters.v1_json(keyword, entry, iso)

    return JSON(await run(work))


@router.post("/api/v1/filters", summary="Create a filter of one phrase (v1)")
async def create_filter_v1(request: Request, viewer: Viewer = Depends(WRITE)) -> Response:
    params = await read_params(request)
    svc = services(request)
    expires_in, _ = _expires_in(params)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            keyword, entry = filters.v1_create(session, viewer.account_id, phrase=params.str("phrase"),
                                               context=params.list("context"),
                                               irreversible=params.bool("irreversible"),
                                               whole_word=params.bool("whole_word"), expires_in=expires_in)
            return filters.v1_json(keyword, entry, iso)

    return JSON(await run(work))


@router.put("/api/v1/filters/{keyword_id}", summary="Change a filter (v1)")
async def update_filter_v1(request: Request, keyword_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    params = await read_params(request)
    svc = services(request)
    expires_in, expires_set = _expires_in(params)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            keyword, entry = filters.v1_update(
                session, viewer.account_id, keyword_id, phrase=params.str("phrase"), context=params.list("context"),
                irreversible=truth(params.data.get("irreversible")), whole_word=truth(params.data.get("whole_word")),
                expires_in=expires_in, expires_set=expires_set)
            return filters.v1_json(keyword, entry, iso)

    return JSON(await run(work))


@router.delete("/api/v1/filters/{keyword_id}", summary="Delete a filter (v1: the keyword)")
async def delete_filter_v1(request: Request, keyword_id: str, viewer: Viewer = Depends(WRITE)) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            filters.v1_remove(session, viewer.account_id, keyword_id)

    await run(work)
    return JSON({})
