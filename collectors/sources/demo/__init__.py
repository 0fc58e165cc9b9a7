"""Bundled demo data: one day of posts about the fictional café chain ノロシ珈琲 / Noroshi Coffee.

The day ends with a flame-up (a staff prank video, バイトテロ). Replay it with the "replay" source,
path "demo"; register the brand with `DEMO_BRAND`. Regenerate the file with
`python -m collectors.sources.demo.generate` (deterministic).

Besides the replay fields each line carries ground truth for tests and benchmarks, ignored by the
replay: `topic` ("brand", "incident" or "noise" — noise must not match the brand) and
`sentiment` ("positive", "neutral" or "negative").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEMO_POSTS_FILE = "demo_posts.jsonl"

DEMO_BRAND: dict[str, Any] = {
    "name": "ノロシ珈琲",
    "keywords": ["ノロシ珈琲", "のろし珈琲", "Noroshi Coffee", "#ノロシ珈琲", "@noroshi_coffee"],
    "exclude": ["狼煙", "のろし台", "狼煙台"],
    "languages": ["ja", "en"],
    "timezone": "Asia/Tokyo",
}


def demo_data_dir() -> Path:
    """The directory holding the bundled demo files."""
    return Path(__file__).resolve().parent


def demo_posts_path() -> Path:
    """The bundled demo posts (JSONL, one day, flame-up in the last hours)."""
    return demo_data_dir() / DEMO_POSTS_FILE
