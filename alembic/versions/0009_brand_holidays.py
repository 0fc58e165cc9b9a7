"""brands: holidays, the calendar whose public holidays the detector treats as off days

Revision ID: 0009
Revises: 0008 (0008_incident_waves)
Create Date: 2026-11-22 02:00:00
"""

from collections.abc import Sequence
from importlib import resources

import holidays
import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _zone_countries() -> dict[str, str]:
    # Kept here rather than imported from detectors.offdays: a migration must not change with the code.
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    supported = set(holidays.list_supported_countries())
    return {row[2]: row[0] for row in rows if len(row) >= 3 and row[0] in supported}


def upgrade() -> None:
    op.add_column("brands", sa.Column("holidays", sa.String(8), nullable=True))
    # Existing brands get their timezone's country (Asia/Tokyo → JP), as a new brand does by default.
    brands = sa.table("brands", sa.column("id", sa.Integer), sa.column("timezone", sa.String))
    bind = op.get_bind()
    countries = _zone_countries()
    for brand_id, timezone in bind.execute(sa.select(brands.c.id, brands.c.timezone)).all():
        if timezone in countries:
            bind.execute(
                sa.text("UPDATE brands SET holidays = :code WHERE id = :id"),
                {"code": countries[timezone], "id": brand_id},
            )


def downgrade() -> None:
    # In place, not batch mode (see 0008): a batch copy of `brands` would cascade on SQLite.
    op.drop_column("brands", "holidays")
