"""The daily digest: every brand's day in plain words, for the page (/digest) and the morning e-mail.

Per brand: mentions today vs the same weekday last week and vs the average of the 7 days before,
the negative share today vs those 7 days, incidents opened / resolved / still open, time to
acknowledge and to resolve, and a 7-day trend. Days are calendar days in the digest's timezone.

"Today so far" is compared fairly: while the day is not over, every earlier day is counted only up
to the same time of day (09:30 today vs 00:00–09:30 last Thursday), never a half day vs a full one.

Response times are measured from when the incident was opened (`created_at`: when people were told),
to the acknowledgement and to the resolve, over the incidents acknowledged / resolved that day.
Counts come from the buckets (kept for ever; mentions are pruned after the retention period); a bucket
belongs to the day its start falls in.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from alerting.presentation import Headline, headline, zone
from alerting.severity import rank
from storage.brands import Brand
from storage.incidents import Incident
from storage.mentions import Bucket

TREND_DAYS = 7
SAME = 0.05  # within ±5% reads as "about the same"
WEEKDAYS = (
    ("月曜日", "Monday"),
    ("火曜日", "Tuesday"),
    ("水曜日", "Wednesday"),
    ("木曜日", "Thursday"),
    ("金曜日", "Friday"),
    ("土曜日", "Saturday"),
    ("日曜日", "Sunday"),
)


@dataclass(frozen=True, slots=True)
class Words:
    ja: str
    en: str

    def pick(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


# What happened to an incident within the day: (opened in it, resolved in it) → label.
ROLES: dict[tuple[bool, bool], tuple[str, str]] = {
    (True, True): ("新規・解決済み", "opened and resolved"),
    (True, False): ("新規・対応中", "opened, still open"),
    (False, True): ("解決", "resolved"),
    (False, False): ("対応中", "still open"),
}


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    total: int
    negative: int


@dataclass(frozen=True, slots=True)
class DigestIncident:
    id: int
    brand_id: int
    kind: str
    severity: str
    status: str
    headline: Headline
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    url: str

    def role(self, start: datetime, until: datetime) -> Words:
        return Words(*ROLES[(_within(self.opened_at, start, until), _within(self.resolved_at, start, until))])


@dataclass(frozen=True, slots=True)
class Times:
    """Median and worst durations (None when nothing happened that day)."""

    median: timedelta | None
    worst: timedelta | None
    count: int

    @classmethod
    def of(cls, values: list[timedelta]) -> Times:
        if not values:
            return cls(None, None, 0)
        return cls(
            timedelta(seconds=statistics.median(v.total_seconds() for v in values)), max(values), len(values)
        )


@dataclass(frozen=True, slots=True)
class BrandDay:
    brand_id: int
    name: str
    locale: str
    total: int
    negative: int
    last_week: int  # the same weekday last week, up to the same time of day
    week_average: float  # the 7 days before, up to the same time of day
    usual_share: float | None  # negative share over the 7 days before
    trend: list[DayCount]  # the 7 days ending today (today possibly partial), oldest first
    opened: list[DigestIncident]
    resolved: list[DigestIncident]
    still_open: list[DigestIncident]
    touched: list[tuple[DigestIncident, Words]]  # each incident of the day once, with what happened to it
    acknowledge: Times
    resolve: Times
    worst_day_of_week: bool  # the most negative posts of the 7 days, and some today
    volume_words: Words
    share_words: Words

    @property
    def share(self) -> float | None:
        return self.negative / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class Digest:
    day: date
    timezone: str
    start: datetime
    until: datetime  # the end of the day, or now while the day is not over
    complete: bool
    generated_at: datetime
    brands: list[BrandDay]
    opened: int
    resolved: int
    still_open: int
    acknowledge: Times
    resolve: Times
    lines: list[Words] = field(default_factory=list)  # the overview on top, most important first


def day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    tz = zone(tz_name)
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


def local_today(now: datetime, tz_name: str) -> date:
    return now.astimezone(zone(tz_name)).date()


def duration_words(value: timedelta | None) -> Words:
    """'1時間40分' / '1 h 40 min'; '—' when there is nothing to measure."""
    if value is None:
        return Words("—", "—")
    minutes = max(round(value.total_seconds() / 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return Words(f"{days}日{hours}時間", f"{days} d {hours} h")
    if hours and not mins:
        return Words(f"{hours}時間", f"{hours} h")
    if hours:
        return Words(f"{hours}時間{mins}分", f"{hours} h {mins} min")
    return Words(f"{mins}分", f"{mins} min")


def change_words(today: float, reference: float, against: Words) -> Words:
    """'先週の木曜日より12%多い' / '12% more than last Thursday' (or 'about the same as …')."""
    if reference <= 0:
        return Words(f"{against.ja}はゼロ", f"none {against.en}") if today else Words("変化なし", "no change")
    change = (today - reference) / reference
    if abs(change) < SAME:
        return Words(f"{against.ja}とほぼ同じ", f"about the same as {against.en}")
    pct = round(abs(change) * 100)
    if change > 0:
        return Words(f"{against.ja}より{pct}%多い", f"{pct}% more than {against.en}")
    return Words(f"{against.ja}より{pct}%少ない", f"{pct}% fewer than {against.en}")


def _volume_words(last_week: Words, average: Words, total: int, week_average: float) -> Words:
    if not total and not week_average:
        return Words("この1週間、言及はありません", "no mentions all week")
    return Words(f"{last_week.ja}、{average.ja}", f"{last_week.en}; {average.en}")


def _share_words(share: float | None, usual: float | None) -> Words:
    if share is None:
        return Words("投稿なし", "no posts")
    now_pct = f"{round(share * 100)}%"
    if usual is None:
        return Words(f"否定的な投稿は{now_pct}", f"{now_pct} negative")
    usual_pct = f"{round(usual * 100)}%"
    return Words(f"否定的な投稿は{now_pct}（通常{usual_pct}）", f"{now_pct} negative (usually {usual_pct})")


def _daily_counts(
    session: Session, brand_ids: list[int], start: datetime, tz_name: str, elapsed: timedelta
) -> dict[int, dict[date, tuple[int, int]]]:
    """(total, negative) per brand and local day for the 8 days up to `start` + 1 day; each day only up
    to `elapsed` past its midnight. Summed in Python per bucket: ≤ 8 days × 288 buckets per brand."""
    tz = zone(tz_name)
    first = start - timedelta(days=TREND_DAYS)
    rows = session.execute(
        select(Bucket.brand_id, Bucket.start, Bucket.total, Bucket.negative).where(
            Bucket.brand_id.in_(brand_ids), Bucket.start >= first, Bucket.start < start + timedelta(days=1)
        )
    )
    counts: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    for brand_id, at, total, negative in rows:
        local = at.astimezone(tz)
        midnight = datetime.combine(local.date(), time(0), tz)
        if local - midnight >= elapsed:
            continue
        old_total, old_negative = counts[brand_id].get(local.date(), (0, 0))
        counts[brand_id][local.date()] = (old_total + total, old_negative + negative)
    return counts


def _incidents(session: Session, start: datetime, until: datetime) -> list[Incident]:
    """Incidents that were opened, acknowledged or resolved in the window, or still open at its end."""
    touched = or_(
        Incident.created_at.between(start, until),
        Incident.acknowledged_at.between(start, until),
        Incident.resolved_at.between(start, until),
        (Incident.created_at < until) & ((Incident.resolved_at.is_(None)) | (Incident.resolved_at > until)),
    )
    return list(session.scalars(select(Incident).where(touched).order_by(Incident.created_at, Incident.id)))


def _digest_incident(incident: Incident, brand: Brand, until: datetime, public_url: str) -> DigestIncident:
    words = headline(
        incident, brand.name, brand.timezone, until, incident.negative_share, incident.baseline_share
    )
    return DigestIncident(
        id=incident.id,
        brand_id=incident.brand_id,
        kind=incident.kind,
        severity=incident.severity,
        status=incident.status,
        headline=words,
        opened_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        url=f"{public_url.rstrip('/')}/incidents/{incident.id}",
    )


def _within(at: datetime | None, start: datetime, until: datetime) -> bool:
    return at is not None and start <= at <= until


def _durations(
    incidents: list[DigestIncident], until_attr: str, start: datetime, until: datetime
) -> list[timedelta]:
    """From opening to `until_attr` (acknowledged_at / resolved_at), for those that happened in the window."""
    ends = ((i.opened_at, getattr(i, until_attr)) for i in incidents)
    return [end - opened for opened, end in ends if end is not None and start <= end <= until]


def _open_at(incident: DigestIncident, until: datetime) -> bool:
    return incident.opened_at < until and (incident.resolved_at is None or incident.resolved_at > until)


@dataclass(frozen=True, slots=True)
class _Window:
    day: date
    start: datetime
    until: datetime
    tz_name: str


def _brand_day(
    brand: Brand, counts: dict[date, tuple[int, int]], incidents: list[DigestIncident], window: _Window
) -> BrandDay:
    day, start, until = window.day, window.start, window.until
    total, negative = counts.get(day, (0, 0))
    before = [counts.get(day - timedelta(days=n), (0, 0)) for n in range(1, TREND_DAYS + 1)]
    last_week = before[-1][0]
    week_average = sum(t for t, _ in before) / TREND_DAYS
    week_total, week_negative = sum(t for t, _ in before), sum(n for _, n in before)
    usual_share = week_negative / week_total if week_total else None
    trend_days = [day - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    trend = [DayCount(d, *counts.get(d, (0, 0))) for d in trend_days]
    ja_day, en_day = WEEKDAYS[day.weekday()]
    volume = change_words(total, last_week, Words(f"先週の{ja_day}", f"last {en_day}"))
    average = change_words(total, week_average, Words("7日間の平均", "the 7-day average"))
    return BrandDay(
        brand_id=brand.id,
        name=brand.name,
        locale=brand.locale,
        total=total,
        negative=negative,
        last_week=last_week,
        week_average=week_average,
        usual_share=usual_share,
        trend=trend,
        opened=[i for i in incidents if _within(i.opened_at, start, until)],
        resolved=[i for i in incidents if _within(i.resolved_at, start, until)],
        still_open=[i for i in incidents if _open_at(i, until)],
        touched=[(i, i.role(start, until)) for i in incidents],
        acknowledge=Times.of(_durations(incidents, "acknowledged_at", start, until)),
        resolve=Times.of(_durations(incidents, "resolved_at", start, until)),
        worst_day_of_week=negative > 0 and all(negative > d.negative for d in trend[:-1]),
        volume_words=_volume_words(volume, average, total, week_average),
        share_words=_share_words(negative / total if total else None, usual_share),
    )


def _incident_line(opened: int, resolved: int, still_open: int) -> Words:
    if opened or resolved:
        plural = "s" * (opened != 1)
        return Words(
            f"インシデント：新規{opened}件、解決{resolved}件、対応中{still_open}件",
            f"{opened} incident{plural} opened, {resolved} resolved, {still_open} still open",
        )
    if still_open:
        return Words(
            f"新しいインシデントはありません（対応中{still_open}件）",
            f"No new incidents; {still_open} still open",
        )
    return Words("インシデントはありませんでした", "No incidents")


def _overview(brands: list[BrandDay], opened: int, resolved: int, still_open: int, ack: Times) -> list[Words]:
    lines = [_incident_line(opened, resolved, still_open)]
    for brand in brands:
        if brand.worst_day_of_week:
            lines.append(
                Words(
                    f"{brand.name}は今週で最も否定的な投稿が多い一日でした（{brand.negative}件）",
                    f"{brand.name} had its worst day of the week ({brand.negative} negative posts)",
                )
            )
    if ack.count:
        median = duration_words(ack.median)
        lines.append(
            Words(f"確認までの時間（中央値）：{median.ja}", f"Typical time to acknowledge: {median.en}")
        )
    return lines


def _attention(brand: BrandDay) -> tuple[int, int]:
    """Brands with the most serious incidents of the day first, then the busiest."""
    return -max((rank(i.severity) for i, _ in brand.touched), default=0), -brand.total


def build_daily_digest(
    session: Session, day: date, tz: str, now: datetime, *, public_url: str = ""
) -> Digest:
    """The digest of `day` (a calendar day in `tz`), as known at `now` (partial while the day runs)."""
    start, end = day_bounds(day, tz)
    until = min(max(now, start), end)
    brands = list(session.scalars(select(Brand).order_by(func.lower(Brand.name), Brand.id)))
    counts = _daily_counts(session, [b.id for b in brands], start, tz, until - start)
    by_brand: dict[int, list[DigestIncident]] = defaultdict(list)
    brand_by_id = {b.id: b for b in brands}
    for incident in _incidents(session, start, until):
        brand = brand_by_id.get(incident.brand_id)
        if brand is not None:
            by_brand[brand.id].append(_digest_incident(incident, brand, until, public_url))
    window = _Window(day, start, until, tz)
    rows = sorted(
        (_brand_day(b, counts.get(b.id, {}), by_brand.get(b.id, []), window) for b in brands), key=_attention
    )
    every = [i for items in by_brand.values() for i in items]
    ack = Times.of(_durations(every, "acknowledged_at", start, until))
    res = Times.of(_durations(every, "resolved_at", start, until))
    opened = sum(len(b.opened) for b in rows)
    resolved = sum(len(b.resolved) for b in rows)
    still_open = sum(len(b.still_open) for b in rows)
    return Digest(
        day=day,
        timezone=tz,
        start=start,
        until=until,
        complete=now >= end,
        generated_at=now,
        brands=rows,
        opened=opened,
        resolved=resolved,
        still_open=still_open,
        acknowledge=ack,
        resolve=res,
        lines=_overview(rows, opened, resolved, still_open, ack),
    )
