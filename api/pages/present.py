"""Presentation helpers: labels (ja/en), times in the brand's timezone, and the incident headline."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

# Shared with the notifications; re-exported for the pages.
from alerting.presentation import (  # noqa: F401
    DEFAULT_TZ,
    EVENT_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    Headline,
    headline,
    incident_window,
    percent,
    ratio_text,
    zone,
)
from alerting.severity import SEVERITY_LABELS, rank


def severity_badge(severity: str | None) -> Markup:
    """A coloured badge 注意 / 警戒 / 炎上, or 平常 (normal) when nothing is open."""
    if not severity:
        return Markup('<span class="badge sev-none" title="Normal">平常</span>')
    labels = SEVERITY_LABELS.get(severity, {"ja": severity, "en": severity})
    return Markup('<span class="badge sev-{0}" title="{1}">{2}</span>').format(
        severity if severity in SEVERITY_LABELS else "unknown", labels["en"], labels["ja"]
    )


def worst_severity(severities: list[str]) -> str | None:
    return max(severities, key=rank) if severities else None


def status_label(status: str) -> str:
    ja, en = STATUS_LABELS.get(status, (status, status))
    return f"{ja} / {en}"


def event_label(event: str) -> Markup:
    ja = EVENT_LABELS.get(event)
    if ja is None:
        return Markup("{0}").format(event)
    return Markup('{0} <span class="en">{1}</span>').format(ja, event)


def kind_label(kind: str) -> str:
    ja, en = KIND_LABELS.get(kind, (kind, kind))
    return f"{ja} / {en}"


def local_time(at: datetime | None, tz_name: str | None = None, fmt: str = "%Y-%m-%d %H:%M %Z") -> Markup:
    """A <time> element in the given timezone, with the UTC time on hover."""
    if at is None:
        return Markup('<span class="muted">—</span>')
    utc = at.astimezone(UTC)
    return Markup('<time datetime="{0}" title="{1}">{2}</time>').format(
        utc.isoformat(), utc.strftime("%Y-%m-%d %H:%M:%S UTC"), utc.astimezone(zone(tz_name)).strftime(fmt)
    )


def ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "—"
    seconds = int((now - at).total_seconds())
    if seconds < 0:
        return "予定 / scheduled"
    if seconds < 90:
        return f"{seconds}秒前 / {seconds}s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60}分前 / {seconds // 60} min ago"
    if seconds < 36 * 3600:
        return f"{seconds // 3600}時間前 / {seconds // 3600} h ago"
    return f"{seconds // 86400}日前 / {seconds // 86400} d ago"
