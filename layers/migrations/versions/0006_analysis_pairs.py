"""Target × hazard pairs within reach and their geodesic distances (gis/analysis/pairs.py).

Coverage reads the pairs instead of measuring ~128,000 of them per question; `pairs.refresh`
keeps them right after every write by the (xmin, ctid) stamps kept in `analysis_pair_versions`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_pairs",
        sa.Column("pairing", sa.Text, primary_key=True),
        sa.Column("target_id", sa.BigInteger, primary_key=True),
        sa.Column("hazard_id", sa.BigInteger, primary_key=True),
        sa.Column("distance_m", sa.Double, nullable=False),
        sa.Column("lower_m", sa.Double, nullable=False),
    )
    op.create_index("analysis_pairs_hazard", "analysis_pairs", ["pairing", "hazard_id"])
    # xid and tid: the stamp of the row version whose pairs are stored (gis/analysis/pairs.py).
    op.execute(
        "CREATE TABLE analysis_pair_versions (pairing text NOT NULL, side text NOT NULL, "
        "feature_id bigint NOT NULL, row_xmin xid NOT NULL, row_ctid tid NOT NULL, "
        "PRIMARY KEY (pairing, side, feature_id))"
    )


def downgrade() -> None:
    op.drop_table("analysis_pair_versions")
    op.drop_index("analysis_pairs_hazard", table_name="analysis_pairs")
    op.drop_table("analysis_pairs")
