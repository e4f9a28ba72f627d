"""The web pages' Jinja2 environment (autoescape on for every template) and page rendering."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.responses import HTMLResponse

from warden import __version__
from warden.config import Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Nothing on these pages runs script, loads from elsewhere or may be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%d %b %Y, %H:%M UTC") if value else ""


def _summary(text: str, limit: int = 200) -> str:
    """One line of plain text for a meta description (escaped by autoescape like everything else)."""
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "\u2026"


environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
environment.filters.update(when=_when, summary=_summary)
environment.globals.update(version=__version__)


def render(settings: Settings, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    page = environment.get_template(template).render(
        base=settings.base_url, title=settings.instance_title, settings=settings, **context)
    # no-cache: a cache must ask again each time, so a removal or a suspension shows at once
    return HTMLResponse(page, status_code=status_code, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
