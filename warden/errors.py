"""Domain errors. Services raise these; the API layer turns each into a Mastodon-style
`{"error": ...}` response with the status code named here, the CLI into a one-line message."""

from __future__ import annotations

from typing import Any


class WardenError(Exception):
    status_code = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(WardenError):
    """Input that cannot be accepted as given (422)."""

    status_code = 422


class Unauthorized(WardenError):
    status_code = 401


class Forbidden(WardenError):
    status_code = 403


class NotFound(WardenError):
    status_code = 404

    def __init__(self, message: str = "Record not found", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Conflict(WardenError):
    status_code = 409


class Blocked(WardenError):
    """The moderation gate refused a post before publication (422, with the decision id)."""

    status_code = 422
