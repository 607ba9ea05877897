"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable by screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

COLOURS = {"opt_out": "#a50e0e", "opt_in": "#137333", "pause": "#b06000"}
BAR = "#0b57d0"
WIDTH = 640
BARS_WIDTH = 360
"""Bar charts sit in a third of the page: a narrower drawing keeps their text readable."""


def _nice_max(value: int) -> int:
    """A round axis maximum at or above `value`."""
    if value <= 5:
        return max(value, 1)
    step = 10 ** (len(str(value)) - 1)
    return -(-value // step) * step


def bars(items: Sequence[tuple[str, int]], title: str, chart_id: str) -> Markup:
    """A horizontal bar chart of labelled counts."""
    row, label_width, top = 26, 150, 4
    height = top + row * max(len(items), 1) + 8
    peak = max((count for _, count in items), default=0) or 1
    span = BARS_WIDTH - label_width - 40
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {BARS_WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    if not items:
        parts.append(f'<text x="0" y="{top + 18}" class="empty">no data in this period</text>')
    for index, (label, count) in enumerate(items):
        y = top + index * row
        length = round(span * count / peak)
        parts.append(
            f'<g class="bar"><text x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(label[:22])}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{max(length, 1)}" height="{row - 8}" fill="{BAR}">'
            f"<title>{escape(label)}: {count}</title></rect>"
            f'<text x="{label_width + length + 6}" y="{y + 18}">{count}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


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
    for index, name in enumerate(series):
        x = left + index * 150
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS.get(name, BAR)}"/>'
                     f'<text x="{x + 18}" y="15" class="legend">{escape(labels[name])}</text>')
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
