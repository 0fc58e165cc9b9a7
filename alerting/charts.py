"""A PNG chart of an incident for e-mail and Slack: volume bars, negative share line, onset marker.

matplotlib with the Agg backend (no display); a Japanese-capable font when one is installed (Noto
Sans CJK, IPA, Takao…), otherwise the default font with labels in English only, so the chart never
shows tofu boxes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # after use(): the backend must be chosen first
from matplotlib import font_manager
from matplotlib.figure import Figure

from alerting.incident_queries import SeriesPoint

CJK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "Source Han Sans JP",
)
VOLUME, NEGATIVE, SHARE, ONSET = "#9ab8e6", "#c62828", "#7b1fa2", "#e65100"


@lru_cache(maxsize=1)
def japanese_font() -> str | None:
    """The first installed Japanese-capable font family, or None."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _point(item: SeriesPoint | Mapping[str, Any]) -> SeriesPoint:
    if isinstance(item, SeriesPoint):
        return item
    start = item["start"]
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    return SeriesPoint(start, int(item["total"]), int(item["negative"]))


def render_incident_chart_png(
    series: Sequence[SeriesPoint | Mapping[str, Any]],
    onset: datetime | None,
    *,
    tz: ZoneInfo | None = None,
    title: str = "",
    resolved_at: datetime | None = None,
    width_px: int = 720,
    height_px: int = 300,
) -> bytes:
    """Bars of mentions per slot (negative part in red), the negative share on a right axis, and a
    vertical line at the onset (and the resolve). `series` takes SeriesPoints or the context's dicts."""
    points = [_point(item) for item in series]
    font = japanese_font()
    labels = (
        ("言及数 mentions", "否定的 negative", "否定的な割合 negative share", "発生 onset", "解決 resolved")
        if font
        else ("mentions", "negative", "negative share", "onset", "resolved")
    )
    dpi = 100
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    axis = figure.add_subplot()
    family = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    if points:
        starts = [p.start.astimezone(tz) if tz else p.start for p in points]
        width = (
            (points[1].start - points[0].start).total_seconds() / 86400 * 0.85 if len(points) > 1 else 0.003
        )
        axis.bar(starts, [p.total for p in points], width=width, color=VOLUME, label=labels[0], align="edge")
        axis.bar(
            starts, [p.negative for p in points], width=width, color=NEGATIVE, label=labels[1], align="edge"
        )
        shares = [p.negative / p.total * 100 if p.total else float("nan") for p in points]
        right = axis.twinx()
        right.plot(starts, shares, color=SHARE, linewidth=1.6, label=labels[2])
        right.set_ylim(0, 100)
        right.set_ylabel("%", family=family)
        axis.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=tz))
    for at, text, colour in ((onset, labels[3], ONSET), (resolved_at, labels[4], "#2e7d32")):
        if at is not None:
            axis.axvline(
                at.astimezone(tz) if tz else at, color=colour, linestyle="--", linewidth=1.4, label=text
            )
    axis.set_ylim(bottom=0)
    handles, names = axis.get_legend_handles_labels()
    for other in axis.figure.axes[1:]:  # the share line lives on the twin axis
        more_handles, more_names = other.get_legend_handles_labels()
        handles, names = handles + more_handles, names + more_names
    axis.legend(handles, names, loc="upper left", prop={"family": family, "size": 8}, framealpha=0.8)
    if title:
        axis.set_title(
            title if font else title.encode("ascii", "ignore").decode().strip(), family=family, fontsize=10
        )
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_from_context(context: Mapping[str, Any], width_px: int = 720, height_px: int = 300) -> bytes:
    """The chart for a notification, from the incident context alone (the outbox's payload snapshot)."""
    incident, brand = context["incident"], context["brand"]
    resolved = incident.get("resolved_at")
    return render_incident_chart_png(
        context.get("series", []),
        datetime.fromisoformat(incident["started_at"]),
        tz=ZoneInfo(brand.get("timezone") or "Asia/Tokyo"),
        title=f"{brand['name']}: 直近6時間 / last 6 h",
        resolved_at=datetime.fromisoformat(resolved) if resolved else None,
        width_px=width_px,
        height_px=height_px,
    )
