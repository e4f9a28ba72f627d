"""Request parameters the way Mastodon clients send them: query string, form or JSON, with
`key[]` arrays. Endpoints read them into a `Params` and validate with its typed getters."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import Request

from warden.api.guard import NUL_MESSAGE
from warden.errors import ValidationFailed


class Params:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def str(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is None:
            return default
        if isinstance(value, list):
            value = value[0] if value else default
        if isinstance(value, (dict, list)):
            raise ValidationFailed(f"Validation failed: {key} must be a string")
        return str(value)

    def bool(self, key: str, default: bool = False) -> bool:
        value = truth(self.data.get(key))
        return default if value is None else value

    def int(self, key: str, default: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValidationFailed(f"Validation failed: {key} must be an integer") from None

    def list(self, key: str) -> list[str]:
        value = self.data.get(key, self.data.get(key + "[]"))
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, dict):  # e.g. status_ids[0]=1 decoded by some clients as a dict
            return [str(v) for v in value.values()]
        return [str(value)]

    def dict(self) -> dict[str, Any]:
        return dict(self.data)


def truth(value: Any) -> bool | None:
    """A form or JSON boolean: None when absent or empty (e.g. "leave unchanged" on an update)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "on", "yes", "t")


#: Rails-style nested form keys: `keywords_attributes[][keyword]`, `keywords_attributes[0][keyword]`,
#: `home[last_read_id]`.
_NESTED = re.compile(r"^([^\[\]]+)(?:\[(\d*)\])?\[([^\[\]]+)\]$")


def _merge(target: dict[str, Any], key: str, value: Any) -> None:
    nested = _NESTED.match(key) if "[" in key and not key.endswith("[]") else None
    if nested is not None:
        name, index, field = nested.groups()
        if index is None:  # home[last_read_id]: one object
            holder = target.setdefault(name, {})
            if isinstance(holder, dict):
                holder[field] = value
        elif index == "":  # a[][k]: a list of objects; a repeated field starts the next one (as Rails)
            items = target.setdefault(name, [])
            if isinstance(items, list):
                if not items or not isinstance(items[-1], dict) or field in items[-1]:
                    items.append({})
                items[-1][field] = value
        else:  # a[0][k]: objects by index
            items = target.setdefault(name, {})
            if isinstance(items, dict):
                items.setdefault(index, {})[field] = value
        return
    if key.endswith("[]"):
        target.setdefault(key[:-2], []).append(value)
    else:
        target[key] = value


async def read_params(request: Request) -> Params:
    """Query-string parameters overlaid by the body (form-encoded, multipart or JSON)."""
    data: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        _merge(data, key, value)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            body = await request.body()
            if body.strip():
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    raise ValidationFailed(f"Validation failed: the request body is not valid JSON ({exc})") from None
                if not isinstance(parsed, dict):
                    raise ValidationFailed("Validation failed: the request body must be a JSON object")
                for key, value in parsed.items():
                    data[key.removesuffix("[]")] = value
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, str):
                    if "\x00" in key or "\x00" in value:  # urlencoded bodies are refused at the door (guard.py)
                        raise ValidationFailed(NUL_MESSAGE)
                    _merge(data, key, value)
    return Params(data)
