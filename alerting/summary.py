"""The one description of an incident that every channel renders (Slack, e-mail, webhooks, pages).

`build_incident_context` returns plain JSON-serialisable data: the outbox stores it as the
notification's payload snapshot, so a retry hours later renders what was true when it was decided.
Times are ISO 8601 UTC (`...Z`); `*_local` strings are for display in the brand's timezone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.facts import IncidentFacts, gather_facts, safe_url
from alerting.incident_queries import SeriesPoint, dense_series
from alerting.presentation import (
    EVENT_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    iso_utc,
    local_display,
    ratio_value,
)
from alerting.runbooks import render_runbook
from alerting.severity import SEVERITY_LABELS
from storage.brands import Brand
from storage.incidents import Incident, IncidentEvent
from storage.timebuckets import bucket_start

SERIES_HOURS = 6
POST_TEXT_LIMIT = 500


def series_window(incident: Incident, brand: Brand, now: datetime) -> tuple[datetime, datetime, timedelta]:
    """Six hours of closed buckets: up to now while open, up to an hour after the resolve otherwise.
    The bucket still filling is left out, so the chart does not end in a misleading drop."""
    step = timedelta(minutes=brand.bucket_minutes)
    end = now if incident.resolved_at is None else min(now, incident.resolved_at + timedelta(hours=1))
    until = bucket_start(end, brand.bucket_minutes)
    return until - timedelta(hours=SERIES_HOURS), until, step


def incident_series(session: Session, incident: Incident, brand: Brand, now: datetime) -> list[SeriesPoint]:
    since, until, step = series_window(incident, brand, now)
    return dense_series(session, brand.id, since, until, step)


def _incident(incident: Incident, facts: IncidentFacts, url: str) -> dict[str, Any]:
    tz = facts.brand.timezone
    kind = KIND_LABELS.get(incident.kind, (incident.kind, incident.kind))
    status = STATUS_LABELS.get(incident.status, (incident.status, incident.status))
    return {
        "id": incident.id,
        "kind": incident.kind,
        "kind_label": {"ja": kind[0], "en": kind[1]},
        "status": incident.status,
        "status_label": {"ja": status[0], "en": status[1]},
        "severity": incident.severity,
        "severity_label": dict(
            SEVERITY_LABELS.get(incident.severity, {"ja": incident.severity, "en": incident.severity})
        ),
        "started_at": iso_utc(incident.started_at),
        "started_at_local": local_display(incident.started_at, tz),
        "last_signal_at": iso_utc(incident.last_signal_at),
        "last_signal_at_local": local_display(incident.last_signal_at, tz),
        "resolved_at": iso_utc(incident.resolved_at),
        "resolved_at_local": local_display(incident.resolved_at, tz),
        "acknowledged_by": incident.acknowledged_by,
        "waves": incident.waves or 1,  # 2 and more: the event flared again (再燃)
        "score": incident.score,
        "observed": incident.observed,
        "expected": incident.expected,
        "upper": incident.upper,
        "ratio": ratio_value(incident.observed, incident.expected),
        "negative_share": facts.negative_share,
        "baseline_share": facts.baseline_share,
        "url": url,
    }


def _posts(facts: IncidentFacts) -> list[dict[str, Any]]:
    return [
        {
            "text": post.text[:POST_TEXT_LIMIT],
            "author": post.author,
            "followers": post.author_followers or 0,
            "reposts": post.reposts or 0,
            "reach": reach,
            "url": safe_url(post.url),
            "negativity": post.negativity,
            "posted_at": iso_utc(post.posted_at),
            "posted_at_local": local_display(post.posted_at, facts.brand.timezone, "%m/%d %H:%M"),
        }
        for post, reach in facts.top_posts
    ]


def _timeline(session: Session, incident: Incident, tz: str) -> list[dict[str, Any]]:
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    return [
        {
            "at": iso_utc(event.at),
            "at_local": local_display(event.at, tz),
            "event": event.event,
            "label": EVENT_LABELS.get(event.event, event.event),
            "actor": event.actor,
            "note": event.note,
        }
        for event in events
    ]


def build_incident_context(
    session: Session, incident: Incident, public_url: str, now: datetime
) -> dict[str, Any]:
    """Everything a channel needs to tell people about `incident`, as of `now` (JSON-serialisable)."""
    facts = gather_facts(session, incident, now)
    brand = facts.brand
    base = public_url.rstrip("/")
    incident_url = f"{base}/incidents/{incident.id}"
    runbook = render_runbook(session, incident, brand.locale, now=now, public_url=base, facts=facts)
    return {
        "incident": _incident(incident, facts, incident_url),
        "brand": {"id": brand.id, "name": brand.name, "timezone": brand.timezone, "locale": brand.locale},
        "headline": {"ja": facts.headline.ja, "en": facts.headline.en},
        "series": [
            {"start": iso_utc(p.start), "total": p.total, "negative": p.negative}
            for p in incident_series(session, incident, brand, now)
        ],
        "drivers": [{"term": term, "score": round(score, 2)} for term, score in facts.drivers],
        "top_posts": _posts(facts),
        "runbook": {
            "title": runbook.title,
            "first_steps": runbook.first_steps,
            "markdown": runbook.markdown,
            "html": runbook.html,
            "url": f"{incident_url}/runbook",
            "locale": brand.locale,
        },
        "timeline": _timeline(session, incident, brand.timezone),
        "chart_url": f"{incident_url}/chart.png",
        "generated_at": iso_utc(now),
        "actor": None,
    }
