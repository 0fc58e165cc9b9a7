"""Off days: Japan's holidays (and 年末年始) read like Sundays; windows across midnight keep their kind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from detectors import BucketPoint, DetectorConfig, replay
from detectors.offdays import calendar_for_timezone, check_calendar, holiday_days
from detectors.series import off_day_mask

EPOCH = date(1970, 1, 1).toordinal()
START = datetime(2024, 2, 29, 15, 0, tzinfo=UTC)  # 2024-03-01 00:00 in Tokyo (a Friday)
DAYS = 35  # to 2024-04-04: holds 春分の日, Wednesday 2024-03-20
HOLIDAY = date(2024, 3, 20)
PER_DAY = 288


def _day(d: date) -> int:
    return d.toordinal() - EPOCH


def test_the_japanese_calendar_holds_substitute_and_year_end_days() -> None:
    days = holiday_days("JP", 2024)
    assert _day(date(2024, 5, 6)) in days  # 振替休日 after Children's Day on a Sunday
    assert _day(date(2024, 12, 31)) in days and _day(date(2024, 1, 3)) in days  # 年末年始 (bank)
    assert _day(date(2024, 5, 7)) not in days and _day(date(2024, 3, 19)) not in days


def test_calendar_codes_are_checked_and_follow_the_timezone() -> None:
    assert check_calendar(" jp ") == "JP"
    assert check_calendar(None) is None and check_calendar("") is None
    with pytest.raises(ValueError, match="unknown holiday calendar 'XX'"):
        check_calendar("XX")
    with pytest.raises(ValueError, match="holiday calendar"):
        DetectorConfig(holidays="Japan")
    assert calendar_for_timezone("Asia/Tokyo") == "JP"
    assert calendar_for_timezone("America/New_York") == "US"
    assert calendar_for_timezone("UTC") is None


def test_a_holiday_starts_at_local_midnight() -> None:
    grid = datetime(2024, 3, 19, 14, 0, tzinfo=UTC)  # 23:00 on the 19th in Tokyo
    offset = np.full(24, 9 * 12, dtype=np.int64)
    with_calendar = off_day_mask(grid, offset, 5, "JP")
    assert not with_calendar[:12].any()  # 23:00–23:55 on Tuesday the 19th
    assert with_calendar[12:].all()  # from 00:00 on Wednesday the 20th (春分の日)
    assert not off_day_mask(grid, offset, 5, None).any()


def _series(off_volume: float, seed: int, burst_at: int | None = None) -> list[BucketPoint]:
    """A Tokyo brand: commute, lunch and evening on working days; a late, long afternoon on off days
    (weekends and Japan's holidays) at `off_volume` × the working-day volume; ~100 posts per bucket."""
    hour = np.arange(PER_DAY) * 5 / 60.0

    def bump(at: float, width: float) -> np.ndarray:
        return np.exp(-(((hour - at) / width) ** 2))

    work = 0.2 + 0.5 * bump(8.0, 1.2) + 0.6 * bump(12.5, 1.5) + 1.0 * bump(21.5, 2.0)
    off = 0.15 + 0.9 * bump(15.0, 3.5) + 0.8 * bump(21.0, 2.2)
    work, off = work / work.mean(), off / off.mean() * off_volume
    holidays = holiday_days("JP", 2024)
    days = [date(2024, 3, 1) + timedelta(days=k) for k in range(DAYS)]
    mu = 100.0 * np.concatenate([off if d.weekday() >= 5 or _day(d) in holidays else work for d in days])
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.gamma(20.0, mu / 20.0))
    if burst_at is not None:  # triple the volume over an hour, ramping in over 15 minutes
        level = counts[burst_at - 12 : burst_at].mean()
        counts[burst_at : burst_at + 12] += (2 * level * np.minimum(1.0, np.arange(1, 13) / 3)).astype(int)
    return [
        BucketPoint(START + timedelta(minutes=5 * i), int(c), 0, int(c * 0.9)) for i, c in enumerate(counts)
    ]


def _opened(points: list[BucketPoint], holidays: str | None) -> list[datetime]:
    """Incidents opened once the brand has two weeks of history (a new brand's first days are
    tests/detectors/test_new_brand.py's subject)."""
    config = DetectorConfig(timezone="Asia/Tokyo", holidays=holidays)
    settled = START + timedelta(days=14)
    return [s.at for s in replay(points, config) if not s.escalation and s.at >= settled]


def _on(day: date, stamps: list[datetime]) -> list[datetime]:
    tokyo = timedelta(hours=9)
    return [s for s in stamps if (s + tokyo).date() == day]


def test_a_busier_holiday_alarms_as_a_weekday_and_is_quiet_as_an_off_day() -> None:
    points = _series(off_volume=1.6, seed=5)
    assert _on(HOLIDAY, _opened(points, None)), "as a working day the holiday afternoon looks like a surge"
    assert _opened(points, "JP") == []


def test_a_burst_on_a_holiday_is_still_caught() -> None:
    onset = (HOLIDAY - date(2024, 3, 1)).days * PER_DAY + 14 * 12  # 14:00 on the holiday
    points = _series(off_volume=1.6, seed=6, burst_at=onset)
    opened = _opened(points, "JP")
    assert len(opened) == 1, opened
    assert timedelta(0) <= opened[0] - points[onset].start <= timedelta(minutes=30)


def test_a_window_across_friday_midnight_is_compared_with_friday_nights() -> None:
    """A brand far quieter at weekends: the 3-hour window ending just after midnight on Saturday holds
    Friday evening, and must not be judged against whole Saturday evenings."""
    opened = _opened(_series(off_volume=0.35, seed=7), "JP")
    assert opened == [], opened
