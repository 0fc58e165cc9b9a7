"""The ingest path: match → score → store → bucket, in one transaction per batch."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from collectors.brand_rules import BrandRuleCache
from collectors.buckets import CountedMention, add_to_buckets
from collectors.negativity import NegativityScorer
from collectors.posts import RawPost
from storage.mentions import Mention, MentionBrand
from storage.sources import Source
from storage.telemetry import Telemetry
from storage.upsert import insert_ignore

ItemStatus = Literal["stored", "duplicate", "unmatched"]


@dataclass(slots=True)
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    unmatched: int = 0
    buckets_touched: int = 0
    statuses: list[ItemStatus] = field(default_factory=list)  # one per input post, in order
    brands: list[list[int]] = field(default_factory=list)


class MentionIngestor:
    """Turns raw posts into stored, scored, bucketed mentions. Idempotent per (source, external id)."""

    def __init__(
        self,
        scorer: NegativityScorer,
        rules: BrandRuleCache | None = None,
        threshold: float | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.scorer = scorer
        self.telemetry = telemetry or Telemetry()  # the process's one, from the composition root
        self.rules = rules or BrandRuleCache()
        self.threshold = threshold
        # The scorer holds one MeCab tagger, which is not thread-safe; API and scheduler threads share it.
        self._score_lock = threading.Lock()

    def ingest(
        self, session: Session, source_id: int, posts: Sequence[RawPost], now: datetime
    ) -> IngestReport:
        """Store `posts` for `source_id` inside the caller's transaction."""
        report = self._ingest(session, source_id, posts, now)
        source = session.get(Source, source_id)  # already in the session's identity map for both callers
        self.telemetry.observe_ingest(
            source.kind if source else "unknown", report.stored, report.duplicates, report.unmatched
        )
        return report

    def _ingest(
        self, session: Session, source_id: int, posts: Sequence[RawPost], now: datetime
    ) -> IngestReport:
        report = IngestReport()
        compiled = self.rules.get(session)
        matched: list[tuple[RawPost, list[int]]] = []
        for post in posts:
            brand_ids = compiled.matcher.match(post.text, post.lang)
            report.brands.append(brand_ids)
            report.statuses.append("unmatched" if not brand_ids else "stored")
            if brand_ids:
                matched.append((post, brand_ids))
        report.unmatched = sum(1 for s in report.statuses if s == "unmatched")
        if not matched:
            return report

        with self._score_lock:
            scores = self.scorer.score_batch([p.text for p, _ in matched], [p.lang for p, _ in matched])
        rows = []
        seen: set[str] = set()
        for (post, _), score in zip(matched, scores, strict=True):
            if post.external_id in seen:
                continue
            seen.add(post.external_id)
            negative = score.negative if self.threshold is None else score.score >= self.threshold
            rows.append(
                {
                    "source_id": source_id,
                    "external_id": post.external_id,
                    "posted_at": post.posted_at,
                    "collected_at": now,
                    "author": post.author,
                    "author_followers": post.author_followers,
                    "reposts": post.reposts,
                    "url": post.url,
                    "lang": post.lang or score.lang,
                    "text": post.text,
                    "negativity": float(score.score),
                    "negative": bool(negative),
                }
            )
        inserted = {
            ext: mid
            for mid, ext in insert_ignore(
                session,
                Mention.__table__,
                rows,
                conflict=("source_id", "external_id"),
                returning=("id", "external_id"),
            )
        }

        fresh = set(inserted)
        by_ext = {row["external_id"]: row for row in rows}
        links, counted = [], []
        for post, brand_ids in matched:
            mention_id = inserted.pop(post.external_id, None)
            if mention_id is None:
                continue
            row = by_ext[post.external_id]
            for brand_id in brand_ids:
                links.append({"mention_id": mention_id, "brand_id": brand_id, "posted_at": post.posted_at})
                counted.append(
                    CountedMention(
                        brand_id, post.posted_at, row["negative"], post.author_followers or 0, post.author
                    )
                )
        insert_ignore(session, MentionBrand.__table__, links, conflict=("mention_id", "brand_id"))
        report.buckets_touched = add_to_buckets(session, counted, compiled.bucket_minutes)

        report.stored = len(fresh)
        first: set[str] = set()
        for i, post in enumerate(posts):
            if report.statuses[i] == "stored":
                is_new = post.external_id in fresh and post.external_id not in first
                first.add(post.external_id)
                report.statuses[i] = "stored" if is_new else "duplicate"
        report.duplicates = sum(1 for s in report.statuses if s == "duplicate")
        return report
