"""Process settings, read once from the environment (WARDEN_* variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"


def _default_database_url() -> str:
    data_dir = Path(os.environ.get("WARDEN_DATA_DIR", DEFAULT_DATA_DIR))
    return f"sqlite:///{data_dir / 'warden.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    """Everything a Warden process needs to know about its deployment."""

    database_url: str = field(default_factory=_default_database_url)
    #: Public base URL, used for account and status URLs and OAuth metadata.
    base_url: str = "http://127.0.0.1:8080"
    instance_title: str = "Warden"
    instance_description: str = "A microblogging server with a trust & safety engine built in."
    contact_email: str = "admin@warden.local"
    registrations_open: bool = True
    max_status_chars: int = 500
    #: Run the moderation detector in the write path (issue 4); tests may turn it off.
    detection_enabled: bool = True
    #: The broker of a multi-node deployment (`nats://127.0.0.1:4222`, NATS with JetStream); None: the
    #: embedded default (the outbox is consumed in-process, detection runs in-process).
    broker_url: str | None = None
    #: Prefix of every subject, stream and durable consumer this deployment uses on the broker, so
    #: several deployments (or test runs) can share one broker without seeing each other's messages.
    broker_namespace: str = "warden"
    #: The largest request body read, in bytes (a bigger one is answered 413 before it is read). A
    #: status, a report or a console form needs a few kilobytes; the partner notices batch gets its own,
    #: larger cap (`warden.cases.notices.MAX_BATCH_BYTES`) when that is bigger than this.
    max_body_bytes: int = 1024 * 1024

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = os.environ
        values: dict[str, object] = {}
        if "WARDEN_DATABASE_URL" in env:
            values["database_url"] = env["WARDEN_DATABASE_URL"]
        if "WARDEN_BASE_URL" in env:
            values["base_url"] = env["WARDEN_BASE_URL"].rstrip("/")
        if "WARDEN_REGISTRATIONS" in env:
            values["registrations_open"] = env["WARDEN_REGISTRATIONS"].lower() not in ("0", "false", "closed")
        if "WARDEN_DETECTION" in env:
            values["detection_enabled"] = env["WARDEN_DETECTION"].lower() not in ("0", "false", "off")
        if env.get("WARDEN_BROKER_URL"):
            values["broker_url"] = env["WARDEN_BROKER_URL"]
        if env.get("WARDEN_BROKER_NAMESPACE"):
            values["broker_namespace"] = env["WARDEN_BROKER_NAMESPACE"]
        if env.get("WARDEN_MAX_BODY_BYTES"):
            values["max_body_bytes"] = int(env["WARDEN_MAX_BODY_BYTES"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
