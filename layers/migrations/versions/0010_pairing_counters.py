"""The layers' change counters each pairing was last refreshed at, so a question can skip the
stale check when neither layer has been written since (gis/analysis/pairs.py, `unchanged`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -1: never recorded, so the first question after the upgrade still checks every stamp.
    for column in ("hazard_version", "target_version"):
        op.add_column(
            "analysis_pairings",
            sa.Column(column, sa.BigInteger, nullable=False, server_default="-1"),
        )


def downgrade() -> None:
    for column in ("hazard_version", "target_version"):
        op.drop_column("analysis_pairings", column)
