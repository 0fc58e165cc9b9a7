"""Bucket arithmetic shared by ingest (counting) and detection (which buckets have closed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(at: datetime, minutes: int) -> datetime:
    """Floor `at` to its bucket. Buckets align to the UTC epoch, which also aligns them to JST days."""
    seconds = int((at - EPOCH).total_seconds())
    width = minutes * 60
    return EPOCH + timedelta(seconds=seconds - seconds % width)
