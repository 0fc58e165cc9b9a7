"""Seed the bundled demo: a brand with Japanese and English keywords and a replay source with a flame-up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.sources.demo import DEMO_BRAND
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
            settings={"path": "demo", "speed": speed},
            interval_seconds=2,
            created_at=now,
        )
        session.add(source)
    session.flush()
    return brand, source
