"""buckets: the detector's expectation per bucket (expected total, upper band, baseline negative share)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("expected", "upper", "baseline_share")


def upgrade() -> None:
    # Nullable: buckets counted before this revision (or before the brand had history) have no expectation.
    for name in COLUMNS:
        op.add_column("buckets", sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite cannot drop a column in place on every version we support.
    with op.batch_alter_table("buckets") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
