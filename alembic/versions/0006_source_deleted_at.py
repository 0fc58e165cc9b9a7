"""sources: deleted_at, so deleting a source keeps the mentions collected from it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: every existing source is live.
    op.add_column("sources", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite cannot drop a column in place on every version we support.
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("deleted_at")
