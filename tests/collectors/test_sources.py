"""Source registry, settings validation, the push kind and the replay kind."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.posts import FetchResult, RawPost
from collectors.sources.base import (
    Source,
    SourceConfigError,
    SourceError,
    build_source,
    get_source_kind,
    source_kinds,
    validate_source_settings,
)

T0 = datetime(2025, 6, 13, 0, 0, tzinfo=UTC)
NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)  # the replay starts here


def _row(i: int, hours: float, **extra: Any) -> dict[str, Any]:
    row = {
        "id": f"p{i}",
        "posted_at": (T0 + timedelta(hours=hours)).isoformat(),
        "text": f"ノロシ珈琲 post {i}",
        "author": f"user{i}",
        "followers": 100 * i,
        "reposts": i,
        "url": f"https://x.example/user{i}/status/{i}",
        "lang": "ja",
    }
    row.update(extra)
    return row


def _write_jsonl(path: Path, rows: list[dict[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Five posts, one per hour, T0 .. T0+4h (span 4 h). At speed 3600 one wall-second replays one hour.
HOURLY = [_row(i, i) for i in range(5)]


def _roundtrip(cursor: dict[str, Any] | None) -> dict[str, Any] | None:
    return json.loads(json.dumps(cursor))  # what persisting the cursor does


def _ids(result: FetchResult) -> list[str]:
    return [p.external_id for p in result.posts]


# --- registry and settings ---------------------------------------------------------------------------


def test_registry_lists_kinds_and_validates_with_defaults(tmp_path: Path) -> None:
    assert {"push", "replay", "rss"} <= set(source_kinds())
    assert get_source_kind("push").pull is False
    assert get_source_kind("rss").pull is True
    path = _write_jsonl(tmp_path / "p.jsonl", HOURLY)
    assert validate_source_settings("replay", {"path": str(path)}) == {
        "path": str(path),
        "speed": 1.0,
        "time_mode": "shift",
        "batch_max": 5000,
        "format": "auto",
    }
    assert validate_source_settings("rss", {"url": " https://example.org/feed "}) == {
        "url": "https://example.org/feed",
        "timeout_seconds": 10.0,
    }
    assert validate_source_settings("replay", {"path": "demo"})["path"] == "demo"
    assert validate_source_settings("push", None) == {}


def test_relative_replay_path_resolves_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_jsonl(tmp_path / "rel.jsonl", HOURLY)
    monkeypatch.chdir(tmp_path)
    assert validate_source_settings("replay", {"path": "rel.jsonl"})["path"] == str(tmp_path / "rel.jsonl")


@pytest.mark.parametrize(
    ("kind", "settings", "field"),
    [
        ("nope", {}, "kind"),
        ("replay", {}, "path"),
        ("replay", {"path": "/no/such/file.jsonl"}, "path"),
        ("replay", {"path": "demo", "speed": 0}, "speed"),
        ("replay", {"path": "demo", "speed": "fast"}, "speed"),
        ("replay", {"path": "demo", "time_mode": "rewind"}, "time_mode"),
        ("replay", {"path": "demo", "batch_max": 0}, "batch_max"),
        ("replay", {"path": "demo", "colour": "red"}, "colour"),
        ("replay", {"path": "package:../../etc/passwd"}, "path"),
        ("rss", {}, "url"),
        ("rss", {"url": "ftp://example.org/feed"}, "url"),
        ("rss", {"url": "https:///feed"}, "url"),
        ("rss", {"url": "https://example.org:99999/feed"}, "url"),
        ("rss", {"url": "https://example.org/feed", "timeout_seconds": -1}, "timeout_seconds"),
        ("push", {"anything": 1}, "anything"),
        ("push", ["not", "a", "dict"], "settings"),
    ],
)
def test_settings_errors_name_the_field(kind: str, settings: Any, field: str) -> None:
    with pytest.raises(SourceConfigError) as info:
        validate_source_settings(kind, settings)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")
    with pytest.raises(SourceConfigError):
        build_source(kind, settings)


def test_unknown_extension_needs_format(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "posts.txt", HOURLY)
    with pytest.raises(SourceConfigError) as info:
        validate_source_settings("replay", {"path": str(path)})
    assert info.value.field == "format"
    source = build_source("replay", {"path": str(path), "format": "jsonl", "speed": 1e6})
    first = source.fetch(None, NOW)
    assert len(first.posts) == 1  # w = 0: only the first instant of the timeline
    assert len(source.fetch(first.cursor, NOW + timedelta(seconds=1)).posts) == 4


def test_push_fetches_nothing() -> None:
    source = build_source("push", {})
    assert isinstance(source, Source)
    assert source.kind == "push"
    result = source.fetch({"keep": 1}, NOW)
    assert result.posts == [] and result.cursor == {"keep": 1} and result.watermark is None


# --- replay ------------------------------------------------------------------------------------------


def test_replay_jsonl_shift_emits_progressively(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "posts.jsonl", HOURLY)
    source = build_source("replay", {"path": str(path), "speed": 3600})
    assert source.kind == "replay"
    start = NOW - timedelta(hours=4)  # the shifted timeline: the file's last post lands on NOW

    first = source.fetch(None, NOW)
    assert _ids(first) == ["p0"]
    post = first.posts[0]
    assert post.posted_at == start and post.posted_at.tzinfo is not None
    assert post == RawPost(
        "p0", start, "ノロシ珈琲 post 0", "user0", 0, 0, "https://x.example/user0/status/0", "ja"
    )
    assert first.watermark == start and not first.exhausted

    half = source.fetch(_roundtrip(first.cursor), NOW + timedelta(seconds=1.5))
    assert _ids(half) == ["p1"]
    assert half.posts[0].posted_at == start + timedelta(hours=1)
    assert half.watermark == start + timedelta(hours=1.5)

    same = source.fetch(_roundtrip(half.cursor), NOW + timedelta(seconds=1.5))
    assert same.posts == [] and same.watermark == half.watermark

    later = source.fetch(_roundtrip(same.cursor), NOW + timedelta(seconds=3.2))
    assert _ids(later) == ["p2", "p3"]
    assert [p.posted_at for p in later.posts] == [start + timedelta(hours=2), start + timedelta(hours=3)]
    assert later.watermark == start + timedelta(hours=3.2)

    done = source.fetch(_roundtrip(later.cursor), NOW + timedelta(seconds=4))
    assert _ids(done) == ["p4"] and done.posts[0].posted_at == NOW
    assert done.exhausted and done.watermark is None

    after = source.fetch(_roundtrip(done.cursor), NOW + timedelta(hours=5))
    assert after.posts == [] and after.exhausted and after.watermark is None


def test_replay_original_mode_keeps_timestamps(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "posts.jsonl", HOURLY)
    source = build_source("replay", {"path": str(path), "speed": 3600, "time_mode": "original"})
    first = source.fetch(None, NOW)
    assert _ids(first) == ["p0"] and first.posts[0].posted_at == T0 and first.watermark == T0
    second = source.fetch(first.cursor, NOW + timedelta(seconds=2.5))
    assert _ids(second) == ["p1", "p2"] and second.posts[1].posted_at == T0 + timedelta(hours=2)
    assert second.watermark == T0 + timedelta(hours=2.5)


CSV_TEXT = (
    "\ufeffid,posted_at,text,author,followers,reposts,url,lang,extra\n"
    'c1,2025-06-13T00:00:00,"plain, with comma",alice,"1,234",0,https://x.example/a/1,ja,x\n'
    'c2,2025-06-13T00:30:00Z,"two\nlines ""quoted""",bob,,,https://x.example/b/2,EN,y\n'
    "c3,not-a-time,bad,carol,1,1,,ja,z\n"
    "c4,2025-06-13T10:00:00+09:00,only,dave,5\n"
    "c5,2025-06-13T01:00:00+00:00,last one,erin,7,2,,,\n"
)


def test_replay_csv_with_quotes_multiline_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    source = build_source("replay", {"path": str(path), "speed": 60})  # an hour in a minute
    first = source.fetch(None, NOW)
    assert _ids(first) == ["c1"]
    assert first.posts[0].author_followers == 1234
    assert first.posts[0].posted_at == NOW - timedelta(hours=1)
    assert first.skipped == [
        ("line 5", "posted_at: not an ISO 8601 time: 'not-a-time'"),  # c2 spans lines 3-4
        ("line 6", "expected 9 CSV fields, got 5"),
    ]
    second = source.fetch(first.cursor, NOW + timedelta(seconds=30))
    assert _ids(second) == ["c2"] and second.skipped == []
    c2 = second.posts[0]
    assert c2.text == 'two\nlines "quoted"' and c2.lang == "en" and c2.author_followers is None
    third = source.fetch(second.cursor, NOW + timedelta(seconds=60))
    assert _ids(third) == ["c5"] and third.exhausted and third.skipped == []
    assert third.posts[0].url is None and third.posts[0].lang is None


def test_replay_malformed_jsonl_rows_are_skipped(tmp_path: Path) -> None:
    rows: list[dict[str, Any] | str] = [
        _row(0, 0),
        "{not json",
        "[1, 2]",
        _row(1, 1, id=""),
        _row(2, 1, text="   "),
        _row(3, 1, followers="many"),
        _row(4, 1, reposts=-3),
        "",
        _row(5, 2),
    ]
    path = _write_jsonl(tmp_path / "posts.jsonl", rows)
    source = build_source("replay", {"path": str(path), "speed": 1e9})
    result = source.fetch(None, NOW)
    rest = source.fetch(result.cursor, NOW + timedelta(seconds=1))
    assert _ids(result) + _ids(rest) == ["p0", "p5"] and rest.exhausted and rest.skipped == []
    assert [line for line, _ in result.skipped] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
    ]
    reasons = [reason for _, reason in result.skipped]
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1] == "expected a JSON object, got list"
    assert reasons[2:] == [
        "id: missing",
        "text: missing or empty",
        "followers: not an integer: 'many'",
        "reposts: not a non-negative integer: -3",
    ]


def _play(path: Path, settings: dict[str, Any], times: list[float], restart: bool) -> list[FetchResult]:
    """Fetch at NOW + each offset; with restart=True a new source object is built for every run."""
    source = build_source("replay", {"path": str(path), **settings})
    cursor, results = None, []
    for seconds in times:
        if restart:
            source = build_source("replay", {"path": str(path), **settings})
        result = source.fetch(cursor, NOW + timedelta(seconds=seconds))
        cursor = _roundtrip(result.cursor)
        results.append(result)
    return results


@pytest.mark.parametrize("shuffled", [False, True])
def test_replay_resume_after_restart_neither_loses_nor_repeats(tmp_path: Path, shuffled: bool) -> None:
    # 60 posts over 59 minutes, several sharing a timestamp; a tiny batch forces partial runs.
    rows = [_row(i, (i - i % 3) / 60) for i in range(60)]
    if shuffled:
        rows = rows[1::2] + rows[::2]  # not sorted: the replay falls back to time windows
    path = _write_jsonl(tmp_path / "posts.jsonl", list(rows))
    settings = {"speed": 60.0, "batch_max": 4}
    times = [0, 5, 5, 12, 20, 20, 21, 33, 40, 47, 59, 59, 59, 59, 59, 59, 59, *[70] * 8]
    straight = _play(path, settings, times, restart=False)
    restarted = _play(path, settings, times, restart=True)
    assert [_ids(r) for r in straight] == [_ids(r) for r in restarted]
    emitted = [pid for r in restarted for pid in _ids(r)]
    assert sorted(emitted) == sorted(f"p{i}" for i in range(60))  # each exactly once
    assert len(emitted) == len(set(emitted))
    assert all(len(r.posts) <= 4 for r in restarted)
    assert restarted[-1].exhausted and restarted[-1].watermark is None
    start = NOW - timedelta(minutes=57)
    for result in restarted:
        if result.exhausted:
            continue
        watermark = result.watermark
        assert watermark is not None
        assert all(p.posted_at <= watermark for p in result.posts)
        later = [p for r in restarted[restarted.index(result) + 1 :] for p in r.posts]
        assert all(p.posted_at > watermark for p in later)  # nothing arrives behind the watermark
        assert watermark >= start


def test_replay_rejects_a_changed_file(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "posts.jsonl", HOURLY)
    source = build_source("replay", {"path": str(path), "speed": 3600})
    cursor = source.fetch(None, NOW).cursor
    _write_jsonl(path, [*HOURLY, _row(9, 5)])
    with pytest.raises(SourceError, match="changed"):
        source.fetch(cursor, NOW + timedelta(seconds=1))


def test_replay_gzip_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in HOURLY)
    source = build_source("replay", {"path": str(path), "speed": 3600})
    first = source.fetch(None, NOW)
    rest = source.fetch(first.cursor, NOW + timedelta(seconds=10))
    assert _ids(first) + _ids(rest) == [f"p{i}" for i in range(5)] and rest.exhausted

    empty = _write_jsonl(tmp_path / "empty.jsonl", ["{broken"])
    result = build_source("replay", {"path": str(empty)}).fetch(None, NOW)
    assert result.posts == [] and result.exhausted and result.skipped[0][0] == "line 1"

    no_header = tmp_path / "bad.csv"
    no_header.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(SourceError, match="posted_at"):
        build_source("replay", {"path": str(no_header)}).fetch(None, NOW)


def test_replay_requires_aware_now(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "posts.jsonl", HOURLY)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_source("replay", {"path": str(path)}).fetch(None, datetime(2025, 1, 1))


def test_replay_bundled_demo_plays_in_two_minutes() -> None:
    source = build_source("replay", {"path": "demo", "speed": 720})
    first = source.fetch(None, NOW)
    assert 0 < len(first.posts) < 5
    middle = source.fetch(first.cursor, NOW + timedelta(seconds=60))
    assert middle.watermark == first.posts[0].posted_at + timedelta(hours=12)
    end = source.fetch(middle.cursor, NOW + timedelta(seconds=121))
    assert end.exhausted
    posts = first.posts + middle.posts + end.posts
    assert len({p.external_id for p in posts}) == len(posts) > 3000
    assert max(p.posted_at for p in posts) == NOW
    assert min(p.posted_at for p in posts) >= NOW - timedelta(hours=24)
    assert build_source("replay", {"path": "package:demo_posts.jsonl"}).fetch(None, NOW).posts
