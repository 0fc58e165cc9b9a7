"""The facts about one incident that every rendering needs, gathered once per notification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from alerting.incident_queries import incident_drivers, incident_shares, posts_window, top_posts
from alerting.presentation import Headline, headline, incident_window
from storage.brands import Brand
from storage.incidents import Incident
from storage.mentions import Mention

TOP_POSTS = 5
DRIVERS = 8


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    brand: Brand
    negative_share: float | None
    baseline_share: float | None
    headline: Headline
    drivers: list[tuple[str, float]]
    top_posts: list[tuple[Mention, int]]  # (post, reach = followers + reposts), largest reach first


def safe_url(url: str | None) -> str | None:
    """Only http(s) links leave the system (a `javascript:` URL in a post must not become a link)."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def gather_facts(session: Session, incident: Incident, now: datetime) -> IncidentFacts:
    brand = session.get(Brand, incident.brand_id)
    if brand is None:  # the FK cascades, so only a racing brand delete gets here
        raise LookupError(f"incident {incident.id} has no brand {incident.brand_id}")
    active_from, active_to = incident_window(incident, now, brand.bucket_minutes)
    negative_share, baseline_share = incident_shares(session, incident, active_from, active_to)
    since, until = posts_window(incident)
    return IncidentFacts(
        brand=brand,
        negative_share=negative_share,
        baseline_share=baseline_share,
        headline=headline(incident, brand.name, brand.timezone, now, negative_share, baseline_share),
        drivers=incident_drivers(session, incident, brand, k=DRIVERS),
        top_posts=top_posts(session, brand.id, since, until, limit=TOP_POSTS),
    )
