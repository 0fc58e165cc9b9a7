"""The daily digest page: GET /digest (today so far) and /digest/{YYYY-MM-DD}, in Japanese or English."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from alerting.digest import BrandDay, Digest, build_daily_digest, duration_words, local_today
from api.context import ApiContext, get_context, get_session
from api.pages.access import authorize, denied
from api.pages.charts import sparkline
from api.pages.common import not_found, page_lang, remember_lang, render

router = APIRouter(include_in_schema=False)


def trend_chart(brand: BrandDay, lang: str) -> Markup:
    """The 7-day mentions trend as a server-side SVG sparkline (the last point is today)."""
    counts = " · ".join(f"{d.day:%m/%d} {d.total}" for d in brand.trend)
    title = (
        f"{brand.name}: 7日間の言及数 {counts}"
        if lang == "ja"
        else f"{brand.name}: mentions, 7 days: {counts}"
    )
    return sparkline([d.total for d in brand.trend], title=title, css="spark vol", width=140)


def _parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def _page(
    request: Request, session: Session, context: ApiContext, day: date, lang: str | None
) -> HTMLResponse:
    now = context.clock()
    chosen = page_lang(request, lang, "ja")
    digest: Digest = build_daily_digest(session, day, context.digest_timezone, now)
    today = local_today(now, context.digest_timezone)
    response = render(
        request,
        "digest.html",
        now=now,
        lang=chosen,
        digest=digest,
        display_tz=context.digest_timezone,
        charts={b.brand_id: trend_chart(b, chosen) for b in digest.brands},
        duration=lambda value: duration_words(value).pick(chosen),
        previous=(day - timedelta(days=1)).isoformat(),
        following=(day + timedelta(days=1)).isoformat() if day < today else None,
        is_today=day == today,
    )
    return remember_lang(response, lang)


@router.get("/digest", response_class=HTMLResponse, name="digest_today")
def digest_today(
    request: Request,
    lang: str | None = Query(None, max_length=8),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> HTMLResponse:
    if authorize(request, context) is None:
        return denied(request, context)
    return _page(request, session, context, local_today(context.clock(), context.digest_timezone), lang)


@router.get("/digest/{day}", response_class=HTMLResponse, name="digest_day")
def digest_day(
    request: Request,
    day: str,
    lang: str | None = Query(None, max_length=8),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
) -> HTMLResponse:
    if authorize(request, context) is None:
        return denied(request, context)
    now: datetime = context.clock()
    parsed = _parse_day(day)
    if parsed is None:
        return not_found(
            request, now, f"日付「{day}」は YYYY-MM-DD ではありません。", f"“{day}” is not a YYYY-MM-DD date."
        )
    if parsed > local_today(now, context.digest_timezone):
        return not_found(request, now, f"{parsed} はまだ来ていません。", f"{parsed} has not happened yet.")
    return _page(request, session, context, parsed, lang)
