"""Server-side SVG charts: sparklines for the dashboard, a volume/negativity chart for incidents and brands.

No JavaScript: each chart is a fixed-viewBox SVG that scales with its container, with a <title> (and
per-bar <title> tooltips) for accessibility. Every piece of text is escaped here, because the result
is handed to the templates as Markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from alerting.incident_queries import SeriesPoint, share


@dataclass(frozen=True, slots=True)
class Marker:
    at: datetime
    label: str
    css: str = "onset"  # "onset" | "resolved": line class "marker <css>", text class "marker-label <css>"


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _line(css: str, x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line class="{escape(css)}" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}"/>'


def _rect(css: str, x: float, y: float, w: float, h: float) -> str:
    return f'<rect class="{escape(css)}" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}"/>'


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ that is ≥ value (at least 1), for a readable axis maximum."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def sparkline(
    values: Sequence[float | None],
    *,
    title: str,
    y_max: float | None = None,
    width: int = 120,
    height: int = 28,
    css: str = "spark",
) -> Markup:
    """A tiny line chart; None values break the line (e.g. no posts, so no negative share)."""
    n = len(values)
    top = y_max if y_max is not None else max((v for v in values if v is not None), default=0.0)
    top = top if top > 0 else 1.0
    pad = 2.0
    step = (width - 2 * pad) / max(n - 1, 1)
    segments: list[list[str]] = []
    current: list[str] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        y = height - pad - (min(value, top) / top) * (height - 2 * pad)
        current.append(f"{_f(pad + i * step)},{_f(y)}")
    if current:
        segments.append(current)
    paths = []
    for seg in segments:
        if len(seg) == 1:  # a lone point: draw a dot so it is visible
            x, y = seg[0].split(",")
            paths.append(f'<circle cx="{x}" cy="{y}" r="1.5"/>')
        else:
            paths.append(f'<polyline points="{" ".join(seg)}"/>')
    baseline = _line("base", pad, height - pad, width - pad, height - pad)
    return Markup(
        f'<svg class="{escape(css)}" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{baseline}{"".join(paths)}</svg>'
    )


def _x_ticks(
    since: datetime, until: datetime, tz: ZoneInfo, max_ticks: int = 8
) -> list[tuple[datetime, str]]:
    span_hours = max((until - since).total_seconds() / 3600, 1.0)
    interval = next((h for h in (1, 2, 3, 6, 12, 24, 48, 168) if span_hours / h <= max_ticks), 336)
    first = since.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    ticks: list[tuple[datetime, str]] = []
    at = first
    while at <= until:
        local = at.astimezone(tz)
        aligned = local.hour % interval == 0 if interval < 24 else local.hour == 0
        if at >= since and aligned and (interval <= 24 or (local.toordinal() % (interval // 24)) == 0):
            fmt = "%m/%d" if local.hour == 0 and interval >= 6 else "%H:%M"
            ticks.append((at, local.strftime(fmt)))
        at += timedelta(hours=1)
    return ticks


def _usual_band(
    series: Sequence[tuple[datetime, float, float]],
    since: datetime,
    step: timedelta,
    slots: int,
    slot_w: float,
    left: float,
    y_of: Callable[[float], float],
) -> list[str]:
    """The per-slot usual range as a filled polygon and the expected level as a dashed line, broken
    where the detector has no value for a slot."""
    runs: list[list[tuple[float, float, float]]] = [[]]
    previous = None
    for start, expected, upper in sorted(series):
        index = int((start - since) // step)
        if not 0 <= index < slots:
            continue
        if previous is not None and index != previous + 1:
            runs.append([])
        runs[-1].append((left + (index + 0.5) * slot_w, y_of(expected), y_of(upper)))
        previous = index
    parts: list[str] = []
    for run in (r for r in runs if r):
        if len(run) == 1:  # a single slot: widen it to the slot so it is visible
            x, low, high = run[0]
            run = [(x - slot_w / 2, low, high), (x + slot_w / 2, low, high)]
        outline = [f"{_f(x)},{_f(high)}" for x, _, high in run] + [
            f"{_f(x)},{_f(low)}" for x, low, _ in reversed(run)
        ]
        parts.append(f'<polygon class="usual" points="{" ".join(outline)}"/>')
        parts.append(
            f'<polyline class="expected" points="{" ".join(f"{_f(x)},{_f(low)}" for x, low, _ in run)}"/>'
        )
    return parts


def volume_chart(
    points: Sequence[SeriesPoint],
    *,
    since: datetime,
    until: datetime,
    step: timedelta,
    tz: ZoneInfo,
    title: str,
    markers: Sequence[Marker] = (),
    band: tuple[datetime, datetime] | None = None,
    usual: tuple[float, float] | None = None,
    usual_series: Sequence[tuple[datetime, float, float]] = (),
    usual_share: float | None = None,
    desc: str = "",
    width: int = 760,
    height: int = 260,
) -> Markup:
    """Bars of mentions per slot (negative part in red), the negative share as a line on the right axis.

    `points` may be sparse: slots without a point are drawn as zero. `markers` draw labelled vertical
    lines (e.g. the onset); `band` shades a time range (e.g. the incident's active period); `usual`
    (expected, upper) per slot draws the usual range as a green band with the expected level dashed,
    `usual_series` [(slot start, expected, upper)] the same per slot (it follows the time of day; it
    replaces `usual` when given),
    `usual_share` the usual negative share as a dashed line on the right axis; `desc` is the text
    a screen reader reads for the chart.
    """
    left, right, top, bottom = 40.0, 40.0, 18.0, 30.0
    plot_w, plot_h = width - left - right, height - top - bottom
    slots = max(math.ceil((until - since) / step), 1)
    by_slot: dict[int, SeriesPoint] = {}
    for p in points:
        index = int((p.start - since) // step)
        if 0 <= index < slots:
            by_slot[index] = p
    highest_usual = max([usual[1] if usual else 0.0, *(upper for _, _, upper in usual_series)])
    y_top = nice_ceiling(max([*(p.total for p in by_slot.values()), highest_usual]))
    slot_w = plot_w / slots

    def x_of(at: datetime) -> float:
        return left + (at - since) / (until - since) * plot_w

    def y_of(count: float) -> float:
        return top + plot_h - count / y_top * plot_h

    parts: list[str] = [f"<title>{escape(title)}</title>"]
    if desc:
        parts.append(f"<desc>{escape(desc)}</desc>")
    if band is not None:
        x0, x1 = x_of(max(band[0], since)), x_of(min(band[1], until))
        if x1 > x0:
            parts.append(_rect("band", x0, top, x1 - x0, plot_h))
    if usual_series:
        parts.extend(_usual_band(usual_series, since, step, slots, slot_w, left, y_of))
    elif usual is not None:
        low, high = y_of(min(usual[0], y_top)), y_of(min(usual[1], y_top))
        parts.append(_rect("usual", left, high, plot_w, max(low - high, 1.0)))
        parts.append(_line("expected", left, low, left + plot_w, low))
    if usual_share is not None:
        y = top + plot_h - min(max(usual_share, 0.0), 1.0) * plot_h
        parts.append(_line("usual-share", left, y, left + plot_w, y))
    for frac in (0.0, 0.5, 1.0):  # horizontal grid + left (count) and right (share) axis labels
        y = top + plot_h - frac * plot_h
        parts.append(_line("grid", left, y, left + plot_w, y))
        parts.append(
            f'<text class="axis" x="{_f(left - 4)}" y="{_f(y + 4)}" text-anchor="end">'
            f"{_f(y_top * frac)}</text>"
        )
        parts.append(
            f'<text class="axis share" x="{_f(left + plot_w + 4)}" y="{_f(y + 4)}">'
            f"{round(frac * 100)}%</text>"
        )
    bar_w = max(slot_w * 0.8, 0.6)
    share_pts: list[list[str]] = [[]]
    for index in range(slots):
        p = by_slot.get(index)
        x = left + index * slot_w
        total, negative = (p.total, p.negative) if p else (0, 0)
        s = share(negative, total)
        if total:
            local = (since + index * step).astimezone(tz).strftime("%m/%d %H:%M")
            tip = f"{local} — {total}件 / negative {negative}" + (f" ({s:.0%})" if s is not None else "")
            parts.append(
                f"<g><title>{escape(tip)}</title>"
                + _rect("bar", x, y_of(total), bar_w, total / y_top * plot_h)
                + (_rect("neg", x, y_of(negative), bar_w, negative / y_top * plot_h) if negative else "")
                + "</g>"
            )
        if s is None:
            share_pts.append([])
        else:
            share_pts[-1].append(f"{_f(x + bar_w / 2)},{_f(top + plot_h - s * plot_h)}")
    for seg in share_pts:
        if len(seg) > 1:
            parts.append(f'<polyline class="shareline" points="{" ".join(seg)}"/>')
    for at, text in _x_ticks(since, until, tz, max_ticks=max(3, width // 95)):
        x = x_of(at)
        parts.append(_line("tick", x, top + plot_h, x, top + plot_h + 4))
        parts.append(
            f'<text class="axis" x="{_f(x)}" y="{_f(height - bottom + 18)}" text-anchor="middle">'
            f"{escape(text)}</text>"
        )
    for marker in markers:
        if since <= marker.at <= until:
            x = x_of(marker.at)
            parts.append(_line(f"marker {marker.css}", x, top - 4, x, top + plot_h))
            near_right = x > left + plot_w * 0.75  # keep the label inside the chart
            anchor, label_x = ("end", x - 3) if near_right else ("start", x + 3)
            parts.append(
                f'<text class="marker-label {escape(marker.css)}" x="{_f(label_x)}" '
                f'y="{_f(top - 6)}" text-anchor="{anchor}">{escape(marker.label)}</text>'
            )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )
