"""Showing user text to moderators: escaped segment by segment, spans highlighted, hidden characters shown.

Nothing a user wrote is ever marked up as it is: `highlight()` cuts the ORIGINAL text at the detector's
span offsets, escapes each segment on its own and wraps only the fixed `<mark>` markup around the
escaped segments. Invisible characters that can disguise text (bidirectional overrides, zero-width
characters, other control characters) are replaced by a visible `U+XXXX` badge, so a moderator sees
what was really written.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

#: Bidirectional controls and zero-width characters, shown as badges instead of acting on the page.
INVISIBLE = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",
       "\ufeff", "\u061c", "\u180e", "\u00ad"]
)
_KEEP = frozenset("\n\t")


def _is_hidden(char: str) -> bool:
    if char in _KEEP:
        return False
    return char in INVISIBLE or unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def visible(text: str | None) -> Markup:
    """`text` escaped, with each invisible or control character replaced by a `U+XXXX` badge."""
    if not text:
        return Markup("")
    parts: list[str] = []
    run: list[str] = []
    for char in text:
        if _is_hidden(char):
            if run:
                parts.append(str(escape("".join(run))))
                run = []
            name = unicodedata.name(char, "control character")
            parts.append(f'<span class="uc" title="{escape(name)}">U+{ord(char):04X}</span>')
        else:
            run.append(char)
    if run:
        parts.append(str(escape("".join(run))))
    return Markup("".join(parts))


def _merge(spans: Iterable[Mapping[str, Any]], length: int) -> list[tuple[int, int, list[Mapping[str, Any]]]]:
    """Spans clamped to the text and merged where they overlap: [(start, end, [the spans in it])]."""
    cleaned = []
    for span in spans:
        try:
            start, end = int(span["start"]), int(span["end"])
        except (KeyError, TypeError, ValueError):
            continue
        start, end = max(0, min(start, length)), max(0, min(end, length))
        if end > start:
            cleaned.append((start, end, span))
    cleaned.sort(key=lambda item: (item[0], item[1]))
    merged: list[tuple[int, int, list[Mapping[str, Any]]]] = []
    for start, end, span in cleaned:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), [*last[2], span])
        else:
            merged.append((start, end, [span]))
    return merged


def highlight(text: str | None, spans: Iterable[Mapping[str, Any]] | None) -> Markup:
    """HTML for `text` with the detector's spans and the matched rules' (offsets into `text`) wrapped in
    `<mark>`; the title names the labels, the detector's highest weight and the rules."""
    text = text or ""
    out: list[str] = []
    cursor = 0
    for start, end, inside in _merge(spans or [], len(text)):
        out.append(visible(text[cursor:start]))
        labels = sorted({str(s.get("label", "")) for s in inside if s.get("label")})
        weight = max((float(s.get("weight", 0) or 0) for s in inside if not s.get("rule")), default=0.0)
        rules = sorted({str(s["rule"]) for s in inside if s.get("rule")})
        title = ", ".join(labels) + (f" (weight {weight:.2f})" if weight else "") \
            + "".join(f"; rule {rule}" for rule in rules)
        css = " ".join(f"span-{label}" for label in labels if label.isidentifier())
        out.append(f'<mark class="span {escape(css)}" title="{escape(title)}">{visible(text[start:end])}</mark>')
        cursor = end
    out.append(visible(text[cursor:]))
    return Markup("".join(str(part) for part in out))


def duration(delta: timedelta) -> str:
    """A short human duration: 45s, 12m, 3h 05m, 2d 4h."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def time_left(due_at: datetime, now: datetime) -> tuple[str, bool]:
    """("2h 05m left", False) or ("overdue by 40m", True)."""
    delta = due_at - now
    if delta.total_seconds() < 0:
        return f"overdue by {duration(delta)}", True
    return f"{duration(delta)} left", False
