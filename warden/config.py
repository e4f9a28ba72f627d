"""Process settings, read once from the environment (WARDEN_* variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"


def _default_media_dir() -> str:
    return str(Path(os.environ.get("WARDEN_DATA_DIR", DEFAULT_DATA_DIR)) / "media")


def _default_database_url() -> str:
    data_dir = Path(os.environ.get("WARDEN_DATA_DIR", DEFAULT_DATA_DIR))
    return f"sqlite:///{data_dir / 'warden.sqlite3'}"


def _eu_codes() -> tuple[str, ...]:
    from warden.transparency.rules import EU_COUNTRY_CODES

    return EU_COUNTRY_CODES


def _positive_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days <= 0:
        raise ValueError(f"WARDEN_TRAINING_RETENTION_DAYS={text!r}: give a whole number of days above 0")
    return days
def _fraction(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must be a number above 0 and at most 1 (got {raw!r})")
    return value


@dataclass(frozen=True)
class RateLimits:
    """How often one client may try something, in the `limits` library's notation ("20/minute",
    "300/3 hours"; "off" for no limit), and where the counts live (warden/platform/ratelimit.py)."""

    #: `memory://` (this process only) or `redis://host:6379/0` (shared by every process that serves).
    storage: str = "memory://"
    #: Prefix of the counters' keys in a shared storage, so deployments (or test runs) can share one Redis.
    key_prefix: str = "warden"
    #: Password attempts for one account from one client address (a right password clears the count).
    login: str = "20/minute"
    #: Wrong passwords from one client address, whatever the account.
    login_address: str = "50/5 minutes"
    #: Sign-ups (POST /api/v1/accounts) from one client address.
    registration: str = "25/5 minutes"
    #: Posts by one account (Mastodon's figure).
    statuses: str = "300/3 hours"
    #: Reports by one account (Mastodon's figure).
    reports: str = "400/day"
    #: Notices by one partner (each notice of a batch counts).
    notices: str = "30000/hour"

    @classmethod
    def from_env(cls, env: "os._Environ[str] | dict[str, str]") -> "RateLimits":
        """WARDEN_RATE_LIMIT_STORAGE, WARDEN_RATE_LIMIT_KEY_PREFIX and WARDEN_RATE_LIMIT_<NAME> for each limit."""
        values = {name: env[f"WARDEN_RATE_LIMIT_{name.upper()}"] for name in cls.__dataclass_fields__
                  if env.get(f"WARDEN_RATE_LIMIT_{name.upper()}")}
        return cls(**values)


@dataclass(frozen=True)
class Settings:
    """Everything a Warden process needs to know about its deployment."""

    database_url: str = field(default_factory=_default_database_url)
    #: Public base URL, used for account and status URLs and OAuth metadata.
    base_url: str = "http://127.0.0.1:8080"
    instance_title: str = "Warden"
    instance_description: str = "A microblogging server with a trust & safety engine built in."
    contact_email: str = "admin@warden.local"
    #: Where people reach the moderators (shown on /about); empty: `contact_email`. WARDEN_MODERATION_CONTACT.
    moderation_contact: str = ""
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
    #: Throttles on password checks, sign-ups, posts, reports and notices (429 past them).
    rate_limits: RateLimits = field(default_factory=RateLimits)
    #: The system account moderation notices and reporters' outcome messages come from (a bot that
    #: cannot log in; created on first use). Reserved at sign-up.
    moderation_account: str = "moderation"
    #: Where uploaded media are kept (docs/media.md): "local" (the folder `media_dir`, by default
    #: `<data dir>/media`) or "s3" (S3-compatible object storage: the `s3_*` settings below, and the
    #: credentials boto3 finds in its usual places, such as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    media_storage: str = "local"
    media_dir: str = field(default_factory=_default_media_dir)
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_prefix: str = "media/"
    #: The countries a decision applies in, as the DSA Transparency Database's `territorial_scope` wants
    #: them (EU/EEA ISO codes). WARDEN_DSA_TERRITORIAL_SCOPE: `EU` (the default: the 27 member states),
    #: `EEA`, or codes such as `DE,AT,NL`.
    dsa_territorial_scope: tuple[str, ...] = field(default_factory=lambda: _eu_codes())
    #: How long a moderator's decision stays a training example for the detector, in days
    #: (WARDEN_TRAINING_RETENTION_DAYS; docs/model-card.md, "Learning from moderators"). Two appeal
    #: windows (183 days each, DSA Art. 20): long enough to learn from decisions that have settled.
    training_retention_days: int = 365
    #: Hold a post that copies a removed one (docs/detection.md, "Copies of removed posts"). WARDEN_COPIES=off
    #: turns the check off (removed posts are still fingerprinted, so turning it on again covers them).
    copies_enabled: bool = True
    #: The estimated similarity (Jaccard of words and two-word phrases, 0-1) from which a post is a copy
    #: (posts of 5-9 words: 0.05 more). WARDEN_COPY_THRESHOLD; below 0.4 the band keys start to miss
    #: pairs (warden/detection/text_fingerprint.py).
    copy_threshold: float = 0.45

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = os.environ
        values: dict[str, object] = {}
        if "WARDEN_DATABASE_URL" in env:
            values["database_url"] = env["WARDEN_DATABASE_URL"]
        if "WARDEN_BASE_URL" in env:
            values["base_url"] = env["WARDEN_BASE_URL"].rstrip("/")
        if env.get("WARDEN_MODERATION_CONTACT"):
            values["moderation_contact"] = env["WARDEN_MODERATION_CONTACT"]
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
        if env.get("WARDEN_MODERATION_ACCOUNT"):
            values["moderation_account"] = env["WARDEN_MODERATION_ACCOUNT"]
        values["rate_limits"] = RateLimits.from_env(env)
        if env.get("WARDEN_TRAINING_RETENTION_DAYS"):
            values["training_retention_days"] = _positive_days(env["WARDEN_TRAINING_RETENTION_DAYS"])
        if "WARDEN_COPIES" in env:
            values["copies_enabled"] = env["WARDEN_COPIES"].lower() not in ("0", "false", "off")
        if env.get("WARDEN_COPY_THRESHOLD"):
            values["copy_threshold"] = _fraction("WARDEN_COPY_THRESHOLD", env["WARDEN_COPY_THRESHOLD"])
        for name in ("media_storage", "media_dir", "s3_bucket", "s3_endpoint_url", "s3_region", "s3_prefix"):
            if env.get(f"WARDEN_{name.upper()}"):
                values[name] = env[f"WARDEN_{name.upper()}"]
        if env.get("WARDEN_DSA_TERRITORIAL_SCOPE"):
            from warden.transparency.rules import parse_territorial_scope

            values["dsa_territorial_scope"] = parse_territorial_scope(env["WARDEN_DSA_TERRITORIAL_SCOPE"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
