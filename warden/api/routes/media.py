"""Media attachments (Mastodon's media API) and the files themselves: thin endpoints over
`warden.media.service`. Images are processed before the upload is answered (200), as Mastodon 4 does
for images; `url` is null and GET answers 206 only for an attachment still processing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from warden.api.deps import Services, Viewer, offload, optional_viewer, require, run, services, viewer_id
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.errors import NotFound, ValidationFailed, WardenError
from warden.media import service
from warden.media.processing import MAX_UPLOAD_BYTES, MediaTooLarge, too_large_message
from warden.media.storage import MediaStorage, MissingFile

router = APIRouter(tags=["media"])

#: The largest upload request read: the file's limit plus room for the multipart envelope and the
#: description (`api/guard.py` refuses a longer body with 413 before it is read).
UPLOAD_BODY_CAP = MAX_UPLOAD_BYTES + 64 * 1024
UPLOAD_ROUTES = (("POST", "/api/v1/media"), ("POST", "/api/v2/media"))
#: How long a cache may keep a published post's file: short, so a later removal takes effect at
#: caches within minutes (they revalidate with the ETag, answered 304, after that).
PUBLIC_MAX_AGE = 600


#: The upload's form, for /openapi.json (the route reads it by hand).
_UPLOAD_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or GIF, at most 16 MB"},
        "thumbnail": {"type": "string", "format": "binary", "description": "ignored (audio and video only)"},
        "description": {"type": "string", "maxLength": 1500, "description": "alt text"},
        "focus": {"type": "string", "description": "x,y from -1.0 to 1.0"}}}}}}}


def storage(request: Request) -> MediaStorage:
    return services(request).extras["media_storage"]  # type: ignore[no-any-return]


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, UploadFile):
        return None
    if "\x00" in value:
        raise ValidationFailed("Validation failed: text may not contain NUL characters")
    return str(value)


async def _upload(request: Request, viewer: Viewer) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise ValidationFailed("Validation failed: File can't be blank (send it as multipart/form-data)")
    async with request.form(max_files=2, max_fields=20) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ValidationFailed("Validation failed: File can't be blank")
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise MediaTooLarge(too_large_message())
        description, focus = _text(form.get("description")), _text(form.get("focus"))
        svc = services(request)
        media = await offload(service.upload, svc.db, storage(request), viewer.account_id, data,
                              content_type=file.content_type, filename=file.filename,
                              description=description, focus=focus)
    body = service.media_json(svc.settings.base_url, media)
    return JSON(body, status_code=200 if media.state == "ready" else 202)


@router.post("/api/v2/media", summary="Upload an image (processed before the answer: 200; 202 while processing)",
             openapi_extra=_UPLOAD_FORM)
async def upload_v2(request: Request, viewer: Viewer = Depends(require("write:media"))) -> Response:
    return await _upload(request, viewer)


@router.post("/api/v1/media", summary="Upload an image (deprecated by Mastodon in favour of v2; same behaviour)",
             openapi_extra=_UPLOAD_FORM)
async def upload_v1(request: Request, viewer: Viewer = Depends(require("write:media"))) -> Response:
    return await _upload(request, viewer)


@router.get("/api/v1/media/{media_id}", summary="One of your unattached attachments (206 while processing)")
async def get_media(request: Request, media_id: str, viewer: Viewer = Depends(require("write:media"))) -> Response:
    svc = services(request)

    def work() -> tuple[dict[str, Any], str]:
        with svc.db.read() as session:
            media = service.get_own(session, viewer.account_id, media_id)
            return service.media_json(svc.settings.base_url, media), media.state

    body, state = await run(work)
    if state == "failed":
        raise ValidationFailed("Validation failed: File could not be processed")
    return JSON(body, status_code=200 if state == "ready" else 206)


@router.put("/api/v1/media/{media_id}", summary="Change an unattached attachment's description or focus")
async def update_media(request: Request, media_id: str, viewer: Viewer = Depends(require("write:media"))) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            media = service.update(session, viewer.account_id, media_id, description=params.str("description"),
                                   focus=params.str("focus"))
            return service.media_json(svc.settings.base_url, media)

    return JSON(await run(work))


@router.delete("/api/v1/media/{media_id}", summary="Delete an attachment not attached to a post")
async def delete_media(request: Request, media_id: str, viewer: Viewer = Depends(require("write:media"))) -> Response:
    svc = services(request)
    await offload(service.delete, svc.db, storage(request), viewer.account_id, media_id)
    return JSON({})


async def _file_viewer(request: Request) -> Viewer | None:
    """Who asks for a file: only the author of a held post is told apart (by their token); any other
    request, with a bad, revoked or suspended token too, is anonymous and is answered as such."""
    try:
        return await optional_viewer(request)
    except WardenError:
        return None


@router.get(service.FILE_PATH + "/{media_token}/{file_name}", summary="A media file (when its post may be seen)")
async def media_file(request: Request, media_token: str, file_name: str,
                     viewer: Viewer | None = Depends(_file_viewer)) -> Response:
    svc = services(request)

    def access() -> service.FileAccess:
        with svc.db.read() as session:
            return service.file_access(session, media_token, file_name, viewer_id(viewer))

    found = await run(access)
    headers = {"ETag": found.etag, "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; sandbox",
               "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}" if found.public else "private, no-store"}
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    files = storage(request)
    path = files.path(found.key)
    if path is not None:
        if not path.is_file():
            raise NotFound()
        return FileResponse(path, media_type=found.content_type, headers=headers, stat_result=None)
    try:
        data = await offload(files.get, found.key)
    except MissingFile:
        raise NotFound() from None
    return Response(data, media_type=found.content_type, headers=headers)


def install_storage(svc: Services, files: MediaStorage | None = None) -> None:
    """Give the app its media storage (from the settings unless one is given)."""
    from warden.media.storage import from_settings

    svc.extras["media_storage"] = files or from_settings(svc.settings)
