"""What every page route shares: the template environment, rendering, ids, language, small helpers."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from alerting.incident_queries import SeriesPoint
from api.pages.present import (
    DEFAULT_TZ,
    ago,
    event_label,
    kind_label,
    local_time,
    percent,
    severity_badge,
    status_label,
)
from storage.brands import Brand
from storage.incidents import Incident
from storage.timebuckets import bucket_start

HERE = Path(__file__).resolve().parent
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LANGS = ("ja", "en")
LANG_COOKIE = "noroshi_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(
    badge=severity_badge,
    t=local_time,
    status_label=status_label,
    kind_label=kind_label,
    event_label=event_label,
    percent=percent,
    ago=ago,
)


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    def url(route: str, **params: Any) -> str:
        return request.url_for(route, **{k: str(v) for k, v in params.items()}).path

    lang = values.setdefault("lang", "ja")

    def tr(ja: str, en: str) -> str:  # the one-language pages pick their words with tr("…", "…")
        return en if lang == "en" else ja

    values.setdefault("refresh", None)
    values.setdefault("display_tz", DEFAULT_TZ)
    html = env.get_template(name).render(url=url, request=request, tr=tr, **values)
    return HTMLResponse(html, status_code=status_code)


def not_found(request: Request, now: datetime, what_ja: str, what_en: str) -> HTMLResponse:
    return render(request, "not_found.html", status_code=404, now=now, what_ja=what_ja, what_en=what_en)


def incident_not_found(request: Request, now: datetime, incident_id: str) -> HTMLResponse:
    return not_found(
        request,
        now,
        f"インシデント「{incident_id}」は見つかりません。",
        f"There is no incident with id “{incident_id}”.",
    )


def parse_id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else None


def incident_and_brand(session: Session, incident_id: str) -> tuple[Incident, Brand] | None:
    number = parse_id(incident_id)
    incident = session.get(Incident, number) if number is not None else None
    brand = session.get(Brand, incident.brand_id) if incident is not None else None
    return (incident, brand) if incident is not None and brand is not None else None


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered (a `javascript:` URL in a post must not become a link)."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def floor_hour(at: datetime) -> datetime:
    return bucket_start(at, 60)


def dense(points: list[SeriesPoint], since: datetime, step: timedelta, slots: int) -> list[SeriesPoint]:
    by_start = {p.start: p for p in points}
    starts = (since + i * step for i in range(slots))
    return [by_start.get(s, SeriesPoint(s, 0, 0)) for s in starts]


def page_lang(request: Request, lang: str | None, default: str) -> str:
    """`?lang=` when given, else the remembered choice (cookie), else the brand's locale."""
    for choice in (lang, request.cookies.get(LANG_COOKIE), default):
        if choice in LANGS:
            return choice
    return "ja"


def remember_lang(response: HTMLResponse, lang: str | None) -> HTMLResponse:
    """An explicit `?lang=` choice is kept for the next pages (a plain preference, not a secret)."""
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_SECONDS, samesite="lax", httponly=True)
    return response


def usual_range(
    expected: float | None, upper: float | None, bucket_minutes: int, step: timedelta
) -> tuple[float, float] | None:
    """The detector's usual level per bucket scaled to `step` slots: the expected count adds up, the
    margin above it grows with the square root of the number of buckets (independent noise)."""
    if expected is None or upper is None:
        return None
    buckets = max(step / timedelta(minutes=bucket_minutes), 1.0)
    return expected * buckets, expected * buckets + max(upper - expected, 0.0) * math.sqrt(buckets)


_SCALE_RE = re.compile(r"_(\d{1,4})(m|h)$")


def scale_minutes(test: str, bucket_minutes: int) -> int:
    """The window the detector compared (its test name ends in the scale: "nb_tail_15m", "…_1h")."""
    match = _SCALE_RE.search(test)
    if match is None:
        return bucket_minutes
    return max(int(match[1]) * (60 if match[2] == "h" else 1), bucket_minutes)


def per_bucket(expected: float, upper: float, scale: int, bucket_minutes: int) -> tuple[float, float]:
    """An (expected, upper) over a `scale`-minute window, brought down to one bucket (inverse of
    `usual_range`: the mean divides, the margin divides by the square root)."""
    buckets = max(scale / bucket_minutes, 1.0)
    return expected / buckets, expected / buckets + max(upper - expected, 0.0) / math.sqrt(buckets)
