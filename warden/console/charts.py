"""Charts as inline SVG, drawn on the server: no script, no external resources, every label escaped.

Each function returns `Markup` for a template. Text (titles, labels, legends) can come from users —
a partner's name, for instance — so it goes through `_t()` (XML escaping, attribute-safe) and nowhere
else; numbers are formatted by us. Colours are presentation attributes, not `style`, so the console's
Content-Security-Policy (no inline styles) does not affect them.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b")
SURGE = "#dc2626"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _t(text: object) -> str:
    """Escape anything shown as SVG text or put in an attribute."""
    return escape(str(text), quote=True)


def _num(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _frame(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{_t(title)}"><title>{_t(title)}</title>' + "".join(body) + "</svg>")


def line_chart(points: Sequence[tuple[str, float]], *, title: str, unit: str = "", marked: Sequence[int] = (),
               reference: Sequence[float | None] = (), width: int = 720, height: int = 240) -> Markup:
    """A line over `points` [(x label, value)]; indexes in `marked` get a red dot (e.g. surges);
    `reference` (same length, None for gaps) is drawn dashed (e.g. the baseline)."""
    left, right, top, bottom = 48, 24, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, v in points] + [r for r in reference if r is not None]
    top_value = _nice_max(max(values, default=0.0))
    body = [f'<text x="{left}" y="{height - 4}" {FONT} fill="#475569">{_t(unit)}</text>'] if unit else []
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" {FONT} text-anchor="end" fill="#475569">'
                    f'{_t(_num(value))}</text>')
    if not points:
        body.append(f'<text x="{width / 2}" y="{height / 2}" {FONT} text-anchor="middle" fill="#64748b">'
                    f'no data yet</text>')
        return _frame(width, height, title, body)
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + step * i, top + plot_h - plot_h * (value / top_value)

    if reference:
        dashes = [xy(i, r) for i, r in enumerate(reference) if r is not None]
        if len(dashes) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in dashes)
            body.append(f'<polyline points="{path}" fill="none" stroke="#94a3b8" stroke-dasharray="4 3"/>')
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, (_, v) in enumerate(points)))
    body.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    every = max(1, len(points) // 8)
    marked_set = set(marked)
    for i, (label, value) in enumerate(points):
        x, y = xy(i, value)
        colour = SURGE if i in marked_set else PALETTE[0]
        radius = 4.5 if i in marked_set else 2.5
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">'
                    f'<title>{_t(label)}: {_t(_num(value))}</title></circle>')
        if i % every == 0 or i == len(points) - 1:
            body.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" {FONT} text-anchor="middle" '
                        f'fill="#475569">{_t(label)}</text>')
    return _frame(width, height, title, body)


def bar_chart(groups: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, title: str, unit: str = "",
              width: int = 720, row: int = 22) -> Markup:
    """Horizontal bars: one group per label [(group label, [(series, value)])], series in legend colours."""
    series_names: list[str] = []
    for _, bars in groups:
        for name, _ in bars:
            if name not in series_names:
                series_names.append(name)
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series_names)}
    left, right, top = 170, 70, 28
    n_bars = sum(max(len(bars), 1) for _, bars in groups)
    height = top + n_bars * row + len(groups) * 8 + 24
    top_value = _nice_max(max((v for _, bars in groups for _, v in bars), default=0.0))
    plot_w = width - left - right
    body: list[str] = []
    x = left
    for name in series_names:  # legend
        body.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour[name]}"/>'
                    f'<text x="{x + 14}" y="15" {FONT} fill="#1e293b">{_t(name)}</text>')
        x += 24 + 7 * len(name)
    if unit:
        body.append(f'<text x="{width - right}" y="15" {FONT} text-anchor="end" fill="#475569">{_t(unit)}</text>')
    if not groups:
        body.append(f'<text x="{width / 2}" y="{top + 20}" {FONT} text-anchor="middle" fill="#64748b">'
                    f'no data yet</text>')
        return _frame(width, top + 40, title, body)
    y = top
    for label, bars in groups:
        shown = label if len(label) <= 26 else label[:25] + "\u2026"
        body.append(f'<text x="{left - 8}" y="{y + row * max(len(bars), 1) / 2 + 4:.1f}" {FONT} '
                    f'text-anchor="end" fill="#1e293b"><title>{_t(label)}</title>{_t(shown)}</text>')
        for name, value in bars:
            length = plot_w * (value / top_value) if top_value else 0
            body.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" '
                        f'fill="{colour[name]}"><title>{_t(label)} \u00b7 {_t(name)}: {_t(_num(value))}</title></rect>')
            body.append(f'<text x="{left + length + 4:.1f}" y="{y + row / 2 + 4:.1f}" {FONT} fill="#1e293b">'
                        f'{_t(_num(value))}</text>')
            y += row
        if not bars:
            y += row
        y += 8
    return _frame(width, height, title, body)
