"""Instance metadata (v1 and v2) and rules: what clients read first to learn about the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import Response

from warden import __version__
from warden.api.deps import Services, run, services
from warden.api.responses import JSON
from warden.api.serializers import version_string
from warden.media.processing import MAX_INPUT_PIXELS, MAX_UPLOAD_BYTES, SUPPORTED_MIME_TYPES
from warden.media.service import MAX_ATTACHMENTS, MAX_DESCRIPTION_CHARS
from warden.platform import polls
from warden.platform.discovery import MAX_FEATURED_TAGS
from warden.platform.status_extras import MAX_PINS
from warden.platform import push
from warden.store.models import Account, InstanceRule, Status

router = APIRouter(tags=["instance"])

_STATUS_LIMITS = {"max_characters": 500, "max_media_attachments": MAX_ATTACHMENTS, "characters_reserved_per_url": 23}
#: Images only (docs/media.md): no video or audio, so their limits are 0.
_MEDIA_LIMITS = {"supported_mime_types": list(SUPPORTED_MIME_TYPES), "image_size_limit": MAX_UPLOAD_BYTES,
                 "image_matrix_limit": MAX_INPUT_PIXELS, "description_limit": MAX_DESCRIPTION_CHARS,
                 "video_size_limit": 0, "video_frame_rate_limit": 0, "video_matrix_limit": 0}
_POLL_LIMITS = dict(polls.LIMITS)


def _rules(svc: Services) -> list[dict[str, str]]:
    with svc.db.read() as session:
        rows = session.scalars(select(InstanceRule).order_by(InstanceRule.position, InstanceRule.id))
        return [{"id": str(r.id), "text": r.text, "hint": r.hint} for r in rows]


def _stats(svc: Services) -> tuple[int, int]:
    with svc.db.read() as session:
        users = session.scalar(select(func.count()).select_from(Account).where(Account.suspended_at.is_(None))) or 0
        posts = session.scalar(select(func.count()).select_from(Status).where(Status.deleted_at.is_(None))) or 0
        return users, posts


def _domain(svc: Services) -> str:
    return svc.settings.base_url.split("://", 1)[-1].split("/")[0]


@router.get("/api/v1/instance", summary="Instance metadata (v1)")
async def instance_v1(request: Request) -> Response:
    svc = services(request)
    rules = await run(_rules, svc)
    users, posts = await run(_stats, svc)
    s = svc.settings
    limits = dict(_STATUS_LIMITS, max_characters=s.max_status_chars)
    data: dict[str, Any] = {
        "uri": _domain(svc), "title": s.instance_title, "short_description": s.instance_description,
        "description": s.instance_description, "email": s.contact_email, "version": version_string(),
        "urls": {"streaming_api": s.base_url.replace("http", "ws", 1)},
        "stats": {"user_count": users, "status_count": posts, "domain_count": 0},
        "thumbnail": None, "languages": ["en"], "registrations": s.registrations_open,
        "approval_required": False, "invites_enabled": False,
        "configuration": {"accounts": {"max_featured_tags": MAX_FEATURED_TAGS}, "statuses": limits,
                          "media_attachments": _MEDIA_LIMITS, "polls": _POLL_LIMITS},
        "contact_account": None, "rules": rules,
    }
    return JSON(data)


@router.get("/api/v2/instance", summary="Instance metadata (v2)")
async def instance_v2(request: Request) -> Response:
    svc = services(request)
    rules = await run(_rules, svc)
    users, _ = await run(_stats, svc)
    vapid_key = await run(push.vapid_public_key, svc.db)
    s = svc.settings
    return JSON({
        "domain": _domain(svc), "title": s.instance_title, "version": version_string(),
        "source_url": "https://example.invalid/warden", "description": s.instance_description,
        "usage": {"users": {"active_month": users}},
        "thumbnail": {"url": f"{s.base_url}/static/thumbnail.png", "blurhash": None, "versions": {}},
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": s.base_url.replace("http", "ws", 1), "status": None},
            "accounts": {"max_featured_tags": MAX_FEATURED_TAGS, "max_pinned_statuses": MAX_PINS},
            "statuses": dict(_STATUS_LIMITS, max_characters=s.max_status_chars),
            "media_attachments": _MEDIA_LIMITS, "polls": _POLL_LIMITS, "translation": {"enabled": False},
            "vapid": {"public_key": vapid_key},
        },
        "registrations": {"enabled": s.registrations_open, "approval_required": False, "message": None,
                          "url": None},
        "contact": {"email": s.contact_email, "account": None},
        "rules": rules,
    })


@router.get("/api/v1/instance/rules", summary="The server's rules")
async def instance_rules(request: Request) -> Response:
    return JSON(await run(_rules, services(request)))


@router.get("/api/v1/instance/peers", summary="Known peers (none: Warden does not federate)")
async def peers() -> Response:
    return JSON([])


@router.get("/api/v1/custom_emojis", summary="Custom emoji (none)")
async def custom_emojis() -> Response:
    return JSON([])


@router.get("/.well-known/nodeinfo", include_in_schema=False)
async def nodeinfo_links(request: Request) -> Response:
    base = services(request).settings.base_url
    return JSON({"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": f"{base}/nodeinfo/2.0"}]})


@router.get("/nodeinfo/2.0", summary="NodeInfo 2.0")
async def nodeinfo(request: Request) -> Response:
    svc = services(request)
    users, posts = await run(_stats, svc)
    return JSON({"version": "2.0", "software": {"name": "warden", "version": __version__}, "protocols": [],
                 "services": {"outbound": [], "inbound": []}, "openRegistrations": svc.settings.registrations_open,
                 "usage": {"users": {"total": users}, "localPosts": posts}, "metadata": {}})
