"""The brand drill-down: its volume and negative share over 24 h / 7 d / 30 d, and its incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.context import ApiContext, get_context, get_session
from api.pages import queries
from api.pages.access import authorize, denied
from api.pages.charts import share, volume_chart
from api.pages.common import HOUR, floor_hour, not_found, parse_id, render, usual_range
from api.pages.present import worst_severity, zone
from storage.brands import Brand


@dataclass(frozen=True, slots=True)
class Range:
    key: str
    span: timedelta
    step: timedelta
    ja: str
    en: str


# The ranges the page links to (no JavaScript): slots small enough to see a flare, few enough to draw.
RANGES = {
    r.key: r
    for r in (
        Range("24h", timedelta(hours=24), timedelta(minutes=15), "24時間", "24 hours"),
        Range("7d", timedelta(days=7), HOUR, "7日間", "7 days"),
        Range("30d", timedelta(days=30), timedelta(hours=6), "30日間", "30 days"),
    )
}
DEFAULT_RANGE = "7d"

router = APIRouter(include_in_schema=False)


@router.get("/brands/{brand_id}", response_class=HTMLResponse, name="brand_page")
def brand_page(
    request: Request,
    brand_id: str,
    range_key: str = Query(DEFAULT_RANGE, alias="range", max_length=8),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> HTMLResponse:
    now = context.clock()
    number = parse_id(brand_id)
    if authorize(request, context, brand_id=number if number is not None else -1) is None:
        return denied(request, context)
    brand = session.get(Brand, number) if number is not None else None
    if brand is None:
        missing = f"ブランド「{brand_id}」は見つかりません。"
        return not_found(request, now, missing, f"There is no brand “{brand_id}”.")
    shown = RANGES.get(range_key, RANGES[DEFAULT_RANGE])
    step = max(shown.step, timedelta(minutes=brand.bucket_minutes))
    until = floor_hour(now) + HOUR
    since = until - shown.span
    points = queries.resampled_series(session, [brand.id], since, until, step).get(brand.id, [])
    total = sum(p.total for p in points)
    negative = sum(p.negative for p in points)
    incidents = queries.brand_incidents(session, brand.id)
    run = queries.detector_runs(session, [brand.id]).get(brand.id)
    minutes = int(step.total_seconds() // 60)
    common: dict[str, Any] = dict(
        points=points,
        since=since,
        until=until,
        step=step,
        tz=zone(brand.timezone),
        usual=usual_range(run.expected, run.upper, brand.bucket_minutes, step) if run else None,
        usual_series=queries.expectation_series(session, brand.id, since, until, step),
        usual_share=run.baseline_share if run is not None else None,
        title=f"{brand.name}: {shown.ja}の言及数（{minutes}分ごと）/ mentions per {minutes} min, "
        f"last {shown.en}",
        desc=f"合計 {total} 件、否定的 {negative} 件 / {total} mentions, {negative} negative",
    )
    chart, chart_small = volume_chart(**common), volume_chart(**common, width=420, height=280)
    return render(
        request,
        "brand.html",
        now=now,
        brand=brand,
        tz=brand.timezone,
        chart=chart,
        chart_small=chart_small,
        ranges=list(RANGES.values()),
        shown=shown,
        period_total=total,
        period_share=share(negative, total),
        run=run,
        incidents=[(i, brand.name, brand.timezone) for i in incidents],
        open_count=sum(1 for i in incidents if i.status in queries.OPEN),
        severity=worst_severity([i.severity for i in incidents if i.status in queries.OPEN]),
    )
