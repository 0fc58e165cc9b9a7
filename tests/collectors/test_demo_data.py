"""The bundled demo day: parses, reads like a timeline, and ends with a flame-up (measured, not assumed)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.sources.base import build_source
from collectors.sources.demo import DEMO_BRAND, demo_posts_path

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    with demo_posts_path().open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _matches(text: str) -> bool:
    lowered = text.lower()
    if any(term.lower() in lowered for term in DEMO_BRAND["exclude"]):
        return False
    return any(keyword.lower() in lowered for keyword in DEMO_BRAND["keywords"])


def test_demo_brand_shape() -> None:
    assert set(DEMO_BRAND) == {"name", "keywords", "exclude", "languages", "timezone"}
    assert "ノロシ珈琲" in DEMO_BRAND["keywords"] and DEMO_BRAND["timezone"] == "Asia/Tokyo"
    assert demo_posts_path().is_file() and demo_posts_path().stat().st_size < 2_000_000


def test_demo_file_replays_without_skips() -> None:
    source = build_source(
        "replay", {"path": "demo", "speed": 1e9, "time_mode": "original", "batch_max": 20_000}
    )
    first = source.fetch(None, NOW)
    rest = source.fetch(first.cursor, NOW + timedelta(seconds=1))
    posts = first.posts + rest.posts
    assert first.skipped == [] and rest.exhausted
    assert len(posts) > 3000 and len({p.external_id for p in posts}) == len(posts)
    assert max(p.posted_at for p in posts) - min(p.posted_at for p in posts) > timedelta(hours=23)
    assert all(p.author and p.url and p.url.startswith("https://x.example/") for p in posts)
    assert all(p.author_followers is not None and p.reposts is not None for p in posts)


def test_demo_reads_like_a_timeline(rows: list[dict[str, Any]]) -> None:
    langs = Counter(row["lang"] for row in rows)
    assert 0.68 <= langs["ja"] / len(rows) <= 0.82 and langs["ja"] + langs["en"] == len(rows)
    authors = Counter(row["author"] for row in rows)
    assert max(authors.values()) >= 10  # reused accounts
    followers = sorted({(row["author"], row["followers"]) for row in rows}, key=lambda a: a[1])
    median = followers[len(followers) // 2][1]
    assert followers[-1][1] > 100 * median  # heavy tail: influencers
    assert len({row["text"] for row in rows}) > 0.5 * len(rows)  # varied texts
    # Keywords find exactly the brand posts; the 狼煙 / のろし台 noise does not match.
    for row in rows:
        assert _matches(row["text"]) == (row["topic"] != "noise"), row["text"]
    assert sum(row["topic"] == "noise" for row in rows) > 100


def test_demo_flame_up_is_in_the_last_hours(rows: list[dict[str, Any]]) -> None:
    jst = ZoneInfo(DEMO_BRAND["timezone"])
    start = min(datetime.fromisoformat(row["posted_at"]) for row in rows)
    per_hour: Counter[int] = Counter()
    negative: Counter[int] = Counter()
    for row in rows:
        if not _matches(row["text"]):
            continue
        hour = int((datetime.fromisoformat(row["posted_at"]) - start).total_seconds() // 3600)
        per_hour[hour] += 1
        negative[hour] += row["sentiment"] == "negative"
    assert start.astimezone(jst).hour == 0 and sorted(per_hour) == list(range(24))

    normal = [per_hour[h] for h in range(20)]
    flame = [per_hour[h] for h in range(20, 24)]
    peak_hour = max(per_hour, key=lambda h: per_hour[h])
    assert 20 <= peak_hour <= 23
    assert max(flame) >= 5 * (sum(normal) / len(normal))
    assert per_hour[peak_hour] >= 5 * max(normal[:19])  # well above even the busiest normal hour
    assert min(normal[1:6]) < 0.5 * max(normal)  # quiet night, busier day
    negative_share = {h: negative[h] / per_hour[h] for h in per_hour}
    assert all(negative_share[h] < 0.25 for h in range(20))
    flame_share = sum(negative[h] for h in range(20, 24)) / sum(flame)
    assert 0.55 <= flame_share <= 0.75
    assert per_hour[23] < per_hour[peak_hour]  # partial decay

    # Five-minute buckets: baseline mostly 5-20 posts, the peak 5-10x the pre-incident level.
    buckets: Counter[int] = Counter()
    for row in rows:
        if _matches(row["text"]):
            buckets[int((datetime.fromisoformat(row["posted_at"]) - start).total_seconds() // 300)] += 1
    daytime = [buckets[b] for b in range(8 * 12, 20 * 12)]
    assert 5 <= sorted(daytime)[len(daytime) // 2] <= 20
    evening = sum(buckets[b] for b in range(18 * 12, 20 * 12)) / 24
    assert 5 * evening <= max(buckets.values()) <= 10 * evening

    # The flame-up starts with one viral post from a high-follower account.
    incident = sorted((r for r in rows if r["topic"] == "incident"), key=lambda r: r["posted_at"])
    viral = max(incident, key=lambda r: r["reposts"])
    assert viral["followers"] > 100_000 and viral["reposts"] > 10_000
    assert datetime.fromisoformat(viral["posted_at"]) - start >= timedelta(hours=19)
    words = " ".join(r["text"] for r in incident)
    for term in ["炎上", "不衛生", "謝罪しろ", "不買", "disgusting", "boycott"]:
        assert term in words.lower()


def test_generator_is_deterministic_and_file_is_current(tmp_path: Path) -> None:
    from collectors.sources.demo.generate import write

    out = tmp_path / "demo.jsonl"
    write(out)
    assert out.read_bytes() == demo_posts_path().read_bytes()


def test_live_demo_day_keeps_the_jst_time_of_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live demo's day ends at the seeding time; its rhythm follows the real JST clock."""
    from collectors.sources.demo import generate

    monkeypatch.setattr(generate, "live_cache_dir", lambda: tmp_path)
    end = datetime(2026, 11, 21, 19, 25, 41, tzinfo=UTC)  # 04:25 JST: the flame-up falls at 00:37 JST
    source = build_source(
        "replay",
        {"path": "demo@2026-11-21T19:25:41Z", "speed": 1e9, "time_mode": "original", "batch_max": 20_000},
    )
    first = source.fetch(None, end)
    posts = first.posts + source.fetch(first.cursor, end + timedelta(seconds=1)).posts
    assert list(tmp_path.glob("demo-*.jsonl"))  # generated into the cache, once
    minute = end.replace(second=0)
    times = [p.posted_at for p in posts]
    assert minute - timedelta(days=1) <= min(times) and max(times) < minute
    jst = ZoneInfo("Asia/Tokyo")
    viral = max(posts, key=lambda p: p.reposts or 0)
    assert viral.posted_at == minute - timedelta(hours=3, minutes=48)
    official = sorted(
        p.posted_at.astimezone(jst).strftime("%H:%M")
        for p in posts
        if p.author == "noroshi_coffee" and p.posted_at < viral.posted_at
    )
    assert official == ["07:00", "11:30", "15:00", "19:00"]
    per_hour = Counter(p.posted_at.astimezone(jst).hour for p in posts if p.posted_at < viral.posted_at)
    assert sum(per_hour[h] for h in (2, 3, 4)) * 3 < sum(per_hour[h] for h in (11, 12, 13))  # quiet JST night
    # Deterministic: the same end regenerates the same bytes (a restart's cursor stays valid).
    made = next(tmp_path.glob("demo-*.jsonl"))
    before = made.read_bytes()
    made.unlink()
    assert generate.day_ending(end).read_bytes() == before


@pytest.mark.parametrize("path", ["demo@yesterday", "demo@2026-11-21T19:25"])
def test_live_demo_path_needs_an_aware_time(path: str) -> None:
    from collectors.sources.base import validate_source_settings

    with pytest.raises(ValueError, match="demo@TIME"):
        validate_source_settings("replay", {"path": path})
