"""GET /api/v1/brands/{id}/metrics on both stores: sums of real buckets, JST day grid, band after a tick."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from alerting.expectations import store_expectation
from alerting.tick import DetectionTicker
from api.auth import create_api_key
from api.metrics_schemas import MetricsOut
from detectors import DetectorState
from detectors.types import TickResult
from storage.mentions import Bucket
from storage.timebuckets import bucket_start
from tests.helpers import add_brand

FIVE = timedelta(minutes=5)
URL = "/api/v1/brands/{}/metrics"
# 2026-11-20 15:00 UTC is midnight of 2026-11-21 in Tokyo (JST, UTC+9, no DST).
JST_MIDNIGHT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _seed(factory, now, start: datetime, count: int, skip: set[int], **brand):  # type: ignore[no-untyped-def]
    """Buckets with random counts and expectations; returns the brand id and {start: row values}."""
    rng = random.Random(17)
    seeded: dict[datetime, tuple[int, int, int, float, float, float]] = {}
    with factory() as session, session.begin():
        brand_id = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now, **brand).id
        for i in range(count):
            if i in skip:
                continue
            at = start + i * FIVE
            total = rng.randint(0, 30)
            negative, authors = rng.randint(0, total), rng.randint(0, total)
            expected = rng.uniform(5, 20)
            upper, share = expected + rng.uniform(3, 9), rng.uniform(0.02, 0.2)
            session.add(
                Bucket(brand_id=brand_id, start=at, total=total, negative=negative, reach=0, authors=authors)
            )
            session.flush()
            result = TickResult([], DetectorState(), expected, upper, share)
            store_expectation(session, brand_id, at, result)
            seeded[at] = (total, negative, authors, expected, upper, share)
    return brand_id, seeded


def _get(client, headers, brand_id: int, **params: str):  # type: ignore[no-untyped-def]
    return client.get(URL.format(brand_id), params=params, headers=headers)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_hourly_points_are_sums_of_the_seeded_buckets(client, make_key, factory, now) -> None:
    start = bucket_start(now - timedelta(hours=6), 5)
    brand_id, seeded = _seed(factory, now, start, 72, skip={30})
    body = _get(
        client,
        make_key("read"),
        brand_id,
        since=_iso(start),
        until=_iso(start + timedelta(hours=6)),
        resolution="1h",
    )
    assert body.status_code == 200, body.text
    data = body.json()
    MetricsOut.model_validate(data)  # the documented model describes what is served
    assert data["resolution"] == "1h" and len(data["points"]) == 6
    for point in data["points"]:
        p_start = datetime.fromisoformat(point["start"])
        inside = [v for at, v in seeded.items() if p_start <= at < p_start + timedelta(hours=1)]
        assert point["total"] == sum(v[0] for v in inside)
        assert point["negative"] == sum(v[1] for v in inside)
        assert point["authors"] == sum(v[2] for v in inside)
        share = point["negative"] / point["total"] if point["total"] else None
        assert point["negative_share"] == share
        if len(inside) < 12:  # the hour with a bucket the tick never evaluated has no comparable expectation
            assert point["expected"] is None and point["upper"] is None and not point["anomalous"]
            continue
        expected = sum(v[3] for v in inside)
        band = math.sqrt(sum((v[4] - v[3]) ** 2 for v in inside))
        assert math.isclose(point["expected"], expected, rel_tol=1e-9)
        assert math.isclose(point["upper"], expected + band, rel_tol=1e-9)
        weighted = sum(v[3] * v[5] for v in inside) / sum(v[3] for v in inside)
        assert math.isclose(point["baseline_share"], weighted, rel_tol=1e-9)
        assert point["anomalous"] == (point["total"] > point["upper"])
    assert sum(p["expected"] is None for p in data["points"]) == 1


def test_five_minute_points_fill_gaps_with_zeros_and_default_to_the_last_day(
    client, make_key, factory, now
) -> None:
    start = bucket_start(now - timedelta(hours=2), 5)
    brand_id, seeded = _seed(factory, now, start, 24, skip={3, 4, 5})
    data = _get(client, make_key("read"), brand_id).json()  # default: the 24 h before now, at 5 min
    assert data["resolution"] == "5m"
    assert datetime.fromisoformat(data["until"]) == now
    assert datetime.fromisoformat(data["since"]) == now - timedelta(days=1)
    points = data["points"]
    assert len(points) == 288
    starts = [datetime.fromisoformat(p["start"]) for p in points]
    assert starts == [now - timedelta(days=1) + i * FIVE for i in range(288)]
    by_start = dict(zip(starts, points, strict=True))
    for i in range(24):
        point = by_start[start + i * FIVE]
        if i in (3, 4, 5):
            assert point["total"] == 0 and point["expected"] is None and point["negative_share"] is None
        else:
            assert point["total"] == seeded[start + i * FIVE][0]
            assert math.isclose(point["upper"], seeded[start + i * FIVE][4], rel_tol=1e-9)
    assert sum(p["total"] for p in points) == sum(v[0] for v in seeded.values())


def test_day_points_follow_the_brands_midnight(client, make_key, factory, now) -> None:
    """Buckets either side of Tokyo midnight (15:00 UTC) land in different days; 6 h steps start there."""
    start = JST_MIDNIGHT - timedelta(hours=2)
    brand_id, seeded = _seed(factory, now, start, 48, skip=set())  # 13:00–17:00 UTC
    headers = make_key("read")
    since, until = _iso(JST_MIDNIGHT - timedelta(days=1)), _iso(JST_MIDNIGHT + timedelta(days=1))
    days = _get(client, headers, brand_id, since=since, until=until, resolution="1d").json()["points"]
    assert [p["start"] for p in days] == [_iso(JST_MIDNIGHT - timedelta(days=1)), _iso(JST_MIDNIGHT)]
    before = sum(v[0] for at, v in seeded.items() if at < JST_MIDNIGHT)
    after = sum(v[0] for at, v in seeded.items() if at >= JST_MIDNIGHT)
    assert [p["total"] for p in days] == [before, after]
    assert days[0]["expected"] is None  # 22 hours of that day were never evaluated
    six = _get(client, headers, brand_id, since=since, until=until, resolution="6h").json()["points"]
    assert [datetime.fromisoformat(p["start"]).astimezone(UTC).hour for p in six[:4]] == [15, 21, 3, 9]
    assert sum(p["total"] for p in six) == before + after
    # a since inside a day starts the series at that day's midnight point
    mid = _get(client, headers, brand_id, since=_iso(JST_MIDNIGHT + timedelta(hours=5)), resolution="1d")
    assert datetime.fromisoformat(mid.json()["points"][0]["start"]) == JST_MIDNIGHT


def test_the_band_is_there_after_a_real_tick(client, make_key, factory, now) -> None:
    start = bucket_start(now - timedelta(days=2), 5)
    rng = random.Random(3)
    with factory() as session, session.begin():
        brand_id = add_brand(session, "b", ["b"], now).id
        for i in range(2 * 288):
            total = rng.randint(8, 14) if i < 2 * 288 - 6 else 120  # a surge in the last half hour
            session.add(
                Bucket(
                    brand_id=brand_id, start=start + i * FIVE, total=total, negative=1, reach=0, authors=total
                )
            )
    DetectionTicker(factory).tick(now)
    since = _iso(now - timedelta(hours=3))
    points = _get(client, make_key("read"), brand_id, since=since, resolution="30m").json()["points"]
    assert len(points) == 6
    assert all(p["expected"] is not None and p["upper"] > p["expected"] > 0 for p in points)
    assert [p["anomalous"] for p in points] == [False] * 5 + [True]
    assert all(0 <= p["baseline_share"] <= 1 for p in points)


def test_bad_requests_are_clear_422s(client, make_key, factory, now) -> None:
    with factory() as session, session.begin():
        ten = add_brand(session, "ten", ["ten"], now, bucket_minutes=10).id
    headers = make_key("read")
    cases = [
        ({"resolution": "2h"}, "validation_error"),
        ({"resolution": "5m"}, "invalid_resolution"),
        ({"resolution": "15m"}, "invalid_resolution"),
        ({"since": _iso(now - timedelta(days=401))}, "range_too_large"),
        ({"since": _iso(now), "until": _iso(now - timedelta(hours=1))}, "invalid_range"),
        ({"since": "2026-11-20T05:00:00"}, "validation_error"),  # no timezone
        ({"since": "yesterday"}, "validation_error"),
        ({"since": _iso(now - timedelta(days=300)), "resolution": "30m"}, "too_many_points"),
    ]
    for params, code in cases:
        response = _get(client, headers, ten, **params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code, (params, response.json())
    ok = _get(client, headers, ten, resolution="30m")
    assert ok.status_code == 200 and len(ok.json()["points"]) == 48
    assert _get(client, headers, ten).json()["resolution"] == "30m"  # the finest fitting 10-min buckets


def test_unknown_brand_is_404_and_other_brands_are_403(client, make_key, factory, now) -> None:
    with factory() as session, session.begin():
        mine = add_brand(session, "mine", ["mine"], now).id
        other = add_brand(session, "other", ["other"], now).id
        _, secret = create_api_key(session, "limited", ["read"], now, brand_ids=[mine])
    limited = {"Authorization": f"Bearer {secret}"}
    missing = _get(client, make_key("read"), 999)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert _get(client, limited, mine).status_code == 200
    forbidden = _get(client, limited, other)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "brand_forbidden"
    assert _get(client, {}, mine).status_code == 401
    assert client.get("/openapi.json").json()["paths"][URL.format("{brand_id}")]["get"]
