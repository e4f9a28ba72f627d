"""Record ids as clients send them: strings of ASCII digits that fit a signed 64-bit integer.

Every id column is a BIGINT, so anything else cannot name a record. Parsing with plain `int()` let
hostile ids through to the database: `int("١٢")` accepts Arabic-Indic digits, `"²".isdigit()` is true
but `int("²")` fails, and an id beyond 64 bits overflows the driver (SQLite) or the column
(PostgreSQL), each a 500. Every place that turns client input into an id goes through here instead.
"""

from __future__ import annotations

from warden.errors import NotFound

MAX_ID = 2**63 - 1  # the largest value a BIGINT (and SQLite's INTEGER) holds


def as_id(value: object) -> int | None:
    """`value` as a record id, or None when it cannot be one (not ASCII digits, or beyond 64 bits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if not isinstance(value, str) or not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    ident = int(value)
    return ident if ident <= MAX_ID else None


def parse_id(value: object) -> int:
    """`value` as a record id; a value that cannot be one names no record (404, as Mastodon answers)."""
    ident = as_id(value)
    if ident is None:
        raise NotFound()
    return ident
