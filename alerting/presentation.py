"""Words and numbers for people, shared by the pages and every notification channel.

Labels (ja/en), times in the brand's timezone, ratios and percentages, and the one-sentence headline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerting.lifecycle import Status
from storage.incidents import Incident

DEFAULT_TZ = "Asia/Tokyo"
STATUS_LABELS: dict[str, tuple[str, str]] = {
    Status.TRIGGERED.value: ("発生中", "Triggered"),
    Status.ACKNOWLEDGED.value: ("対応中", "Acknowledged"),
    Status.SNOOZED.value: ("保留中", "Snoozed"),
    Status.RESOLVED.value: ("解決済み", "Resolved"),
}
KIND_LABELS: dict[str, tuple[str, str]] = {
    "volume": ("言及数の急増", "Volume spike"),
    "negativity": ("否定的な投稿の増加", "Negativity spike"),
}
EVENT_LABELS: dict[str, str] = {
    "opened": "発生",
    "updated": "更新",
    "escalated": "重大度の上昇",
    "flared_again": "再燃",
    "acknowledge": "確認",
    "snooze": "保留",
    "wake": "保留解除",
    "resolve": "解決",
    "comment": "コメント",
}


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def iso_utc(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix (what every JSON payload carries)."""
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_display(at: datetime | None, tz_name: str | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str | None:
    return None if at is None else at.astimezone(zone(tz_name)).strftime(fmt)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def ratio_value(observed: float, expected: float) -> float | None:
    return observed / expected if expected > 0 else None


def ratio_text(observed: float, expected: float) -> str | None:
    """'8', '2.5' (for 8×, 2.5×), or None when nothing was expected (a ratio would be meaningless)."""
    ratio = ratio_value(observed, expected)
    if ratio is None:
        return None
    text = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True, slots=True)
class Headline:
    ja: str
    en: str


def onset_text(at: datetime, tz_name: str, now: datetime) -> str:
    """'14:05 JST' today, '6/2 14:05 JST' on another day (in the brand's timezone)."""
    local, today = at.astimezone(zone(tz_name)), now.astimezone(zone(tz_name)).date()
    day = "" if local.date() == today else f"{local.month}/{local.day} "
    return day + local.strftime("%H:%M %Z")


def headline(
    incident: Incident,
    brand_name: str,
    tz_name: str,
    now: datetime,
    negative_share: float | None,
    baseline_share: float | None,
) -> Headline:
    """One plain sentence, Japanese and English: what rose, by how much, since when, how negative.

    `negative_share`/`baseline_share` are the incident's own values when the detector recorded them;
    the caller fills them from the buckets otherwise.
    """
    since = onset_text(incident.started_at, tz_name, now)
    ratio = ratio_text(incident.observed, incident.expected)
    observed = round(incident.observed)
    if incident.kind == "negativity":
        ja = f"{brand_name}への否定的な投稿が増加（{since}〜）。"
        en = f"Negative posts about {brand_name} increased from {since}"
        if ratio is not None:
            ja += f"否定的な投稿数は通常の{ratio}倍。"
            en += f" to {ratio}× the usual number"
    elif ratio is not None:
        ja = f"{brand_name}の言及が通常の{ratio}倍に増加（{since}〜）。"
        en = f"Mentions of {brand_name} rose to {ratio}× the usual level from {since}"
    else:
        ja = f"{brand_name}の言及が急増（{since}〜、{observed}件。通常はほぼゼロ）。"
        en = f"Mentions of {brand_name} surged from {since} ({observed}, where almost none are usual)"
    if negative_share is not None:
        ja += f"否定的な投稿は{percent(negative_share)}"
        en += f"; {percent(negative_share)} are negative"
        if baseline_share is not None:
            ja += f"（通常{percent(baseline_share)}）"
            en += f" (usually {percent(baseline_share)})"
        ja += "。"
    return Headline(ja=ja, en=en + ".")


def incident_window(incident: Incident, now: datetime, bucket_minutes: int) -> tuple[datetime, datetime]:
    """The incident's active period: onset to the end of the last anomalous bucket (never past now)."""
    end = min(incident.last_signal_at + timedelta(minutes=bucket_minutes), now)
    return incident.started_at, max(end, incident.started_at)
