"""Seed the bundled demo: a brand with Japanese and English keywords and a replay source with a flame-up.

The replay plays the demo day generated for the 24 hours ending at the moment of seeding, with its
original timestamps: each post's JST time of day is the wall clock's (the brand's daily rhythm lines up
with the detector's brand-local hours), and at the default speed 900 the day is caught up in 96 s with
the flame-up (3 h 48 min before the end) arriving after about 81 s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.sources.demo import DEMO_BRAND
from collectors.sources.replay import live_demo_path
from detectors.offdays import calendar_for_timezone
from storage.brands import Brand
from storage.sources import Source

DEMO_SOURCE = "demo-replay"


def seed_demo(session: Session, now: datetime, speed: float) -> tuple[Brand, Source]:
    """Create the demo brand and source unless they exist (a restart resumes the replay from its cursor)."""
    brand = session.scalars(select(Brand).where(Brand.name == DEMO_BRAND["name"])).first()
    if brand is None:
        brand = Brand(
            name=DEMO_BRAND["name"],
            keywords=list(DEMO_BRAND["keywords"]),
            exclude=list(DEMO_BRAND.get("exclude", [])),
            languages=list(DEMO_BRAND.get("languages", [])),
            timezone=DEMO_BRAND.get("timezone", "Asia/Tokyo"),
            bucket_minutes=5,
            sensitivity="normal",
            holidays=calendar_for_timezone(DEMO_BRAND.get("timezone", "Asia/Tokyo")),
            locale="ja",
            created_at=now,
            updated_at=now,
        )
        session.add(brand)
    source = session.scalars(select(Source).where(Source.name == DEMO_SOURCE)).first()
    if source is None:
        source = Source(
            name=DEMO_SOURCE,
            kind="replay",
            settings={"path": live_demo_path(now), "speed": speed, "time_mode": "original"},
            interval_seconds=2,
            created_at=now,
        )
        session.add(source)
    session.flush()
    return brand, source
