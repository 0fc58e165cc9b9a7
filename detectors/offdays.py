"""Off days: Saturdays, Sundays and the brand's public holidays, in brand-local time.

On a holiday people post like on a Sunday (no commute peak at 8 h, a later and longer afternoon), so
the daily profile of a holiday is read from earlier off days, not from the weekdays around it. Without
this a Japanese consumer brand looks anomalous all through Golden Week, and a Monday holiday (ハッピー
マンデー) is judged against ordinary Mondays.

The calendar is a country code of the `holidays` package (python-holidays: "JP", "US", "GB" …) —
its public holidays plus, where the country has them, its bank holidays: for Japan that adds 12/31 and
1/2–1/3, the 年末年始 days when companies are closed. Data, not a clock read: detectors stay pure.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_data
import numpy as np

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
CATEGORIES = ("public", "bank")


def check_timezone(name: str) -> str:
    """The IANA timezone name, unchanged; ValueError naming it when zoneinfo does not know it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r} (use an IANA name such as Asia/Tokyo)") from None
    return name


def check_calendar(code: str | None) -> str | None:
    """The normalised calendar code (upper case), None for none; ValueError naming the problem."""
    if code is None or not code.strip():
        return None
    normalised = code.strip().upper()
    if normalised not in _supported():
        raise ValueError(
            f"unknown holiday calendar {code!r}: use a country code such as 'JP', 'US' or 'GB' "
            "(python-holidays), or none"
        )
    return normalised


def calendar_for_timezone(timezone: str) -> str | None:
    """The holiday calendar of the country a timezone belongs to (Asia/Tokyo → JP), None if unknown."""
    country = _zone_countries().get(timezone)
    return country if country in _supported() else None


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA zone → ISO country, from the tz database's zone.tab (shipped in the tzdata package)."""
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}


@lru_cache(maxsize=1)
def _supported() -> frozenset[str]:
    return frozenset(holiday_data.list_supported_countries())


@lru_cache(maxsize=512)
def holiday_days(code: str, year: int) -> frozenset[int]:
    """Days since 1970-01-01 of the calendar's off days in `year` (public and bank holidays)."""
    country = holiday_data.country_holidays(code)
    supported = getattr(country, "supported_categories", ("public",))
    categories = tuple(c for c in CATEGORIES if c in supported)
    days = holiday_data.country_holidays(code, years=year, categories=categories)
    return frozenset(d.toordinal() - EPOCH_ORDINAL for d in days)


def holiday_mask(local_days: np.ndarray, code: str | None) -> np.ndarray:
    """For each brand-local day number (days since 1970-01-01), whether it is a holiday."""
    if code is None or local_days.size == 0:
        return np.zeros(local_days.shape, dtype=bool)
    first = date.fromordinal(int(local_days.min()) + EPOCH_ORDINAL).year
    last = date.fromordinal(int(local_days.max()) + EPOCH_ORDINAL).year
    return np.isin(local_days, _holiday_array(code, first, last))


@lru_cache(maxsize=512)
def _holiday_array(code: str, first: int, last: int) -> np.ndarray:
    days = sorted(set().union(*(holiday_days(code, year) for year in range(first, last + 1))))
    array = np.asarray(days, dtype=np.int64)
    array.flags.writeable = False  # shared by every caller through the cache
    return array
