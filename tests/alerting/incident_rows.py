"""A realistic flame-up as real rows (brand, source, buckets, mentions, incident, timeline), for the
summary, runbook, e-mail and webhook tests. Numbers are chosen so the expected context is derivable:
the last hour of buckets has 240 mentions per bucket vs 30 expected (8×), 63% negative vs 12%."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage.models import Brand, Bucket, Incident, IncidentEvent, Mention, MentionBrand, Source

NOW = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)  # 15:00 JST
ONSET = datetime(2024, 6, 3, 5, 5, tzinfo=UTC)  # 14:05 JST
BRAND = "ノロシ珈琲"
BUCKET = timedelta(minutes=5)


@dataclass(frozen=True)
class Flame:
    brand_id: int
    incident_id: int
    # (author, followers, reposts) of the incident-window posts, so tests derive the reach order
    posts: list[tuple[str, int, int]]


def add_flame(session: Session, severity: str = "flame", kind: str = "volume", locale: str = "ja") -> Flame:
    brand = Brand(
        name=BRAND,
        keywords=[BRAND, "noroshi coffee"],
        exclude=[],
        languages=[],
        timezone="Asia/Tokyo",
        locale=locale,
        created_at=NOW - timedelta(days=30),
        updated_at=NOW - timedelta(days=30),
    )
    source = Source(name="push", kind="push", settings={}, created_at=NOW - timedelta(days=30))
    session.add_all([brand, source])
    session.flush()
    at = NOW - timedelta(hours=7)
    while at < NOW:  # quiet before the onset, loud after it
        loud = at >= ONSET
        total, negative = (240, 151) if loud else (30, 4)
        session.add(Bucket(brand_id=brand.id, start=at, total=total, negative=negative, reach=0, authors=0))
        at += BUCKET
    baseline = [("ノロシ珈琲のラテ、今日も美味しい", NOW - timedelta(hours=20 - i)) for i in range(12)]
    flame = [
        ("ノロシ珈琲の店員が厨房でふざけた動画、衛生的に無理 http://example.com/v", ONSET + BUCKET * i)
        for i in range(6)
    ]
    people = [("big_account", 120_000, 800), ("mid", 8_000, 40), ("small", 300, 2), ("tiny", 12, 0)]
    posts = []
    pairs = zip(baseline + flame, people * 5, strict=False)
    for serial, ((text, posted_at), (author, followers, reposts)) in enumerate(pairs, start=1):
        mention = Mention(
            source_id=source.id,
            external_id=f"m{serial}",
            posted_at=posted_at,
            collected_at=posted_at,
            author=author,
            author_followers=followers,
            reposts=reposts,
            url=f"https://social.example/{author}/{serial}" if serial != 13 else "javascript:alert(1)",
            lang="ja",
            text=text,
            negativity=0.9 if posted_at >= ONSET else 0.1,
            negative=posted_at >= ONSET,
        )
        session.add(mention)
        session.flush()
        session.add(MentionBrand(mention_id=mention.id, brand_id=brand.id, posted_at=posted_at))
        if posted_at >= ONSET - timedelta(hours=1):
            posts.append((author, followers, reposts))
    incident = Incident(
        brand_id=brand.id,
        kind=kind,
        dedup_key=f"brand:{brand.id}:{kind}",
        status="triggered",
        severity=severity,
        started_at=ONSET,
        last_signal_at=NOW - timedelta(minutes=10),
        score=9.0,
        peak_score=9.5,
        observed=240.0,
        expected=30.0,
        upper=60.0,
        negative_share=None,  # derived from the buckets: 151/240
        baseline_share=None,  # derived from the day before: 4/30
        test="nb_tail_1h",
        evidence={},
        created_at=ONSET,
        updated_at=NOW,
    )
    session.add(incident)
    session.flush()
    session.add_all(
        [
            IncidentEvent(incident_id=incident.id, at=ONSET, event="opened", actor="noroshi", detail={}),
            IncidentEvent(
                incident_id=incident.id,
                at=ONSET + timedelta(minutes=20),
                event="acknowledge",
                actor="slack:U123 佐藤",
                detail={},
                note="広報で確認中 <b>",
            ),
        ]
    )
    session.flush()
    return Flame(brand.id, incident.id, posts)
