"""/api/v1/incidents/{id}/details: one incident as the summary page tells it — headline, evidence,
what drives it (terms), the posts that reach furthest, and the timeline — in one call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.facts import gather_facts, safe_url
from api.alerting_schemas import EVENT_EXAMPLE, TimelineEventOut
from api.auth import Principal, require
from api.context import ApiContext, get_context, get_session
from api.lookups import visible_incident
from api.routers.incidents import incident_out
from api.schemas import INCIDENT_EXAMPLE, IncidentOut
from storage.incidents import IncidentEvent

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

TIMELINE_LIMIT = 100  # the newest; GET …/timeline pages through all of them
POST_TEXT_LIMIT = 500


class HeadlineOut(BaseModel):
    ja: str = Field(
        examples=["ノロシ珈琲の投稿が14:05 JSTから通常の8倍に増えています。63%が否定的（通常12%）。"]
    )
    en: str = Field(
        examples=["Mentions of ノロシ珈琲 rose to 8× the usual level from 14:05 JST; 63% are negative."]
    )


class DriverOut(BaseModel):
    term: str = Field(examples=["異物混入"])
    score: float = Field(description="how much more often the term appears than before the incident")


class TopPostOut(BaseModel):
    id: int
    posted_at: datetime
    author: str | None
    text: str = Field(description=f"the first {POST_TEXT_LIMIT} characters")
    url: str | None = Field(description="http(s) links only")
    reach: int = Field(description="the author's followers plus reposts")
    negativity: float
    negative: bool


DETAIL_EXAMPLE: dict[str, Any] = {
    "incident": INCIDENT_EXAMPLE,
    "headline": {
        "ja": "ノロシ珈琲の投稿が14:05 JSTから通常の8倍に。63%が否定的（通常12%）。",
        "en": "Mentions of ノロシ珈琲 rose to 8× the usual level from 14:05 JST.",
    },
    "negative_share": 0.63,
    "baseline_share": 0.12,
    "evidence": {"window": "1h", "observed": 240, "expected": 30},
    "drivers": [{"term": "異物混入", "score": 14.2}],
    "top_posts": [
        {
            "id": 981,
            "posted_at": "2026-11-21T05:12:00Z",
            "author": "coffee_fan",
            "text": "ノロシ珈琲のラテに異物混入…",
            "url": "https://x.com/coffee_fan/status/1",
            "reach": 52000,
            "negativity": 0.91,
            "negative": True,
        }
    ],
    "timeline": [EVENT_EXAMPLE],
}


class IncidentDetailOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DETAIL_EXAMPLE]})
    incident: IncidentOut
    headline: HeadlineOut
    negative_share: float | None = Field(description="share of negative posts while the incident is active")
    baseline_share: float | None = Field(description="the brand's usual negative share")
    evidence: dict[str, Any] = Field(description="the detector's evidence when it opened (per test)")
    drivers: list[DriverOut]
    top_posts: list[TopPostOut]
    timeline: list[TimelineEventOut] = Field(description=f"the newest {TIMELINE_LIMIT} events, newest first")


@router.get("/{incident_id}/details", response_model=IncidentDetailOut)
def incident_details(
    incident_id: int,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("read")),
) -> Response:
    """Everything the incident summary page shows, as data: for integrators building their own view."""
    incident = visible_incident(session, incident_id, principal)
    facts = gather_facts(session, incident, context.clock())
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.id.desc())
        .limit(TIMELINE_LIMIT)
    )
    detail = IncidentDetailOut(
        incident=incident_out(incident, context),
        headline=HeadlineOut(ja=facts.headline.ja, en=facts.headline.en),
        negative_share=facts.negative_share,
        baseline_share=facts.baseline_share,
        evidence=incident.evidence or {},
        drivers=[DriverOut(term=term, score=score) for term, score in facts.drivers],
        top_posts=[
            TopPostOut(
                id=post.id,
                posted_at=post.posted_at,
                author=post.author,
                text=post.text[:POST_TEXT_LIMIT],
                url=safe_url(post.url),
                reach=reach,
                negativity=post.negativity,
                negative=post.negative,
            )
            for post, reach in facts.top_posts
        ],
        timeline=[TimelineEventOut.model_validate(event) for event in events],
    )
    return Response(detail.model_dump_json(), media_type="application/json")
