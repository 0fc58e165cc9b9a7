"""buckets: a covering index for the metrics series (brand, start and every column the chart sums)

Revision ID: 0007
Revises: 0006 (0006_source_deleted_at)
Create Date: 2026-11-21 22:05:00

Ingest writes a bucket for every brand each step, so one brand's 30 days lie on ~8,640 table pages and
the primary-key scan fetches each. With this index the series query reads the index alone (~90 pages):
benchmarks/README.md, "API latency". Plain key columns rather than PostgreSQL's INCLUDE: SQLite has no
INCLUDE, the same definition keeps models and migrations identical on both stores, and PostgreSQL's
suffix truncation makes the two the same size.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_buckets_brand_start_covering"
COLUMNS = ["brand_id", "start", "total", "negative", "authors", "expected", "upper", "baseline_share"]


def upgrade() -> None:
    op.create_index(NAME, "buckets", COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, table_name="buckets")
