"""Mentions (posts matched to brands) and the per-brand time buckets counted from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_mentions_posted_at", "posted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    posted_at: Mapped[datetime]
    collected_at: Mapped[datetime]
    author: Mapped[str | None] = mapped_column(String(255), nullable=True)
    author_followers: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reposts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    negativity: Mapped[float] = mapped_column(Float)
    negative: Mapped[bool] = mapped_column(Boolean)


class MentionBrand(Base):
    """Which brands a mention is about; `posted_at` is copied so per-brand time queries use one index."""

    __tablename__ = "mention_brands"
    __table_args__ = (Index("ix_mention_brands_brand_posted", "brand_id", "posted_at"),)

    mention_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("mentions.id", ondelete="CASCADE"),
        primary_key=True,
    )
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    posted_at: Mapped[datetime]


class Bucket(Base):
    """Counts for one brand in one time bucket (recomputable from mentions) and the detector's expectation."""

    __tablename__ = "buckets"
    # Covering the metrics series (api/metrics_series.py), so a brand's range is read from the index
    # alone: ingest interleaves brands, so the table holds one brand's 30 days on ~8,640 pages.
    __table_args__ = (
        Index(
            "ix_buckets_brand_start_covering",
            "brand_id",
            "start",
            "total",
            "negative",
            "authors",
            "expected",
            "upper",
            "baseline_share",
        ),
    )

    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[datetime] = mapped_column(primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    authors: Mapped[int] = mapped_column(Integer, default=0)
    # The detector's view of this bucket, written by the detection tick (alerting/expectations.py);
    # None until the tick has evaluated the bucket or while the brand has too little history.
    expected: Mapped[float | None] = mapped_column(Float, nullable=True)
    upper: Mapped[float | None] = mapped_column(Float, nullable=True)
    baseline_share: Mapped[float | None] = mapped_column(Float, nullable=True)


class BucketAuthor(Base):
    """Authors seen per brand and bucket, so unique-author counts stay exact under concurrent inserts."""

    __tablename__ = "bucket_authors"

    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[datetime] = mapped_column(primary_key=True)
    author: Mapped[str] = mapped_column(String(255), primary_key=True)
