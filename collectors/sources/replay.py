"""Kind "replay": play a CSV or JSONL file of posts (optionally .gz) with time compression, for demos.

Fields per post: id, posted_at (ISO 8601; naive = UTC), text, author, followers, reposts, url, lang
(CSV: header row naming the columns; extra columns/keys are ignored). Rows are read in file order.

Virtual clock: after w wall-seconds since the first fetch, every post whose (emitted) time is
<= first + w * speed has been emitted, where `first` is the file's earliest post.
- time_mode "shift" (default): the timeline is moved so that it ends at the moment the replay started
  (the file's day becomes the last 24 h); posts carry the shifted timestamps.
- time_mode "original": timestamps are unchanged (a compressed backfill).

Path "demo" is the bundled demo day (2025-06-13 JST). Path "demo@<UTC time>" (e.g.
"demo@2026-11-21T19:30Z", what `noroshi run --demo` uses with time_mode "original") is the same model
generated for the 24 h ending at that time, so every post keeps the wall clock's JST time of day (a
shifted fixed day would put its 20:12 JST flame-up at whatever hour the demo was started).

The first fetch scans the file once (span, sortedness, malformed rows, which are reported in
`skipped` then). Later fetches of a file sorted by posted_at seek to the byte offset kept in the
cursor and read only the new rows; an unsorted file is re-read and filtered by time window.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, ClassVar, Literal

import httpx
from pydantic import Field, ValidationInfo, field_validator

from collectors.posts import FetchResult
from collectors.sources.base import SourceError, SourceSettings, register_source_kind
from collectors.sources.demo import demo_data_dir, demo_posts_path
from collectors.sources.demo.generate import day_ending
from collectors.sources.postfile import PostFileReader, Record, file_format_of, open_post_file

CURSOR_VERSION = 1
DEMO_PATH = "demo"
LIVE_DEMO_PREFIX = "demo@"
PACKAGE_PREFIX = "package:"


def live_demo_path(end: datetime) -> str:
    """The `path` setting for the demo day ending at `end` (to the minute)."""
    return f"{LIVE_DEMO_PREFIX}{end.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def resolve_replay_path(path: str) -> Path:
    """Map a `path` setting to a file: "demo" / "demo@TIME" / "package:NAME" (demo data) or a path."""
    if path == DEMO_PATH:
        return demo_posts_path()
    if path.startswith(LIVE_DEMO_PREFIX):
        stamp = path[len(LIVE_DEMO_PREFIX) :].strip()
        try:
            end = datetime.fromisoformat(stamp)
        except ValueError:
            raise ValueError(f"{LIVE_DEMO_PREFIX}TIME needs an ISO 8601 time, got {stamp!r}") from None
        if end.tzinfo is None:
            raise ValueError(f"{LIVE_DEMO_PREFIX}TIME needs a UTC offset (e.g. Z), got {stamp!r}")
        return day_ending(end)
    if path.startswith(PACKAGE_PREFIX):
        name = path[len(PACKAGE_PREFIX) :].strip()
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"{PACKAGE_PREFIX}NAME must name a file of the bundled demo data, got {path!r}")
        return demo_data_dir() / name
    return Path(path).expanduser().resolve()


class ReplaySettings(SourceSettings):
    path: str = Field(min_length=1, description='file path (relative = to CWD), "demo" or "package:NAME"')
    speed: float = Field(default=1.0, gt=0, le=1e9, description="virtual seconds per wall second")
    time_mode: Literal["shift", "original"] = "shift"
    batch_max: int = Field(default=5000, ge=1, le=1_000_000)
    format: Literal["auto", "csv", "jsonl"] = Field(default="auto", validate_default=True)

    @field_validator("path")
    @classmethod
    def _normalise_path(cls, value: str) -> str:
        resolved = resolve_replay_path(value)
        if not resolved.is_file():
            raise ValueError(f"file not found: {resolved}")
        bundled = value == DEMO_PATH or value.startswith((PACKAGE_PREFIX, LIVE_DEMO_PREFIX))
        return value if bundled else str(resolved)  # bundled data stays portable across installs

    @field_validator("format")
    @classmethod
    def _check_format(cls, value: str, info: ValidationInfo) -> str:
        path = info.data.get("path")
        if value == "auto" and path and file_format_of(resolve_replay_path(path)) is None:
            raise ValueError("cannot tell CSV from JSONL by the file name; set format to csv or jsonl")
        return value

    def file(self) -> Path:
        return resolve_replay_path(self.path)

    def file_format(self) -> Literal["csv", "jsonl"]:
        fmt = file_format_of(self.file()) if self.format == "auto" else self.format
        assert fmt is not None  # checked by the validator
        return fmt


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


@register_source_kind("replay", ReplaySettings)
class ReplaySource:
    """Replays a CSV/JSONL file of posts with time compression (demo data: path "demo")."""

    kind: ClassVar[str] = "replay"

    def __init__(self, settings: ReplaySettings, *, http: httpx.Client | None = None) -> None:
        self.settings = settings

    def fetch(self, cursor: dict[str, Any] | None, now: datetime) -> FetchResult:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        path = self.settings.file()
        reader = PostFileReader(path, self.settings.file_format())
        try:
            size = path.stat().st_size
            with open_post_file(path) as fh:
                header, data_offset, data_line = reader.header(fh)
                skipped: list[tuple[str, str]] = []
                if cursor is None:
                    cursor, skipped = self._start(reader, fh, header, data_offset, data_line, size, now)
                else:
                    self._check_cursor(cursor, path, size)
                if cursor["exhausted"]:
                    return FetchResult(
                        posts=[], cursor=cursor, watermark=None, skipped=skipped, exhausted=True
                    )
                return self._advance(reader, fh, header, data_offset, data_line, cursor, now, skipped)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(f"replay {path}: cannot read file: {exc}") from exc

    def _start(
        self,
        reader: PostFileReader,
        fh: IO[bytes],
        header: list[str] | None,
        data_offset: int,
        data_line: int,
        size: int,
        now: datetime,
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Scan the whole file once: span, sortedness, malformed rows."""
        skipped: list[tuple[str, str]] = []
        first: datetime | None = None
        last: datetime | None = None
        previous: datetime | None = None
        in_order = True
        for rec in reader.records(fh, data_offset, data_line, header):
            if rec.post is None:
                skipped.append((f"line {rec.line}", rec.error or "malformed"))
                continue
            t = rec.post.posted_at
            first = t if first is None else min(first, t)
            last = t if last is None else max(last, t)
            if previous is not None and t < previous:
                in_order = False
            previous = t
        shift = timedelta(0)
        if last is not None and self.settings.time_mode == "shift":
            shift = now.astimezone(UTC) - last
        shift_us = (shift.days * 86_400 + shift.seconds) * 1_000_000 + shift.microseconds
        cursor: dict[str, Any] = {
            "v": CURSOR_VERSION,
            "path": self.settings.path,
            "size": size,
            "time_mode": self.settings.time_mode,
            "started_at": _iso(now),
            "shift_us": shift_us,
            "first": _iso(first + shift) if first else None,
            "last": _iso(last + shift) if last else None,
            "sorted": in_order,
            "offset": data_offset,
            "line": data_line,
            "through": None,
            "emitted": 0,
            "exhausted": first is None,
        }
        return cursor, skipped

    def _check_cursor(self, cursor: dict[str, Any], path: Path, size: int) -> None:
        if cursor.get("v") != CURSOR_VERSION:
            raise SourceError(f"replay {path}: cursor version {cursor.get('v')!r} not understood; reset it")
        if cursor.get("path") != self.settings.path or cursor.get("size") != size:
            raise SourceError(
                f"replay {path}: the file changed since the replay started "
                f"({cursor.get('path')}, {cursor.get('size')} bytes); reset the cursor to replay it again"
            )
        if cursor.get("time_mode") != self.settings.time_mode:
            raise SourceError(
                f"replay {path}: cursor was made with time_mode={cursor.get('time_mode')!r}; reset the cursor"
            )

    def _advance(
        self,
        reader: PostFileReader,
        fh: IO[bytes],
        header: list[str] | None,
        data_offset: int,
        data_line: int,
        cursor: dict[str, Any],
        now: datetime,
        skipped: list[tuple[str, str]],
    ) -> FetchResult:
        first, last = _time(cursor["first"]), _time(cursor["last"])
        shift = timedelta(microseconds=cursor["shift_us"])
        through = _time(cursor["through"]) if cursor["through"] else None
        elapsed = max(0.0, (now - _time(cursor["started_at"])).total_seconds())
        virtual = elapsed * self.settings.speed
        span = (last - first).total_seconds()
        until = last if virtual >= span else first + timedelta(seconds=virtual)
        if through is not None and until < through:
            until = through  # speed was lowered between runs: never go back
        in_order = bool(cursor["sorted"])
        limit = self.settings.batch_max

        candidates: list[tuple[datetime, Record]] = []
        stop: Record | None = None
        limited = False  # sorted file: stopped reading because the batch is full
        pos, pos_line = cursor["offset"], cursor["line"]
        if in_order:
            records = reader.records(fh, cursor["offset"], cursor["line"], header)
        else:
            records = reader.records(fh, data_offset, data_line, header)
        for rec in records:
            if rec.post is not None:
                t = rec.post.posted_at + shift
                if in_order:
                    if t > until:
                        stop = rec
                        break
                    if len(candidates) > limit and t > candidates[limit][0]:
                        stop, limited = rec, True
                        break
                elif t > until or (through is not None and t <= through):
                    pos, pos_line = rec.end, rec.end_line
                    continue
                candidates.append((t, rec))
            pos, pos_line = rec.end, rec.end_line
        if not in_order:
            candidates.sort(key=lambda item: (item[0], item[1].line))

        kept = candidates
        if len(candidates) > limit:
            boundary = candidates[limit][0]
            kept = candidates[:limit]
            if kept[-1][0] == boundary:  # never split posts of the same instant across batches
                kept = [c for c in kept if c[0] < boundary] or [c for c in candidates if c[0] <= boundary]
        pending = limited or len(kept) < len(candidates)

        new = dict(cursor)
        new["through"] = _iso(kept[-1][0] if pending else until)
        if in_order:
            if pending:
                new["offset"], new["line"] = kept[-1][1].end, kept[-1][1].end_line
            elif stop is not None:
                new["offset"], new["line"] = stop.start, stop.line - 1
            else:
                new["offset"], new["line"] = pos, pos_line
        exhausted = not pending and until >= last
        new["exhausted"] = exhausted
        new["emitted"] = int(cursor.get("emitted", 0)) + len(kept)
        posts = [replace(rec.post, posted_at=t) for t, rec in kept if rec.post is not None]
        watermark = None if exhausted else _time(new["through"])
        return FetchResult(posts=posts, cursor=new, watermark=watermark, skipped=skipped, exhausted=exhausted)
