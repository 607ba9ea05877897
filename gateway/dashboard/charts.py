"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable by screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

COLOURS = {"opt_out": "#a50e0e", "opt_in": "#137333", "pause": "#b06000", "reason": "#0b57d0"}
BAR = "#0b57d0"
WIDTH = 640
BARS_WIDTH = 360
"""Bar charts sit in a third of the page: a narrower drawing keeps their text readable."""


def _nice_max(value: int) -> int:
    """A round axis maximum at or above `value`."""
    if value <= 5:
        return max(value, 1)
    step: int = 10 ** (len(str(value)) - 1)  # typeshed types int ** int as Any (a negative power is a float)
    return -(-value // step) * step


def bars(items: Sequence[tuple[str, dict[str, int]]], labels: dict[str, str], title: str, chart_id: str) -> Markup:
    """Horizontal bars of labelled counts, one bar per series (a colour each) under every label."""
    series = list(labels)
    bar, gap, label_width, top = 14, 10, 150, 4 + (20 if len(series) > 1 else 0)
    row = bar * len(series) + gap
    height = top + row * max(len(items), 1) + 4
    peak = max((count for _, counts in items for count in counts.values()), default=0) or 1
    span = BARS_WIDTH - label_width - 40
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {BARS_WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    if len(series) > 1:
        parts += [_legend(name, labels[name], 10 + index * 120, 4) for index, name in enumerate(series)]
    if not items:
        parts.append(f'<text x="0" y="{top + 14}" class="empty">no data in this period</text>')
    for index, (label, counts) in enumerate(items):
        y = top + index * row
        parts.append(f'<text x="{label_width - 8}" y="{y + bar - 2}" text-anchor="end">{escape(label[:22])}</text>')
        for offset, name in enumerate(series):
            count = counts.get(name, 0)
            length, by = round(span * count / peak), y + offset * bar
            parts.append(
                f'<rect x="{label_width}" y="{by + 1}" width="{max(length, 1)}" height="{bar - 2}" '
                f'fill="{COLOURS.get(name, BAR)}"><title>{escape(label)}, {escape(labels[name])}: {count}</title></rect>'
                f'<text x="{label_width + length + 6}" y="{by + bar - 3}" class="axis">{count}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(name: str, label: str, x: float, y: float) -> str:
    return (f'<rect x="{x}" y="{y}" width="12" height="12" fill="{COLOURS.get(name, BAR)}"/>'
            f'<text x="{x + 18}" y="{y + 11}" class="legend">{escape(label)}</text>')


def timeline(counts: dict[date, dict[str, int]], first: date, last: date, labels: dict[str, str], chart_id: str,
             title: str) -> Markup:
    """Grouped bars per day, one colour per series, with a legend and a y axis."""
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    series = list(labels)
    left, top, plot_height, bottom = 40, 28, 180, 28
    height = top + plot_height + bottom
    slot = (WIDTH - left - 8) / max(len(days), 1)
    bar = max(slot / (len(series) + 1), 1.0)
    peak = _nice_max(max((counts.get(day, {}).get(name, 0) for day in days for name in series), default=0))
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    parts += [_legend(name, labels[name], left + index * 150, 4) for index, name in enumerate(series)]
    for fraction in (0, 0.5, 1):
        y = top + plot_height - plot_height * fraction
        parts.append(f'<line x1="{left}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{round(peak * fraction)}</text>')
    for position, day in enumerate(days):
        for index, name in enumerate(series):
            value = counts.get(day, {}).get(name, 0)
            if not value:
                continue
            h = plot_height * value / peak
            x = left + position * slot + (index + 0.5) * bar
            parts.append(f'<rect class="series-{name}" x="{x:.1f}" y="{top + plot_height - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{COLOURS.get(name, BAR)}"><title>{day.isoformat()} '
                         f"{escape(labels[name])}: {value}</title></rect>")
    ends = {0: ("start", left), len(days) - 1: ("end", WIDTH - 4)}
    for position in sorted({0, len(days) // 2, len(days) - 1}):
        anchor, x = ends.get(position, ("middle", left + (position + 0.5) * slot))
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" class="axis">{days[position]:%d %b}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
