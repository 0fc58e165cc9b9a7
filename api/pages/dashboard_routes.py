"""The dashboard (brands at a glance, open incidents, source health) and the shared stylesheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from alerting.severity import rank
from api.context import ApiContext, get_context, get_session
from api.pages import queries
from api.pages.access import authorize, denied
from api.pages.charts import share, sparkline
from api.pages.common import DAY, HERE, HOUR, dense, floor_hour, render
from api.pages.present import worst_severity

PAGE_SIZE = 100
DASHBOARD_REFRESH_SECONDS = 15

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _stylesheet() -> str:
    return (HERE / "static" / "noroshi.css").read_text(encoding="utf-8")


@router.get("/static/noroshi.css", name="noroshi_css")
def stylesheet() -> Response:
    return Response(
        _stylesheet(), media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )


@dataclass(frozen=True, slots=True)
class BrandRow:
    id: int
    name: str
    timezone: str
    severity: str | None
    open_count: int
    volume_spark: Markup
    share_spark: Markup
    last_hour: int
    expected_hour: float | None
    share_now: float | None
    baseline_share: float | None


def _brand_rows(
    session: Session, ids: list[int], open_by_brand: dict[int, list[str]], now: datetime
) -> list[BrandRow]:
    brands = queries.brands_by_id(session, ids)
    runs = queries.detector_runs(session, ids)
    since = floor_hour(now) - 23 * HOUR
    hourly = queries.resampled_series(session, ids, since, since + DAY, HOUR)
    last_hour = queries.counts_since(session, ids, now - HOUR)
    rows = []
    for brand_id in ids:
        brand = brands[brand_id]
        points = dense(hourly.get(brand_id, []), since, HOUR, 24)
        total, negative = last_hour.get(brand_id, (0, 0))
        run = runs.get(brand_id)
        expected = (
            run.expected * 60 / brand.bucket_minutes if run is not None and run.expected is not None else None
        )
        severities = open_by_brand.get(brand_id, [])
        rows.append(
            BrandRow(
                id=brand_id,
                name=brand.name,
                timezone=brand.timezone,
                severity=worst_severity(severities),
                open_count=len(severities),
                volume_spark=sparkline(
                    [p.total for p in points],
                    css="spark vol",
                    title=f"{brand.name}: 24時間の言及数 / mentions per hour, last 24 h "
                    f"(max {max(p.total for p in points)})",
                ),
                share_spark=sparkline(
                    [share(p.negative, p.total) for p in points],
                    y_max=1.0,
                    css="spark neg",
                    title=f"{brand.name}: 否定的な投稿の割合 / negative share, last 24 h",
                ),
                last_hour=total,
                expected_hour=expected,
                share_now=share(negative, total),
                baseline_share=run.baseline_share if run is not None else None,
            )
        )
    return rows


@router.get("/", response_class=HTMLResponse, name="dashboard")
def dashboard(
    request: Request,
    page: int = Query(1, ge=1, le=10_000),
    q: str = Query("", max_length=200),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> HTMLResponse:
    grant = authorize(request, context)
    if grant is None:
        return denied(request, context)
    now = context.clock()
    open_by_brand = queries.open_severities(session)
    index = queries.brand_index(session)
    needle = q.strip().casefold()
    matching = [(bid, name) for bid, name in index if needle in name.casefold()] if needle else index

    def order(item: tuple[int, str]) -> tuple[int, str]:  # flaring brands first, then by name
        return -rank(worst_severity(open_by_brand.get(item[0], [])) or ""), item[1].casefold()

    matching.sort(key=order)
    pages = max((len(matching) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page, pages)
    shown = [bid for bid, _ in matching[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    return render(
        request,
        "dashboard.html",
        now=now,
        refresh=DASHBOARD_REFRESH_SECONDS,
        brand_count=len(index),
        rows=_brand_rows(session, shown, open_by_brand, now),
        matching=len(matching),
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1,
        q=q,
        open_incidents=queries.open_incidents(session),
        resolved=queries.recent_resolved(session),
        sources=queries.sources(session),
    )
