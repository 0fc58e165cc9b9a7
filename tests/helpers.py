"""Small builders shared by tests (real rows through the real ORM; nothing mocked)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from collectors.posts import RawPost
from detectors import Signal
from storage.brands import Brand
from storage.sources import Source


def add_brand(session: Session, name: str, keywords: list[str], now: datetime, **fields: object) -> Brand:
    brand = Brand(
        name=name,
        keywords=keywords,
        exclude=fields.pop("exclude", []),
        languages=fields.pop("languages", []),
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(brand)
    session.flush()
    return brand


def add_source(session: Session, name: str, now: datetime, kind: str = "push", **fields: object) -> Source:
    source = Source(name=name, kind=kind, settings=fields.pop("settings", {}), created_at=now, **fields)
    session.add(source)
    session.flush()
    return source


def post(ext: str, at: datetime, text: str, author: str | None = "user", followers: int = 10) -> RawPost:
    return RawPost(external_id=ext, posted_at=at, text=text, author=author, author_followers=followers)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def volume_signal(at: datetime, severity: str = "warning", reflare: bool = False) -> Signal:
    """A volume signal as the detector gives it: a new event, or (reflare) the same event's new wave."""
    return Signal(
        at=at,
        kind="volume",
        severity=severity,
        score=7.0,
        observed=300.0,
        expected=40.0,
        upper=90.0,
        test="nb_tail_1h",
        escalation=reflare,
        reflare=reflare,
    )
