"""The console's Jinja2 environment (autoescape on for every template) and page rendering."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader
from starlette.responses import HTMLResponse

from warden import __version__
from warden.console import auth, text
from warden.store.models import utcnow

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _seconds(value: float | None) -> str:
    return "\u2013" if value is None else text.duration(timedelta(seconds=value))


def _percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{100 * value:.1f}%"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True)
environment.filters.update(when=_when, seconds=_seconds, percent=_percent, pretty=_pretty, visible=text.visible)
environment.globals.update(highlight=text.highlight, visible=text.visible, time_left=text.time_left,
                           version=__version__)


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A full console page: the template with the user, CSRF token, flash message and clock."""
    page = environment.get_template(template).render(
        request=request, user=auth.current_user(request), csrf=auth.csrf_token(request),
        flash=auth.pop_flash(request), now=utcnow(), **context)
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})


def fragment(template: str, **context: Any) -> HTMLResponse:
    """A piece of a page (e.g. the statement preview) fetched by console.js."""
    return HTMLResponse(environment.get_template(template).render(**context), headers={"Cache-Control": "no-store"})
