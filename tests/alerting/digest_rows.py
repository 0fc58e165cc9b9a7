"""A week of two brands as real rows (buckets and incidents), for the digest builder, page and e-mail tests.

The digest day is Thursday 2026-11-19 in Asia/Tokyo (15:00 UTC on the 18th to 15:00 UTC on the 19th).
ノロシ珈琲 (5-minute buckets): each earlier day has 50 mentions at 09:00 JST and 50 at 20:00 JST (10
negative); last Thursday 80 + 70; Wednesday also 7 at 23:55 JST; the day itself 5 at 00:00 JST, 200 at
09:00 (60 negative, plus 1 at midnight) and 100 at 20:00.
Noroshi Tea (hourly, English): no mentions at all.
Incidents (opened → acknowledged → resolved, JST):
  #coffee_flame  Thu 09:05 → 09:17 → 10:45          opened and resolved that day (12 min, 1 h 40 min)
  #coffee_neg    Wed 22:00 → Thu 00:30 → (open)     still open, acknowledged that day (2 h 30 min)
  #tea_volume    Thu 20:00 → (none) → 21:00         opened and resolved that day (1 h)
  #coffee_old    Mon, opened and resolved           not part of the day
  #tea_next      Fri 01:00                           after the day
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage.models import Brand, Bucket, Incident

JST = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 11, 19)
COMPLETE_NOW = datetime(2026, 11, 20, 3, 0, tzinfo=JST)
MIDDAY_NOW = datetime(2026, 11, 19, 12, 0, tzinfo=JST)


def jst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)


@dataclass(frozen=True)
class Week:
    coffee: int
    tea: int
    coffee_flame: int
    coffee_neg: int
    tea_volume: int


def _brand(session: Session, name: str, minutes: int, locale: str) -> Brand:
    at = jst(DAY, 0) - timedelta(days=60)
    brand = Brand(
        name=name, keywords=[name], exclude=[], languages=[], timezone="Asia/Tokyo", bucket_minutes=minutes,
        locale=locale, created_at=at, updated_at=at,
    )  # fmt: skip
    session.add(brand)
    session.flush()
    return brand


def _incident(session: Session, brand_id: int, kind: str, severity: str, times: tuple) -> int:  # type: ignore[type-arg]
    opened, acked, resolved = times
    incident = Incident(
        brand_id=brand_id, kind=kind, dedup_key=f"{brand_id}:{kind}:{opened}",
        status="resolved" if resolved else ("acknowledged" if acked else "triggered"), severity=severity,
        started_at=opened, last_signal_at=opened, acknowledged_at=acked, resolved_at=resolved,
        score=9.0, peak_score=9.0, observed=240.0, expected=30.0, upper=60.0, negative_share=0.5,
        baseline_share=0.1, test="t", evidence={}, created_at=opened, updated_at=opened,
    )  # fmt: skip
    session.add(incident)
    session.flush()
    return incident.id


def add_week(session: Session) -> Week:
    coffee = _brand(session, "ノロシ珈琲", 5, "ja")
    tea = _brand(session, "Noroshi Tea", 60, "en")
    counts: list[tuple[datetime, int, int]] = []
    for back in range(1, 8):
        day = DAY - timedelta(days=back)
        morning, evening = (80, 70) if back == 7 else (50, 50)
        counts += [(jst(day, 9), morning, 10), (jst(day, 20), evening, 0)]
    counts += [(jst(DAY - timedelta(days=1), 23, 55), 7, 0)]
    counts += [(jst(DAY, 0), 5, 1), (jst(DAY, 9), 200, 60), (jst(DAY, 20), 100, 0)]
    counts += [(jst(DAY + timedelta(days=1), 1), 999, 999)]  # the next day: never counted
    session.add_all(
        Bucket(brand_id=coffee.id, start=at, total=total, negative=neg, reach=0, authors=0)
        for at, total, neg in counts
    )
    flame = _incident(
        session, coffee.id, "volume", "flame", (jst(DAY, 9, 5), jst(DAY, 9, 17), jst(DAY, 10, 45))
    )
    wed = DAY - timedelta(days=1)
    negative = _incident(session, coffee.id, "negativity", "warning", (jst(wed, 22), jst(DAY, 0, 30), None))
    monday = DAY - timedelta(days=3)
    _incident(session, coffee.id, "volume", "attention", (jst(monday, 9), jst(monday, 9, 5), jst(monday, 11)))
    tea_volume = _incident(session, tea.id, "volume", "attention", (jst(DAY, 20), None, jst(DAY, 21)))
    _incident(session, tea.id, "volume", "attention", (jst(DAY + timedelta(days=1), 1), None, None))
    session.flush()
    return Week(coffee.id, tea.id, flame, negative, tea_volume)
