"""The detector's expectation per bucket, kept next to the counts so charts can draw value and band.

The detection tick records one row per bucket it evaluates (`expectation_row`) and writes a batch of
brands' rows in one statement (`store_expectations`). The write is an upsert that touches only the
expectation columns:
- a bucket nobody posted in gets a row with zero counts, so the stored series has no gaps;
- ingest keeps adding to the counts of a row the tick created first (its upsert adds to total,
  negative, reach, authors and leaves these columns alone);
- re-evaluating a bucket (a detector state reset, a backfill) overwrites the old expectation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from detectors.types import TickResult
from storage.mentions import Bucket
from storage.upsert import upsert_set

EXPECTATION_COLUMNS = ("expected", "upper", "baseline_share")


def expectation_row(brand_id: int, at: datetime, result: TickResult) -> dict[str, Any]:
    """What the detector expected for the bucket starting at `at` (None values are kept as NULL: the
    brand had too little history for an expectation), with zero counts for a bucket not stored yet."""
    return {
        "brand_id": brand_id,
        "start": at,
        "total": 0,
        "negative": 0,
        "reach": 0,
        "authors": 0,
        "expected": result.expected,
        "upper": result.upper,
        "baseline_share": result.baseline_share,
    }


def store_expectations(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert many `expectation_row`s in one statement (a later row for the same bucket wins)."""
    unique = list({(row["brand_id"], row["start"]): row for row in rows}.values())
    upsert_set(session, Bucket.__table__, unique, conflict=("brand_id", "start"), replace=EXPECTATION_COLUMNS)


def store_expectation(session: Session, brand_id: int, at: datetime, result: TickResult) -> None:
    """Record what the detector expected for one bucket."""
    store_expectations(session, [expectation_row(brand_id, at, result)])
