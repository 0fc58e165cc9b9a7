"""/api/v1/brands/{brand_id}/metrics: the bucket series with the detector's expected value and band."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic_core import to_json
from sqlalchemy.orm import Session

from api.auth import Principal, require
from api.context import ApiContext, get_context, get_session
from api.lookups import visible_brand
from api.metrics_schemas import RESOLUTION_MINUTES, MetricsOut, Resolution
from api.metrics_series import grid, metric_points
from api.problems import ApiProblem, ensure_aware
from storage.brands import Brand

router = APIRouter(prefix="/api/v1/brands", tags=["metrics"])

MAX_RANGE = timedelta(days=400)
# A chart wants hundreds of points, not a hundred thousand: beyond this, ask for a coarser resolution.
MAX_POINTS = 10_000


def _range(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    ensure_aware(since=since, until=until)
    until = (until or now).astimezone(UTC)
    since = (since or until - timedelta(days=1)).astimezone(UTC)
    if since >= until:
        raise ApiProblem(422, "invalid_range", "since must be before until")
    if until - since > MAX_RANGE:
        raise ApiProblem(
            422, "range_too_large", f"at most {MAX_RANGE.days} days per request; split the range"
        )
    return since, until


def _resolution_minutes(resolution: Resolution | None, brand: Brand, span: timedelta) -> int:
    """The step in minutes; default: the finest listed resolution that fits the brand's buckets."""
    if resolution is None:
        fitting = [m for m in RESOLUTION_MINUTES.values() if m % brand.bucket_minutes == 0]
        minutes = fitting[0] if fitting else 1440
    else:
        minutes = RESOLUTION_MINUTES[resolution]
    if minutes % brand.bucket_minutes:
        raise ApiProblem(
            422,
            "invalid_resolution",
            f"resolution must be a multiple of the brand's {brand.bucket_minutes}-minute buckets",
        )
    if span / timedelta(minutes=minutes) > MAX_POINTS:
        detail = f"more than {MAX_POINTS} points: use a coarser resolution or a shorter range"
        raise ApiProblem(422, "too_many_points", detail)
    return minutes


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _label(minutes: int) -> Resolution:
    return next(name for name, value in RESOLUTION_MINUTES.items() if value == minutes)  # type: ignore[return-value]


@router.get("/{brand_id}/metrics", response_model=MetricsOut)
def brand_metrics(
    brand_id: int,
    since: datetime | None = Query(None, description="ISO 8601 with a timezone; default: 24 h before until"),
    until: datetime | None = Query(None, description="ISO 8601 with a timezone, exclusive; default: now"),
    resolution: Resolution | None = Query(
        None,
        description="point width; a multiple of the brand's bucket size (default: the finest that is). "
        "Points align to the brand's local midnight; 1d points are calendar days in its timezone.",
    ),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("read")),
) -> Response:
    """Counts per point (zeros where nobody posted), the detector's expected total and upper band,
    and whether the point is above the band. Coarser points sum the brand's buckets; see
    `api/metrics_series.py` for how the band of a sum is combined."""
    brand = visible_brand(session, brand_id, principal)
    since, until = _range(since, until, context.clock())
    minutes = _resolution_minutes(resolution, brand, until - since)
    bounds = grid(since, until, minutes, brand.timezone)
    body = {
        "brand_id": brand_id,
        "resolution": _label(minutes),
        "since": _iso(since),
        "until": _iso(until),
        "points": metric_points(session, brand_id, bounds, brand.bucket_minutes),
    }
    # Built as plain JSON (shaped like MetricsOut, which documents it): validating hundreds of points
    # through a model on every chart refresh costs more than the query; pydantic's encoder is several
    # times faster than the json module on 720 points.
    return Response(to_json(body), media_type="application/json")
