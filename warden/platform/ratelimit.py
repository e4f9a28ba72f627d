"""Rate limits: how often one account, client address or partner may try something.

Without them an attacker guesses hundreds of passwords a minute for one account, and one address
signs up hundreds of accounts. Every limit is a moving window (the `limits` library): "20/minute"
means at most 20 in any 60 seconds, not 20 per clock minute (a fixed window would let 40 through
around its edge). Counts live in this process's memory on the embedded default, or in Redis
(`WARDEN_RATE_LIMIT_STORAGE=redis://...`) when several processes serve, so they add up across them.

Password checks are counted so that guessing is slow and nobody can lock anyone else out:
- per account *and* client address (`login`): every attempt is reserved before the password is
  verified, so concurrent requests cannot overshoot; a right password clears the count. A right
  password from another address is never refused because someone guessed from this one: there is
  no account-wide lockout, which would let anyone lock a moderator out of the console;
- per address (`login_address`): wrong passwords only, whatever the account (spraying one password
  over many accounts). Successful logins from a shared address (a NAT, an office) do not count.
The account is looked up first, and an unknown name is counted under the name as typed, so the
throttle answers the same for accounts that exist and those that do not.

A refusal is `RateLimited` (429), which carries the window's `Quota`; the API sends it as Mastodon's
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (an ISO 8601 time) headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from warden.config import RateLimits
from warden.errors import WardenError

TOO_MANY = "Too many requests"
#: The rules a deployment configures (the fields of `warden.config.RateLimits`).
RULES = ("login", "login_address", "registration", "statuses", "reports", "notices")


@dataclass(frozen=True)
class Quota:
    """Where one client stands in one window."""

    limit: int
    remaining: int
    reset_at: datetime

    def headers(self) -> dict[str, str]:
        """Mastodon's rate-limit headers (the reset as ISO 8601 in UTC, as Mastodon writes it)."""
        retry = max(0, int((self.reset_at - datetime.now(UTC)).total_seconds() + 0.999))
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": self.reset_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "Retry-After": str(retry),
        }


class RateLimited(WardenError):
    """Past a rate limit: 429, with the window's quota (for the `X-RateLimit-*` headers)."""

    status_code = 429

    def __init__(self, quota: Quota, message: str = TOO_MANY) -> None:
        super().__init__(message)
        self.quota = quota

    @property
    def headers(self) -> dict[str, str]:
        return self.quota.headers()


def parse_rule(name: str, text: str) -> RateLimitItem | None:
    """A configured limit ("20/minute"); None for "off". A malformed one is a ValueError naming it."""
    if text.strip().lower() in ("off", "none", "0"):
        return None
    try:
        return parse(text)
    except ValueError:
        raise ValueError(f"WARDEN_RATE_LIMIT_{name.upper()}: {text!r} is not a rate limit such as "
                         "'20/minute' or '300/3 hours'") from None


class Limiter:
    """The deployment's rate limits over one storage (memory, or Redis shared by processes)."""

    def __init__(self, config: RateLimits) -> None:
        self.config = config
        self.rules: dict[str, RateLimitItem | None] = {name: parse_rule(name, getattr(config, name)) for name in RULES}
        options: dict[str, Any] = {}
        if not config.storage.startswith("memory"):
            options["key_prefix"] = config.key_prefix
        self.storage: Storage = storage_from_string(config.storage, **options)
        self._windows = MovingWindowRateLimiter(self.storage)

    def quota(self, rule: str, *key: str) -> Quota | None:
        item = self.rules[rule]
        if item is None:
            return None
        stats = self._windows.get_window_stats(item, rule, *key)
        return Quota(limit=item.amount, remaining=max(0, stats.remaining),
                     reset_at=datetime.fromtimestamp(stats.reset_time, UTC))

    def hit(self, rule: str, *key: str, cost: int = 1) -> Quota | None:
        """Count `cost` tries against `rule` for `key`, or raise RateLimited (counting nothing) when
        they do not fit in the window. Returns the quota left (None when the rule is off)."""
        item = self.rules[rule]
        if item is None:
            return None
        if not self._windows.hit(item, rule, *key, cost=max(1, cost)):
            raise RateLimited(self.quota(rule, *key))  # type: ignore[arg-type]
        return self.quota(rule, *key)

    def check(self, rule: str, *key: str) -> None:
        """Raise RateLimited if `key` has no try left under `rule`, without counting one."""
        item = self.rules[rule]
        if item is not None and not self._windows.test(item, rule, *key):
            raise RateLimited(self.quota(rule, *key))  # type: ignore[arg-type]

    def count(self, rule: str, *key: str) -> None:
        """Count one try that has already happened (e.g. a wrong password), even past the limit."""
        item = self.rules[rule]
        if item is not None:
            self._windows.hit(item, rule, *key)

    def clear(self, rule: str, *key: str) -> None:
        item = self.rules[rule]
        if item is not None:
            self._windows.clear(item, rule, *key)

    def passwords(self, address: str) -> PasswordThrottle:
        """The throttle for password checks from one client address."""
        return PasswordThrottle(self, address or "unknown")


@dataclass(frozen=True)
class PasswordThrottle:
    """Counts password checks from one client address (see the module docstring)."""

    limiter: Limiter
    address: str

    def before(self, account_key: str) -> None:
        """Before verifying a password for `account_key`: reserve the attempt, or raise RateLimited."""
        self.limiter.check("login_address", self.address)
        self.limiter.hit("login", account_key, self.address)

    def failed(self, account_key: str) -> None:
        self.limiter.count("login_address", self.address)

    def succeeded(self, account_key: str) -> None:
        self.limiter.clear("login", account_key, self.address)
