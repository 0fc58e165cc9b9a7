"""One incident: the summary page Slack and e-mail link to, its chart PNG, runbook and post-incident report.

The summary and the report are in one language (the brand's locale, `?lang=en|ja` to switch, the
choice remembered in a cookie); both are built from the same incident context the notifications use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from alerting.charts import render_incident_chart_png
from alerting.incident_queries import posts_window
from alerting.report import Impact, Report, build_report, duration_text, report_markdown
from alerting.runbooks import LOCALES, render_runbook
from alerting.summary import build_incident_context, incident_series
from api.context import ApiContext, get_context, get_session
from api.pages import queries
from api.pages.access import authorize, denied
from api.pages.charts import Marker, share, volume_chart
from api.pages.common import (
    HOUR,
    floor_hour,
    incident_and_brand,
    incident_not_found,
    page_lang,
    parse_id,
    per_bucket,
    remember_lang,
    render,
    scale_minutes,
    usual_range,
)
from api.pages.present import incident_window, zone
from storage.brands import Brand
from storage.incidents import Incident
from storage.timebuckets import bucket_start

router = APIRouter(include_in_schema=False)


def chart_range(incident: Incident, now: datetime, width: timedelta) -> tuple[datetime, datetime, timedelta]:
    """Six hours before the onset to two hours after the end (or now); hourly slots past 36 hours."""
    end = max(incident.last_signal_at, incident.resolved_at or incident.last_signal_at)
    until = min(bucket_start(now, int(width.total_seconds() // 60)) + width, end + 2 * HOUR)
    since = bucket_start(incident.started_at - 6 * HOUR, int(width.total_seconds() // 60))
    until = max(until, incident.started_at + width)
    step = width if until - since <= 36 * HOUR else max(width, HOUR)
    if step != width:
        since, until = floor_hour(since), floor_hour(until) + HOUR
    return since, until, step


def _charts(
    session: Session,
    incident: Incident,
    brand: Brand,
    now: datetime,
    lang: str,
    desc: str,
    usual_share: float | None,
) -> tuple[Markup, Markup]:
    """The same chart twice: wide for desktops, narrow (fewer slots per pixel, larger text) for phones."""
    width = timedelta(minutes=brand.bucket_minutes)
    since, until, step = chart_range(incident, now, width)
    points = (
        queries.bucket_series(session, brand.id, since, until)
        if step == width
        else queries.resampled_series(session, [brand.id], since, until, step).get(brand.id, [])
    )
    ja = lang == "ja"
    markers = [Marker(incident.started_at, "発生" if ja else "onset")]
    if incident.resolved_at is not None:
        markers.append(Marker(incident.resolved_at, "解決" if ja else "resolved", css="resolved"))
    minutes = int(step.total_seconds() // 60)
    common: dict[str, Any] = {
        "since": since,
        "until": until,
        "step": step,
        "tz": zone(brand.timezone),
        "markers": markers,
        "band": incident_window(incident, now, brand.bucket_minutes),
        "usual": usual_range(*_bucket_band(incident, brand), brand.bucket_minutes, step),
        "usual_series": queries.expectation_series(session, brand.id, since, until, step),
        "usual_share": usual_share,
        "title": f"{brand.name}: {minutes}分ごとの言及数と否定的な投稿の割合"
        if ja
        else f"{brand.name}: mentions per {minutes} min and the share of negative posts",
        "desc": desc,
    }
    return volume_chart(points, **common), volume_chart(points, width=420, height=280, **common)


def _bucket_band(incident: Incident, brand: Brand) -> tuple[float, float]:
    scale = scale_minutes(incident.test, brand.bucket_minutes)
    return per_bucket(incident.expected, incident.upper, scale, brand.bucket_minutes)


@dataclass(frozen=True, slots=True)
class Owner:
    who: str | None
    at: datetime | None
    waiting: timedelta | None  # unacknowledged and open: how long since the onset


def _owner(incident: Incident, report: Report, now: datetime) -> Owner:
    """Who acknowledged it (the incident row, else the latest acknowledgement in the timeline)."""
    if incident.acknowledged_by is not None:
        return Owner(incident.acknowledged_by, incident.acknowledged_at, None)
    acknowledged = [e for e in report.timeline if e.event == "acknowledge"]
    if acknowledged:
        return Owner(acknowledged[-1].actor, acknowledged[-1].at, None)
    return Owner(None, None, now - incident.started_at if incident.resolved_at is None else None)


def _report(
    session: Session, incident: Incident, brand: Brand, context: ApiContext, lang: str
) -> tuple[Report, Impact, dict[str, Any]]:
    now = context.clock()
    incident_context = build_incident_context(session, incident, context.public_url, now)
    since, until = incident_window(incident, now, brand.bucket_minutes)
    impact: Impact = queries.incident_impact(session, brand.id, since, max(until, since + HOUR / 60))
    sent = queries.sent_notifications(session, incident.id)
    return build_report(incident_context, impact, sent, now, lang), impact, incident_context["incident"]


def _guard(
    request: Request, session: Session, context: ApiContext, incident_id: str
) -> tuple[Incident, Brand] | Response:
    """The incident and its brand, or the 401 page (before saying whether it exists) or the 404 page."""
    found = incident_and_brand(session, incident_id)
    number = parse_id(incident_id)
    brand_id = found[1].id if found is not None else None
    grant = authorize(request, context, incident_id=number, brand_id=brand_id)
    if grant is None:
        return denied(request, context, found[1].locale if found is not None else "ja")
    if found is None:
        return incident_not_found(request, context.clock(), incident_id)
    request.state.grant = grant
    return found


@router.get("/incidents/{incident_id}", response_class=HTMLResponse, name="incident_page")
def incident_page(
    request: Request,
    incident_id: str,
    lang: str | None = Query(None, max_length=5),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> Response:
    found = _guard(request, session, context, incident_id)
    if isinstance(found, Response):
        return found
    incident, brand = found
    now = context.clock()
    shown = page_lang(request, lang, brand.locale)
    report, impact, summary = _report(session, incident, brand, context, shown)
    owner = _owner(incident, report, now)
    wide, narrow = _charts(session, incident, brand, now, shown, report.summary, summary["baseline_share"])
    posts_from, posts_to = posts_window(incident)
    runbook = render_runbook(session, incident, shown, now=now, public_url=context.public_url)
    response = render(
        request,
        "incident.html",
        now=now,
        lang=shown,
        incident=incident,
        brand=brand,
        tz=brand.timezone,
        refresh=60 if incident.resolved_at is None else None,
        report=report,
        impact=impact,
        duration=duration_text((incident.resolved_at or now) - incident.started_at, shown),
        scale=scale_minutes(incident.test, brand.bucket_minutes),
        ratio=incident.observed / incident.expected if incident.expected > 0 else None,
        owner=owner,
        baseline_share=summary["baseline_share"],
        ack_after=duration_text(owner.at - incident.started_at, shown) if owner.at else None,
        negative_share=share(impact.negative, impact.total),
        chart=wide,
        chart_small=narrow,
        spread=queries.incident_spread(session, brand.id, posts_from, posts_to),
        first_steps=runbook.first_steps,
    )
    return request.state.grant.apply(remember_lang(response, lang))


@router.get("/incidents/{incident_id}/report", name="incident_report")
def incident_report(
    request: Request,
    incident_id: str,
    lang: str | None = Query(None, max_length=5),
    format: str = Query("html", pattern="^(html|md)$"),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> Response:
    """The post-incident report, as a page or (`?format=md`) a Markdown download."""
    found = _guard(request, session, context, incident_id)
    if isinstance(found, Response):
        return found
    incident, brand = found
    shown = page_lang(request, lang, brand.locale)
    report, _, _ = _report(session, incident, brand, context, shown)
    if format == "md":
        response: Response = Response(
            report_markdown(report),
            media_type="text/markdown; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="noroshi-incident-{incident.id}-{shown}.md"'
            },
        )
    else:
        response = render(
            request,
            "report.html",
            now=context.clock(),
            lang=shown,
            incident=incident,
            brand=brand,
            report=report,
        )
    return request.state.grant.apply(remember_lang(response, lang))  # type: ignore[no-any-return]


@router.get("/incidents/{incident_id}/chart.png", name="incident_chart")
def incident_chart(
    request: Request,
    incident_id: str,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> Response:
    """The PNG chart that e-mail and Slack link to: the last six hours, onset marked."""
    found = _guard(request, session, context, incident_id)
    if isinstance(found, Response):
        return found
    incident, brand = found
    png = render_incident_chart_png(
        incident_series(session, incident, brand, context.clock()),
        incident.started_at,
        tz=zone(brand.timezone),
        title=f"{brand.name}: 直近6時間 / last 6 h",
        resolved_at=incident.resolved_at,
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@router.get("/incidents/{incident_id}/runbook", response_class=HTMLResponse, name="incident_runbook")
def incident_runbook(
    request: Request,
    incident_id: str,
    locale: str | None = Query(None, max_length=8),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> Response:
    """The response runbook rendered for this incident (the brand's override if it has one)."""
    found = _guard(request, session, context, incident_id)
    if isinstance(found, Response):
        return found
    incident, brand = found
    now = context.clock()
    shown = locale if locale in LOCALES else page_lang(request, None, brand.locale)
    runbook = render_runbook(session, incident, shown, now=now, public_url=context.public_url)
    response = render(
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
    return request.state.grant.apply(response)  # type: ignore[no-any-return]
