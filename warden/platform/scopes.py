"""OAuth scopes as Mastodon defines them, and the check an endpoint makes against a token."""

from __future__ import annotations

from warden.errors import ValidationFailed

_READ = ["accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
         "notifications", "search", "statuses"]
_WRITE = ["accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists",
          "media", "mutes", "notifications", "reports", "statuses"]
_ADMIN = ["accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
          "canonical_email_blocks"]

KNOWN_SCOPES: frozenset[str] = frozenset(
    ["read", "write", "follow", "push", "profile", "admin:read", "admin:write"]
    + [f"read:{s}" for s in _READ]
    + [f"write:{s}" for s in _WRITE]
    + [f"admin:read:{s}" for s in _ADMIN]
    + [f"admin:write:{s}" for s in _ADMIN]
)

#: The legacy `follow` scope stands for these.
_FOLLOW_IMPLIES = frozenset(["read:follows", "write:follows", "read:blocks", "write:blocks",
                             "read:mutes", "write:mutes"])


def parse_scopes(text: str) -> frozenset[str]:
    return frozenset(part for part in (text or "").replace("+", " ").split() if part)


def validate_scopes(text: str) -> list[str]:
    """The scopes in `text`, in order, or a 422 naming the first unknown one."""
    scopes = [s for s in (text or "").replace("+", " ").split() if s]
    for scope in scopes:
        if scope not in KNOWN_SCOPES:
            raise ValidationFailed(f"The requested scope is invalid, unknown, or malformed: {scope}")
    return list(dict.fromkeys(scopes))


def grants(granted: frozenset[str], required: str) -> bool:
    """Whether a token with `granted` scopes may use an endpoint that needs `required`."""
    if required in granted:
        return True
    parts = required.split(":")
    # "read:statuses" is granted by "read"; "admin:read:accounts" by "admin:read".
    for cut in range(len(parts) - 1, 0, -1):
        if ":".join(parts[:cut]) in granted:
            return True
    return "follow" in granted and required in _FOLLOW_IMPLIES
