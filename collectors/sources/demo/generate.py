"""Deterministic generator of the bundled demo day: `python -m collectors.sources.demo.generate`.

One day (Friday 2025-06-13, 00:00–24:00 JST) of posts about ノロシ珈琲 / Noroshi Coffee, ~75 % Japanese:
a JST daily rhythm (quiet at night, busier at lunch and in the evening), ~13 % mildly negative posts,
unrelated 狼煙 / のろし台 noise, and from 20:12 JST a flame-up (a staff prank video, バイトテロ) that
starts with one viral post, rises to ~8x the normal volume within ~45 min with ~65 % negative posts,
gets an official apology at 22:35 and then partly decays. See `timeline` for the model.

`day_ending(end)` writes (once, to a cache directory) the same model for the 24 hours ending at `end`:
the live demo replays it so that each post's JST time of day is the wall clock's (see `replay`).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collectors.sources.demo import DEMO_BRAND, demo_posts_path
from collectors.sources.demo import templates as T
from collectors.sources.demo.timeline import JST, SEED, TWITTER_EPOCH_MS, VIRAL_ID, Generator


def generate(seed: int = SEED, start: datetime | None = None) -> list[dict[str, Any]]:
    """The demo posts as JSON-ready dicts, sorted by time (ids increase with time).

    `start`: the first minute of the day (default: the bundled day, 2025-06-13 00:00 JST)."""
    gen = Generator(seed) if start is None else Generator(seed, start)
    drafts = gen.drafts()
    ids: list[int] = []
    last_ms, seq = -1, 0
    for draft in drafts:
        ms = int(draft.at.timestamp() * 1000)
        seq = seq + 1 if ms == last_ms else 0
        last_ms = ms
        ids.append(((ms - TWITTER_EPOCH_MS) << 22) | (7 << 12) | seq)
    viral_id = next(i for i, d in zip(ids, drafts, strict=True) if d.text == T.VIRAL)
    rows = [
        {
            "id": str(snowflake),
            "posted_at": draft.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "text": draft.text.replace(VIRAL_ID, str(viral_id)),
            "author": draft.account.handle,
            "followers": draft.account.followers,
            "reposts": draft.reposts,
            "url": f"https://x.example/{draft.account.handle}/status/{snowflake}",
            "lang": draft.lang,
            "topic": draft.topic,
            "sentiment": draft.sentiment,
        }
        for snowflake, draft in zip(ids, drafts, strict=True)
    ]
    _check(rows)
    return rows


def _check(rows: list[dict[str, Any]]) -> None:
    keywords = DEMO_BRAND["keywords"]
    for row in rows:
        matches = any(keyword in row["text"] for keyword in keywords)
        if matches != (row["topic"] != "noise"):
            raise AssertionError(f"keyword match does not fit topic {row['topic']!r}: {row['text']!r}")
        if "{" in row["text"] or "}" in row["text"]:
            raise AssertionError(f"unfilled slot: {row['text']!r}")


def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per JST hour: brand posts (noise excluded) and negative share; language split."""
    per_hour: Counter[int] = Counter()
    negative: Counter[int] = Counter()
    for row in rows:
        if row["topic"] == "noise":
            continue
        hour = datetime.fromisoformat(row["posted_at"]).astimezone(JST).hour
        per_hour[hour] += 1
        negative[hour] += row["sentiment"] == "negative"
    langs = Counter(row["lang"] for row in rows)
    return {
        "posts": len(rows),
        "noise": sum(row["topic"] == "noise" for row in rows),
        "lang": {k: round(v / len(rows), 3) for k, v in sorted(langs.items())},
        "hours": {h: (per_hour[h], round(negative[h] / max(1, per_hour[h]), 2)) for h in range(24)},
    }


def write(path: Path, seed: int = SEED, start: datetime | None = None) -> dict[str, Any]:
    rows = generate(seed, start)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    return stats(rows)


def live_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "noroshi-demo"


CACHE_KEEP_SECONDS = 2 * 86_400


def _prune(directory: Path) -> None:
    """Drop cached days older than CACHE_KEEP_SECONDS (one per start; any is regenerated on demand)."""
    cutoff = time.time() - CACHE_KEEP_SECONDS
    for old in directory.glob("demo-*.jsonl"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another process pruned or is reading it: harmless either way


def day_ending(end: datetime, seed: int = SEED) -> Path:
    """The demo day for the 24 h ending at `end` (floored to the minute), generated once and cached.

    Deterministic, so a restart that finds the cache emptied regenerates the same bytes and the
    replay's cursor (byte offsets, file size) stays valid. Written to a temporary name then renamed,
    so a concurrent reader never sees half a file.
    """
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    path = live_cache_dir() / f"demo-{end:%Y%m%dT%H%MZ}-{seed}.jsonl"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        _prune(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        os.close(fd)
        try:
            write(Path(tmp), seed, end - timedelta(days=1))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=demo_posts_path(), help="output JSONL file")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    summary = write(args.out, args.seed)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {summary['posts']} posts,"
        f" {summary['noise']} noise, languages {summary['lang']}"
    )
    print("JST hour  brand posts  negative share")
    for hour, (count, share) in summary["hours"].items():
        print(f"{hour:02d}:00     {count:5d}        {share:.0%}")


if __name__ == "__main__":
    main()
