"""The server-rendered pages: dashboard, incident, brand, and the stylesheet they share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy.orm import Session

from alerting.charts import render_incident_chart_png
from alerting.incident_queries import incident_drivers, incident_shares, posts_window
from alerting.runbooks import LOCALES, render_runbook
from alerting.severity import rank
from alerting.summary import incident_series
from api.context import ApiContext, get_context, get_session
from api.pages import queries
from api.pages.charts import Marker, SeriesPoint, share, sparkline, volume_chart
from api.pages.present import (
    DEFAULT_TZ,
    ago,
    event_label,
    headline,
    incident_window,
    kind_label,
    local_time,
    percent,
    severity_badge,
    status_label,
    worst_severity,
    zone,
)
from storage.brands import Brand
from storage.incidents import Incident
from storage.timebuckets import bucket_start

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 100
DASHBOARD_REFRESH_SECONDS = 15
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

router = APIRouter(include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(
    badge=severity_badge,
    t=local_time,
    status_label=status_label,
    kind_label=kind_label,
    event_label=event_label,
    percent=percent,
    ago=ago,
)


def _render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    def url(route: str, **params: Any) -> str:
        return request.url_for(route, **{k: str(v) for k, v in params.items()}).path

    values.setdefault("refresh", None)
    values.setdefault("display_tz", DEFAULT_TZ)
    html = _env.get_template(name).render(url=url, request=request, **values)
    return HTMLResponse(html, status_code=status_code)


def _not_found(request: Request, now: datetime, what_ja: str, what_en: str) -> HTMLResponse:
    return _render(request, "not_found.html", status_code=404, now=now, what_ja=what_ja, what_en=what_en)


def _parse_id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else None


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered (a `javascript:` URL in a post must not become a link)."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _floor_hour(at: datetime) -> datetime:
    return bucket_start(at, 60)


def _dense(points: list[SeriesPoint], since: datetime, step: timedelta, slots: int) -> list[SeriesPoint]:
    by_start = {p.start: p for p in points}
    starts = (since + i * step for i in range(slots))
    return [by_start.get(s, SeriesPoint(s, 0, 0)) for s in starts]


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
    since = _floor_hour(now) - 23 * HOUR
    hourly = queries.resampled_series(session, ids, since, since + DAY, HOUR)
    last_hour = queries.counts_since(session, ids, now - HOUR)
    rows = []
    for brand_id in ids:
        brand = brands[brand_id]
        points = _dense(hourly.get(brand_id, []), since, HOUR, 24)
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
    return _render(
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


def _chart_range(incident: Incident, now: datetime, width: timedelta) -> tuple[datetime, datetime, timedelta]:
    """Six hours before the onset to two hours after the end (or now); hourly slots past 36 hours."""
    end = max(incident.last_signal_at, incident.resolved_at or incident.last_signal_at)
    until = min(bucket_start(now, int(width.total_seconds() // 60)) + width, end + 2 * HOUR)
    since = bucket_start(incident.started_at - 6 * HOUR, int(width.total_seconds() // 60))
    until = max(until, incident.started_at + width)
    step = width if until - since <= 36 * HOUR else max(width, HOUR)
    if step != width:
        since, until = _floor_hour(since), _floor_hour(until) + HOUR
    return since, until, step


@router.get("/incidents/{incident_id}", response_class=HTMLResponse, name="incident_page")
def incident_page(
    request: Request,
    incident_id: str,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> HTMLResponse:
    now = context.clock()
    number = _parse_id(incident_id)
    incident = session.get(Incident, number) if number is not None else None
    brand = session.get(Brand, incident.brand_id) if incident is not None else None
    if incident is None or brand is None:
        return _not_found(
            request,
            now,
            f"インシデント「{incident_id}」は見つかりません。",
            f"There is no incident with id “{incident_id}”.",
        )
    width = timedelta(minutes=brand.bucket_minutes)
    active_from, active_to = incident_window(incident, now, brand.bucket_minutes)
    negative_share, baseline_share = incident_shares(session, incident, active_from, active_to)
    since, until, step = _chart_range(incident, now, width)
    points = (
        queries.bucket_series(session, brand.id, since, until)
        if step == width
        else queries.resampled_series(session, [brand.id], since, until, step).get(brand.id, [])
    )
    markers = [Marker(incident.started_at, "発生 onset")]
    if incident.resolved_at is not None:
        markers.append(Marker(incident.resolved_at, "解決 resolved", css="resolved"))
    chart = volume_chart(
        points,
        since=since,
        until=until,
        step=step,
        tz=zone(brand.timezone),
        markers=markers,
        band=(active_from, active_to),
        title=f"{brand.name}: 言及数と否定的な投稿 / mentions and negative posts per "
        f"{int(step.total_seconds() // 60)} min",
    )
    posts_from, posts_to = posts_window(incident)
    top = queries.top_posts(session, brand.id, posts_from, posts_to)
    posts = [(mention, reach, safe_url(mention.url)) for mention, reach in top]
    terms = incident_drivers(session, incident, brand)
    return _render(
        request,
        "incident.html",
        now=now,
        incident=incident,
        brand=brand,
        tz=brand.timezone,
        refresh=30 if incident.resolved_at is None else None,
        headline=headline(incident, brand.name, brand.timezone, now, negative_share, baseline_share),
        negative_share=negative_share,
        baseline_share=baseline_share,
        chart=chart,
        posts=posts,
        terms=terms,
        posts_from=posts_from,
        posts_to=posts_to,
        events=queries.incident_events(session, incident.id),
    )


def _incident_and_brand(session: Session, incident_id: str) -> tuple[Incident, Brand] | None:
    number = _parse_id(incident_id)
    incident = session.get(Incident, number) if number is not None else None
    brand = session.get(Brand, incident.brand_id) if incident is not None else None
    return (incident, brand) if incident is not None and brand is not None else None


@router.get("/incidents/{incident_id}/chart.png", name="incident_chart")
def incident_chart(
    incident_id: str, session: Session = Depends(get_session), context: ApiContext = Depends(get_context)
) -> Response:
    """The PNG chart that e-mail and Slack link to: the last six hours, onset marked."""
    found = _incident_and_brand(session, incident_id)
    if found is None:
        return Response("no such incident", status_code=404, media_type="text/plain; charset=utf-8")
    incident, brand = found
    png = render_incident_chart_png(
        incident_series(session, incident, brand, context.clock()),
        incident.started_at,
        tz=zone(brand.timezone),
        title=f"{brand.name}: 直近6時間 / last 6 h",
        resolved_at=incident.resolved_at,
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=60"})


@router.get("/incidents/{incident_id}/runbook", response_class=HTMLResponse, name="incident_runbook")
def incident_runbook(
    request: Request,
    incident_id: str,
    locale: str | None = Query(None, max_length=8),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> HTMLResponse:
    """The response runbook rendered for this incident (the brand's override if it has one)."""
    now = context.clock()
    found = _incident_and_brand(session, incident_id)
    if found is None:
        return _not_found(
            request,
            now,
            f"インシデント「{incident_id}」は見つかりません。",
            f"There is no incident with id “{incident_id}”.",
        )
    incident, brand = found
    shown = locale if locale in LOCALES else brand.locale if brand.locale in LOCALES else "ja"
    runbook = render_runbook(session, incident, shown, now=now, public_url=context.public_url)
    return _render(
        request,
        "runbook.html",
        now=now,
        incident=incident,
        brand=brand,
        runbook=runbook,
        body=Markup(runbook.html),  # markdown-it output: raw HTML in templates/overrides is escaped
        locale=shown,
        locales=LOCALES,
    )


@router.get("/brands/{brand_id}", response_class=HTMLResponse, name="brand_page")
def brand_page(
    request: Request,
    brand_id: str,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> HTMLResponse:
    now = context.clock()
    number = _parse_id(brand_id)
    brand = session.get(Brand, number) if number is not None else None
    if brand is None:
        return _not_found(
            request,
            now,
            f"ブランド「{brand_id}」は見つかりません。",
            f"There is no brand with id “{brand_id}”.",
        )
    until = _floor_hour(now) + HOUR
    since = until - 7 * DAY
    points = queries.resampled_series(session, [brand.id], since, until, HOUR).get(brand.id, [])
    total = sum(p.total for p in points)
    negative = sum(p.negative for p in points)
    incidents = queries.brand_incidents(session, brand.id)
    open_severities = [i.severity for i in incidents if i.status in queries.OPEN]
    chart = volume_chart(
        points,
        since=since,
        until=until,
        step=HOUR,
        tz=zone(brand.timezone),
        title=f"{brand.name}: 7日間の言及数（1時間ごと）/ mentions per hour, last 7 days",
    )
    return _render(
        request,
        "brand.html",
        now=now,
        brand=brand,
        tz=brand.timezone,
        chart=chart,
        week_total=total,
        week_share=share(negative, total),
        run=queries.detector_runs(session, [brand.id]).get(brand.id),
        incidents=[(i, brand.name, brand.timezone) for i in incidents],
        severity=worst_severity(open_severities),
    )
