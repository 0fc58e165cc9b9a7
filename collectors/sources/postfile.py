"""Reading post files (CSV with a header row, or JSONL; optionally gzip) record by record from a byte offset.

Fields: id, posted_at (ISO 8601; naive = UTC), text, author, followers, reposts, url, lang; other
columns/keys are ignored. A malformed record comes back as a `Record` with `error` set, never raises.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from collectors.posts import RawPost
from collectors.sources.base import SourceError

_CSV_SUFFIXES = (".csv", ".csv.gz")
_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_REQUIRED = ("id", "posted_at", "text")


def file_format_of(path: Path) -> Literal["csv", "jsonl"] | None:
    name = path.name.lower()
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    return None


class RowError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Record:
    line: int  # first physical line (1-based)
    start: int  # byte offset of the record
    end: int  # byte offset after the record
    end_line: int  # physical lines consumed through this record
    post: RawPost | None
    error: str | None


def open_post_file(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _physical_records(
    fh: IO[bytes], fmt: str, offset: int, line: int
) -> Iterator[tuple[int, int, int, bytes]]:
    """(first line, start, end, raw bytes) per logical record; CSV records may span lines in quotes."""
    fh.seek(offset)
    pos = offset
    while True:
        start, first_line = pos, line + 1
        chunk = fh.readline()
        if not chunk:
            return
        line += 1
        pos += len(chunk)
        if fmt == "csv":
            while chunk.count(b'"') % 2 == 1:
                more = fh.readline()
                if not more:
                    break
                chunk += more
                line += 1
                pos += len(more)
        yield first_line, start, pos, chunk


def _str_field(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowError(f"{name}: expected text, got {value!r}")
    return str(value).strip() or None


def _int_field(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"{name}: not a count: {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise RowError(f"{name}: not an integer: {value!r}") from None
    if not isinstance(value, int) or value < 0:
        raise RowError(f"{name}: not a non-negative integer: {value!r}")
    return value


def parse_posted_at(value: str) -> datetime:
    """ISO 8601 → aware UTC datetime (naive = UTC)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowError(f"posted_at: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def post_from_fields(fields: dict[str, Any]) -> RawPost:
    external_id = _str_field(fields, "id")
    if external_id is None:
        raise RowError("id: missing")
    posted = _str_field(fields, "posted_at")
    if posted is None:
        raise RowError("posted_at: missing")
    text = _str_field(fields, "text")
    if text is None:
        raise RowError("text: missing or empty")
    lang = _str_field(fields, "lang")
    return RawPost(
        external_id=external_id,
        posted_at=parse_posted_at(posted),
        text=text,
        author=_str_field(fields, "author"),
        author_followers=_int_field(fields, "followers"),
        reposts=_int_field(fields, "reposts"),
        url=_str_field(fields, "url"),
        lang=lang.lower() if lang else None,
    )


class PostFileReader:
    """Parses records of one file from a byte offset on."""

    def __init__(self, path: Path, fmt: Literal["csv", "jsonl"]) -> None:
        self.path, self.fmt = path, fmt

    def records(self, fh: IO[bytes], offset: int, line: int, header: list[str] | None) -> Iterator[Record]:
        for first_line, start, end, raw in _physical_records(fh, self.fmt, offset, line):
            end_line = first_line + raw.count(b"\n") - (1 if raw.endswith(b"\n") else 0)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Record(first_line, start, end, end_line, None, f"not valid UTF-8 ({exc.reason})")
                continue
            if start == 0:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                continue
            try:
                fields = self._fields(text, header)
                post = post_from_fields(fields)
            except RowError as exc:
                yield Record(first_line, start, end, end_line, None, str(exc))
                continue
            yield Record(first_line, start, end, end_line, post, None)

    def _fields(self, text: str, header: list[str] | None) -> dict[str, Any]:
        if self.fmt == "jsonl":
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RowError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
            if not isinstance(value, dict):
                raise RowError(f"expected a JSON object, got {type(value).__name__}")
            return value
        assert header is not None
        try:
            rows = list(csv.reader([text.rstrip("\r\n")]))
        except csv.Error as exc:
            raise RowError(f"invalid CSV: {exc}") from None
        row = rows[0] if rows else []
        if len(row) != len(header):
            raise RowError(f"expected {len(header)} CSV fields, got {len(row)}")
        return dict(zip(header, row, strict=True))

    def header(self, fh: IO[bytes]) -> tuple[list[str] | None, int, int]:
        """(column names or None for JSONL, data offset, lines before data)."""
        if self.fmt == "jsonl":
            return None, 0, 0
        for _first, _start, end, raw in _physical_records(fh, "csv", 0, 0):
            text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
            if not text.strip():
                continue
            names = [name.strip().lower() for name in next(csv.reader([text.rstrip("\r\n")]), [])]
            missing = [name for name in _REQUIRED if name not in names]
            if missing:
                raise SourceError(f"replay {self.path}: CSV header lacks column(s) {', '.join(missing)}")
            return names, end, text.count("\n")
        raise SourceError(f"replay {self.path}: empty CSV file (no header)")
