"""Who is not paged and why: silences, campaign windows and inhibition.

Pure matchers decide; `mute_reason` applies them in a fixed order (silence, then campaign, then
inhibition) and returns the tag stored in `Incident.muted_by`. `refresh_muting` loads what is active
for an incident's brand, stores the tag and writes a timeline event when it changes. A muted incident
is still recorded, updated and resolved; only pages are held back (its resolve is still announced
wherever it had been paged before the mute).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerting.incidents import SYSTEM_ACTOR, record_event
from alerting.lifecycle import OPEN_STATUSES
from alerting.severity import rank
from storage.incidents import Incident
from storage.muting import CampaignWindow, Silence


class Muteable(Protocol):
    """What matching looks at (an Incident row satisfies it)."""

    id: int
    brand_id: int
    kind: str
    severity: str
    status: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """An open `source_kind` incident at or above `source_min_severity` mutes `target_kind` incidents of
    the same brand whose severity is at most `target_max_severity` (Alertmanager's inhibit_rules)."""

    source_kind: str
    source_min_severity: str
    target_kind: str
    target_max_severity: str


# A flame-level negativity incident says everything the volume incident of the same brand would, and more.
INHIBIT_RULES: tuple[InhibitRule, ...] = (
    InhibitRule(
        source_kind="negativity",
        source_min_severity="flame",
        target_kind="volume",
        target_max_severity="flame",
    ),
)


def silence_matches(silence: Silence, incident: Muteable, now: datetime) -> bool:
    return (
        silence.starts_at <= now < silence.ends_at
        and (silence.brand_id is None or silence.brand_id == incident.brand_id)
        and (silence.kind is None or silence.kind == incident.kind)
        and (silence.max_severity is None or rank(incident.severity) <= rank(silence.max_severity))
    )


def campaign_matches(window: CampaignWindow, incident: Muteable, now: datetime) -> bool:
    """Inside the window now, or the incident started inside it: the end-of-window summary reports
    it, so it is not paged just because the window closed while it was still open."""
    return window.brand_id == incident.brand_id and (
        window.starts_at <= now < window.ends_at or window.starts_at <= incident.started_at < window.ends_at
    )


def inhibits(rule: InhibitRule, source: Muteable, target: Muteable) -> bool:
    return (
        source.id != target.id
        and source.brand_id == target.brand_id
        and source.status in OPEN_STATUSES
        and source.kind == rule.source_kind
        and rank(source.severity) >= rank(rule.source_min_severity)
        and target.kind == rule.target_kind
        and rank(target.severity) <= rank(rule.target_max_severity)
    )


def mute_reason(
    incident: Muteable,
    silences: Sequence[Silence],
    campaigns: Sequence[CampaignWindow],
    open_incidents: Sequence[Muteable],
    now: datetime,
    rules: Sequence[InhibitRule] = INHIBIT_RULES,
) -> str | None:
    """ "silence:<id>", "campaign:<id>", "inhibited_by:<incident id>", or None to page normally."""
    for silence in silences:
        if silence_matches(silence, incident, now):
            return f"silence:{silence.id}"
    for window in campaigns:
        if campaign_matches(window, incident, now):
            return f"campaign:{window.id}"
    for source in open_incidents:
        if any(inhibits(rule, source, incident) for rule in rules):
            return f"inhibited_by:{source.id}"
    return None


def active_silences(session: Session, brand_id: int, now: datetime) -> list[Silence]:
    return list(
        session.scalars(
            select(Silence)
            .where(
                Silence.starts_at <= now,
                Silence.ends_at > now,
                or_(Silence.brand_id.is_(None), Silence.brand_id == brand_id),
            )
            .order_by(Silence.id)
        )
    )


def active_campaigns(session: Session, incident: Muteable, now: datetime) -> list[CampaignWindow]:
    """Windows of the incident's brand open now or around the incident's start."""
    return list(
        session.scalars(
            select(CampaignWindow)
            .where(
                CampaignWindow.brand_id == incident.brand_id,
                or_(
                    (CampaignWindow.starts_at <= now) & (CampaignWindow.ends_at > now),
                    (CampaignWindow.starts_at <= incident.started_at)
                    & (CampaignWindow.ends_at > incident.started_at),
                ),
            )
            .order_by(CampaignWindow.id)
        )
    )


def open_incidents_of(session: Session, brand_id: int) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.brand_id == brand_id, Incident.status.in_(list(OPEN_STATUSES)))
            .order_by(Incident.id)
        )
    )


def refresh_muting(session: Session, incident: Incident, now: datetime) -> str | None:
    """Recompute why the incident is muted (if at all), store it, and log a change on the timeline."""
    reason = mute_reason(
        incident,
        active_silences(session, incident.brand_id, now),
        active_campaigns(session, incident, now),
        open_incidents_of(session, incident.brand_id),
        now,
    )
    if reason != incident.muted_by:
        event = "muted" if reason else "unmuted"
        record_event(
            session, incident, event, now, actor=SYSTEM_ACTOR, detail={"by": reason or incident.muted_by}
        )
        incident.muted_by = reason
    return reason


def campaigns_to_summarize(session: Session, now: datetime, limit: int = 50) -> list[CampaignWindow]:
    """Windows that ended and were not summarised yet (locked, skipping ones another worker holds)."""
    query = (
        select(CampaignWindow)
        .where(CampaignWindow.ends_at <= now, CampaignWindow.summarized_at.is_(None))
        .order_by(CampaignWindow.ends_at, CampaignWindow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def campaign_incidents(session: Session, window: CampaignWindow) -> list[Incident]:
    """The brand's incidents that started (in data time) inside the window."""
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.brand_id == window.brand_id,
                Incident.started_at >= window.starts_at,
                Incident.started_at < window.ends_at,
            )
            .order_by(Incident.started_at, Incident.id)
        )
    )
