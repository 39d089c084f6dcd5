"""Server-rendered SVG charts for the admin dashboard: no JavaScript, no external resources.

Every value that reaches the markup goes through ``format_html`` (escaped); the charts carry a
``<title>`` per bar (the browser's tooltip, and what a screen reader reads) and each bar can link to
the event list it counts.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 720
HEIGHT = 220
PAD_LEFT = 36
PAD_BOTTOM = 22
PAD_TOP = 8
PAD_RIGHT = 20  # room for the last day's label
BARS_WIDTH = 480  # the horizontal bars sit in half-width panels: a narrower canvas keeps the text legible


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str
    values: Sequence[int]


def _n(value: float) -> str:
    """A coordinate, to one decimal."""
    return f"{value:.1f}"


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def stacked_bars(
    days: Sequence[date], series: Sequence[Series], *, label: str, link: Callable[[str, date], str] | None = None
) -> SafeString:
    """One stacked bar per day; a segment per series, linking to ``link(series.key, day)``."""
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    top = _nice_max(max(totals, default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / max(1, len(days))
    bar_w = max(2.0, slot * 0.7)
    parts: list[str] = []
    for tick in sorted({0, top // 2, top}):
        y = PAD_TOP + plot_h - plot_h * tick / top
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="pushmfa-grid"/>'
                '<text x="{}" y="{}" class="pushmfa-axis" text-anchor="end">{}</text>',
                PAD_LEFT, WIDTH - PAD_RIGHT, _n(y), _n(y), PAD_LEFT - 4, _n(y + 4), tick,
            )
        )
    for i, day in enumerate(days):
        x = PAD_LEFT + i * slot + (slot - bar_w) / 2
        base: float = PAD_TOP + plot_h
        for s in series:
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / top
            base -= h
            rect = format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                "<title>{}: {} {}</title></rect>",
                _n(x), _n(base), _n(bar_w), _n(h), s.color, day.isoformat(), value, s.label,
            )
            parts.append(format_html('<a href="{}">{}</a>', link(s.key, day), rect) if link else rect)
        if i % 7 == (len(days) - 1) % 7:  # a date label every week, the last day included
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="pushmfa-axis" text-anchor="middle">{}</text>',
                    _n(x + bar_w / 2), HEIGHT - 6, day.strftime("%m-%d"),
                )
            )
    return format_html(
        '<svg class="pushmfa-chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        WIDTH, HEIGHT, label, format_html_join("", "{}", ((p,) for p in parts)),
    )


def horizontal_bars(rows: Sequence[tuple[str, int, int]], *, label: str, color: str = "#2f5bea") -> SafeString:
    """One bar per ``(label, value, of)``: ``value`` out of ``of``, with the share written next to it."""
    row_h = 28
    label_w = 170
    bar_space = BARS_WIDTH - label_w - 90
    height = row_h * max(1, len(rows)) + 4
    parts = []
    for i, (name, value, of) in enumerate(rows):
        share = value / of if of else 0.0
        y = i * row_h + 4
        parts.append(
            format_html(
                '<text x="0" y="{}" class="pushmfa-axis pushmfa-axis--label">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="18" class="pushmfa-track"/>'
                '<rect x="{}" y="{}" width="{}" height="18" fill="{}"><title>{}: {} / {}</title></rect>'
                '<text x="{}" y="{}" class="pushmfa-axis">{} · {}</text>',
                y + 14, name, label_w, y, bar_space, label_w, y, _n(bar_space * share), color, name, value, of,
                label_w + bar_space + 8, y + 14, value, f"{share:.0%}",
            )
        )
    return format_html(
        '<svg class="pushmfa-chart" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">'
        "{}</svg>",
        BARS_WIDTH, height, label, format_html_join("", "{}", ((p,) for p in parts)),
    )
