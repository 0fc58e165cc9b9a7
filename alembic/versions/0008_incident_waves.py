"""incidents: waves and last_wave_at, so an incident that flares again (再燃) pages again

Revision ID: 0008
Revises: 0007 (0007_bucket_covering_index)
Create Date: 2026-11-21 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: incidents may be written by code that does not know about waves (and older rows).
    op.add_column("incidents", sa.Column("waves", sa.Integer(), nullable=True))
    op.add_column("incidents", sa.Column("last_wave_at", sa.DateTime(timezone=True), nullable=True))
    # Every existing incident has had exactly its first wave, recorded when it was opened.
    op.execute("UPDATE incidents SET waves = 1, last_wave_at = created_at")


def downgrade() -> None:
    # In place, not batch mode: a batch copies `incidents` and drops the original, and on SQLite (with
    # foreign keys on, as storage.engine sets them) that drop cascades to every incident's timeline
    # and notifications. Plain columns drop in place on PostgreSQL and SQLite ≥ 3.35; an older SQLite
    # fails loudly here instead of losing rows.
    op.drop_column("incidents", "last_wave_at")
    op.drop_column("incidents", "waves")
